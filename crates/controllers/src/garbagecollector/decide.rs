//! The garbage collector's decisions, given what the workers read from the API: what to do
//! with an object whose owners were classified (upstream's attemptToDeleteItem), and the
//! JSON merge patches it writes (owner references removed or unblocked, a finalizer
//! removed), each carrying the resourceVersion it was computed from so a concurrent change
//! makes it fail (409) rather than be overwritten. Pure: no IO.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::{json, Value};

use super::graph::{FINALIZER_FOREGROUND, FINALIZER_ORPHAN};

/// How an owner reference stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerState {
    /// The owner exists and is not deleting its dependents first.
    Solid,
    /// The owner does not exist (or another object with that name does).
    Dangling,
    /// The owner is being deleted in the foreground: it waits for its dependents.
    WaitingForDependentsDeletion,
}

/// The propagation policy of a DELETE the collector sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Orphan,
    Background,
    Foreground,
}

impl Propagation {
    pub fn as_str(self) -> &'static str {
        match self {
            Propagation::Orphan => "Orphan",
            Propagation::Background => "Background",
            Propagation::Foreground => "Foreground",
        }
    }
}

/// What to do with an object whose owners were classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// At least one owner stands and no reference needs cleaning: keep it.
    Keep,
    /// Some owner stands: drop the references (by uid) to the owners that are gone or
    /// waiting for their dependents, so those owners are not blocked.
    RemoveOwnerReferences(Vec<String>),
    /// Every owner is gone or waiting, one waits for its dependents, and this object has
    /// dependents of its own: delete it in the foreground. `unblock_first` when one of its
    /// dependents deletes its own dependents first (a possible cycle): its references stop
    /// blocking before.
    DeleteForeground { unblock_first: bool },
    /// No owner stands: delete it, its own finalizers saying how its dependents go.
    Delete(Propagation),
}

/// Upstream's decision for an object with owner references `refs` (each with how it
/// stands); `has_dependents` / `a_dependent_deletes_dependents` from the graph.
pub fn decide(
    meta: &ObjectMeta,
    refs: &[(OwnerReference, OwnerState)],
    has_dependents: bool,
    a_dependent_deletes_dependents: bool,
) -> Action {
    if refs.is_empty() {
        return Action::Keep;
    }
    let of = |s: OwnerState| -> Vec<String> {
        refs.iter()
            .filter(|(_, st)| *st == s)
            .map(|(r, _)| r.uid.clone())
            .collect()
    };
    let solid = of(OwnerState::Solid);
    let dangling = of(OwnerState::Dangling);
    let waiting = of(OwnerState::WaitingForDependentsDeletion);
    if !solid.is_empty() {
        if dangling.is_empty() && waiting.is_empty() {
            return Action::Keep;
        }
        return Action::RemoveOwnerReferences(dangling.into_iter().chain(waiting).collect());
    }
    if !waiting.is_empty() && has_dependents {
        return Action::DeleteForeground {
            unblock_first: a_dependent_deletes_dependents,
        };
    }
    let has = |f: &str| meta.finalizers.iter().flatten().any(|x| x == f);
    Action::Delete(if has(FINALIZER_ORPHAN) {
        Propagation::Orphan
    } else if has(FINALIZER_FOREGROUND) {
        Propagation::Foreground
    } else {
        Propagation::Background
    })
}

/// How an existing owner stands (the owner's metadata as just read).
pub fn owner_state(owner: &ObjectMeta) -> OwnerState {
    let foreground = owner
        .finalizers
        .iter()
        .flatten()
        .any(|f| f == FINALIZER_FOREGROUND);
    if owner.deletion_timestamp.is_some() && foreground {
        OwnerState::WaitingForDependentsDeletion
    } else {
        OwnerState::Solid
    }
}

fn resource_version(meta: &ObjectMeta) -> Value {
    meta.resource_version
        .as_ref()
        .map(|rv| json!(rv))
        .unwrap_or(Value::Null)
}

fn owner_references_value(refs: Vec<OwnerReference>) -> Value {
    if refs.is_empty() {
        Value::Null
    } else {
        serde_json::to_value(refs).unwrap_or(Value::Null)
    }
}

/// The patch removing the owner references to `uids`; `None` when there are none.
pub fn remove_owner_references_patch(meta: &ObjectMeta, uids: &[String]) -> Option<Value> {
    let refs = meta.owner_references.clone().unwrap_or_default();
    if !refs.iter().any(|r| uids.contains(&r.uid)) {
        return None;
    }
    let kept: Vec<OwnerReference> = refs
        .into_iter()
        .filter(|r| !uids.contains(&r.uid))
        .collect();
    Some(json!({"metadata": {
        "ownerReferences": owner_references_value(kept),
        "resourceVersion": resource_version(meta),
    }}))
}

/// The patch making every blocking owner reference non-blocking; `None` when none blocks.
pub fn unblock_owner_references_patch(meta: &ObjectMeta) -> Option<Value> {
    let mut refs = meta.owner_references.clone().unwrap_or_default();
    let mut changed = false;
    for r in &mut refs {
        if r.block_owner_deletion == Some(true) {
            r.block_owner_deletion = Some(false);
            changed = true;
        }
    }
    changed.then(|| {
        json!({"metadata": {
            "ownerReferences": owner_references_value(refs),
            "resourceVersion": resource_version(meta),
        }})
    })
}

