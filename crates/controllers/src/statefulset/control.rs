//! What one StatefulSet sync does (upstream `updateStatefulSet`, `processReplica`,
//! `processCondemned`): the ordered list of actions upstream would attempt on this snapshot
//! and the status it reports. With OrderedReady (monotonic) the list stops at the first
//! thing to wait for: pod `i+1` is created only once `0..=i` are Running and Ready, surplus
//! pods go highest ordinal first, one at a time, and a rolling update deletes the highest
//! ordinal `>= partition` not at the update revision, waiting for each to come back
//! available. With Parallel everything is attempted at once. The executor stops at the
//! first failed action.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};

use super::pods::{
    claim_owner_up_to_date, claims_for, has_stale_pod_ref, has_unexpected_controller,
    identity_matches, in_ordinal_range, is_created, is_running_and_available, is_running_and_ready,
    is_unavailable, new_versioned_pod, ordinal, pod_revision, retention, start_ordinal,
    storage_matches, update_identity, update_storage, with_policy_owners,
};
use super::revisions::apply_revision;
use super::status::count;
use crate::daemonset::pods::phase;

/// The PVCs of the namespace, by name.
pub type Claims = BTreeMap<String, Arc<PersistentVolumeClaim>>;

/// What must happen to a pod's claims (upstream `createPersistentVolumeClaims` and
/// `UpdatePodClaimForRetentionPolicy`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClaimWork {
    /// Missing claims to create.
    pub create: Vec<PersistentVolumeClaim>,
    /// Claims that exist but are being deleted (an error: the pod must wait).
    pub terminating: Vec<String>,
    /// Existing claims whose owner references must change for the retention policy.
    pub owners: Vec<PersistentVolumeClaim>,
    /// Claims controlled by something else (a warning event).
    pub conflicting: Vec<String>,
}

impl ClaimWork {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty()
            && self.terminating.is_empty()
            && self.owners.is_empty()
            && self.conflicting.is_empty()
    }
}

/// Why a pod is deleted (for logs; every deletion records the same event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Failed or Succeeded: it is recreated.
    Finished,
    /// Its ordinal is beyond `replicas`.
    ScaleDown,
    /// Not at the update revision.
    Update,
}

/// One step upstream's pod control takes.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `CreateStatefulPod`: the claims, then the pod, then the claims' owners.
    CreatePod { pod: Pod, claims: ClaimWork },
    /// `createMissingPersistentVolumeClaims` for a Pending pod.
    CreateMissingClaims { pod: String, claims: ClaimWork },
    /// `UpdateStatefulPod`: claims, then the pod itself when `changed`.
    UpdatePod {
        pod: Pod,
        changed: bool,
        claims: ClaimWork,
    },
    /// `UpdatePodClaimForRetentionPolicy` for a condemned pod.
    FixClaims { pod: String, claims: ClaimWork },
    /// `DeleteStatefulPod`.
    DeletePod { pod: String, why: Why },
}

/// The sync's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub actions: Vec<Action>,
    pub status: StatefulSetStatus,
}

/// The work to make `pod`'s claims exist (and carry the policy's owners).
pub fn claim_work(set: &StatefulSet, pod: &Pod, claims: &Claims) -> ClaimWork {
    let mut w = ClaimWork::default();
    for (_, c) in claims_for(set, pod) {
        let name = c.metadata.name.clone().unwrap_or_default();
        match claims.get(&name) {
            None => w.create.push(c),
            Some(existing) if existing.metadata.deletion_timestamp.is_some() => {
                w.terminating.push(name)
            }
            Some(_) => {}
        }
    }
    w.owners = owner_updates(set, pod, claims, &mut w.conflicting);
    w
}

/// The existing claims of `pod` whose owners do not follow the policy, rewritten.
fn owner_updates(
    set: &StatefulSet,
    pod: &Pod,
    claims: &Claims,
    conflicting: &mut Vec<String>,
) -> Vec<PersistentVolumeClaim> {
    let mut out = Vec::new();
    for (_, c) in claims_for(set, pod) {
        let name = c.metadata.name.clone().unwrap_or_default();
        let Some(existing) = claims.get(&name) else {
            continue;
        };
        if has_unexpected_controller(existing, set, pod) {
            conflicting.push(name);
        }
        if !claim_owner_up_to_date(existing, set, pod) {
            out.push(with_policy_owners(existing, set, pod));
        }
    }
    out
}

