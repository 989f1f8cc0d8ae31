//! Server-side printing: objects as a `meta.k8s.io/v1` Table, what `kubectl get` asks for
//! (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`). Columns and cells are upstream's
//! (`pkg/printers/internalversion/printers.go`), always generated wide as the API server does
//! (kubectl hides the priority-1 columns unless `-o wide`); resources upstream prints with
//! its default convertor get `Name` and `Created At`.
//!
//! Objects are read as `serde_json::Value`: absent or mistyped fields read as Go's zero
//! values, so partial or unknown objects always print. Where upstream's printers show a field
//! that upstream's defaulting always fills in (a Deployment's `spec.replicas`, a Service's
//! `type`, a port's `protocol`, ...), an absent value reads as that default.
//!
//! The printers live by API group: [`pod`] (the pod status logic), [`core`], [`apps`],
//! [`batch`], [`other`]; [`fields`] reads values, [`quantity`] and [`duration`] format them,
//! [`docs`] holds the column descriptions.

mod apps;
mod batch;
mod core;
mod docs;
mod duration;
mod fields;
mod other;
mod pod;
mod quantity;

use std::borrow::Borrow;
use std::time::SystemTime;

use jiff::Timestamp;
use serde_json::{json, Map, Value};
use skiff_api::resources::Resource;

pub use duration::human_duration;

/// What each row carries besides its cells (`?includeObject=`, upstream's
/// `IncludeObjectPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IncludeObject {
    /// No object (`"object": null`).
    None,
    /// The object's metadata as a `PartialObjectMetadata` (the default).
    #[default]
    Metadata,
    /// The whole object.
    Object,
}

/// How to build a table: the clock for ages, what rows carry and the list metadata.
#[derive(Debug, Clone)]
pub struct TableOptions {
    /// The time ages are measured against.
    pub now: SystemTime,
    pub include_object: IncludeObject,
    /// The list's (or single object's) resourceVersion; "" leaves it out.
    pub resource_version: String,
    /// The continue token of a paged list.
    pub continue_token: Option<String>,
    pub remaining_item_count: Option<i64>,
}

/// `?includeObject=`: `None`, `Metadata` (also when absent or empty) or `Object`. An
/// unrecognised value reads as `Metadata` here; see [`try_parse_include_object`] to reject
/// it as upstream does.
pub fn parse_include_object(q: Option<&str>) -> IncludeObject {
    try_parse_include_object(q).unwrap_or_default()
}

/// `?includeObject=` checked as upstream checks it: an unrecognised value is an error whose
/// message upstream sends as a 400 BadRequest (`unrecognized includeObject value: "x"`).
pub fn try_parse_include_object(q: Option<&str>) -> Result<IncludeObject, String> {
    match q.unwrap_or("") {
        "" | "Metadata" => Ok(IncludeObject::Metadata),
        "None" => Ok(IncludeObject::None),
        "Object" => Ok(IncludeObject::Object),
        other => Err(format!(
            "unrecognized includeObject value: {}",
            fields::go_quote(other)
        )),
    }
}

/// The Table of `items` (one item for the GET of a single object). Items may be `Value`s or
/// anything that borrows as one (`Arc<Value>`).
pub fn to_table<V: Borrow<Value>>(resource: &Resource, items: &[V], opts: &TableOptions) -> Value {
    let now = Timestamp::try_from(opts.now).unwrap_or(Timestamp::UNIX_EPOCH);
    let (columns, rows) = match printer_for(resource) {
        Some(printer) => {
            let rows: Vec<Value> = items
                .iter()
                .map(|item| {
                    let item = item.borrow();
                    row_json((printer.row)(item, now), item, opts.include_object)
                })
                .collect();
            (printer.columns, Value::Array(rows))
        }
        None => {
            let rows: Vec<Value> = items
                .iter()
                .map(|item| {
                    let item = item.borrow();
                    row_json(default_row(item), item, opts.include_object)
                })
                .collect();
            // Upstream's default convertor leaves an empty list's rows nil.
            let rows = if rows.is_empty() {
                Value::Null
            } else {
                Value::Array(rows)
            };
            (DEFAULT_COLUMNS, rows)
        }
    };
    let mut metadata = Map::new();
    if !opts.resource_version.is_empty() {
        metadata.insert(
            "resourceVersion".into(),
            opts.resource_version.clone().into(),
        );
    }
    if let Some(token) = opts.continue_token.as_deref().filter(|t| !t.is_empty()) {
        metadata.insert("continue".into(), token.into());
    }
    if let Some(count) = opts.remaining_item_count {
        metadata.insert("remainingItemCount".into(), count.into());
    }
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns.iter().copied().map(Column::to_json).collect::<Vec<_>>(),
        "rows": rows,
    })
}

