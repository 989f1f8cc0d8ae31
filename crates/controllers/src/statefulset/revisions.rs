//! A StatefulSet's ControllerRevisions (upstream `getStatefulSetRevisions`, `newRevision`,
//! `ApplyRevision`, `truncateHistory`): the update revision records the current template
//! (reusing an equal revision, renumbered to the newest when it is not already the newest,
//! as a rollback does); the current revision is the one `status.currentRevision` names.

use std::collections::HashSet;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use serde_json::Value;

use super::pods::pod_revision;
use crate::history::{
    controller_ref, equal_revision, new_revision, next_revision, revision_template, template_patch,
};

/// The state a StatefulSet revision records (upstream `getPatch`).
pub fn sts_patch(set: &StatefulSet) -> Option<Value> {
    template_patch(&serde_json::to_value(set).ok()?)
}

/// Upstream `newRevision`: the revision of the set's current template, numbered
/// `revision`, with the set's annotations.
pub fn candidate(
    set: &StatefulSet,
    revision: i64,
    collision_count: i32,
) -> Option<ControllerRevision> {
    let patch = sts_patch(set)?;
    let labels = set
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.labels.as_ref());
    let mut cr = new_revision(
        set.metadata.name.as_deref().unwrap_or(""),
        set.metadata.namespace.as_deref().unwrap_or(""),
        controller_ref(set),
        labels,
        patch,
        revision,
        Some(collision_count),
    );
    if let Some(a) = set.metadata.annotations.as_ref() {
        cr.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .extend(a.clone());
    }
    Some(cr)
}

/// How the update revision comes about.
#[derive(Debug, Clone)]
pub enum UpdateRevision {
    /// The newest revision already records the template.
    Newest(Arc<ControllerRevision>),
    /// An older revision records it: renumber it to the given number (a rollback).
    Renumber(Arc<ControllerRevision>, i64),
    /// None does: create this one.
    Create(Box<ControllerRevision>),
}

/// Upstream's choice of the update revision among `sorted` (oldest first).
pub fn choose_update(
    set: &StatefulSet,
    sorted: &[Arc<ControllerRevision>],
    collision_count: i32,
) -> Option<UpdateRevision> {
    let cand = candidate(set, next_revision(sorted), collision_count)?;
    let equal: Vec<&Arc<ControllerRevision>> =
        sorted.iter().filter(|r| equal_revision(r, &cand)).collect();
    match (equal.last(), sorted.last()) {
        (Some(eq), Some(newest)) if equal_revision(newest, eq) => {
            Some(UpdateRevision::Newest(newest.clone()))
        }
        (Some(eq), _) => Some(UpdateRevision::Renumber((*eq).clone(), cand.revision)),
        (None, _) => Some(UpdateRevision::Create(Box::new(cand))),
    }
}

/// The revision `status.currentRevision` names, if it is among `revs`.
pub fn find_current(
    set: &StatefulSet,
    revs: &[Arc<ControllerRevision>],
) -> Option<Arc<ControllerRevision>> {
    let name = set.status.as_ref()?.current_revision.as_deref()?;
    revs.iter()
        .find(|r| r.metadata.name.as_deref() == Some(name))
        .cloned()
}

/// Upstream `ApplyRevision`: the set with the revision's template.
pub fn apply_revision(set: &StatefulSet, rev: &ControllerRevision) -> Result<StatefulSet, String> {
    let t = revision_template(rev).ok_or_else(|| {
        format!(
            "revision {} records no template",
            rev.metadata.name.as_deref().unwrap_or("")
        )
    })?;
    let template: PodTemplateSpec = serde_json::from_value(t).map_err(|e| e.to_string())?;
    let mut out = set.clone();
    if let Some(spec) = out.spec.as_mut() {
        spec.template = template;
    }
    Ok(out)
}

/// Upstream `truncateHistory`: the revisions to delete, oldest first, so that no more than
/// `revisionHistoryLimit` revisions remain besides the live ones (current, update, and any
/// a pod was made from). `sorted` is oldest first.
pub fn to_truncate(
    set: &StatefulSet,
    sorted: &[Arc<ControllerRevision>],
    pods: &[Arc<Pod>],
    current: Option<&str>,
    update: Option<&str>,
) -> Vec<Arc<ControllerRevision>> {
    let mut live: HashSet<&str> = pods.iter().map(|p| pod_revision(p)).collect();
    live.extend(current);
    live.extend(update);
    let history: Vec<&Arc<ControllerRevision>> = sorted
        .iter()
        .filter(|r| !live.contains(r.metadata.name.as_deref().unwrap_or("")))
        .collect();
    let limit = set
        .spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .unwrap_or(10);
    if limit < 0 || history.len() <= limit as usize {
        return Vec::new();
    }
    history[..history.len() - limit as usize]
        .iter()
        .map(|r| (*r).clone())
        .collect()
}
