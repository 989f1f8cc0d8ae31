//! The difference between two versions of an object as three field sets: removed, modified
//! (leaves whose value changed) and added. Granular maps and lists that appear or disappear
//! are added or removed themselves (that is where `".": {}` entries come from); a field Go
//! always serialises (see [`ListKeys::always_present`](super::schema::ListKeys)) counts as
//! present whenever its parent is.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::path::PathElement;
use super::set::FieldSet;
use super::typed::{item_elements, Schema, Shape, ValidationErrors};
use super::value;

/// What changed between two objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    pub removed: FieldSet,
    pub modified: FieldSet,
    pub added: FieldSet,
}

impl Comparison {
    /// Keeps only the paths that are not under one of `ignored`.
    pub fn exclude(self, ignored: &FieldSet) -> Comparison {
        if ignored.is_empty() {
            return self;
        }
        Comparison {
            removed: self.removed.recursive_difference(ignored),
            modified: self.modified.recursive_difference(ignored),
            added: self.added.recursive_difference(ignored),
        }
    }
}

static NULL: Value = Value::Null;

/// Whether a null counts as a value or as the field's absence. Objects that went through
/// Go types (anything stored) cannot tell the two apart, so comparing two versions of an
/// object treats them alike; an applied configuration's nulls are values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nulls {
    AsValues,
    AsAbsent,
}

struct Walker<'s, 'v> {
    schema: Schema<'s>,
    nulls: Nulls,
    out: Comparison,
    errs: ValidationErrors,
    names: Vec<&'v str>,
    fp: Vec<PathElement>,
}

fn is_empty_container(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    }
}

impl<'v> Walker<'_, 'v> {
    fn leaf(&mut self, l: Option<&Value>, r: Option<&Value>) {
        let (l, r) = match self.nulls {
            Nulls::AsAbsent => {
                // A real null is no value; a placeholder stands for an empty one.
                let real = |v: &&Value| !v.is_null() || std::ptr::eq(*v, &NULL);
                (l.filter(real), r.filter(real))
            }
            Nulls::AsValues => (l, r),
        };
        match (l, r) {
            (None, None) => {}
            (None, _) => self.out.added.insert(&self.fp),
            (_, None) => self.out.removed.insert(&self.fp),
            (Some(a), Some(b)) => {
                // A field Go always serialises, missing here, is its empty value.
                let placeholder_matches = |p: &Value, other: &Value| {
                    std::ptr::eq(p, &NULL) && is_empty_container(Some(other))
                };
                if !value::equal(a, b) && !placeholder_matches(a, b) && !placeholder_matches(b, a) {
                    self.out.modified.insert(&self.fp)
                }
            }
        }
    }

    fn walk(&mut self, l: Option<&'v Value>, r: Option<&'v Value>) {
        let shape = self.schema.shape(&self.names, l, r);
        if shape == Shape::Leaf || (is_empty_container(l) && is_empty_container(r)) {
            self.leaf(l, r);
            return;
        }
        match shape {
            Shape::Map => self.walk_map(l, r),
            Shape::List(list) => self.walk_list(&list, l, r),
            Shape::Leaf => {}
        }
        if l.is_none() {
            self.out.added.insert(&self.fp);
        } else if r.is_none() {
            self.out.removed.insert(&self.fp);
        }
    }

    fn child(&self, parent: Option<&'v Value>, k: &str) -> Option<&'v Value> {
        let parent = parent?;
        // Inside a placeholder struct, the always-present fields are placeholders too.
        let found = if std::ptr::eq(parent, &NULL) {
            None
        } else {
            let obj: &'v Map<String, Value> = parent.as_object()?;
            obj.get(k)
        };
        match found {
            Some(v) => Some(v),
            None if self.schema.always_present(&self.names) => Some(&NULL),
            None => None,
        }
    }

    fn walk_map(&mut self, l: Option<&'v Value>, r: Option<&'v Value>) {
        let mut keys: Vec<&'v String> = Vec::new();
        for side in [l, r].into_iter().flatten() {
            if let Some(obj) = side.as_object() {
                keys.extend(obj.keys());
            }
        }
        keys.sort();
        keys.dedup();
        for k in keys {
            self.names.push(k);
            self.fp.push(PathElement::Field(k.clone()));
            let lc = self.child(l, k);
            let rc = self.child(r, k);
            self.walk(lc, rc);
            self.fp.pop();
            self.names.pop();
        }
    }

    /// Items grouped by element, in first-seen order.
    fn index(
        &mut self,
        list: &super::schema::ListType,
        side: Option<&'v Value>,
        order: &mut Vec<PathElement>,
        ordered: &mut BTreeSet<PathElement>,
    ) -> BTreeMap<PathElement, Vec<&'v Value>> {
        let mut out: BTreeMap<PathElement, Vec<&'v Value>> = BTreeMap::new();
        let Some(items) = side.and_then(Value::as_array) else {
            return out;
        };
        let pes = item_elements(
            &self.schema,
            &self.names,
            &self.fp,
            list,
            items,
            &mut self.errs,
        );
        for (item, pe) in items.iter().zip(pes) {
            let Some(pe) = pe else { continue };
            if ordered.insert(pe.clone()) {
                order.push(pe.clone());
            }
            out.entry(pe).or_default().push(item);
        }
        out
    }

    fn walk_list(
        &mut self,
        list: &super::schema::ListType,
        l: Option<&'v Value>,
        r: Option<&'v Value>,
    ) {
        let mut order = Vec::new();
        let mut ordered = BTreeSet::new();
        let lv = self.index(list, l, &mut order, &mut ordered);
        let rv = self.index(list, r, &mut order, &mut ordered);
        for pe in order {
            let ll = lv.get(&pe).map(Vec::as_slice).unwrap_or(&[]);
            let rl = rv.get(&pe).map(Vec::as_slice).unwrap_or(&[]);
            self.fp.push(pe);
            match (ll.len(), rl.len()) {
                (0..=1, 0..=1) => self.walk(ll.first().copied(), rl.first().copied()),
                (2.., 2..) => {
                    let same = ll.len() == rl.len()
                        && ll.iter().zip(rl.iter()).all(|(a, b)| value::equal(a, b));
                    if !same {
                        self.out.modified.insert(&self.fp);
                    }
                }
                (2.., n) => {
                    if n == 1 {
                        self.walk(None, rl.first().copied());
                    }
                    self.out.removed.insert(&self.fp);
                }
                (n, _) => {
                    if n == 1 {
                        self.walk(ll.first().copied(), None);
                    }
                    self.out.added.insert(&self.fp);
                }
            }
            self.fp.pop();
        }
    }
}

