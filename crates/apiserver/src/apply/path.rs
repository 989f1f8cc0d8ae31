//! Field paths as structured-merge-diff names them: a path is a list of elements, each a field
//! name, the key of an item in a keyed list (`[name="nginx"]`), the value of an item in a set
//! (`[="example.com/finalizer"]`) or a list index. Elements are totally ordered (field names
//! first, then keys, values, indexes), which fixes the order of `managedFields` entries and of
//! conflicts. A path prints as upstream prints it in conflict messages:
//! `.spec.template.spec.containers[name="nginx"].image`.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

use super::value;

/// One step of a field path.
#[derive(Debug, Clone)]
pub enum PathElement {
    /// A field of a map or struct (`f:` in FieldsV1).
    Field(String),
    /// An item of a keyed list, by its key fields sorted by name (`k:` in FieldsV1).
    Key(Vec<(String, Value)>),
    /// An item of a set-like list, by value (`v:` in FieldsV1).
    Value(Value),
    /// A list index (`i:` in FieldsV1); never produced for Kubernetes types.
    Index(i64),
}

impl PathElement {
    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }

    /// A key element from (name, value) pairs, sorted by name as upstream keeps them.
    pub fn key(mut fields: Vec<(String, Value)>) -> PathElement {
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        PathElement::Key(fields)
    }

    /// A field-name element.
    pub fn field(name: &str) -> PathElement {
        PathElement::Field(name.to_string())
    }
}

fn compare_keys(a: &[(String, Value)], b: &[(String, Value)]) -> Ordering {
    for (l, r) in a.iter().zip(b.iter()) {
        let c = l.0.cmp(&r.0).then_with(|| value::compare(&l.1, &r.1));
        if c != Ordering::Equal {
            return c;
        }
    }
    a.len().cmp(&b.len())
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => compare_keys(a, b),
            (PathElement::Value(a), PathElement::Value(b)) => value::compare(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}

impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k}={}", value::to_smd_string(v)))
                    .collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(v) => write!(f, "[={}]", value::to_smd_string(v)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A field path from the object root.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Path(pub Vec<PathElement>);

impl Path {
    /// A path of field names, e.g. `Path::fields(&["spec", "replicas"])`.
    pub fn fields(names: &[&str]) -> Path {
        Path(names.iter().map(|n| PathElement::field(n)).collect())
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for pe in &self.0 {
            write!(f, "{pe}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prints_like_upstream() {
        let p = Path(vec![
            PathElement::field("spec"),
            PathElement::field("containers"),
            PathElement::key(vec![("name".into(), json!("nginx"))]),
            PathElement::field("ports"),
            PathElement::key(vec![
                ("protocol".into(), json!("TCP")),
                ("containerPort".into(), json!(80)),
            ]),
        ]);
        assert_eq!(
            p.to_string(),
            r#".spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"]"#
        );
        let f = Path(vec![
            PathElement::field("metadata"),
            PathElement::field("finalizers"),
            PathElement::Value(json!("a/b")),
        ]);
        assert_eq!(f.to_string(), r#".metadata.finalizers[="a/b"]"#);
    }

    #[test]
    fn element_order() {
        let f = PathElement::field("z");
        let k = PathElement::key(vec![("name".into(), json!("a"))]);
        let v = PathElement::Value(json!("a"));
        let i = PathElement::Index(0);
        assert!(f < k && k < v && v < i);
        let k80 = PathElement::key(vec![("port".into(), json!(80))]);
        let k100 = PathElement::key(vec![("port".into(), json!(100))]);
        assert!(k80 < k100);
    }
}