/// Drop the column definitions, as upstream does for every watch event after the first
/// (`"columnDefinitions": null`).
pub fn omit_headers(table: &mut Value) {
    if let Some(m) = table.as_object_mut() {
        m.insert("columnDefinitions".into(), Value::Null);
    }
}

/// One column (`metav1.TableColumnDefinition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Column {
    pub name: &'static str,
    /// `string`, `integer`, `boolean` or `date`.
    pub ty: &'static str,
    /// `name` for the object-name column, "" otherwise.
    pub format: &'static str,
    pub description: &'static str,
    /// 0 always shown, 1 only with `-o wide`.
    pub priority: i32,
}

impl Column {
    pub(crate) const fn new(
        name: &'static str,
        ty: &'static str,
        description: &'static str,
    ) -> Self {
        Column {
            name,
            ty,
            format: "",
            description,
            priority: 0,
        }
    }

    /// The same column, shown only with `-o wide`.
    pub(crate) const fn wide(self) -> Self {
        Column {
            priority: 1,
            ..self
        }
    }

    /// The same column in the `name` format.
    pub(crate) const fn named(self) -> Self {
        Column {
            format: "name",
            ..self
        }
    }

    fn to_json(self) -> Value {
        json!({
            "name": self.name,
            "type": self.ty,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// The `Name` column every printer starts with.
pub(crate) const NAME: Column = Column::new("Name", "string", docs::META_NAME).named();
/// The `Age` column.
pub(crate) const AGE: Column = Column::new("Age", "string", docs::META_CREATION_TIMESTAMP);
/// Wide `Containers` of a workload's pod template.
pub(crate) const CONTAINERS: Column = Column::new(
    "Containers",
    "string",
    "Names of each container in the template.",
)
.wide();
/// Wide `Images` of a workload's pod template.
pub(crate) const IMAGES: Column = Column::new(
    "Images",
    "string",
    "Images referenced by each container in the template.",
)
.wide();

/// Upstream's default convertor: the name and the creation time.
const DEFAULT_COLUMNS: &[Column] = &[
    NAME,
    Column::new("Created At", "date", docs::META_CREATION_TIMESTAMP),
];

/// One printed row: its cells and, for finished pods, row conditions.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub cells: Vec<Value>,
    pub conditions: Option<Value>,
}

impl Row {
    pub(crate) fn new(cells: Vec<Value>) -> Self {
        Row {
            cells,
            conditions: None,
        }
    }
}

/// A resource's printer: its columns and the function that prints one object.
pub(crate) struct Printer {
    pub columns: &'static [Column],
    pub row: fn(&Value, Timestamp) -> Row,
}

/// The printer upstream registers for the resource's kind, if any.
fn printer_for(r: &Resource) -> Option<&'static Printer> {
    Some(match (r.group, r.plural) {
        ("", "pods") => &pod::PODS,
        ("", "nodes") => &core::NODES,
        ("", "namespaces") => &core::NAMESPACES,
        ("", "services") => &core::SERVICES,
        ("", "endpoints") => &core::ENDPOINTS,
        ("", "configmaps") => &core::CONFIGMAPS,
        ("", "secrets") => &core::SECRETS,
        ("", "serviceaccounts") => &core::SERVICEACCOUNTS,
        ("", "events") => &core::EVENTS,
        ("events.k8s.io", "events") => &core::EVENTS_V1,
        ("", "persistentvolumes") => &core::PERSISTENTVOLUMES,
        ("", "persistentvolumeclaims") => &core::PERSISTENTVOLUMECLAIMS,
        ("", "replicationcontrollers") => &core::REPLICATIONCONTROLLERS,
        ("", "resourcequotas") => &core::RESOURCEQUOTAS,
        ("apps", "deployments") => &apps::DEPLOYMENTS,
        ("apps", "replicasets") => &apps::REPLICASETS,
        ("apps", "statefulsets") => &apps::STATEFULSETS,
        ("apps", "daemonsets") => &apps::DAEMONSETS,
        ("apps", "controllerrevisions") => &apps::CONTROLLERREVISIONS,
        ("batch", "jobs") => &batch::JOBS,
        ("batch", "cronjobs") => &batch::CRONJOBS,
        ("autoscaling", "horizontalpodautoscalers") => &other::HPAS,
        ("discovery.k8s.io", "endpointslices") => &other::ENDPOINTSLICES,
        ("coordination.k8s.io", "leases") => &other::LEASES,
        ("networking.k8s.io", "ingresses") => &other::INGRESSES,
        ("networking.k8s.io", "ingressclasses") => &other::INGRESSCLASSES,
        ("networking.k8s.io", "networkpolicies") => &other::NETWORKPOLICIES,
        ("storage.k8s.io", "storageclasses") => &other::STORAGECLASSES,
        ("rbac.authorization.k8s.io", "rolebindings") => &other::ROLEBINDINGS,
        ("rbac.authorization.k8s.io", "clusterrolebindings") => &other::CLUSTERROLEBINDINGS,
        ("scheduling.k8s.io", "priorityclasses") => &other::PRIORITYCLASSES,
        ("policy", "poddisruptionbudgets") => &other::PODDISRUPTIONBUDGETS,
        _ => return None,
    })
}

/// Upstream's default row: the name and the creation time in UTC RFC 3339 (Go's zero time
/// when absent).
fn default_row(item: &Value) -> Row {
    let created = fields::timestamp(&item["metadata"]["creationTimestamp"])
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".into());
    Row::new(vec![fields::name(item).into(), created.into()])
}

/// A row as JSON: cells, conditions when there are any, and the object as asked.
fn row_json(row: Row, item: &Value, include: IncludeObject) -> Value {
    let mut m = Map::new();
    m.insert("cells".into(), Value::Array(row.cells));
    if let Some(conditions) = row.conditions {
        m.insert("conditions".into(), conditions);
    }
    let object = match include {
        IncludeObject::None => Value::Null,
        IncludeObject::Object => item.clone(),
        IncludeObject::Metadata => {
            let metadata = match &item["metadata"] {
                Value::Object(m) => Value::Object(m.clone()),
                _ => json!({}),
            };
            json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": metadata,
            })
        }
    };
    m.insert("object".into(), object);
    Value::Object(m)
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Helpers for the printers' tests.
    use super::*;
    use skiff_api::resources;

