//! The garbage collector's dependency graph (upstream's GraphBuilder and uidToNode): one
//! node per object uid, with its owner references and the uids of its dependents. Owners
//! not seen yet are "virtual" nodes, to be checked against the API. Processing a change of
//! any watched object updates the graph and says which nodes the workers must look at
//! (attempt to delete / attempt to orphan). Pure: no IO.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

/// The finalizer asking the garbage collector to orphan the dependents.
pub const FINALIZER_ORPHAN: &str = "orphan";
/// The finalizer asking the garbage collector to delete the dependents first.
pub const FINALIZER_FOREGROUND: &str = "foregroundDeletion";

/// Where an object is: its kind's coordinates, namespace, name and uid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Identity {
    pub api_version: String,
    pub kind: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

impl Identity {
    /// The identity an owner reference points at, from a dependent in `dependent_ns`.
    pub fn of_owner(r: &OwnerReference, dependent_ns: &str) -> Identity {
        let namespaced = owner_is_namespaced(&r.api_version, &r.kind);
        Identity {
            api_version: r.api_version.clone(),
            kind: r.kind.clone(),
            namespace: if namespaced {
                dependent_ns.to_string()
            } else {
                String::new()
            },
            name: r.name.clone(),
            uid: r.uid.clone(),
        }
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}/{}, namespace: {}, name: {}, uid: {}]",
            self.api_version, self.kind, self.namespace, self.name, self.uid
        )
    }
}

/// Whether the kind an owner reference names is namespaced (unknown kinds are taken as
/// namespaced, as the dependent's namespace is the only guess there is).
pub fn owner_is_namespaced(api_version: &str, kind: &str) -> bool {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    skiff_api::resources::by_group_version_kind(group, version, kind)
        .or_else(|| skiff_api::resources::by_group_kind(group, kind))
        .is_none_or(|r| r.namespaced)
}

/// One object in the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub identity: Identity,
    pub owners: Vec<OwnerReference>,
    /// Uids of the objects that name this one as an owner.
    pub dependents: BTreeSet<String>,
    /// deletionTimestamp is set.
    pub being_deleted: bool,
    /// Being deleted with the foregroundDeletion finalizer: dependents go first.
    pub deleting_dependents: bool,
    /// Being deleted with the orphan finalizer.
    pub orphaning: bool,
    /// Seen through a watch (false: a virtual node, known only as someone's owner).
    pub observed: bool,
}

impl Node {
    fn virtual_owner(identity: Identity) -> Node {
        Node {
            identity,
            owners: Vec::new(),
            dependents: BTreeSet::new(),
            being_deleted: false,
            deleting_dependents: false,
            orphaning: false,
            observed: false,
        }
    }
}

/// A change the graph learns of.
#[derive(Debug, Clone)]
pub enum GraphEvent {
    /// An object was added or changed (or seen again in a relist).
    Observed {
        identity: Identity,
        state: ObjectState,
    },
    /// An object is gone (from a watch).
    Deleted { identity: Identity },
    /// A worker found that this identity does not exist (upstream's virtual delete event).
    VirtualDeleted { identity: Identity },
}

/// What the graph keeps of an object's metadata.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectState {
    pub owners: Vec<OwnerReference>,
    /// deletionTimestamp is set.
    pub being_deleted: bool,
    pub foreground_finalizer: bool,
    pub orphan_finalizer: bool,
}

impl ObjectState {
    pub fn of(meta: &ObjectMeta) -> ObjectState {
        let has = |f: &str| meta.finalizers.iter().flatten().any(|x| x == f);
        ObjectState {
            owners: meta.owner_references.clone().unwrap_or_default(),
            being_deleted: meta.deletion_timestamp.is_some(),
            foreground_finalizer: has(FINALIZER_FOREGROUND),
            orphan_finalizer: has(FINALIZER_ORPHAN),
        }
    }
}

/// What the workers must look at after a change.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Work {
    pub attempt_to_delete: Vec<String>,
    pub attempt_to_orphan: Vec<String>,
}

impl Work {
    fn delete(&mut self, uid: &str) {
        if !self.attempt_to_delete.iter().any(|u| u == uid) {
            self.attempt_to_delete.push(uid.to_string());
        }
    }
}

/// Owners known not to exist (upstream's absentOwnerCache): a bounded set, oldest out.
#[derive(Debug, Default)]
pub struct AbsentOwners {
    set: HashSet<Identity>,
    order: VecDeque<Identity>,
}

const ABSENT_OWNERS_MAX: usize = 500;

