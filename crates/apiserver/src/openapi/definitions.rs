//! The canonical set of schema definitions, built once from k8s-openapi's `schemars` impls:
//! every served kind, its list kind, the meta types, with upstream's extensions added
//! (`x-kubernetes-group-version-kind` on top-level kinds, patch strategies, list and map
//! types from [`super::patch_meta`]). References have the swagger 2.0 form
//! `#/definitions/<name>`; the v2 and v3 renderers adapt the rest.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use schemars::generate::SchemaSettings;
use serde_json::{json, Map, Value};

use super::kinds::{self, KINDS, META_KINDS, PER_GROUP_META_KINDS};
use super::patch_meta;

/// Definition name -> schema.
pub type Definitions = BTreeMap<String, Value>;

/// The prefix of every reference in [`definitions`].
pub const REF_PREFIX: &str = "#/definitions/";

/// Every definition, built on first use.
pub fn definitions() -> &'static Definitions {
    static DEFS: OnceLock<Definitions> = OnceLock::new();
    DEFS.get_or_init(build)
}

/// One definition by name (`io.k8s.api.apps.v1.Deployment`).
pub fn schema(name: &str) -> Option<&'static Value> {
    definitions().get(name)
}

/// The definition a `$ref` points at (`#/definitions/<name>`).
pub fn resolve_ref(reference: &str) -> Option<&'static Value> {
    reference.strip_prefix(REF_PREFIX).and_then(schema)
}

/// The `{group, kind, version}` object upstream uses in `x-kubernetes-group-version-kind`.
pub fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({ "group": group, "kind": kind, "version": version })
}

fn build() -> Definitions {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/definitions".into();
            s.meta_schema = None;
        })
        .into_generator();
    kinds::register_all(&mut generator);
    let mut defs: Definitions = generator.take_definitions(false).into_iter().collect();

    for schema in defs.values_mut() {
        drop_required_metadata(schema);
    }
    add_lists(&mut defs);
    add_group_version_kinds(&mut defs);
    for (name, schema) in defs.iter_mut() {
        add_patch_meta(name, schema);
    }
    defs
}

/// k8s-openapi marks `metadata` required on every resource; upstream does not.
fn drop_required_metadata(schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    let empty = match obj.get_mut("required").and_then(Value::as_array_mut) {
        Some(required) => {
            required.retain(|r| r != "metadata");
            required.is_empty()
        }
        None => false,
    };
    if empty {
        obj.remove("required");
    }
}

const API_VERSION_DESCRIPTION: &str = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const KIND_DESCRIPTION: &str = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";

/// The list kind of every listable resource (`DeploymentList`): k8s-openapi models lists as
/// one generic type without a schema, so they are written here in upstream's shape.
fn add_lists(defs: &mut Definitions) {
    for k in KINDS.iter().filter(|k| kinds::is_listable(k)) {
        if defs.contains_key(k.list_schema) {
            continue;
        }
        let list = json!({
            "description": format!("{}List is a list of {} objects.", k.kind, k.kind),
            "type": "object",
            "properties": {
                "apiVersion": { "description": API_VERSION_DESCRIPTION, "type": "string" },
                "items": {
                    "description": format!("List of {} objects.", k.kind),
                    "type": "array",
                    "items": { "$ref": format!("{REF_PREFIX}{}", k.schema) },
                },
                "kind": { "description": KIND_DESCRIPTION, "type": "string" },
                "metadata": {
                    "$ref": format!("{REF_PREFIX}{}", kinds::LIST_META),
                    "description": "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
                },
            },
            "required": ["items"],
        });
        defs.insert(k.list_schema.to_string(), list);
    }
}

fn push_gvk(defs: &mut Definitions, name: &str, gvk: Value) {
    let Some(obj) = defs.get_mut(name).and_then(Value::as_object_mut) else {
        return;
    };
    let list = obj
        .entry("x-kubernetes-group-version-kind")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Some(list) = list.as_array_mut() {
        if !list.contains(&gvk) {
            list.push(gvk);
        }
    }
}