/// Compares `l` (before) with `r` (after).
pub fn compare(
    schema: Schema<'_>,
    l: Option<&Value>,
    r: Option<&Value>,
    nulls: Nulls,
) -> Result<Comparison, ValidationErrors> {
    let mut w = Walker {
        schema,
        nulls,
        out: Comparison::default(),
        errs: ValidationErrors::default(),
        names: Vec::new(),
        fp: Vec::new(),
    };
    w.walk(l, r);
    if w.errs.is_empty() {
        Ok(w.out)
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
    fn create_records_what_kubectl_create_shows() {
        let new = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "nginx"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
                "template": {
                    "metadata": {"labels": {"app": "nginx"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {},
                        "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}
                }
            },
            "status": {}
        });
        let c = compare(schema(), Some(&json!({})), Some(&new), Nulls::AsAbsent).unwrap();
        assert!(c.removed.is_empty() && c.modified.is_empty());
        assert_eq!(
            fieldsv1::serialize(&c.added),
            json!({
                "f:apiVersion": {}, "f:kind": {},
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}, "f:name": {}},
                "f:spec": {
                    "f:replicas": {}, "f:selector": {},
                    "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}}, "f:type": {}},
                    "f:template": {
                        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                        "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                            ".": {}, "f:image": {}, "f:name": {}, "f:resources": {},
                            "f:ports": {".": {}, "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                                ".": {}, "f:containerPort": {}, "f:protocol": {}}}
                        }}}
                    }
                }
            })
        );
    }

    #[test]
    fn modified_and_removed() {
        let old = json!({"spec": {"replicas": 1, "paused": true,
            "template": {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}}});
        let new = json!({"spec": {"replicas": 2,
            "template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}});
        let c = compare(schema(), Some(&old), Some(&new), Nulls::AsAbsent).unwrap();
        assert_eq!(
            fieldsv1::serialize(&c.modified),
            json!({"f:spec": {"f:replicas": {}}})
        );
        assert_eq!(
            fieldsv1::serialize(&c.removed),
            json!({"f:spec": {"f:paused": {}, "f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"b\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
        );
        assert!(c.added.is_empty());
        assert_eq!(
            c.clone()
                .exclude(&FieldSet::from_paths(&[crate::apply::path::Path::fields(
                    &["spec"]
                )])),
            Comparison::default()
        );
    }

    #[test]
    fn integer_and_float_are_equal() {
        let c = compare(
            schema(),
            Some(&json!({"a": 1})),
            Some(&json!({"a": 1.0})),
            Nulls::AsValues,
        )
        .unwrap();
        assert_eq!(c, Comparison::default());
    }
}
