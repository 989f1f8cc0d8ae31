//! The Recreate strategy (upstream `recreate.go`): every old ReplicaSet to zero, wait until
//! no old pod runs, then create or grow the new ReplicaSet to the full count.

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;

use super::sync::Planner;
use super::util::{self as du, rs_replicas};

impl Planner {
    /// Upstream `rolloutRecreate`; `pods` are the pods the Deployment's ReplicaSets control.
    pub fn rollout_recreate(&mut self, rss: &[ReplicaSet], pods: &[&Pod]) {
        let (mut new_rs, mut old) = self.all_rss_and_sync_revision(rss, false);
        let all: Vec<ReplicaSet> = old.iter().chain(new_rs.as_ref()).cloned().collect();
        let mut scaled = false;
        for rs in old.iter().filter(|r| rs_replicas(r) > 0) {
            scaled |= self.scale_and_record(rs, 0).0;
        }
        if scaled || old_pods_running(new_rs.as_ref(), &old, pods) {
            let all: Vec<&ReplicaSet> = all.iter().collect();
            return self.sync_rollout_status(&all, new_rs.as_ref());
        }
        if new_rs.is_none() {
            (new_rs, old) = self.all_rss_and_sync_revision(rss, true);
        }
        if let Some(n) = &new_rs {
            self.scale_and_record(n, du::replicas(&self.d));
        }
        if du::deployment_complete(&self.d, &self.status()) {
            self.cleanup(&old);
        }
        let all: Vec<&ReplicaSet> = old.iter().chain(new_rs.as_ref()).collect();
        self.sync_rollout_status(&all, new_rs.as_ref());
    }
}

/// Whether any old ReplicaSet still has pods, or any pod not of the new ReplicaSet is not
/// finished.
fn old_pods_running(new_rs: Option<&ReplicaSet>, old: &[ReplicaSet], pods: &[&Pod]) -> bool {
    if du::total(old.iter().map(|r| du::rs_status(r).0)) > 0 {
        return true;
    }
    let new_uid = new_rs.and_then(|r| r.metadata.uid.as_deref());
    let old_uids: Vec<&str> = old
        .iter()
        .filter_map(|r| r.metadata.uid.as_deref())
        .collect();
    pods.iter().any(|p| {
        let owner = crate::podcontrol::controller_of(&p.metadata).map(|r| r.uid.as_str());
        let of_old = owner.is_some_and(|u| old_uids.contains(&u) && Some(u) != new_uid);
        let phase = crate::podcontrol::phase(p);
        of_old && phase != "Failed" && phase != "Succeeded"
    })
}
