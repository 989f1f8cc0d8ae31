//! `metadata.managedFields` as data: who manages what. A manager is identified, as upstream
//! does, by its name, operation (Apply or Update), subresource and, for Update only, the API
//! version it wrote with. Entries are read leniently where upstream is lenient and written
//! sorted as upstream sorts them (operation, time, manager, apiVersion, subresource); at most
//! ten Update managers are kept, older ones folding into `ancient-changes`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::fieldsv1;
use super::set::FieldSet;
use super::value::{go_quote, is_print};

/// The operation a manager performed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    Apply,
    Update,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// Who owns a set of fields.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ManagerId {
    pub manager: String,
    pub operation: Operation,
    /// Part of the identity for Update only (empty for Apply).
    pub api_version: String,
    /// Empty for the main resource.
    pub subresource: String,
}

/// The manager name upstream records when a write names none.
pub const UNKNOWN_MANAGER: &str = "unknown";

impl ManagerId {
    pub fn new(manager: &str, operation: Operation, api_version: &str, subresource: &str) -> Self {
        ManagerId {
            manager: manager.to_string(),
            operation,
            api_version: match operation {
                Operation::Apply => String::new(),
                Operation::Update => api_version.to_string(),
            },
            subresource: subresource.to_string(),
        }
    }

    /// Upstream's identifier string for this manager (the JSON of its entry without fields
    /// and time); it orders managers in conflict messages.
    pub fn identifier(&self) -> String {
        let mut parts = Vec::new();
        if !self.manager.is_empty() {
            parts.push(format!(
                "\"manager\":{}",
                super::value::json_string(&self.manager)
            ));
        }
        parts.push(format!("\"operation\":\"{}\"", self.operation.as_str()));
        if !self.api_version.is_empty() {
            parts.push(format!(
                "\"apiVersion\":{}",
                super::value::json_string(&self.api_version)
            ));
        }
        if !self.subresource.is_empty() {
            parts.push(format!(
                "\"subresource\":{}",
                super::value::json_string(&self.subresource)
            ));
        }
        format!("{{{}}}", parts.join(","))
    }

    /// How conflict messages name the manager: `"kubectl"`, `"kubectl-create" using apps/v1`,
    /// `"m" with subresource "status" using v1`.
    pub fn describe(&self) -> String {
        let mut s = go_quote(&self.manager);
        if !self.subresource.is_empty() {
            s = format!("{s} with subresource {}", go_quote(&self.subresource));
        }
        if self.operation == Operation::Update {
            s = format!("{s} using {}", self.api_version);
        }
        s
    }
}

/// A set of fields with the API version it is expressed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedSet {
    pub set: FieldSet,
    pub api_version: String,
    pub applied: bool,
}

/// Every manager's fields and last write time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Managed {
    pub fields: BTreeMap<ManagerId, VersionedSet>,
    /// RFC 3339 times, as stored.
    pub times: BTreeMap<ManagerId, String>,
}

fn str_field<'a>(entry: &'a Map<String, Value>, key: &str) -> &'a str {
    entry.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Reads `metadata.managedFields` (absent or null is empty).
pub fn decode(entries: Option<&Value>) -> Result<Managed, String> {
    let mut managed = Managed::default();
    let list = match entries {
        None | Some(Value::Null) => return Ok(managed),
        Some(Value::Array(list)) => list,
        Some(_) => return Err("managedFields must be a list".into()),
    };
    for (i, entry) in list.iter().enumerate() {
        let entry = entry
            .as_object()
            .ok_or_else(|| format!("managed fields entry {i} is not an object"))?;
        let operation = match str_field(entry, "operation") {
            "Apply" => Operation::Apply,
            "Update" => Operation::Update,
            _ => return Err("operation must be `Apply` or `Update`".into()),
        };
        let api_version = str_field(entry, "apiVersion");
        if api_version.is_empty() {
            return Err("apiVersion must not be empty".into());
        }
        match str_field(entry, "fieldsType") {
            "FieldsV1" => {}
            "" => return Err(format!("missing fieldsType in managed fields entry {i}")),
            other => {
                return Err(format!(
                    "invalid fieldsType {} in managed fields entry {i}",
                    go_quote(other)
                ))
            }
        }
        let set = match entry.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::new(),
            Some(v) => fieldsv1::parse(v).map_err(|e| format!("error decoding set: {e}"))?,
        };
        let id = ManagerId::new(
            str_field(entry, "manager"),
            operation,
            api_version,
            str_field(entry, "subresource"),
        );
        managed.fields.insert(
            id.clone(),
            VersionedSet {
                set,
                api_version: api_version.to_string(),
                applied: operation == Operation::Apply,
            },
        );
        match entry.get("time").and_then(Value::as_str) {
            Some(t) => managed.times.insert(id, t.to_string()),
            None => managed.times.remove(&id),
        };
    }
    Ok(managed)
}