fn add_group_version_kinds(defs: &mut Definitions) {
    for k in KINDS {
        push_gvk(defs, k.schema, gvk(k.group, k.version, k.kind));
        if kinds::is_listable(k) {
            let list_kind = format!("{}List", k.kind);
            push_gvk(defs, k.list_schema, gvk(k.group, k.version, &list_kind));
        }
    }
    // Every served group-version, core first, then the others sorted as upstream sorts them.
    let mut group_versions: Vec<(&str, &str)> = skiff_api::resources::groups()
        .iter()
        .filter(|g| !g.name.is_empty())
        .flat_map(|g| g.versions.iter().map(move |v| (g.name, *v)))
        .collect();
    group_versions.sort();
    for (kind, name) in META_KINDS {
        push_gvk(defs, name, gvk("", "v1", kind));
        if PER_GROUP_META_KINDS.contains(kind) {
            for (group, version) in &group_versions {
                push_gvk(defs, name, gvk(group, version, kind));
            }
        }
    }
}

fn add_patch_meta(name: &str, schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if let Some(map_type) = patch_meta::type_map_type(name) {
        obj.insert("x-kubernetes-map-type".into(), map_type.into());
    }
    let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for (field, prop) in props.iter_mut() {
        let Some(meta) = patch_meta::patch_meta(name, field) else {
            continue;
        };
        let Some(prop) = prop.as_object_mut() else {
            continue;
        };
        insert_extensions(prop, &meta);
    }
}

fn insert_extensions(prop: &mut Map<String, Value>, meta: &patch_meta::PatchMeta) {
    if let Some(s) = meta.strategy {
        prop.insert("x-kubernetes-patch-strategy".into(), s.into());
    }
    if let Some(k) = meta.merge_key {
        prop.insert("x-kubernetes-patch-merge-key".into(), k.into());
    }
    if let Some(t) = meta.list_type {
        prop.insert("x-kubernetes-list-type".into(), t.into());
    }
    if !meta.list_map_keys.is_empty() {
        prop.insert(
            "x-kubernetes-list-map-keys".into(),
            meta.list_map_keys.iter().map(|k| Value::from(*k)).collect(),
        );
    }
    if let Some(t) = meta.map_type {
        prop.insert("x-kubernetes-map-type".into(), t.into());
    }
}

/// Every `$ref` target named anywhere inside `value`.
pub fn refs_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    if let Some(r) = v.as_str() {
                        out.push(r.to_string());
                    }
                } else {
                    refs_in(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs_in(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ref_resolves() {
        let defs = definitions();
        for (name, schema) in defs {
            let mut refs = Vec::new();
            refs_in(schema, &mut refs);
            for r in refs {
                assert!(resolve_ref(&r).is_some(), "{name}: dangling {r}");
            }
        }
    }

    #[test]
    fn kinds_and_lists_carry_their_gvk() {
        let d = schema("io.k8s.api.apps.v1.Deployment").unwrap();
        assert_eq!(
            d["x-kubernetes-group-version-kind"],
            json!([{ "group": "apps", "kind": "Deployment", "version": "v1" }])
        );
        assert!(
            d.get("required").is_none(),
            "metadata is not required upstream"
        );
        let l = schema("io.k8s.api.apps.v1.DeploymentList").unwrap();
        assert_eq!(
            l["x-kubernetes-group-version-kind"],
            json!([{ "group": "apps", "kind": "DeploymentList", "version": "v1" }])
        );
        assert_eq!(l["required"], json!(["items"]));
        let s = schema(kinds::STATUS).unwrap();
        assert_eq!(
            s["x-kubernetes-group-version-kind"],
            json!([{ "group": "", "kind": "Status", "version": "v1" }])
        );
        let del = schema(kinds::DELETE_OPTIONS).unwrap();
        let gvks = del["x-kubernetes-group-version-kind"].as_array().unwrap();
        assert!(gvks.contains(&gvk("apps", "v1", "DeleteOptions")));
        assert!(gvks.contains(&gvk("", "v1", "DeleteOptions")));
        assert!(schema("io.k8s.api.core.v1.BindingList").is_none());
        for k in KINDS {
            assert!(schema(k.schema).is_some(), "{}", k.schema);
        }
    }

    #[test]
    fn patch_strategies_are_on_the_properties() {
        let spec = schema("io.k8s.api.core.v1.PodSpec").unwrap();
        let containers = &spec["properties"]["containers"];
        assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        assert_eq!(
            spec["properties"]["tolerations"].get("x-kubernetes-patch-strategy"),
            None
        );
        let meta = schema(kinds::OBJECT_META).unwrap();
        assert_eq!(
            meta["properties"]["finalizers"]["x-kubernetes-patch-strategy"],
            "merge"
        );
        assert_eq!(
            meta["properties"]["ownerReferences"]["x-kubernetes-patch-merge-key"],
            "uid"
        );
    }
}
