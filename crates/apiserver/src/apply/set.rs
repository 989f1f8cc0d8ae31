//! Sets of field paths, the unit of ownership in `managedFields`: a tree whose nodes hold the
//! path elements that are members (owned paths ending there) and the children under which
//! longer paths continue. The algebra is structured-merge-diff's: union, intersection and
//! difference act on exact paths; `recursive_difference` also drops everything under a
//! removed path; `ensure_named_fields_are_members` adds the named fields that lead to owned
//! paths, as pruning needs.

use std::collections::{BTreeMap, BTreeSet};

use super::path::{Path, PathElement};

/// A set of field paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    members: BTreeSet<PathElement>,
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    pub fn new() -> FieldSet {
        FieldSet::default()
    }

    /// A set holding the given paths.
    pub fn from_paths<'a>(paths: impl IntoIterator<Item = &'a Path>) -> FieldSet {
        let mut s = FieldSet::new();
        for p in paths {
            s.insert(&p.0);
        }
        s
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// Adds a path (the empty path is ignored).
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// Whether the exact path is a member.
    pub fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.has(rest)),
        }
    }

    /// Whether `pe` is a member of this node.
    pub fn has_member(&self, pe: &PathElement) -> bool {
        self.members.contains(pe)
    }

    /// The paths continuing under `pe`, relative to it.
    pub fn child(&self, pe: &PathElement) -> Option<&FieldSet> {
        self.children.get(pe)
    }

    pub(crate) fn members(&self) -> &BTreeSet<PathElement> {
        &self.members
    }

    pub(crate) fn children(&self) -> &BTreeMap<PathElement, FieldSet> {
        &self.children
    }

    pub(crate) fn from_parts(
        members: BTreeSet<PathElement>,
        children: BTreeMap<PathElement, FieldSet>,
    ) -> FieldSet {
        let children = children
            .into_iter()
            .filter(|(_, c)| !c.is_empty())
            .collect();
        FieldSet { members, children }
    }

    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.union(&other.members).cloned().collect();
        let mut children = self.children.clone();
        for (pe, c) in &other.children {
            match children.get_mut(pe) {
                Some(mine) => *mine = mine.union(c),
                None => {
                    children.insert(pe.clone(), c.clone());
                }
            }
        }
        FieldSet { members, children }
    }

    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.intersection(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(pe, c)| {
                let o = other.children.get(pe)?;
                let i = c.intersection(o);
                (!i.is_empty()).then(|| (pe.clone(), i))
            })
            .collect();
        FieldSet { members, children }
    }

    /// The paths of `self` that are not paths of `other` (exact paths: owning `.spec` does
    /// not remove `.spec.replicas`).
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(pe, c)| match other.children.get(pe) {
                Some(o) => {
                    let d = c.difference(o);
                    (!d.is_empty()).then(|| (pe.clone(), d))
                }
                None => Some((pe.clone(), c.clone())),
            })
            .collect();
        FieldSet { members, children }
    }

    /// The paths of `self` that are neither paths of `other` nor under one of them.
    pub fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(pe, c)| {
                if other.members.contains(pe) {
                    return None;
                }
                match other.children.get(pe) {
                    Some(o) => {
                        let d = c.recursive_difference(o);
                        (!d.is_empty()).then(|| (pe.clone(), d))
                    }
                    None => Some((pe.clone(), c.clone())),
                }
            })
            .collect();
        FieldSet { members, children }
    }

    /// Adds, as members, the named fields under which owned paths continue (`.spec` when
    /// `.spec.replicas` is owned), but not list items or other keyed elements.
    pub fn ensure_named_fields_are_members(&self) -> FieldSet {
        let mut members = self.members.clone();
        for pe in self.children.keys() {
            if matches!(pe, PathElement::Field(_)) {
                members.insert(pe.clone());
            }
        }
        let children = self
            .children
            .iter()
            .map(|(pe, c)| (pe.clone(), c.ensure_named_fields_are_members()))
            .collect();
        FieldSet { members, children }
    }

    /// Every path, in upstream's iteration order: a node's members, then its children.
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        let mut prefix = Vec::new();
        self.collect(&mut prefix, &mut out);
        out
    }

    fn collect(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Path>) {
        for m in &self.members {
            let mut p = prefix.clone();
            p.push(m.clone());
            out.push(Path(p));
        }
        for (pe, c) in &self.children {
            prefix.push(pe.clone());
            c.collect(prefix, out);
            prefix.pop();
        }
    }

    /// How many paths the set holds.
    pub fn len(&self) -> usize {
        self.members.len() + self.children.values().map(FieldSet::len).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(names: &[&str]) -> Path {
        Path::fields(names)
    }

    #[test]
    fn algebra() {
        let a = FieldSet::from_paths(&[p(&["spec", "replicas"]), p(&["spec", "paused"])]);
        let b = FieldSet::from_paths(&[p(&["spec", "replicas"]), p(&["metadata", "labels"])]);
        assert_eq!(a.union(&b).len(), 3);
        assert_eq!(a.intersection(&b).paths(), vec![p(&["spec", "replicas"])]);
        assert_eq!(a.difference(&b).paths(), vec![p(&["spec", "paused"])]);
        assert!(a.difference(&a).is_empty());
        let spec = FieldSet::from_paths(&[p(&["spec"])]);
        assert_eq!(a.difference(&spec), a);
        assert!(a.recursive_difference(&spec).is_empty());
        assert!(a.has(&p(&["spec", "paused"]).0));
        assert!(!a.has(&p(&["spec"]).0));
    }

    #[test]
    fn named_fields_become_members_but_not_items() {
        let item = PathElement::key(vec![("name".into(), json!("a"))]);
        let mut s = FieldSet::new();
        s.insert(&[
            PathElement::field("spec"),
            PathElement::field("containers"),
            item.clone(),
            PathElement::field("image"),
        ]);
        let e = s.ensure_named_fields_are_members();
        assert!(e.has(&p(&["spec"]).0));
        assert!(e.has(&p(&["spec", "containers"]).0));
        assert!(!e.has(&[
            PathElement::field("spec"),
            PathElement::field("containers"),
            item
        ]));
    }

    #[test]
    fn iteration_order_is_members_then_children() {
        let s = FieldSet::from_paths(&[
            p(&["spec", "template", "x"]),
            p(&["spec", "replicas"]),
            p(&["metadata", "labels", "app"]),
        ]);
        let got: Vec<String> = s.paths().iter().map(|p| p.to_string()).collect();
        assert_eq!(
            got,
            vec![".metadata.labels.app", ".spec.replicas", ".spec.template.x"]
        );
    }
}
