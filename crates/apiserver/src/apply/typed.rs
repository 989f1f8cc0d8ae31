//! What the walkers over objects share: the schema in use (a [`ListKeys`] and the object's
//! type name), the shape of a value at a path (a leaf, a granular map, or a list merged item
//! by item), the path element naming a list item, and upstream's validation error texts
//! (`.spec.containers: duplicate entries for key [name="nginx"]`).

use serde_json::Value;

use super::path::{Path, PathElement};
use super::schema::{ListKeys, ListType};
use super::value::go_quote;

/// The schema of the object being walked.
#[derive(Clone, Copy)]
pub struct Schema<'a> {
    pub keys: &'a dyn ListKeys,
    pub name: &'a str,
}

/// How a value is walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// Compared, merged and owned as a whole: scalars, nulls, atomic maps and lists.
    Leaf,
    /// A map or struct whose fields are owned separately.
    Map,
    /// A set or keyed list whose items are owned separately.
    List(ListType),
}

impl<'a> Schema<'a> {
    /// The shape at `names` of the value present on one or both sides. Null counts as an
    /// empty container of the other side's shape; values of different kinds are leaves.
    pub fn shape(&self, names: &[&str], l: Option<&Value>, r: Option<&Value>) -> Shape {
        fn kind(v: &Value) -> u8 {
            match v {
                Value::Object(_) => 1,
                Value::Array(_) => 2,
                _ => 0,
            }
        }
        let l = l.filter(|v| !v.is_null());
        let r = r.filter(|v| !v.is_null());
        let k = match (l, r) {
            (None, None) => 0,
            (Some(x), None) | (None, Some(x)) => kind(x),
            (Some(x), Some(y)) => {
                if kind(x) == kind(y) {
                    kind(x)
                } else {
                    0
                }
            }
        };
        match k {
            1 if self.keys.map_is_atomic(self.name, names) => Shape::Leaf,
            1 => Shape::Map,
            2 => match self.keys.list_type(self.name, names) {
                ListType::Atomic => Shape::Leaf,
                t => Shape::List(t),
            },
            _ => Shape::Leaf,
        }
    }

    /// Whether Go would serialise the field at `names` whenever its parent exists.
    pub fn always_present(&self, names: &[&str]) -> bool {
        self.keys.always_present(self.name, names)
    }

    /// The path element of one item of a set or keyed list.
    pub fn item_element(
        &self,
        names: &[&str],
        list: &ListType,
        item: &Value,
    ) -> Result<PathElement, String> {
        match list {
            ListType::Map(keys) => {
                let obj = match item {
                    Value::Null => {
                        return Err("associative list with keys may not have a null element".into())
                    }
                    Value::Object(o) => o,
                    _ => {
                        return Err(
                            "associative list with keys may not have non-map elements".into()
                        )
                    }
                };
                let mut fields = Vec::new();
                for k in keys {
                    if let Some(v) = obj.get(k) {
                        fields.push((k.clone(), v.clone()));
                    } else if let Some(d) = self.keys.key_default(self.name, names, k) {
                        fields.push((k.clone(), d));
                    }
                }
                if !keys.is_empty() && fields.is_empty() {
                    let quoted: Vec<String> = keys.iter().map(|k| go_quote(k)).collect();
                    return Err(format!(
                        "associative list with keys has an element that omits all key fields [{}] (and doesn't have default values for any key fields)",
                        quoted.join(" ")
                    ));
                }
                Ok(PathElement::key(fields))
            }
            ListType::Set => match item {
                Value::Object(_) => {
                    Err("associative list without keys has an element that's a map type".into())
                }
                Value::Array(_) => {
                    Err("not supported: associative list with lists as elements".into())
                }
                Value::Null => Err(
                    "associative list without keys has an element that's an explicit null".into(),
                ),
                v => Ok(PathElement::Value(v.clone())),
            },
            ListType::Atomic => Err("invalid indexing of non-associative list".into()),
        }
    }
}

/// Errors found while walking, each prefixed with its path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<String>);

impl ValidationErrors {
    pub fn push(&mut self, path: &[PathElement], message: impl std::fmt::Display) {
        self.0.push(format!("{}: {message}", Path(path.to_vec())));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.len() == 1 {
            return f.write_str(&self.0[0]);
        }
        f.write_str("errors:")?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

/// The elements of a list's items in order (None for items that have none, with the error
/// recorded), for a set or keyed list.
pub fn item_elements(
    schema: &Schema<'_>,
    names: &[&str],
    fp: &[PathElement],
    list: &ListType,
    items: &[Value],
    errs: &mut ValidationErrors,
) -> Vec<Option<PathElement>> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match schema.item_element(names, list, item) {
            Ok(pe) => Some(pe),
            Err(e) => {
                errs.push(fp, format!("element {i}: {e}"));
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::schema::BuiltinListKeys;
    use serde_json::json;

    #[test]
    fn shapes_and_items() {
        let s = Schema {
            keys: &BuiltinListKeys,
            name: "io.k8s.api.core.v1.Pod",
        };
        assert_eq!(s.shape(&["spec"], Some(&json!({})), None), Shape::Map);
        assert_eq!(
            s.shape(
                &["spec", "containers"],
                Some(&json!(null)),
                Some(&json!([]))
            ),
            Shape::List(ListType::Map(vec!["name".into()]))
        );
        assert_eq!(
            s.shape(&["spec", "selector"], Some(&json!({})), None),
            Shape::Leaf
        );
        assert_eq!(
            s.shape(&["x"], Some(&json!({})), Some(&json!(1))),
            Shape::Leaf
        );
        let ports = ListType::Map(vec!["containerPort".into(), "protocol".into()]);
        let pe = s
            .item_element(
                &["spec", "containers", "ports"],
                &ports,
                &json!({"containerPort": 80}),
            )
            .unwrap();
        assert_eq!(pe.to_string(), r#"[containerPort=80,protocol="TCP"]"#);
        let err = s
            .item_element(
                &["spec", "containers"],
                &ListType::Map(vec!["name".into()]),
                &json!({}),
            )
            .unwrap_err();
        assert!(err.contains(r#"omits all key fields ["name"]"#), "{err}");
    }
}
