//! A Deployment's sync as a pure plan (upstream `sync.go`): the [`Planner`] walks upstream's
//! steps over a snapshot of the Deployment and its ReplicaSets and records the writes they
//! would make (create the new ReplicaSet, update ReplicaSets' replicas and annotations,
//! delete old ones past the history limit) and the Deployment's new annotations and status;
//! the caller carries the [`Plan`] out in order. Here: finding or making the new ReplicaSet,
//! scaling (proportionally while a rollout is under way), history cleanup, status, and the
//! paused / scaling-event checks.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::util::{self as du, rs_replicas};
use crate::podcontrol;

/// One write of a plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Create the new ReplicaSet; the event is recorded once it exists.
    Create {
        rs: ReplicaSet,
        event: Option<String>,
    },
    /// Replace a ReplicaSet (replicas, annotations, minReadySeconds) at the resourceVersion
    /// it carries; the events are recorded once it succeeded.
    Update { rs: ReplicaSet, events: Vec<String> },
    /// Delete an old ReplicaSet.
    Delete { name: String },
}

/// What one sync does.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Plan {
    pub writes: Vec<Write>,
    /// The Deployment with its new annotations and status, if either changed (written
    /// through the status subresource after every write succeeded).
    pub deployment: Option<Deployment>,
    /// Warning events about the Deployment: (reason, message).
    pub warnings: Vec<(String, String)>,
    /// Sync again after this long (progress deadline checks).
    pub requeue_after: Option<Duration>,
}

/// Walks upstream's sync steps, recording writes.
pub struct Planner {
    /// The Deployment as the steps changed it (annotations, status).
    pub d: Deployment,
    orig: Deployment,
    pub now: jiff::Timestamp,
    pub plan: Plan,
}

pub const SCALING_REPLICA_SET: &str = "ScalingReplicaSet";

impl Planner {
    pub fn new(d: &Deployment, now: jiff::Timestamp) -> Self {
        Planner {
            d: d.clone(),
            orig: d.clone(),
            now,
            plan: Plan::default(),
        }
    }

    /// The plan, with the Deployment to write if its annotations or status changed.
    pub fn finish(mut self) -> Plan {
        if self.d.metadata.annotations != self.orig.metadata.annotations
            || self.d.status != self.orig.status
        {
            self.plan.deployment = Some(self.d);
        }
        self.plan
    }

    pub fn status_mut(&mut self) -> &mut DeploymentStatus {
        self.d.status.get_or_insert_with(Default::default)
    }

    pub fn status(&self) -> DeploymentStatus {
        self.d.status.clone().unwrap_or_default()
    }

    /// Records a replace of `rs`; a ReplicaSet written twice in one plan is written once,
    /// with the later content.
    fn push_update(&mut self, rs: ReplicaSet, event: Option<String>) {
        for w in self.plan.writes.iter_mut() {
            match w {
                Write::Update { rs: prev, events } if prev.metadata.name == rs.metadata.name => {
                    *prev = rs;
                    events.extend(event);
                    return;
                }
                Write::Create { rs: prev, .. } if prev.metadata.name == rs.metadata.name => {
                    *prev = rs;
                    return;
                }
                _ => {}
            }
        }
        self.plan.writes.push(Write::Update {
            rs,
            events: event.into_iter().collect(),
        });
    }

    /// Upstream `scaleReplicaSet`: new size and replicas annotations; returns the ReplicaSet
    /// as written and whether its size changed.
    pub fn scale_rs(&mut self, rs: &ReplicaSet, new_scale: i32, op: &str) -> (bool, ReplicaSet) {
        let size_changes = rs_replicas(rs) != new_scale;
        let desired = du::replicas(&self.d);
        let max = desired + du::max_surge(&self.d);
        if !size_changes && !du::replicas_annotations_need_update(rs, desired, max) {
            return (false, rs.clone());
        }
        let mut copy = rs.clone();
        du::set_rs_replicas(&mut copy, new_scale);
        du::set_replicas_annotations(&mut copy, desired, max);
        let event = size_changes.then(|| {
            format!(
                "Scaled {op} replica set {} from {} to {}",
                rs.metadata.name.as_deref().unwrap_or(""),
                rs_replicas(rs),
                new_scale
            )
        });
        self.push_update(copy.clone(), event);
        (size_changes, copy)
    }

    /// Upstream `scaleReplicaSetAndRecordEvent`.
    pub fn scale_and_record(&mut self, rs: &ReplicaSet, new_scale: i32) -> (bool, ReplicaSet) {
        if rs_replicas(rs) == new_scale {
            return (false, rs.clone());
        }
        let op = if rs_replicas(rs) < new_scale {
            "up"
        } else {
            "down"
        };
        self.scale_rs(rs, new_scale, op)
    }