/// Upstream `ClaimsMatchRetentionPolicy` (missing claims match).
fn claims_match_retention(set: &StatefulSet, pod: &Pod, claims: &Claims) -> bool {
    claims_for(set, pod).values().all(|c| {
        claims
            .get(c.metadata.name.as_deref().unwrap_or(""))
            .is_none_or(|existing| claim_owner_up_to_date(existing, set, pod))
    })
}

/// Upstream `PodClaimIsStale`.
fn claim_is_stale(set: &StatefulSet, pod: &Pod, claims: &Claims) -> bool {
    if !retention(set).1 {
        return false;
    }
    claims_for(set, pod).values().any(|c| {
        claims
            .get(c.metadata.name.as_deref().unwrap_or(""))
            .is_some_and(|existing| has_stale_pod_ref(existing, pod))
    })
}

fn name(p: &Pod) -> String {
    p.metadata.name.clone().unwrap_or_default()
}

struct Ctx<'a> {
    set: &'a StatefulSet,
    update_set: &'a StatefulSet,
    claims: &'a Claims,
    monotonic: bool,
    min_ready: i32,
    now: jiff::Timestamp,
}

/// Upstream `processReplica`; true: stop (in monotonic mode).
fn process_replica(c: &Ctx, pod: &Pod, actions: &mut Vec<Action>) -> bool {
    if matches!(phase(pod), "Failed" | "Succeeded") {
        if pod.metadata.deletion_timestamp.is_none() {
            actions.push(Action::DeletePod {
                pod: name(pod),
                why: Why::Finished,
            });
        }
        return true;
    }
    if !is_created(pod) {
        if claim_is_stale(c.set, pod, c.claims) {
            return true;
        }
        actions.push(Action::CreatePod {
            pod: pod.clone(),
            claims: claim_work(c.set, pod, c.claims),
        });
        if c.monotonic {
            return true;
        }
    }
    if phase(pod) == "Pending" {
        let w = claim_work(c.set, pod, c.claims);
        if !w.is_empty() {
            actions.push(Action::CreateMissingClaims {
                pod: name(pod),
                claims: w,
            });
        }
    }
    if pod.metadata.deletion_timestamp.is_some() && c.monotonic {
        return true;
    }
    if !is_running_and_ready(pod) && c.monotonic {
        return true;
    }
    if !is_running_and_available(pod, c.min_ready, c.now) && c.monotonic {
        return true;
    }
    let retention_ok = claims_match_retention(c.update_set, pod, c.claims);
    if identity_matches(c.set, pod) && storage_matches(c.set, pod) && retention_ok {
        return false;
    }
    let mut fixed = pod.clone();
    let mut changed = false;
    let mut claims = ClaimWork::default();
    if !identity_matches(c.update_set, &fixed) {
        update_identity(c.update_set, &mut fixed);
        changed = true;
    }
    if !storage_matches(c.update_set, &fixed) {
        update_storage(c.update_set, &mut fixed);
        changed = true;
        let w = claim_work(c.update_set, &fixed, c.claims);
        claims.create = w.create;
        claims.terminating = w.terminating;
    }
    if !claims_match_retention(c.update_set, &fixed, c.claims) {
        claims.owners = owner_updates(c.update_set, &fixed, c.claims, &mut claims.conflicting);
        changed = true;
    }
    actions.push(Action::UpdatePod {
        pod: fixed,
        changed,
        claims,
    });
    false
}

/// Upstream `processCondemned`; true: stop (in monotonic mode).
fn process_condemned(
    c: &Ctx,
    pod: &Pod,
    first_unhealthy: Option<&str>,
    actions: &mut Vec<Action>,
) -> bool {
    if pod.metadata.deletion_timestamp.is_some() {
        return c.monotonic;
    }
    let is_first = first_unhealthy == pod.metadata.name.as_deref();
    if !is_running_and_ready(pod) && c.monotonic && !is_first {
        return true;
    }
    if !is_running_and_available(pod, c.min_ready, c.now) && c.monotonic && !is_first {
        return true;
    }
    actions.push(Action::DeletePod {
        pod: name(pod),
        why: Why::ScaleDown,
    });
    true
}