fn seconds(time: Option<&String>) -> i64 {
    time.and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_second())
        .unwrap_or(0)
}

/// Writes `metadata.managedFields` (None when no manager is left).
pub fn encode(managed: &Managed) -> Option<Value> {
    if managed.fields.is_empty() {
        return None;
    }
    let mut rows: Vec<(&ManagerId, &VersionedSet, Option<&String>)> = managed
        .fields
        .iter()
        .map(|(id, vs)| (id, vs, managed.times.get(id)))
        .collect();
    rows.sort_by(|a, b| {
        let op = |r: &(&ManagerId, &VersionedSet, Option<&String>)| {
            if r.1.applied {
                Operation::Apply
            } else {
                r.0.operation
            }
        };
        op(a)
            .as_str()
            .cmp(op(b).as_str())
            .then_with(|| seconds(a.2).cmp(&seconds(b.2)))
            .then_with(|| a.0.manager.cmp(&b.0.manager))
            .then_with(|| a.1.api_version.cmp(&b.1.api_version))
            .then_with(|| a.0.subresource.cmp(&b.0.subresource))
    });
    let entries = rows
        .into_iter()
        .map(|(id, vs, time)| {
            let operation = if vs.applied {
                Operation::Apply
            } else {
                id.operation
            };
            let mut e = Map::new();
            if !id.manager.is_empty() {
                e.insert("manager".into(), json!(id.manager));
            }
            e.insert("operation".into(), json!(operation.as_str()));
            e.insert("apiVersion".into(), json!(vs.api_version));
            if let Some(t) = time {
                e.insert("time".into(), json!(t));
            }
            e.insert("fieldsType".into(), json!("FieldsV1"));
            e.insert("fieldsV1".into(), fieldsv1::serialize(&vs.set));
            if !id.subresource.is_empty() {
                e.insert("subresource".into(), json!(id.subresource));
            }
            Value::Object(e)
        })
        .collect();
    Some(Value::Array(entries))
}

/// Whether a write asks to clear managedFields (`[]` or `[{}]`).
pub fn is_reset(entries: Option<&Value>) -> bool {
    match entries {
        Some(Value::Array(list)) => {
            list.is_empty()
                || (list.len() == 1 && list[0].as_object().is_some_and(|o| o.is_empty()))
        }
        _ => false,
    }
}

/// How many Update managers upstream keeps before folding the oldest together.
pub const MAX_UPDATE_MANAGERS: usize = 10;

/// Folds the oldest Update managers, per API version, into `ancient-changes` until at most
/// `max` remain.
pub fn cap_update_managers(managed: &mut Managed, max: usize) {
    let mut updaters: Vec<ManagerId> = managed
        .fields
        .iter()
        .filter(|(_, vs)| !vs.applied)
        .map(|(id, _)| id.clone())
        .collect();
    if updaters.len() <= max {
        return;
    }
    updaters.sort_by(|a, b| {
        seconds(managed.times.get(a))
            .cmp(&seconds(managed.times.get(b)))
            .then_with(|| a.identifier().cmp(&b.identifier()))
    });
    let mut first_of_version: BTreeMap<String, ManagerId> = BTreeMap::new();
    let mut length = updaters.len();
    for id in updaters {
        if length <= max {
            break;
        }
        let Some(vs) = managed.fields.get(&id).cloned() else {
            continue;
        };
        let time = managed.times.get(&id).cloned();
        let bucket = ManagerId::new("ancient-changes", Operation::Update, &vs.api_version, "");
        if id == bucket {
            continue;
        }
        match first_of_version.get(&vs.api_version) {
            Some(first) => {
                if !managed.fields.contains_key(&bucket) {
                    if let Some(s) = managed.fields.remove(first) {
                        managed.fields.insert(bucket.clone(), s);
                    }
                }
                let merged = match managed.fields.get(&bucket) {
                    Some(b) => vs.set.union(&b.set),
                    None => vs.set.clone(),
                };
                managed.fields.insert(
                    bucket.clone(),
                    VersionedSet {
                        set: merged,
                        api_version: vs.api_version.clone(),
                        applied: vs.applied,
                    },
                );
                managed.fields.remove(&id);
                managed.times.remove(&id);
                length -= 1;
                match time {
                    Some(t) => managed.times.insert(bucket, t),
                    None => managed.times.remove(&bucket),
                };
            }
            None => {
                first_of_version.insert(vs.api_version.clone(), id);
            }
        }
    }
}