    /// The new ReplicaSet (and the old ones), creating it when asked; syncs the Deployment's
    /// revision (upstream `getAllReplicaSetsAndSyncRevision`).
    pub fn all_rss_and_sync_revision(
        &mut self,
        rss: &[ReplicaSet],
        create: bool,
    ) -> (Option<ReplicaSet>, Vec<ReplicaSet>) {
        let new_name = du::find_new_rs(&self.d, rss).map(|r| r.metadata.name.clone());
        let old: Vec<ReplicaSet> = rss
            .iter()
            .filter(|r| Some(&r.metadata.name) != new_name.as_ref())
            .cloned()
            .collect();
        let new_rs = self.new_rs(rss, &old, create);
        (new_rs, old)
    }

    /// Upstream `getNewReplicaSet`.
    fn new_rs(
        &mut self,
        rss: &[ReplicaSet],
        old: &[ReplicaSet],
        create: bool,
    ) -> Option<ReplicaSet> {
        let existing = du::find_new_rs(&self.d, rss).cloned();
        let new_revision = du::max_revision(old) + 1;
        if let Some(existing) = existing {
            let mut copy = existing.clone();
            let annotations_changed =
                du::set_new_rs_annotations(&self.d, &mut copy, new_revision, true);
            let min_ready = du::min_ready_seconds(&self.d);
            let min_ready_changed = copy
                .spec
                .as_ref()
                .and_then(|s| s.min_ready_seconds)
                .unwrap_or(0)
                != min_ready;
            if annotations_changed || min_ready_changed {
                if let Some(s) = copy.spec.as_mut() {
                    s.min_ready_seconds = Some(min_ready);
                }
                self.push_update(copy.clone(), None);
                return Some(copy);
            }
            let revision = copy
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(du::REVISION))
                .cloned()
                .unwrap_or_default();
            du::set_deployment_revision(&mut self.d, &revision);
            if du::progress_deadline(&self.d).is_some()
                && du::condition(&self.status(), du::PROGRESSING).is_none()
            {
                let c = du::new_condition(
                    du::PROGRESSING,
                    "True",
                    du::FOUND_NEW_RS_REASON,
                    format!(
                        "Found new replica set {}",
                        skiff_api::labels::go_quote(copy.metadata.name.as_deref().unwrap_or(""))
                    ),
                    self.now,
                );
                du::set_condition(self.status_mut(), c);
            }
            return Some(copy);
        }
        if !create {
            return None;
        }
        let d = &self.d;
        let mut template = du::template(d);
        let collision = d.status.as_ref().and_then(|s| s.collision_count);
        let hash = du::compute_hash(&template, collision);
        let tm = template.metadata.get_or_insert_with(Default::default);
        tm.labels
            .get_or_insert_with(Default::default)
            .insert(du::POD_TEMPLATE_HASH.into(), hash.clone());
        let labels = tm.labels.clone();
        let mut selector: LabelSelector = d
            .spec
            .as_ref()
            .map(|s| s.selector.clone())
            .unwrap_or_default();
        selector
            .match_labels
            .get_or_insert_with(Default::default)
            .insert(du::POD_TEMPLATE_HASH.into(), hash.clone());
        let name = format!("{}-{}", d.metadata.name.as_deref().unwrap_or(""), hash);
        let mut rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: d.metadata.namespace.clone(),
                owner_references: Some(vec![podcontrol::controller_ref(d)]),
                labels,
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(0),
                min_ready_seconds: Some(du::min_ready_seconds(d)),
                selector,
                template: Some(template),
            }),
            status: None,
        };
        let mut all: Vec<&ReplicaSet> = old.iter().collect();
        all.push(&rs);
        let count = du::new_rs_new_replicas(d, &all, &rs);
        du::set_rs_replicas(&mut rs, count);
        du::set_new_rs_annotations(d, &mut rs, new_revision, false);
        let event = (count > 0).then(|| format!("Scaled up replica set {name} from 0 to {count}"));
        self.plan.writes.push(Write::Create {
            rs: rs.clone(),
            event,
        });
        du::set_deployment_revision(&mut self.d, &new_revision.to_string());
        if du::progress_deadline(&self.d).is_some() {
            let c = du::new_condition(
                du::PROGRESSING,
                "True",
                du::NEW_RS_REASON,
                format!(
                    "Created new replica set {}",
                    skiff_api::labels::go_quote(&name)
                ),
                self.now,
            );
            du::set_condition(self.status_mut(), c);
        }
        Some(rs)
    }

    /// Upstream `scale`: the only active (or newest) ReplicaSet gets every replica; a
    /// saturated new ReplicaSet means old ones go to zero; otherwise, while rolling, the
    /// difference is spread over the active ReplicaSets in proportion to their size.
    pub fn scale(&mut self, new_rs: Option<&ReplicaSet>, old: &[ReplicaSet]) {
        let want = du::replicas(&self.d);
        if let Some(target) = active_or_latest(new_rs, old) {
            if rs_replicas(&target) != want {
                self.scale_and_record(&target, want);
            }
            return;
        }
        if du::is_saturated(&self.d, new_rs) {
            for rs in old.iter().filter(|r| rs_replicas(r) > 0) {
                self.scale_and_record(rs, 0);
            }
            return;
        }
        if !du::is_rolling(&self.d) {
            return;
        }
        let mut all: Vec<ReplicaSet> = old
            .iter()
            .chain(new_rs)
            .filter(|r| rs_replicas(r) > 0)
            .cloned()
            .collect();
        let current = du::total(all.iter().map(rs_replicas));
        let allowed = if want > 0 {
            want + du::max_surge(&self.d)
        } else {
            0
        };
        let to_add = allowed - current;
        let op = match to_add.cmp(&0) {
            std::cmp::Ordering::Greater => {
                // larger first; equal sizes: newer first
                all.sort_by(|a, b| {
                    rs_replicas(b)
                        .cmp(&rs_replicas(a))
                        .then_with(|| du::by_creation(b, a))
                });
                "up"
            }
            std::cmp::Ordering::Less => {
                // larger first; equal sizes: older first
                all.sort_by(|a, b| {
                    rs_replicas(b)
                        .cmp(&rs_replicas(a))
                        .then_with(|| du::by_creation(a, b))
                });
                "down"
            }
            std::cmp::Ordering::Equal => "",
        };
        let mut added = 0;
        let mut sizes: Vec<i32> = Vec::with_capacity(all.len());
        for rs in &all {
            if to_add != 0 {
                let p = du::proportion(rs, &self.d, to_add, added);
                sizes.push(rs_replicas(rs) + p);
                added += p;
            } else {
                sizes.push(rs_replicas(rs));
            }
        }
        for (i, rs) in all.iter().enumerate() {
            if i == 0 && to_add != 0 {
                sizes[0] = (sizes[0] + to_add - added).max(0);
            }
            self.scale_rs(rs, sizes[i], op);
        }
    }

    /// Upstream `cleanupDeployment`: deletes the oldest revisions beyond the history limit,
    /// only ReplicaSets scaled to zero with nothing left running.
    pub fn cleanup(&mut self, old: &[ReplicaSet]) {
        let Some(limit) = du::revision_history_limit(&self.d) else {
            return;
        };
        let mut cleanable: Vec<&ReplicaSet> = old
            .iter()
            .filter(|r| r.metadata.deletion_timestamp.is_none())
            .collect();
        let diff = cleanable.len() as i64 - i64::from(limit);
        if diff <= 0 {
            return;
        }
        cleanable.sort_by(|a, b| match (du::revision(a), du::revision(b)) {
            (Some(x), Some(y)) if x != y => x.cmp(&y),
            _ => du::by_creation(a, b),
        });
        for rs in cleanable.into_iter().take(diff as usize) {
            let (status_replicas, _, _) = du::rs_status(rs);
            let observed = rs
                .status
                .as_ref()
                .and_then(|s| s.observed_generation)
                .unwrap_or(0);
            if status_replicas != 0
                || rs_replicas(rs) != 0
                || rs.metadata.generation.unwrap_or(0) > observed
            {
                continue;
            }
            self.plan.writes.push(Write::Delete {
                name: rs.metadata.name.clone().unwrap_or_default(),
            });
        }
    }

    /// Upstream `syncDeploymentStatus`: the counts and the Available condition.
    pub fn sync_status(&mut self, all: &[&ReplicaSet], new_rs: Option<&ReplicaSet>) {
        let st = calculate_status(all, new_rs, &self.d, self.now);
        self.d.status = Some(st);
    }

    /// Upstream `sync`: scaling without rolling out (paused, or a scaling event).
    pub fn sync(&mut self, rss: &[ReplicaSet]) {
        let (new_rs, old) = self.all_rss_and_sync_revision(rss, false);
        self.scale(new_rs.as_ref(), &old);
        if du::paused(&self.d) && !has_rollback_to(&self.d) {
            self.cleanup(&old);
        }
        let all: Vec<&ReplicaSet> = old.iter().chain(new_rs.as_ref()).collect();
        self.sync_status(&all, new_rs.as_ref());
    }

    /// Upstream `checkPausedConditions`: Progressing Unknown DeploymentPaused /
    /// DeploymentResumed when the pause changes (unless timed out).
    pub fn check_paused_conditions(&mut self) {
        if du::progress_deadline(&self.d).is_none() {
            return;
        }
        let st = self.status();
        let cond = du::condition(&st, du::PROGRESSING);
        if cond.is_some_and(|c| c.reason.as_deref() == Some(du::TIMED_OUT_REASON)) {
            return;
        }
        let paused_cond = cond.is_some_and(|c| c.reason.as_deref() == Some(du::PAUSED_REASON));
        let paused = du::paused(&self.d);
        let c = if paused && !paused_cond {
            du::new_condition(
                du::PROGRESSING,
                "Unknown",
                du::PAUSED_REASON,
                "Deployment is paused".into(),
                self.now,
            )
        } else if !paused && paused_cond {
            du::new_condition(
                du::PROGRESSING,
                "Unknown",
                du::RESUMED_REASON,
                "Deployment is resumed".into(),
                self.now,
            )
        } else {
            return;
        };
        du::set_condition(self.status_mut(), c);
    }

    /// Upstream `isScalingEvent`: an active ReplicaSet was sized for another replica count.
    pub fn is_scaling_event(&mut self, rss: &[ReplicaSet]) -> bool {
        let (new_rs, old) = self.all_rss_and_sync_revision(rss, false);
        let want = du::replicas(&self.d);
        old.iter()
            .chain(new_rs.as_ref())
            .filter(|r| rs_replicas(r) > 0)
            .any(|r| du::desired_replicas_annotation(r).is_some_and(|v| v != want))
    }
}