/// Upstream `updateStatefulSet` over a snapshot: the set's claimed `pods`, the namespace's
/// `claims`, the current and update revisions and the collision count.
pub fn plan(
    set: &StatefulSet,
    pods: &[Arc<Pod>],
    claims: &Claims,
    current: &ControllerRevision,
    update: &ControllerRevision,
    collision_count: i32,
    now: jiff::Timestamp,
) -> Result<Plan, String> {
    let current_set = apply_revision(set, current)?;
    let update_set = apply_revision(set, update)?;
    let current_name = current.metadata.name.clone().unwrap_or_default();
    let update_name = update.metadata.name.clone().unwrap_or_default();
    let spec = set.spec.clone().unwrap_or_default();
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let mut status = StatefulSetStatus {
        observed_generation: set.metadata.generation,
        current_revision: Some(current_name.clone()),
        update_revision: Some(update_name.clone()),
        collision_count: Some(collision_count),
        ..Default::default()
    };
    count(
        &mut status,
        pods.iter().map(|p| &**p),
        min_ready,
        &current_name,
        &update_name,
        now,
    );

    let start = start_ordinal(set);
    let n = super::pods::replicas(set) as usize;
    let mut slots: Vec<Option<Pod>> = vec![None; n];
    let mut condemned: Vec<Pod> = Vec::new();
    for p in pods {
        if in_ordinal_range(p, set) {
            let i = (ordinal(p) - start) as usize;
            if let Some(slot) = slots.get_mut(i) {
                *slot = Some((**p).clone());
            }
        } else if ordinal(p) >= 0 {
            condemned.push((**p).clone());
        }
    }
    let replicas: Vec<Pod> = slots
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            p.unwrap_or_else(|| {
                new_versioned_pod(
                    &current_set,
                    &update_set,
                    &current_name,
                    &update_name,
                    start + i as i64,
                )
            })
        })
        .collect();
    condemned.sort_by_key(|p| std::cmp::Reverse(ordinal(p)));

    let unavailable = |p: &Pod| is_unavailable(p, min_ready, now);
    let first_unhealthy: Option<String> = replicas
        .iter()
        .find(|p| unavailable(p))
        .or_else(|| condemned.iter().rev().find(|p| unavailable(p)))
        .map(name);

    if set.metadata.deletion_timestamp.is_some() {
        return Ok(Plan {
            actions: Vec::new(),
            status,
        });
    }
    let monotonic = spec.pod_management_policy.as_deref() != Some("Parallel");
    let c = Ctx {
        set,
        update_set: &update_set,
        claims,
        monotonic,
        min_ready,
        now,
    };
    let mut actions = Vec::new();
    let finish = |mut status: StatefulSetStatus, actions: Vec<Action>| {
        count(
            &mut status,
            replicas.iter().chain(condemned.iter()),
            min_ready,
            &current_name,
            &update_name,
            now,
        );
        Ok(Plan { actions, status })
    };

    for p in &replicas {
        if process_replica(&c, p, &mut actions) && monotonic {
            return finish(status, actions);
        }
    }
    for p in &condemned {
        if !claims_match_retention(&update_set, p, claims) {
            let mut w = ClaimWork::default();
            w.owners = owner_updates(&update_set, p, claims, &mut w.conflicting);
            actions.push(Action::FixClaims {
                pod: name(p),
                claims: w,
            });
        }
    }
    for p in &condemned {
        if process_condemned(&c, p, first_unhealthy.as_deref(), &mut actions) && monotonic {
            return finish(status, actions);
        }
    }
    let on_delete = spec
        .update_strategy
        .as_ref()
        .and_then(|s| s.type_.as_deref())
        == Some("OnDelete");
    if on_delete {
        return finish(status, actions);
    }
    let update_min = spec
        .update_strategy
        .as_ref()
        .and_then(|s| s.rolling_update.as_ref())
        .map(|r| i64::from(r.partition.unwrap_or(0)))
        .unwrap_or(0)
        .max(0) as usize;
    let mut update_delete = false;
    for target in (update_min..replicas.len()).rev() {
        let p = &replicas[target];
        if pod_revision(p) != update_name && p.metadata.deletion_timestamp.is_none() {
            actions.push(Action::DeletePod {
                pod: name(p),
                why: Why::Update,
            });
            update_delete = true;
            break;
        }
        if unavailable(p) {
            break;
        }
    }
    let mut plan = finish(status, actions)?;
    if update_delete {
        plan.status.current_replicas = Some(plan.status.current_replicas.unwrap_or(0) - 1);
    }
    Ok(plan)
}
