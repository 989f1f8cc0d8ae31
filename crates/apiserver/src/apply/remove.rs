//! Removing a set of fields from an object, as pruning does: a member path goes with
//! everything under it, a child path is followed down. A map or list emptied by the removal
//! disappears from its parent (upstream leaves a null that Go then drops); list items
//! emptied that way are dropped too.

use serde_json::{Map, Value};

use super::set::FieldSet;
use super::typed::{Schema, Shape};

struct Walker<'s, 'v> {
    schema: Schema<'s>,
    names: Vec<&'v str>,
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
                if obj.is_empty() {
                    return None;
                }
                let mut out = Map::new();
                for (k, child) in obj {
                    let pe = super::path::PathElement::Field(k.clone());
                    if set.has_member(&pe) {
                        continue;
                    }
                    match set.child(&pe) {
                        Some(sub) => {
                            self.names.push(k);
                            let kept = self.walk(child, sub);
                            self.names.pop();
                            if let Some(kept) = kept {
                                out.insert(k.clone(), kept);
                            }
                        }
                        None => {
                            out.insert(k.clone(), child.clone());
                        }
                    }
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
                    match set.child(&pe) {
                        Some(sub) => out.extend(self.walk(item, sub)),
                        None => out.push(item.clone()),
                    }
                }
                (!out.is_empty()).then_some(Value::Array(out))
            }
        }
    }
}

/// `v` without the paths of `set` (an object with nothing left is `{}`).
pub fn remove_items(schema: Schema<'_>, v: &Value, set: &FieldSet) -> Value {
    if set.is_empty() {
        return v.clone();
    }
    let mut w = Walker {
        schema,
        names: Vec::new(),
    };
    w.walk(v, set).unwrap_or_else(|| Value::Object(Map::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::fieldsv1;
    use crate::apply::schema::BuiltinListKeys;
    use serde_json::json;

    #[test]
    fn removes_leaves_items_and_subtrees() {
        let schema = Schema {
            keys: &BuiltinListKeys,
            name: "io.k8s.api.core.v1.Pod",
        };
        let pod = json!({
            "metadata": {"name": "p", "labels": {"a": "1"}, "finalizers": ["x", "y"]},
            "spec": {"containers": [{"name": "a", "image": "i", "tty": true}, {"name": "b", "image": "j"}]}
        });
        let set = fieldsv1::parse(&json!({
            "f:metadata": {"f:labels": {"f:a": {}}, "f:finalizers": {"v:\"x\"": {}}},
            "f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {"f:tty": {}}, "k:{\"name\":\"b\"}": {}}}
        }))
        .unwrap();
        assert_eq!(
            remove_items(schema, &pod, &set),
            json!({
                "metadata": {"name": "p", "finalizers": ["y"]},
                "spec": {"containers": [{"name": "a", "image": "i"}]}
            })
        );
        let all = fieldsv1::parse(&json!({"f:spec": {}})).unwrap();
        assert_eq!(
            remove_items(schema, &pod, &all),
            json!({"metadata": {"name": "p", "labels": {"a": "1"}, "finalizers": ["x", "y"]}})
        );
    }
}
