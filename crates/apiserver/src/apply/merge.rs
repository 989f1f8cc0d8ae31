//! Merging an applied configuration into the live object: leaves take the applied value,
//! granular maps merge field by field, sets and keyed lists merge item by item. Item order
//! follows upstream: items only the live object has keep their place, items both have follow
//! the applied order, new items go where the applied configuration puts them relative to the
//! shared ones. Duplicate items in the applied configuration are an error; in the live object
//! they are tolerated.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{Map, Value};

use super::path::PathElement;
use super::schema::ListType;
use super::typed::{item_elements, Schema, Shape, ValidationErrors};

static NULL: Value = Value::Null;

struct Walker<'s, 'v> {
    schema: Schema<'s>,
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
    fn walk(&mut self, l: Option<&'v Value>, r: Option<&'v Value>) -> Option<Value> {
        let shape = self.schema.shape(&self.names, l, r);
        if shape == Shape::Leaf || (is_empty_container(l) && is_empty_container(r)) {
            return r.or(l).cloned();
        }
        match shape {
            Shape::Map => self.walk_map(l, r),
            Shape::List(list) => self.walk_list(&list, l, r),
            Shape::Leaf => None,
        }
    }

    fn walk_map(&mut self, l: Option<&'v Value>, r: Option<&'v Value>) -> Option<Value> {
        let lm = l.and_then(Value::as_object);
        let rm = r.and_then(Value::as_object);
        let mut keys: Vec<&'v String> = Vec::new();
        for m in [lm, rm].into_iter().flatten() {
            keys.extend(m.keys());
        }
        keys.sort();
        keys.dedup();
        let mut out = Map::new();
        for k in keys {
            self.names.push(k);
            self.fp.push(PathElement::Field(k.clone()));
            if let Some(v) = self.walk(lm.and_then(|m| m.get(k)), rm.and_then(|m| m.get(k))) {
                out.insert(k.clone(), v);
            }
            self.fp.pop();
            self.names.pop();
        }
        (!out.is_empty()).then_some(Value::Object(out))
    }

    fn item(
        &mut self,
        pe: &PathElement,
        l: Option<&'v Value>,
        r: Option<&'v Value>,
    ) -> Option<Value> {
        self.fp.push(pe.clone());
        let out = self.walk(l, r);
        self.fp.pop();
        out
    }

    fn walk_list(
        &mut self,
        list: &ListType,
        l: Option<&'v Value>,
        r: Option<&'v Value>,
    ) -> Option<Value> {
        let litems: &'v [Value] = l
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let ritems: &'v [Value] = r
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);

        // The applied side: no duplicates allowed.
        let mut errs = ValidationErrors::default();
        let rpes = item_elements(&self.schema, &self.names, &self.fp, list, ritems, &mut errs);
        let mut observed_r: BTreeMap<PathElement, &'v Value> = BTreeMap::new();
        let mut rhs: Vec<PathElement> = Vec::new();
        for (pe, item) in rpes.into_iter().zip(ritems.iter()) {
            let Some(pe) = pe else { continue };
            if observed_r.contains_key(&pe) {
                errs.push(&self.fp, format!("duplicate entries for key {pe}"));
                continue;
            }
            observed_r.insert(pe.clone(), item);
            rhs.push(pe);
        }
        // The live side: a duplicated item is known by its element but has no single value.
        let lpes = item_elements(&self.schema, &self.names, &self.fp, list, litems, &mut errs);
        if !errs.is_empty() {
            self.errs.0.extend(errs.0);
            return None;
        }
        let mut observed_l: BTreeMap<PathElement, Option<&'v Value>> = BTreeMap::new();
        let mut lhs: Vec<(PathElement, &'v Value)> = Vec::new();
        for (pe, item) in lpes.into_iter().zip(litems.iter()) {
            let Some(pe) = pe else { continue };
            match observed_l.get_mut(&pe) {
                Some(slot) => *slot = None,
                None => {
                    observed_l.insert(pe.clone(), Some(item));
                }
            }
            lhs.push((pe, item));
        }
        let lhs_value = |pe: &PathElement| -> Option<&'v Value> {
            observed_l.get(pe).map(|v| v.unwrap_or(&NULL))
        };