/// The patch removing `finalizer`; `None` when the object does not have it.
pub fn remove_finalizer_patch(meta: &ObjectMeta, finalizer: &str) -> Option<Value> {
    let fins = meta.finalizers.clone().unwrap_or_default();
    if !fins.iter().any(|f| f == finalizer) {
        return None;
    }
    let kept: Vec<String> = fins.into_iter().filter(|f| f != finalizer).collect();
    Some(json!({"metadata": {
        "finalizers": if kept.is_empty() { Value::Null } else { json!(kept) },
        "resourceVersion": resource_version(meta),
    }}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn r(uid: &str, block: bool) -> OwnerReference {
        OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: format!("owner-{uid}"),
            uid: uid.into(),
            block_owner_deletion: block.then_some(true),
            controller: None,
        }
    }

    fn with_finalizers(f: &[&str]) -> ObjectMeta {
        ObjectMeta {
            finalizers: Some(f.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }
    }

    use OwnerState::*;

    #[test]
    fn decisions() {
        let m = ObjectMeta::default();
        assert_eq!(decide(&m, &[], false, false), Action::Keep);
        assert_eq!(
            decide(&m, &[(r("a", false), Solid)], false, false),
            Action::Keep
        );
        assert_eq!(
            decide(
                &m,
                &[
                    (r("a", false), Solid),
                    (r("b", false), Dangling),
                    (r("c", true), WaitingForDependentsDeletion)
                ],
                false,
                false
            ),
            Action::RemoveOwnerReferences(vec!["b".into(), "c".into()])
        );
        assert_eq!(
            decide(&m, &[(r("a", false), Dangling)], true, false),
            Action::Delete(Propagation::Background)
        );
        assert_eq!(
            decide(
                &with_finalizers(&["orphan"]),
                &[(r("a", false), Dangling)],
                false,
                false
            ),
            Action::Delete(Propagation::Orphan)
        );
        assert_eq!(
            decide(
                &with_finalizers(&["foregroundDeletion"]),
                &[(r("a", false), Dangling)],
                false,
                false
            ),
            Action::Delete(Propagation::Foreground)
        );
        let waiting = [(r("a", true), WaitingForDependentsDeletion)];
        assert_eq!(
            decide(&m, &waiting, false, false),
            Action::Delete(Propagation::Background)
        );
        assert_eq!(
            decide(&m, &waiting, true, false),
            Action::DeleteForeground {
                unblock_first: false
            }
        );
        assert_eq!(
            decide(&m, &waiting, true, true),
            Action::DeleteForeground {
                unblock_first: true
            }
        );
    }

    #[test]
    fn owner_states() {
        assert_eq!(owner_state(&ObjectMeta::default()), Solid);
        let mut m = with_finalizers(&["foregroundDeletion"]);
        assert_eq!(owner_state(&m), Solid);
        m.deletion_timestamp = Some(Time(jiff::Timestamp::UNIX_EPOCH));
        assert_eq!(owner_state(&m), WaitingForDependentsDeletion);
        let mut o = with_finalizers(&["orphan"]);
        o.deletion_timestamp = m.deletion_timestamp.clone();
        assert_eq!(owner_state(&o), Solid);
    }

    #[test]
    fn patches() {
        let m = ObjectMeta {
            resource_version: Some("7".into()),
            uid: Some("me".into()),
            owner_references: Some(vec![r("a", true), r("b", false)]),
            finalizers: Some(vec!["x".into(), "orphan".into()]),
            ..Default::default()
        };
        let p = remove_owner_references_patch(&m, &["a".into()]).unwrap();
        assert_eq!(p["metadata"]["resourceVersion"], "7");
        assert_eq!(p["metadata"]["ownerReferences"][0]["uid"], "b");
        assert_eq!(
            p["metadata"]["ownerReferences"].as_array().unwrap().len(),
            1
        );
        let p = remove_owner_references_patch(&m, &["a".into(), "b".into()]).unwrap();
        assert!(p["metadata"]["ownerReferences"].is_null());
        assert!(remove_owner_references_patch(&m, &["zzz".into()]).is_none());

        let p = unblock_owner_references_patch(&m).unwrap();
        assert_eq!(
            p["metadata"]["ownerReferences"][0]["blockOwnerDeletion"],
            false
        );
        let mut unblocked = m.clone();
        unblocked.owner_references = Some(vec![r("b", false)]);
        assert!(unblock_owner_references_patch(&unblocked).is_none());

        let p = remove_finalizer_patch(&m, "orphan").unwrap();
        assert_eq!(p["metadata"]["finalizers"], json!(["x"]));
        assert!(remove_finalizer_patch(&m, "foregroundDeletion").is_none());
        let only = with_finalizers(&["orphan"]);
        assert!(
            remove_finalizer_patch(&only, "orphan").unwrap()["metadata"]["finalizers"].is_null()
        );
    }
}
