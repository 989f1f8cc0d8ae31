//! The field set of an object: every leaf (scalar, null, empty map, atomic map or list), every
//! item of a set or keyed list (plus, for keyed items, their fields), as upstream computes
//! what an applied configuration owns. Strict mode (for applied configurations) rejects
//! duplicate list items; lenient mode (for stored objects) owns a duplicated item as a whole.

use std::collections::BTreeSet;

use serde_json::Value;

use super::path::PathElement;
use super::set::FieldSet;
use super::typed::{item_elements, Schema, Shape, ValidationErrors};

struct Walker<'s, 'v> {
    schema: Schema<'s>,
    strict: bool,
    set: FieldSet,
    errs: ValidationErrors,
    names: Vec<&'v str>,
    fp: Vec<PathElement>,
}

impl<'v> Walker<'_, 'v> {
    fn walk(&mut self, v: &'v Value) {
        match self.schema.shape(&self.names, Some(v), None) {
            Shape::Leaf => self.set.insert(&self.fp),
            Shape::Map => {
                let Some(obj) = v.as_object() else {
                    return;
                };
                for (k, child) in obj {
                    self.names.push(k);
                    self.fp.push(PathElement::Field(k.clone()));
                    self.walk(child);
                    let empty_map = child.as_object().is_some_and(|m| m.is_empty());
                    if child.is_null() || empty_map {
                        self.set.insert(&self.fp);
                    }
                    self.fp.pop();
                    self.names.pop();
                }
            }
            Shape::List(list) => {
                let Some(items) = v.as_array() else {
                    return;
                };
                let pes = item_elements(
                    &self.schema,
                    &self.names,
                    &self.fp,
                    &list,
                    items,
                    &mut self.errs,
                );
                let mut seen = BTreeSet::new();
                let mut duplicates = BTreeSet::new();
                for pe in pes.iter().flatten() {
                    if !seen.insert(pe.clone()) {
                        if self.strict {
                            self.errs
                                .push(&self.fp, format!("duplicate entries for key {pe}"));
                        }
                        duplicates.insert(pe.clone());
                    }
                }
                for pe in &duplicates {
                    self.fp.push(pe.clone());
                    self.set.insert(&self.fp);
                    self.fp.pop();
                }
                for (item, pe) in items.iter().zip(pes) {
                    let Some(pe) = pe else { continue };
                    if duplicates.contains(&pe) {
                        continue;
                    }
                    self.fp.push(pe);
                    self.walk(item);
                    self.set.insert(&self.fp);
                    self.fp.pop();
                }
            }
        }
    }
}

/// The field set of `v`.
pub fn to_field_set(
    schema: Schema<'_>,
    v: &Value,
    strict: bool,
) -> Result<FieldSet, ValidationErrors> {
    let mut w = Walker {
        schema,
        strict,
        set: FieldSet::new(),
        errs: ValidationErrors::default(),
        names: Vec::new(),
        fp: Vec::new(),
    };
    w.walk(v);
    if w.errs.is_empty() {
        Ok(w.set)
    } else {
        Err(w.errs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::fieldsv1;
    use crate::apply::schema::BuiltinListKeys;
    use serde_json::json;

    fn schema() -> Schema<'static> {
        Schema {
            keys: &BuiltinListKeys,
            name: "io.k8s.api.apps.v1.Deployment",
        }
    }

    #[test]
    fn applied_deployment_field_set_matches_upstream() {
        let obj = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "nginx"}},
                "template": {
                    "metadata": {"labels": {"app": "nginx"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27",
                        "ports": [{"containerPort": 80}], "args": ["-x"]}]}
                }
            }
        });
        let s = to_field_set(schema(), &obj, true).unwrap();
        assert_eq!(
            fieldsv1::serialize(&s),
            json!({
                "f:apiVersion": {}, "f:kind": {},
                "f:metadata": {"f:labels": {"f:app": {}}, "f:name": {}},
                "f:spec": {
                    "f:replicas": {}, "f:selector": {},
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                            ".": {}, "f:args": {}, "f:image": {}, "f:name": {},
                            "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                                ".": {}, "f:containerPort": {}}}
                        }}}
                    }
                }
            })
        );
    }

    #[test]
    fn duplicates_fail_strictly_and_are_owned_whole_leniently() {
        let obj = json!({"metadata": {"finalizers": ["a", "a", "b"]}});
        let err = to_field_set(schema(), &obj, true).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#".metadata.finalizers: duplicate entries for key [="a"]"#
        );
        let s = to_field_set(schema(), &obj, false).unwrap();
        assert_eq!(
            fieldsv1::serialize(&s),
            json!({"f:metadata": {"f:finalizers": {"v:\"a\"": {}, "v:\"b\"": {}}}})
        );
    }

    #[test]
    fn nulls_and_empty_maps_are_owned() {
        let obj = json!({"spec": {"strategy": {}, "paused": null, "template": {"spec": {"containers": []}}}});
        let s = to_field_set(schema(), &obj, true).unwrap();
        assert_eq!(
            fieldsv1::serialize(&s),
            json!({"f:spec": {"f:paused": {}, "f:strategy": {}}})
        );
    }
}
