//! A DaemonSet's ControllerRevisions (upstream `constructHistory`, `snapshot`,
//! `cleanupHistory`): one revision per distinct pod template, named `<ds>-<hash>` by the
//! template hash and labelled `controller-revision-hash`; the one matching the current
//! template is the current revision and carries the highest number; old ones beyond
//! `revisionHistoryLimit` that no pod uses are deleted oldest first.

use std::collections::HashSet;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use serde_json::Value;

use super::placement::REVISION_HASH_LABEL;
use crate::history::{
    canonical_json, controller_ref, fnv32a, max_revision, safe_encode, same_data, sort_revisions,
    template_patch,
};

/// The state a DaemonSet revision records (upstream `getPatch`).
pub fn ds_patch(ds: &DaemonSet) -> Option<Value> {
    template_patch(&serde_json::to_value(ds).ok()?)
}

/// Upstream `controller.ComputeHash`: FNV-1a over the pod template and, if set, the
/// collision count (8 bytes, the count little-endian first), safe-encoded.
pub fn compute_hash(template: &Value, collision_count: Option<i32>) -> String {
    let raw = canonical_json(template);
    let mut probe = [0u8; 8];
    let mut parts: Vec<&[u8]> = vec![raw.as_bytes()];
    if let Some(c) = collision_count {
        probe[..4].copy_from_slice(&(c as u32).to_le_bytes());
        parts.push(&probe);
    }
    safe_encode(&fnv32a(&parts).to_string())
}

/// Whether `rev` records the DaemonSet's current template (upstream `Match`).
pub fn matches(ds: &DaemonSet, rev: &ControllerRevision) -> bool {
    same_data(rev, ds_patch(ds).as_ref())
}

/// The revision upstream's `snapshot` creates for the current template.
pub fn snapshot(ds: &DaemonSet, revision: i64) -> Option<ControllerRevision> {
    let patch = ds_patch(ds)?;
    let template = serde_json::to_value(&ds.spec.as_ref()?.template).ok()?;
    let collision = ds.status.as_ref().and_then(|s| s.collision_count);
    let hash = compute_hash(&template, collision);
    let mut labels = ds
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    labels.insert(REVISION_HASH_LABEL.into(), hash.clone());
    Some(ControllerRevision {
        metadata: ObjectMeta {
            name: Some(format!(
                "{}-{}",
                ds.metadata.name.as_deref().unwrap_or(""),
                hash
            )),
            namespace: ds.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: ds.metadata.annotations.clone(),
            owner_references: Some(vec![controller_ref(ds)]),
            ..Default::default()
        },
        data: Some(RawExtension(patch)),
        revision,
    })
}

/// The DaemonSet's revisions split by whether they record the current template.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub current: Vec<Arc<ControllerRevision>>,
    pub old: Vec<Arc<ControllerRevision>>,
    /// The number the current revision must carry: one above every old one.
    pub current_number: i64,
}

/// Splits `owned` (the revisions the DaemonSet controls).
pub fn split(ds: &DaemonSet, owned: &[Arc<ControllerRevision>]) -> History {
    let (current, old): (Vec<_>, Vec<_>) = owned.iter().cloned().partition(|r| matches(ds, r));
    let current_number = max_revision(&old) + 1;
    History {
        current,
        old,
        current_number,
    }
}

/// Of several revisions of the current template, the one to keep (the highest number, the
/// later of equals), as upstream `dedupCurHistories`.
pub fn keep_of(current: &[Arc<ControllerRevision>]) -> Option<Arc<ControllerRevision>> {
    let mut keep: Option<&Arc<ControllerRevision>> = None;
    let mut max = 0;
    for r in current {
        if keep.is_none() || r.revision >= max {
            max = r.revision;
            keep = Some(r);
        }
    }
    keep.cloned()
}

/// The revision hash a revision's pods carry.
pub fn hash_of(rev: &ControllerRevision) -> String {
    rev.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(REVISION_HASH_LABEL))
        .cloned()
        .unwrap_or_default()
}

/// The old revisions to delete (upstream `cleanupHistory`): beyond `revisionHistoryLimit`,
/// oldest first, sparing those a live pod (`pods`, deleted terminal ones included) uses.
pub fn to_clean_up(
    ds: &DaemonSet,
    old: &[Arc<ControllerRevision>],
    pods: &[Arc<Pod>],
) -> Vec<Arc<ControllerRevision>> {
    let keep = ds
        .spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .unwrap_or(10)
        .max(0) as usize;
    let mut to_kill = old.len().saturating_sub(keep);
    if to_kill == 0 {
        return Vec::new();
    }
    let live: HashSet<&str> = pods
        .iter()
        .filter_map(|p| p.metadata.labels.as_ref()?.get(REVISION_HASH_LABEL))
        .filter(|h| !h.is_empty())
        .map(String::as_str)
        .collect();
    let mut sorted = old.to_vec();
    sort_revisions(&mut sorted);
    let mut out = Vec::new();
    for r in sorted {
        if to_kill == 0 {
            break;
        }
        if live.contains(hash_of(&r).as_str()) {
            continue;
        }
        out.push(r);
        to_kill -= 1;
    }
    out
}