pub fn has_rollback_to(d: &Deployment) -> bool {
    d.metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(du::ROLLBACK_TO))
}

/// The one active ReplicaSet, or the newest when none is active (None: several active).
fn active_or_latest(new_rs: Option<&ReplicaSet>, old: &[ReplicaSet]) -> Option<ReplicaSet> {
    if new_rs.is_none() && old.is_empty() {
        return None;
    }
    let mut sorted: Vec<&ReplicaSet> = old.iter().collect();
    sorted.sort_by(|a, b| du::by_creation(b, a));
    let active: Vec<&ReplicaSet> = sorted
        .iter()
        .copied()
        .chain(new_rs)
        .filter(|r| rs_replicas(r) > 0)
        .collect();
    match active.len() {
        0 => new_rs.or(sorted.first().copied()).cloned(),
        1 => Some(active[0].clone()),
        _ => None,
    }
}

/// Upstream `calculateStatus`: counts over the ReplicaSets and the Available condition.
pub fn calculate_status(
    all: &[&ReplicaSet],
    new_rs: Option<&ReplicaSet>,
    d: &Deployment,
    now: jiff::Timestamp,
) -> DeploymentStatus {
    let available = du::total(all.iter().map(|r| du::rs_available(r)));
    let total = du::total(all.iter().map(|r| rs_replicas(r)));
    let unavailable = (total - available).max(0);
    let nz = |v: i32| (v != 0).then_some(v);
    let old = d.status.clone().unwrap_or_default();
    let mut st = DeploymentStatus {
        observed_generation: d.metadata.generation,
        replicas: nz(du::total(all.iter().map(|r| du::rs_status(r).0))),
        updated_replicas: nz(new_rs.map(|r| du::rs_status(r).0).unwrap_or(0)),
        ready_replicas: nz(du::total(all.iter().map(|r| du::rs_status(r).1))),
        available_replicas: nz(available),
        unavailable_replicas: nz(unavailable),
        collision_count: old.collision_count,
        conditions: old.conditions.clone(),
        terminating_replicas: old.terminating_replicas,
    };
    let c = if available >= du::replicas(d) - du::max_unavailable(d) {
        du::new_condition(
            du::AVAILABLE,
            "True",
            du::MIN_AVAILABLE_REASON,
            "Deployment has minimum availability.".into(),
            now,
        )
    } else {
        du::new_condition(
            du::AVAILABLE,
            "False",
            du::MIN_UNAVAILABLE_REASON,
            "Deployment does not have minimum availability.".into(),
            now,
        )
    };
    du::set_condition(&mut st, c);
    st
}