        let mut shared: VecDeque<&PathElement> = rhs
            .iter()
            .filter(|pe| observed_l.contains_key(*pe))
            .collect();
        let mut next_shared = shared.pop_front().cloned();
        let mut merged_r: BTreeSet<PathElement> = BTreeSet::new();
        let mut out = Vec::new();
        let (ln, rn) = (lhs.len(), rhs.len());
        let (mut li, mut ri) = (0, 0);
        while li < ln || ri < rn {
            if li < ln && ri < rn {
                let pe = lhs[li].0.clone();
                if pe == rhs[ri] {
                    merged_r.insert(pe.clone());
                    let r = observed_r.get(&pe).copied();
                    out.extend(self.item(&pe, lhs_value(&pe), r));
                    li += 1;
                    ri += 1;
                    next_shared = shared.pop_front().cloned();
                    continue;
                }
                if observed_r.contains_key(&pe) && next_shared.as_ref().is_some_and(|n| *n != pe) {
                    li += 1;
                    continue;
                }
            }
            if li < ln {
                let (pe, item) = lhs[li].clone();
                if !observed_r.contains_key(&pe) {
                    out.extend(self.item(&pe, Some(item), None));
                    li += 1;
                    continue;
                } else if merged_r.contains(&pe) {
                    li += 1;
                }
            }
            if ri < rn {
                let pe = rhs[ri].clone();
                merged_r.insert(pe.clone());
                let r = observed_r.get(&pe).copied();
                out.extend(self.item(&pe, lhs_value(&pe), r));
                ri += 1;
                if next_shared.as_ref() == Some(&pe) {
                    next_shared = shared.pop_front().cloned();
                }
            }
        }
        (!out.is_empty()).then_some(Value::Array(out))
    }
}

/// Merges `applied` into `live`.
pub fn merge(schema: Schema<'_>, live: &Value, applied: &Value) -> Result<Value, ValidationErrors> {
    let mut w = Walker {
        schema,
        errs: ValidationErrors::default(),
        names: Vec::new(),
        fp: Vec::new(),
    };
    let out = w.walk(Some(live), Some(applied));
    if !w.errs.is_empty() {
        return Err(w.errs);
    }
    Ok(out.unwrap_or_else(|| Value::Object(Map::new())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::schema::BuiltinListKeys;
    use serde_json::json;

    fn schema() -> Schema<'static> {
        Schema {
            keys: &BuiltinListKeys,
            name: "io.k8s.api.core.v1.Pod",
        }
    }

    fn names(v: &Value) -> Vec<String> {
        v["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    }

    fn pod(cs: &[&str]) -> Value {
        json!({"spec": {"containers": cs.iter().map(|n| json!({"name": n, "image": n})).collect::<Vec<_>>()}})
    }

    #[test]
    fn leaves_take_applied_values_and_maps_merge() {
        let live = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"x": 1, "args": ["a", "b"]}});
        let applied = json!({"metadata": {"labels": {"b": "3"}}, "spec": {"y": 2, "args": ["c"]}});
        let m = merge(schema(), &live, &applied).unwrap();
        assert_eq!(
            m,
            json!({"metadata": {"labels": {"a": "1", "b": "3"}}, "spec": {"x": 1, "y": 2, "args": ["c"]}})
        );
    }

    #[test]
    fn keyed_lists_merge_by_key_in_upstream_order() {
        let m = merge(schema(), &pod(&["a", "b", "c"]), &pod(&["c", "d"])).unwrap();
        assert_eq!(names(&m), vec!["a", "b", "c", "d"]);
        let m = merge(schema(), &pod(&["a", "b"]), &pod(&["b", "a"])).unwrap();
        assert_eq!(names(&m), vec!["b", "a"]);
        let m = merge(schema(), &pod(&["a", "x", "b"]), &pod(&["n", "b", "a"])).unwrap();
        assert_eq!(names(&m), vec!["x", "n", "b", "a"]);
        let live = json!({"spec": {"containers": [{"name": "a", "image": "old", "tty": true}]}});
        let applied = json!({"spec": {"containers": [{"name": "a", "image": "new"}]}});
        assert_eq!(
            merge(schema(), &live, &applied).unwrap(),
            json!({"spec": {"containers": [{"name": "a", "image": "new", "tty": true}]}})
        );
    }

    #[test]
    fn duplicates_in_applied_fail() {
        let err = merge(schema(), &json!({}), &pod(&["a", "a"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#".spec.containers: duplicate entries for key [name="a"]"#
        );
        // Tolerated in the live object.
        let m = merge(schema(), &pod(&["a", "a", "b"]), &pod(&["b"])).unwrap();
        assert_eq!(names(&m), vec!["a", "a", "b"]);
    }
}
