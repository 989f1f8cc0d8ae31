//! The Progressing condition of a rollout (upstream `progress.go`): complete
//! (NewReplicaSetAvailable), progressing (ReplicaSetUpdated), or past its deadline
//! (ProgressDeadlineExceeded); ReplicaFailure copied from the ReplicaSets; and when to look
//! again for a rollout that may time out.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{DeploymentCondition, ReplicaSet};

use super::sync::{calculate_status, Planner};
use super::util as du;
use skiff_api::labels::go_quote;

impl Planner {
    /// Upstream `syncRolloutStatus`.
    pub fn sync_rollout_status(&mut self, all: &[&ReplicaSet], new_rs: Option<&ReplicaSet>) {
        let d = &self.d;
        let now = self.now;
        let mut st = calculate_status(all, new_rs, d, now);
        let deadline = du::progress_deadline(d);
        if deadline.is_none() {
            du::remove_condition(&mut st, du::PROGRESSING);
        }
        let cur_status = d.status.clone().unwrap_or_default();
        let current = du::condition(&cur_status, du::PROGRESSING).cloned();
        let complete_already = st.replicas == st.updated_replicas
            && current
                .as_ref()
                .is_some_and(|c| c.reason.as_deref() == Some(du::NEW_RS_AVAILABLE_REASON));
        let name = new_rs.and_then(|r| r.metadata.name.as_deref());
        let dname = d.metadata.name.as_deref().unwrap_or("");
        if deadline.is_some() && !complete_already {
            if du::deployment_complete(d, &st) {
                let msg = match name {
                    Some(n) => format!("ReplicaSet {} has successfully progressed.", go_quote(n)),
                    None => format!(
                        "Deployment {} has successfully progressed.",
                        go_quote(dname)
                    ),
                };
                let c = du::new_condition(
                    du::PROGRESSING,
                    "True",
                    du::NEW_RS_AVAILABLE_REASON,
                    msg,
                    now,
                );
                du::set_condition(&mut st, c);
            } else if du::deployment_progressing(d, &st) {
                let msg = match name {
                    Some(n) => format!("ReplicaSet {} is progressing.", go_quote(n)),
                    None => format!("Deployment {} is progressing.", go_quote(dname)),
                };
                let mut c =
                    du::new_condition(du::PROGRESSING, "True", du::RS_UPDATED_REASON, msg, now);
                if let Some(cur) = &current {
                    if cur.status == "True" {
                        c.last_transition_time = cur.last_transition_time.clone();
                    }
                    du::remove_condition(&mut st, du::PROGRESSING);
                }
                du::set_condition(&mut st, c);
            } else if du::deployment_timed_out(d, &st, now) {
                let msg = match name {
                    Some(n) => format!("ReplicaSet {} has timed out progressing.", go_quote(n)),
                    None => format!("Deployment {} has timed out progressing.", go_quote(dname)),
                };
                let c = du::new_condition(du::PROGRESSING, "False", du::TIMED_OUT_REASON, msg, now);
                du::set_condition(&mut st, c);
            }
        }
        match replica_failure(all, new_rs) {
            Some(c) => du::set_condition(&mut st, c),
            None => du::remove_condition(&mut st, du::REPLICA_FAILURE),
        }
        if Some(&st) == d.status.as_ref() {
            self.plan.requeue_after = self.stuck_requeue(&st);
            return;
        }
        self.d.status = Some(st);
    }

    /// Upstream `requeueStuckDeployment`: when to check an unfinished rollout for its
    /// deadline.
    fn stuck_requeue(&self, st: &k8s_openapi::api::apps::v1::DeploymentStatus) -> Option<Duration> {
        let d = &self.d;
        let deadline = du::progress_deadline(d)?;
        let cur = d.status.clone().unwrap_or_default();
        let c = du::condition(&cur, du::PROGRESSING)?;
        if du::deployment_complete(d, st) || c.reason.as_deref() == Some(du::TIMED_OUT_REASON) {
            return None;
        }
        let updated = c.last_update_time.as_ref()?.0;
        let after_ms =
            updated.as_millisecond() + i64::from(deadline) * 1000 - self.now.as_millisecond();
        if after_ms < 1000 {
            return Some(Duration::from_millis(100));
        }
        Some(Duration::from_millis(after_ms as u64 + 1000))
    }
}

/// The ReplicaFailure condition of the new ReplicaSet, else of any other.
fn replica_failure(
    all: &[&ReplicaSet],
    new_rs: Option<&ReplicaSet>,
) -> Option<DeploymentCondition> {
    let from = |rs: &ReplicaSet| {
        rs.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == du::REPLICA_FAILURE))
            .map(|c| DeploymentCondition {
                type_: c.type_.clone(),
                status: c.status.clone(),
                reason: c.reason.clone(),
                message: c.message.clone(),
                last_update_time: c.last_transition_time.clone(),
                last_transition_time: c.last_transition_time.clone(),
            })
    };
    new_rs
        .and_then(from)
        .or_else(|| all.iter().find_map(|rs| from(rs)))
}
