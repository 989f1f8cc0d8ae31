//! The RollingUpdate strategy (upstream `rolling.go`): grow the new ReplicaSet within
//! maxSurge, shrink old ones within maxUnavailable (unhealthy replicas first), clean up
//! history once complete.

use k8s_openapi::api::apps::v1::ReplicaSet;

use super::sync::Planner;
use super::util::{self as du, rs_replicas};

impl Planner {
    /// Upstream `rolloutRolling`.
    pub fn rollout_rolling(&mut self, rss: &[ReplicaSet]) {
        let (new_rs, old) = self.all_rss_and_sync_revision(rss, true);
        let Some(new_rs) = new_rs else { return };
        let all: Vec<&ReplicaSet> = old.iter().chain(Some(&new_rs)).collect();
        if self.reconcile_new_rs(&all, &new_rs) {
            return self.sync_rollout_status(&all, Some(&new_rs));
        }
        let active_old: Vec<ReplicaSet> =
            old.iter().filter(|r| rs_replicas(r) > 0).cloned().collect();
        if self.reconcile_old_rss(&all, active_old, &new_rs) {
            return self.sync_rollout_status(&all, Some(&new_rs));
        }
        if du::deployment_complete(&self.d, &self.status()) {
            self.cleanup(&old);
        }
        self.sync_rollout_status(&all, Some(&new_rs));
    }

    fn reconcile_new_rs(&mut self, all: &[&ReplicaSet], new_rs: &ReplicaSet) -> bool {
        let want = du::replicas(&self.d);
        if rs_replicas(new_rs) == want {
            return false;
        }
        if rs_replicas(new_rs) > want {
            return self.scale_and_record(new_rs, want).0;
        }
        let count = du::new_rs_new_replicas(&self.d, all, new_rs);
        self.scale_and_record(new_rs, count).0
    }

    fn reconcile_old_rss(
        &mut self,
        all: &[&ReplicaSet],
        old: Vec<ReplicaSet>,
        new_rs: &ReplicaSet,
    ) -> bool {
        let old_count = du::total(old.iter().map(rs_replicas));
        if old_count == 0 {
            return false;
        }
        let all_count = du::total(all.iter().map(|r| rs_replicas(r)));
        let min_available = du::replicas(&self.d) - du::max_unavailable(&self.d);
        let new_unavailable = rs_replicas(new_rs) - du::rs_available(new_rs);
        let max_scaled_down = all_count - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return false;
        }
        let (old, cleaned) = self.cleanup_unhealthy(old, max_scaled_down);
        let all: Vec<&ReplicaSet> = old.iter().chain(Some(new_rs)).collect();
        let scaled = self.scale_down_old_for_rolling(&all, &old);
        cleaned + scaled > 0
    }

    /// Scales old ReplicaSets down by their unavailable replicas, oldest first.
    fn cleanup_unhealthy(&mut self, mut old: Vec<ReplicaSet>, max: i32) -> (Vec<ReplicaSet>, i32) {
        old.sort_by(du::by_creation);
        let mut total = 0;
        for rs in old.iter_mut() {
            if total >= max {
                break;
            }
            let size = rs_replicas(rs);
            let available = du::rs_available(rs);
            if size == 0 || size == available {
                continue;
            }
            let down = (max - total).min(size - available);
            let (_, updated) = self.scale_and_record(rs, size - down);
            *rs = updated;
            total += down;
        }
        (old, total)
    }

    /// Scales old ReplicaSets down as far as availability allows, oldest first.
    fn scale_down_old_for_rolling(&mut self, all: &[&ReplicaSet], old: &[ReplicaSet]) -> i32 {
        let min_available = du::replicas(&self.d) - du::max_unavailable(&self.d);
        let available = du::total(all.iter().map(|r| du::rs_available(r)));
        if available <= min_available {
            return 0;
        }
        let mut old: Vec<&ReplicaSet> = old.iter().collect();
        old.sort_by(|a, b| du::by_creation(a, b));
        let target = available - min_available;
        let mut total = 0;
        for rs in old {
            if total >= target {
                break;
            }
            if rs_replicas(rs) == 0 {
                continue;
            }
            let down = rs_replicas(rs).min(target - total);
            self.scale_and_record(rs, rs_replicas(rs) - down);
            total += down;
        }
        total
    }
}
