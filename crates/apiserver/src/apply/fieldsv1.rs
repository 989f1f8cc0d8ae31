//! The `fieldsV1` encoding of a [`FieldSet`] inside `metadata.managedFields`: a JSON tree whose
//! keys are path elements (`f:<name>`, `k:<json object of key fields>`, `v:<json value>`,
//! `i:<index>`), where `{}` marks an owned leaf and a `".": {}` entry marks a node that is
//! owned itself and also has owned children. Parsing skips element types it does not know,
//! as upstream does.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::path::PathElement;
use super::set::FieldSet;
use super::value::{go_json, json_string};

/// Why a `fieldsV1` tree could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldsError(pub String);

impl std::fmt::Display for FieldsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

enum ParsedElement {
    Known(PathElement),
    Unknown,
}

/// Reads one `fieldsV1` key.
fn parse_element(s: &str) -> Result<ParsedElement, FieldsError> {
    let b = s.as_bytes();
    if b.len() < 2 {
        return Err(FieldsError("key must be 2 characters long:".into()));
    }
    if b[1] != b':' {
        return Err(FieldsError(format!("missing colon: {s}")));
    }
    let rest = &s[2..];
    let pe = match b[0] {
        b'f' => PathElement::Field(rest.to_string()),
        b'v' => {
            PathElement::Value(serde_json::from_str(rest).map_err(|e| FieldsError(e.to_string()))?)
        }
        b'k' => {
            let obj: Map<String, Value> =
                serde_json::from_str(rest).map_err(|e| FieldsError(e.to_string()))?;
            PathElement::key(obj.into_iter().collect())
        }
        b'i' => PathElement::Index(
            rest.parse::<i64>()
                .map_err(|e| FieldsError(format!("strconv.Atoi: parsing {rest:?}: {e}")))?,
        ),
        _ => return Ok(ParsedElement::Unknown),
    };
    Ok(ParsedElement::Known(pe))
}

/// One `fieldsV1` key for a path element.
pub fn element_key(pe: &PathElement) -> String {
    match pe {
        PathElement::Field(name) => format!("f:{name}"),
        PathElement::Key(fields) => {
            let parts: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{}:{}", json_string(k), go_json(v)))
                .collect();
            format!("k:{{{}}}", parts.join(","))
        }
        PathElement::Value(v) => format!("v:{}", go_json(v)),
        PathElement::Index(i) => format!("i:{i}"),
    }
}

/// Reads a node: its children (None when it has none) and whether it is a member itself.
fn read_node(v: &Value) -> Result<(Option<FieldSet>, bool), FieldsError> {
    let obj = v
        .as_object()
        .ok_or_else(|| FieldsError("expected an object in fieldsV1".into()))?;
    let mut is_member = false;
    let mut any_child = false;
    let mut members = BTreeSet::new();
    let mut kids: BTreeMap<PathElement, FieldSet> = BTreeMap::new();
    for (k, child) in obj {
        if k == "." {
            is_member = true;
            continue;
        }
        let pe = match parse_element(k)? {
            ParsedElement::Known(pe) => pe,
            ParsedElement::Unknown => continue,
        };
        let (grandchildren, child_is_member) = read_node(child)?;
        any_child = true;
        if child_is_member {
            members.insert(pe.clone());
        }
        if let Some(gc) = grandchildren {
            let merged = match kids.remove(&pe) {
                Some(existing) => existing.union(&gc),
                None => gc,
            };
            kids.insert(pe, merged);
        }
    }
    if !any_child {
        return Ok((None, true));
    }
    Ok((Some(FieldSet::from_parts(members, kids)), is_member))
}

/// Parses a `fieldsV1` tree.
pub fn parse(v: &Value) -> Result<FieldSet, FieldsError> {
    let (children, _) = read_node(v)?;
    Ok(children.unwrap_or_default())
}

/// Serialises a set as a `fieldsV1` tree.
pub fn serialize(set: &FieldSet) -> Value {
    Value::Object(emit(set, false))
}

fn emit(set: &FieldSet, include_self: bool) -> Map<String, Value> {
    let mut out = Map::new();
    if include_self && !set.is_empty() {
        out.insert(".".into(), Value::Object(Map::new()));
    }
    for pe in set.members() {
        if !set.children().contains_key(pe) {
            out.insert(element_key(pe), Value::Object(Map::new()));
        }
    }
    for (pe, child) in set.children() {
        let is_member = set.members().contains(pe);
        out.insert(element_key(pe), Value::Object(emit(child, is_member)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::path::Path;
    use serde_json::json;

    #[test]
    fn round_trip_of_a_kubectl_create_entry() {
        let v = json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:name": {},
                        "f:ports": {".": {}, "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}}
                }}}
            },
            "f:metadata2": {"f:finalizers": {".": {}, "v:\"a/b\"": {}}}
        });
        let s = parse(&v).unwrap();
        assert!(s.has(&Path::fields(&["metadata", "labels"]).0));
        assert!(s.has(&Path::fields(&["metadata", "labels", "app"]).0));
        assert!(!s.has(&Path::fields(&["spec"]).0));
        let item = PathElement::key(vec![("name".into(), json!("nginx"))]);
        let mut p = Path::fields(&["spec", "template", "spec", "containers"]).0;
        p.push(item);
        assert!(s.has(&p));
        assert_eq!(serialize(&s), v);
    }

    #[test]
    fn unknown_element_types_are_skipped_and_bad_keys_fail() {
        let s = parse(&json!({"x:y": {}, "f:a": {}})).unwrap();
        assert_eq!(s.len(), 1);
        assert!(parse(&json!({"f": {}})).is_err());
        assert!(parse(&json!({"fa": {}})).is_err());
        assert!(parse(&json!({"k:{bad": {}})).is_err());
        assert!(parse(&json!([])).is_err());
        assert!(parse(&json!({})).unwrap().is_empty());
    }

    #[test]
    fn key_elements_are_go_json() {
        let pe = PathElement::key(vec![
            ("protocol".into(), json!("TCP")),
            ("port".into(), json!(80)),
        ]);
        assert_eq!(element_key(&pe), r#"k:{"port":80,"protocol":"TCP"}"#);
        assert_eq!(
            element_key(&PathElement::Value(json!("<a>"))),
            r#"v:"\u003ca\u003e""#
        );
    }
}