impl AbsentOwners {
    pub fn add(&mut self, id: Identity) {
        if self.set.insert(id.clone()) {
            self.order.push_back(id);
            while self.order.len() > ABSENT_OWNERS_MAX {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }

    pub fn has(&self, id: &Identity) -> bool {
        self.set.contains(id)
    }
}

/// The graph.
#[derive(Debug, Default)]
pub struct Graph {
    nodes: HashMap<String, Node>,
    pub absent: AbsentOwners,
}

/// Owner references added, removed, and changed (same uid, different content).
fn references_diff(
    old: &[OwnerReference],
    new: &[OwnerReference],
) -> (
    Vec<OwnerReference>,
    Vec<OwnerReference>,
    Vec<(OwnerReference, OwnerReference)>,
) {
    let old_by_uid: HashMap<&str, &OwnerReference> =
        old.iter().map(|r| (r.uid.as_str(), r)).collect();
    let new_uids: HashSet<&str> = new.iter().map(|r| r.uid.as_str()).collect();
    let mut added = Vec::new();
    let mut changed = Vec::new();
    for r in new {
        match old_by_uid.get(r.uid.as_str()) {
            None => added.push(r.clone()),
            Some(o) if *o != r => changed.push(((*o).clone(), r.clone())),
            Some(_) => {}
        }
    }
    let removed = old
        .iter()
        .filter(|r| !new_uids.contains(r.uid.as_str()))
        .cloned()
        .collect();
    (added, removed, changed)
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn node(&self, uid: &str) -> Option<&Node> {
        self.nodes.get(uid)
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The dependents of `uid` that are in the graph.
    pub fn dependents(&self, uid: &str) -> Vec<&Node> {
        self.nodes
            .get(uid)
            .map(|n| {
                n.dependents
                    .iter()
                    .filter_map(|d| self.nodes.get(d))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The dependents of `uid` whose reference to it has blockOwnerDeletion: true.
    pub fn blocking_dependents(&self, uid: &str) -> Vec<&Node> {
        self.dependents(uid)
            .into_iter()
            .filter(|d| {
                d.owners
                    .iter()
                    .any(|o| o.uid == uid && o.block_owner_deletion == Some(true))
            })
            .collect()
    }

    /// Applies one change; returns the work it causes.
    pub fn process(&mut self, ev: GraphEvent) -> Work {
        let mut work = Work::default();
        match ev {
            GraphEvent::Observed { identity, state } => self.observe(identity, state, &mut work),
            GraphEvent::Deleted { identity } => self.delete(&identity, false, &mut work),
            GraphEvent::VirtualDeleted { identity } => self.delete(&identity, true, &mut work),
        }
        work
    }

    fn observe(&mut self, identity: Identity, state: ObjectState, work: &mut Work) {
        let uid = identity.uid.clone();
        if uid.is_empty() {
            return;
        }
        let owners = state.owners;
        let being_deleted = state.being_deleted;
        let foreground = being_deleted && state.foreground_finalizer;
        let orphaning = being_deleted && state.orphan_finalizer;
        let Some(existing) = self.nodes.get_mut(&uid) else {
            let node = Node {
                identity,
                owners: owners.clone(),
                dependents: BTreeSet::new(),
                being_deleted,
                deleting_dependents: false,
                orphaning: false,
                observed: true,
            };
            self.nodes.insert(uid.clone(), node);
            self.add_dependent_to_owners(&uid, &owners, work);
            self.transitions(&uid, foreground, orphaning, work);
            return;
        };
        if !existing.observed {
            existing.observed = true;
            if existing.identity != identity {
                // Dependents named this owner by other coordinates: let them check again.
                for d in &existing.dependents {
                    work.delete(d);
                }
                existing.identity = identity;
            }
        }
        let old_owners = std::mem::take(&mut existing.owners);
        existing.owners = owners.clone();
        if being_deleted {
            existing.being_deleted = true;
        }
        let (added, removed, changed) = references_diff(&old_owners, &owners);
        // Owners waiting for their dependents: one less blocking dependent.
        for r in &removed {
            if self
                .nodes
                .get(&r.uid)
                .is_some_and(|o| o.deleting_dependents)
            {
                work.delete(&r.uid);
            }
        }
        for (old, new) in &changed {
            let was_blocking = old.block_owner_deletion == Some(true);
            let blocks = new.block_owner_deletion == Some(true);
            if was_blocking && !blocks && self.nodes.contains_key(&new.uid) {
                work.delete(&new.uid);
            }
        }
        self.add_dependent_to_owners(&uid, &added, work);
        for r in &removed {
            if let Some(o) = self.nodes.get_mut(&r.uid) {
                o.dependents.remove(&uid);
            }
        }
        self.transitions(&uid, foreground, orphaning, work);
    }

    /// Upstream's processTransitions: a node that just started waiting for its dependents
    /// to be orphaned or deleted goes to the workers.
    fn transitions(&mut self, uid: &str, foreground: bool, orphaning: bool, work: &mut Work) {
        let Some(n) = self.nodes.get_mut(uid) else {
            return;
        };
        let starts_orphaning = orphaning && !n.orphaning;
        let starts_foreground = foreground && !n.deleting_dependents;
        n.orphaning = orphaning;
        if starts_orphaning {
            work.attempt_to_orphan.push(uid.to_string());
            return;
        }
        if starts_foreground {
            n.deleting_dependents = true;
            let deps: Vec<String> = n.dependents.iter().cloned().collect();
            for d in deps {
                work.delete(&d);
            }
            work.delete(uid);
        }
    }

    fn add_dependent_to_owners(&mut self, uid: &str, owners: &[OwnerReference], work: &mut Work) {
        let ns = self
            .nodes
            .get(uid)
            .map(|n| n.identity.namespace.clone())
            .unwrap_or_default();
        for r in owners {
            if r.uid.is_empty() {
                continue;
            }
            match self.nodes.get_mut(&r.uid) {
                Some(owner) => {
                    owner.dependents.insert(uid.to_string());
                }
                None => {
                    let mut owner = Node::virtual_owner(Identity::of_owner(r, &ns));
                    owner.dependents.insert(uid.to_string());
                    self.nodes.insert(r.uid.clone(), owner);
                    work.delete(&r.uid);
                }
            }
        }
    }

    fn delete(&mut self, identity: &Identity, is_virtual: bool, work: &mut Work) {
        let Some(existing) = self.nodes.get(&identity.uid) else {
            return;
        };
        if is_virtual && existing.observed {
            // The object was seen after the worker looked: keep it. Dependents that point
            // at it by the coordinates found missing check their owners again.
            if existing.identity != *identity {
                self.absent.add(identity.clone());
                let deps: Vec<String> = existing.dependents.iter().cloned().collect();
                for d in deps {
                    work.delete(&d);
                }
            }
            return;
        }
        let Some(node) = self.nodes.remove(&identity.uid) else {
            return;
        };
        for o in &node.owners {
            if let Some(owner) = self.nodes.get_mut(&o.uid) {
                owner.dependents.remove(&identity.uid);
            }
        }
        if !node.dependents.is_empty() {
            self.absent.add(node.identity.clone());
        }
        for d in &node.dependents {
            work.delete(d);
        }
        for o in &node.owners {
            if self
                .nodes
                .get(&o.uid)
                .is_some_and(|owner| owner.deleting_dependents)
            {
                work.delete(&o.uid);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn id(kind: &str, name: &str, uid: &str) -> Identity {
        Identity {
            api_version: "v1".into(),
            kind: kind.into(),
            namespace: "ns".into(),
            name: name.into(),
            uid: uid.into(),
        }
    }

    fn owner_ref(name: &str, uid: &str, block: bool) -> OwnerReference {
        OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: name.into(),
            uid: uid.into(),
            block_owner_deletion: block.then_some(true),
            controller: None,
        }
    }

    fn meta(owners: Vec<OwnerReference>) -> ObjectMeta {
        ObjectMeta {
            owner_references: Some(owners),
            ..Default::default()
        }
    }

    fn deleting(finalizer: &str) -> ObjectMeta {
        ObjectMeta {
            deletion_timestamp: Some(Time(jiff::Timestamp::UNIX_EPOCH)),
            finalizers: Some(vec![finalizer.to_string()]),
            ..Default::default()
        }
    }

    fn observe(g: &mut Graph, identity: Identity, meta: ObjectMeta) -> Work {
        g.process(GraphEvent::Observed {
            identity,
            state: ObjectState::of(&meta),
        })
    }

    #[test]
    fn unknown_owner_becomes_a_virtual_node_to_check() {
        let mut g = Graph::new();
        let w = observe(
            &mut g,
            id("ConfigMap", "child", "c"),
            meta(vec![owner_ref("parent", "p", false)]),
        );
        assert_eq!(w.attempt_to_delete, vec!["p".to_string()]);
        let p = g.node("p").unwrap();
        assert!(!p.observed);
        assert_eq!(p.identity, id("ConfigMap", "parent", "p"));
        assert!(p.dependents.contains("c"));
        // The worker found it missing: its dependents are looked at.
        let w = g.process(GraphEvent::VirtualDeleted {
            identity: id("ConfigMap", "parent", "p"),
        });
        assert_eq!(w.attempt_to_delete, vec!["c".to_string()]);
        assert!(g.node("p").is_none());
        assert!(g.absent.has(&id("ConfigMap", "parent", "p")));
    }

    #[test]
    fn owner_seen_first_then_deleted_queues_dependents() {
        let mut g = Graph::new();
        assert_eq!(
            observe(
                &mut g,
                id("ConfigMap", "parent", "p"),
                ObjectMeta::default()
            ),
            Work::default()
        );
        let w = observe(
            &mut g,
            id("ConfigMap", "child", "c"),
            meta(vec![owner_ref("parent", "p", false)]),
        );
        assert_eq!(w, Work::default());
        assert!(g.node("p").unwrap().dependents.contains("c"));
        let w = g.process(GraphEvent::Deleted {
            identity: id("ConfigMap", "parent", "p"),
        });
        assert_eq!(w.attempt_to_delete, vec!["c".to_string()]);
    }

    #[test]
    fn orphan_and_foreground_transitions() {
        let mut g = Graph::new();
        observe(
            &mut g,
            id("ConfigMap", "parent", "p"),
            ObjectMeta::default(),
        );
        observe(
            &mut g,
            id("ConfigMap", "child", "c"),
            meta(vec![owner_ref("parent", "p", true)]),
        );
        let w = observe(&mut g, id("ConfigMap", "parent", "p"), deleting("orphan"));
        assert_eq!(w.attempt_to_orphan, vec!["p".to_string()]);
        // Seen again unchanged: no new work.
        let w = observe(&mut g, id("ConfigMap", "parent", "p"), deleting("orphan"));
        assert_eq!(w, Work::default());

        let mut g = Graph::new();
        observe(
            &mut g,
            id("ConfigMap", "parent", "p"),
            ObjectMeta::default(),
        );
        observe(
            &mut g,
            id("ConfigMap", "child", "c"),
            meta(vec![owner_ref("parent", "p", true)]),
        );
        let w = observe(
            &mut g,
            id("ConfigMap", "parent", "p"),
            deleting("foregroundDeletion"),
        );
        assert_eq!(w.attempt_to_delete, vec!["c".to_string(), "p".to_string()]);
        assert!(g.node("p").unwrap().deleting_dependents);
        assert_eq!(g.blocking_dependents("p").len(), 1);
        // The dependent's deletion wakes the owner.
        let w = g.process(GraphEvent::Deleted {
            identity: id("ConfigMap", "child", "c"),
        });
        assert_eq!(w.attempt_to_delete, vec!["p".to_string()]);
        assert!(g.blocking_dependents("p").is_empty());
    }

    #[test]
    fn unblocking_or_dropping_a_reference_wakes_a_waiting_owner() {
        let mut g = Graph::new();
        observe(
            &mut g,
            id("ConfigMap", "parent", "p"),
            ObjectMeta::default(),
        );
        observe(
            &mut g,
            id("ConfigMap", "child", "c"),
            meta(vec![owner_ref("parent", "p", true)]),
        );
        observe(
            &mut g,
            id("ConfigMap", "parent", "p"),
            deleting("foregroundDeletion"),
        );
        let w = observe(
            &mut g,
            id("ConfigMap", "child", "c"),
            meta(vec![owner_ref("parent", "p", false)]),
        );
        assert_eq!(w.attempt_to_delete, vec!["p".to_string()]);
        let w = observe(&mut g, id("ConfigMap", "child", "c"), meta(vec![]));
        assert_eq!(w.attempt_to_delete, vec!["p".to_string()]);
        assert!(g.node("p").unwrap().dependents.is_empty());
    }

    #[test]
    fn a_virtual_delete_does_not_remove_an_observed_node() {
        let mut g = Graph::new();
        observe(
            &mut g,
            id("ConfigMap", "child", "c"),
            meta(vec![owner_ref("parent", "p", false)]),
        );
        observe(
            &mut g,
            id("ConfigMap", "parent", "p"),
            ObjectMeta::default(),
        );
        let w = g.process(GraphEvent::VirtualDeleted {
            identity: id("ConfigMap", "parent", "p"),
        });
        assert_eq!(w, Work::default());
        assert!(g.node("p").is_some());
    }

    #[test]
    fn cluster_scoped_owner_kinds_have_no_namespace() {
        let r = OwnerReference {
            api_version: "v1".into(),
            kind: "Node".into(),
            name: "n1".into(),
            uid: "u".into(),
            ..Default::default()
        };
        assert_eq!(Identity::of_owner(&r, "ns").namespace, "");
        let r = OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            ..r
        };
        assert_eq!(Identity::of_owner(&r, "ns").namespace, "ns");
    }
}