    /// 2024-05-01T12:00:00Z, the "now" of every printer test.
    pub(crate) fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_714_564_800)
    }

    /// `now()` minus `secs` seconds, as an RFC 3339 timestamp.
    pub(crate) fn ago(secs: i64) -> String {
        let t = Timestamp::try_from(now()).unwrap() - jiff::SignedDuration::from_secs(secs);
        t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    pub(crate) fn opts() -> TableOptions {
        TableOptions {
            now: now(),
            include_object: IncludeObject::None,
            resource_version: "42".into(),
            continue_token: None,
            remaining_item_count: None,
        }
    }

    /// The table of `items` as `plural` in `group` (preferred version).
    pub(crate) fn table(group: &str, plural: &str, items: &[Value]) -> Value {
        let r = resources::all()
            .iter()
            .find(|r| r.group == group && r.plural == plural && r.is_preferred_version())
            .unwrap_or_else(|| panic!("{group}/{plural}"));
        to_table(r, items, &opts())
    }

    /// The column names of a table.
    pub(crate) fn columns(table: &Value) -> Vec<(String, i64)> {
        table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["priority"].as_i64().unwrap(),
                )
            })
            .collect()
    }

    /// The cells of the only row of the table of one object.
    pub(crate) fn cells(group: &str, plural: &str, item: Value) -> Vec<Value> {
        let t = table(group, plural, &[item]);
        let rows = t["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1);
        rows[0]["cells"].as_array().unwrap().clone()
    }

    /// Check the columns' names and priorities, and that every row has one cell per column.
    pub(crate) fn check_shape(table: &Value, want: &[(&str, i64)]) {
        let got = columns(table);
        let want: Vec<(String, i64)> = want.iter().map(|(n, p)| (n.to_string(), *p)).collect();
        assert_eq!(got, want);
        for row in table["rows"].as_array().into_iter().flatten() {
            assert_eq!(row["cells"].as_array().unwrap().len(), want.len(), "{row}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use skiff_api::resources;

    fn cm(name: &str) -> Value {
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": { "name": name, "namespace": "default", "uid": "u1",
                          "resourceVersion": "7", "creationTimestamp": ago(5),
                          "labels": { "a": "b" } },
            "data": { "k": "v" },
        })
    }

    #[test]
    fn table_envelope() {
        let r = resources::by_group_version_resource("", "v1", "configmaps").unwrap();
        let mut o = opts();
        o.include_object = IncludeObject::Metadata;
        o.continue_token = Some("tok".into());
        o.remaining_item_count = Some(3);
        let t = to_table(r, &[cm("a"), cm("b")], &o);
        assert_eq!(t["kind"], "Table");
        assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(
            t["metadata"],
            json!({ "resourceVersion": "42", "continue": "tok", "remainingItemCount": 3 })
        );
        assert_eq!(
            t["columnDefinitions"][0],
            json!({
                "name": "Name", "type": "string", "format": "name",
                "description": docs::META_NAME, "priority": 0,
            })
        );
        assert_eq!(t["columnDefinitions"][1]["format"], "");
        let row = &t["rows"][1];
        assert_eq!(row["cells"], json!(["b", 1, "5s"]));
        assert!(row.get("conditions").is_none());
        assert_eq!(
            row["object"],
            json!({
                "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                "metadata": cm("b")["metadata"],
            })
        );

        o.include_object = IncludeObject::Object;
        o.resource_version = String::new();
        o.continue_token = Some(String::new());
        o.remaining_item_count = None;
        let t = to_table(r, &[cm("a")], &o);
        assert_eq!(t["metadata"], json!({}));
        assert_eq!(t["rows"][0]["object"], cm("a"));

        o.include_object = IncludeObject::None;
        let t = to_table(r, &[cm("a")], &o);
        assert_eq!(t["rows"][0]["object"], Value::Null);
        assert!(t["rows"][0].as_object().unwrap().contains_key("object"));

        // Empty list: rows is an empty array for printed kinds.
        let t = to_table(r, &[] as &[Value], &o);
        assert_eq!(t["rows"], json!([]));

        // Arc<Value> items work as well.
        let items = vec![std::sync::Arc::new(cm("a"))];
        let t = to_table(r, &items, &o);
        assert_eq!(t["rows"][0]["cells"][0], "a");

        let mut t = to_table(r, &[cm("a")], &o);
        omit_headers(&mut t);
        assert_eq!(t["columnDefinitions"], Value::Null);
        assert_eq!(t["rows"][0]["cells"][0], "a");
    }

    #[test]
    fn default_table_for_kinds_without_printer() {
        for plural in ["limitranges", "bindings"] {
            let r = resources::by_group_version_resource("", "v1", plural).unwrap();
            let t = to_table(r, &[cm("x")], &opts());
            check_shape(&t, &[("Name", 0), ("Created At", 0)]);
            assert_eq!(t["columnDefinitions"][1]["type"], "date");
            assert_eq!(
                t["columnDefinitions"][1]["description"],
                docs::META_CREATION_TIMESTAMP
            );
            assert_eq!(t["rows"][0]["cells"], json!(["x", "2024-05-01T11:59:55Z"]));
            let empty = to_table(r, &[] as &[Value], &opts());
            assert_eq!(empty["rows"], Value::Null);
        }
        for plural in ["roles", "clusterroles"] {
            let cells = cells(
                "rbac.authorization.k8s.io",
                plural,
                json!({ "metadata": { "name": "view", "creationTimestamp": "2024-01-02T03:04:05+01:00" } }),
            );
            assert_eq!(cells, [json!("view"), json!("2024-01-02T02:04:05Z")]);
        }
        let cells = cells("", "limitranges", json!({ "metadata": { "name": "l" } }));
        assert_eq!(cells, [json!("l"), json!("0001-01-01T00:00:00Z")]);
    }

    #[test]
    fn include_object_parameter() {
        assert_eq!(parse_include_object(None), IncludeObject::Metadata);
        assert_eq!(parse_include_object(Some("")), IncludeObject::Metadata);
        assert_eq!(
            parse_include_object(Some("Metadata")),
            IncludeObject::Metadata
        );
        assert_eq!(parse_include_object(Some("None")), IncludeObject::None);
        assert_eq!(parse_include_object(Some("Object")), IncludeObject::Object);
        assert_eq!(
            parse_include_object(Some("object")),
            IncludeObject::Metadata
        );
        assert_eq!(
            try_parse_include_object(Some("object")),
            Err(r#"unrecognized includeObject value: "object""#.to_string())
        );
        assert_eq!(
            try_parse_include_object(Some("None")),
            Ok(IncludeObject::None)
        );
    }

    /// Every served resource prints: a row per item, one cell per column, no panic on
    /// objects that are empty, partial or not objects at all.
    #[test]
    fn every_resource_prints_anything() {
        let odd = [
            json!({}),
            json!(null),
            json!("text"),
            json!([1, 2]),
            json!({ "metadata": "x", "spec": 3, "status": [] }),
            json!({ "metadata": { "name": "n", "creationTimestamp": "garbage" },
                    "spec": { "containers": "no", "ports": [{}], "rules": [null] },
                    "status": { "conditions": [null, 1], "containerStatuses": [{}],
                                "initContainerStatuses": [{ "state": { "terminated": {} } }] } }),
        ];
        for r in resources::all() {
            let t = to_table(r, &odd, &opts());
            let width = t["columnDefinitions"].as_array().unwrap().len();
            let rows = t["rows"].as_array().unwrap();
            assert_eq!(rows.len(), odd.len(), "{}", r.plural);
            for row in rows {
                assert_eq!(
                    row["cells"].as_array().unwrap().len(),
                    width,
                    "{}",
                    r.plural
                );
            }
            let first = &t["columnDefinitions"][0];
            assert!(
                first["name"] == "Name" || first["name"] == "Last Seen",
                "{}",
                r.plural
            );
        }
    }
}
