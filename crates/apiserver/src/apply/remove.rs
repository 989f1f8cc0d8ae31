//! Removing a set of fields from an object, as pruning does: a member path goes with
//! everything under it, a child path is followed down. As upstream, a map or list field
//! emptied by the removal stays as a null (it still counts for the field sets pruning
//! computes); those nulls are reported so the caller can drop them from the final object, as
//! Go's decoding does. A list item emptied by the removal is dropped.

use serde_json::{Map, Value};

use super::path::PathElement;
use super::schema::ListType;
use super::set::FieldSet;
use super::typed::{Schema, Shape};

struct Walker<'s, 'v> {
    schema: Schema<'s>,
    names: Vec<&'v str>,
    fp: Vec<PathElement>,
    emptied: FieldSet,
}

impl<'v> Walker<'_, 'v> {
    /// `v` without the paths of `set`; None when nothing is left of a container.
    fn walk(&mut self, v: &'v Value, set: &FieldSet) -> Option<Value> {
        match self.schema.shape(&self.names, Some(v), None) {
            Shape::Leaf => match v {
                Value::Object(_) | Value::Array(_) => None,
                _ => Some(v.clone()),
            },
            Shape::Map => {
                let obj = v.as_object()?;
                let mut out = Map::new();
                for (k, child) in obj {
                    let pe = PathElement::Field(k.clone());
                    if set.has_member(&pe) {
                        continue;
                    }
                    let Some(sub) = set.child(&pe) else {
                        out.insert(k.clone(), child.clone());
                        continue;
                    };
                    self.names.push(k);
                    self.fp.push(pe);
                    let kept = self.walk(child, sub);
                    if kept.is_none() {
                        self.emptied.insert(&self.fp);
                    }
                    self.fp.pop();
                    self.names.pop();
                    out.insert(k.clone(), kept.unwrap_or(Value::Null));
                }
                (!out.is_empty()).then_some(Value::Object(out))
            }
            Shape::List(list) => {
                let items = v.as_array()?;
                let mut out = Vec::new();
                for item in items {
                    let Ok(pe) = self.schema.item_element(&self.names, &list, item) else {
                        out.push(item.clone());
                        continue;
                    };
                    if set.has_member(&pe) {
                        continue;
                    }
                    let Some(sub) = set.child(&pe) else {
                        out.push(item.clone());
                        continue;
                    };
                    self.fp.push(pe);
                    out.extend(self.walk(item, sub));
                    self.fp.pop();
                }
                (!out.is_empty()).then_some(Value::Array(out))
            }
        }
    }
}

/// `v` without the paths of `set` (an object with nothing left is `{}`), and the paths of
/// the fields the removal emptied (now null).
pub fn remove_items(schema: Schema<'_>, v: &Value, set: &FieldSet) -> (Value, FieldSet) {
    if set.is_empty() {
        return (v.clone(), FieldSet::new());
    }
    let mut w = Walker {
        schema,
        names: Vec::new(),
        fp: Vec::new(),
        emptied: FieldSet::new(),
    };
    let out = w.walk(v, set).unwrap_or_else(|| Value::Object(Map::new()));
    (out, w.emptied)
}

/// Drops the null map entries at the paths of `set` (the fields [`remove_items`] emptied).
pub fn drop_nulls_at(schema: Schema<'_>, v: &mut Value, set: &FieldSet) {
    let mut names = Vec::new();
    drop_nulls(schema, v, set, &mut names);
}

fn drop_nulls(schema: Schema<'_>, v: &mut Value, set: &FieldSet, names: &mut Vec<String>) {
    match v {
        Value::Object(obj) => {
            for pe in set.members() {
                if let PathElement::Field(k) = pe {
                    if obj.get(k).is_some_and(Value::is_null) {
                        obj.remove(k);
                    }
                }
            }
            for (pe, sub) in set.children() {
                if let PathElement::Field(k) = pe {
                    if let Some(child) = obj.get_mut(k) {
                        names.push(k.clone());
                        drop_nulls(schema, child, sub, names);
                        names.pop();
                    }
                }
            }
        }
        Value::Array(items) => {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let list = schema.keys.list_type(schema.name, &refs);
            if list == ListType::Atomic {
                return;
            }
            let subs: Vec<Option<&FieldSet>> = items
                .iter()
                .map(|item| {
                    let pe = schema.item_element(&refs, &list, item).ok()?;
                    set.child(&pe)
                })
                .collect();
            drop(refs);
            for (item, sub) in items.iter_mut().zip(subs) {
                if let Some(sub) = sub {
                    drop_nulls(schema, item, sub, names);
                }
            }
        }
        _ => {}
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
            name: "io.k8s.api.core.v1.Pod",
        }
    }

    #[test]
    fn removes_leaves_items_and_subtrees() {
        let pod = json!({
            "metadata": {"name": "p", "labels": {"a": "1"}, "finalizers": ["x", "y"]},
            "spec": {"containers": [{"name": "a", "image": "i", "tty": true}, {"name": "b", "image": "j"}]}
        });
        let set = fieldsv1::parse(&json!({
            "f:metadata": {"f:labels": {"f:a": {}}, "f:finalizers": {"v:\"x\"": {}}},
            "f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {"f:tty": {}}, "k:{\"name\":\"b\"}": {}}}
        }))
        .unwrap();
        let (mut out, emptied) = remove_items(schema(), &pod, &set);
        assert_eq!(
            out,
            json!({
                "metadata": {"name": "p", "labels": null, "finalizers": ["y"]},
                "spec": {"containers": [{"name": "a", "image": "i"}]}
            })
        );
        assert_eq!(
            fieldsv1::serialize(&emptied),
            json!({"f:metadata": {"f:labels": {}}})
        );
        drop_nulls_at(schema(), &mut out, &emptied);
        assert_eq!(out["metadata"], json!({"name": "p", "finalizers": ["y"]}));
        let all = fieldsv1::parse(&json!({"f:spec": {}})).unwrap();
        assert_eq!(
            remove_items(schema(), &pod, &all).0,
            json!({"metadata": {"name": "p", "labels": {"a": "1"}, "finalizers": ["x", "y"]}})
        );
    }

    #[test]
    fn nulls_inside_keyed_items_are_dropped() {
        let pod =
            json!({"spec": {"containers": [{"name": "a", "env": [{"name": "X", "value": "1"}]}]}});
        let set = fieldsv1::parse(&json!({"f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {
            "f:env": {"k:{\"name\":\"X\"}": {}}}}}}))
        .unwrap();
        let (mut out, emptied) = remove_items(schema(), &pod, &set);
        assert_eq!(
            out,
            json!({"spec": {"containers": [{"name": "a", "env": null}]}})
        );
        drop_nulls_at(schema(), &mut out, &emptied);
        assert_eq!(out, json!({"spec": {"containers": [{"name": "a"}]}}));
    }
}