/// The field manager upstream records for a write that names none: the User-Agent up to its
/// first `/`, without unprintable characters, cut to 128 bytes (`kubectl/v1.33.0 (linux/amd64)
/// kubernetes/abc` -> `kubectl`). An empty result is recorded as `unknown`.
pub fn default_manager(user_agent: &str) -> String {
    let prefix = user_agent.split('/').next().unwrap_or("");
    let mut out = String::new();
    for c in prefix.chars() {
        if !is_print(c) {
            continue;
        }
        if out.len() + c.len_utf8() > 128 {
            break;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(manager: &str, op: &str, time: &str, fields: Value) -> Value {
        json!({"manager": manager, "operation": op, "apiVersion": "apps/v1", "time": time,
               "fieldsType": "FieldsV1", "fieldsV1": fields})
    }

    #[test]
    fn round_trip_and_sort_order() {
        let entries = json!([
            entry(
                "b",
                "Update",
                "2024-01-01T00:00:02Z",
                json!({"f:spec": {"f:a": {}}})
            ),
            entry(
                "kubectl",
                "Apply",
                "2024-01-01T00:00:09Z",
                json!({"f:spec": {"f:b": {}}})
            ),
            entry(
                "a",
                "Update",
                "2024-01-01T00:00:02Z",
                json!({"f:spec": {"f:c": {}}})
            ),
            entry(
                "z",
                "Update",
                "2024-01-01T00:00:01Z",
                json!({"f:spec": {"f:d": {}}})
            ),
        ]);
        let m = decode(Some(&entries)).unwrap();
        assert_eq!(m.fields.len(), 4);
        let out = encode(&m).unwrap();
        let names: Vec<&str> = out
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["kubectl", "z", "a", "b"]);
        assert_eq!(out[0], entries[1]);
        let apply = ManagerId::new("kubectl", Operation::Apply, "apps/v1", "");
        assert!(m.fields.contains_key(&apply));
    }

    #[test]
    fn decode_errors_match_upstream() {
        let bad_op = json!([{"manager": "m", "operation": "Patch", "apiVersion": "v1", "fieldsType": "FieldsV1"}]);
        assert_eq!(
            decode(Some(&bad_op)).unwrap_err(),
            "operation must be `Apply` or `Update`"
        );
        let no_type = json!([{"manager": "m", "operation": "Update", "apiVersion": "v1"}]);
        assert_eq!(
            decode(Some(&no_type)).unwrap_err(),
            "missing fieldsType in managed fields entry 0"
        );
        let no_version = json!([{"manager": "m", "operation": "Update", "fieldsType": "FieldsV1"}]);
        assert_eq!(
            decode(Some(&no_version)).unwrap_err(),
            "apiVersion must not be empty"
        );
        assert!(decode(None).unwrap().fields.is_empty());
        assert!(is_reset(Some(&json!([]))));
        assert!(is_reset(Some(&json!([{}]))));
        assert!(!is_reset(Some(&json!(null))));
    }

    #[test]
    fn identifiers_and_descriptions() {
        let u = ManagerId::new("kubectl-create", Operation::Update, "apps/v1", "");
        assert_eq!(
            u.identifier(),
            r#"{"manager":"kubectl-create","operation":"Update","apiVersion":"apps/v1"}"#
        );
        assert_eq!(u.describe(), r#""kubectl-create" using apps/v1"#);
        let a = ManagerId::new("kubectl", Operation::Apply, "apps/v1", "status");
        assert_eq!(a.describe(), r#""kubectl" with subresource "status""#);
        assert_eq!(
            a.identifier(),
            r#"{"manager":"kubectl","operation":"Apply","subresource":"status"}"#
        );
    }

    #[test]
    fn user_agent_prefix() {
        assert_eq!(
            default_manager("kubectl/v1.33.0 (linux/amd64) kubernetes/abc"),
            "kubectl"
        );
        assert_eq!(
            default_manager("OpenAPI-Generator/33.1.0/python"),
            "OpenAPI-Generator"
        );
        assert_eq!(default_manager("python-requests/2.31"), "python-requests");
        assert_eq!(default_manager(""), "");
        assert_eq!(default_manager("a\u{7}b/1"), "ab");
        assert_eq!(default_manager(&"x".repeat(200)).len(), 128);
    }

    #[test]
    fn caps_update_managers_into_ancient_changes() {
        let mut m = Managed::default();
        for i in 0..12 {
            let id = ManagerId::new(&format!("m{i:02}"), Operation::Update, "v1", "");
            let mut set = FieldSet::new();
            set.insert(&crate::apply::path::Path::fields(&["data", &format!("k{i}")]).0);
            m.fields.insert(
                id.clone(),
                VersionedSet {
                    set,
                    api_version: "v1".into(),
                    applied: false,
                },
            );
            m.times.insert(id, format!("2024-01-01T00:00:{i:02}Z"));
        }
        cap_update_managers(&mut m, MAX_UPDATE_MANAGERS);
        assert_eq!(m.fields.len(), 10);
        let bucket = ManagerId::new("ancient-changes", Operation::Update, "v1", "");
        assert_eq!(m.fields[&bucket].set.len(), 3);
        assert_eq!(m.times[&bucket], "2024-01-01T00:00:02Z");
        assert!(!m
            .fields
            .keys()
            .any(|id| id.manager == "m00" || id.manager == "m01" || id.manager == "m02"));
    }
}
