//! The two kinds the replica controller keeps: apps/v1 ReplicaSet and core/v1
//! ReplicationController (whose selector is a plain label map), behind one trait, with the
//! status both share.

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetCondition, ReplicaSetStatus};
use k8s_openapi::api::core::v1::{
    PodTemplateSpec, ReplicationController, ReplicationControllerCondition,
    ReplicationControllerStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use skiff_api::labels::LabelSelector;
use skiff_runtime::informer::Kind;

use crate::podcontrol;

/// One status condition (same fields in both kinds).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Condition {
    pub type_: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub last_transition_time: Option<Time>,
}

/// The status both kinds carry; zero counts are left out when written, as upstream's
/// `omitempty` does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Status {
    pub replicas: i32,
    pub fully_labeled_replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    pub observed_generation: i64,
    pub conditions: Vec<Condition>,
}

fn nz(v: i32) -> Option<i32> {
    (v != 0).then_some(v)
}

/// A kind whose spec asks for `replicas` pods made from a template.
pub trait ReplicaOwner:
    Kind + serde::Serialize + kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
{
    /// The event source (`replicaset-controller`, `replication-controller`).
    const COMPONENT: &'static str;
    fn replicas(&self) -> i32;
    fn min_ready_seconds(&self) -> i32;
    /// The pod selector; None when absent or invalid.
    fn selector(&self) -> Option<LabelSelector>;
    fn template(&self) -> Option<&PodTemplateSpec>;
    fn status(&self) -> Status;
    fn set_status(&mut self, s: Status);
}

impl ReplicaOwner for ReplicaSet {
    const COMPONENT: &'static str = "replicaset-controller";
    fn replicas(&self) -> i32 {
        self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }
    fn min_ready_seconds(&self) -> i32 {
        self.spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0)
    }
    fn selector(&self) -> Option<LabelSelector> {
        podcontrol::selector(self.spec.as_ref().map(|s| &s.selector))
    }
    fn template(&self) -> Option<&PodTemplateSpec> {
        self.spec.as_ref().and_then(|s| s.template.as_ref())
    }
    fn status(&self) -> Status {
        let Some(s) = &self.status else {
            return Status::default();
        };
        Status {
            replicas: s.replicas,
            fully_labeled_replicas: s.fully_labeled_replicas.unwrap_or(0),
            ready_replicas: s.ready_replicas.unwrap_or(0),
            available_replicas: s.available_replicas.unwrap_or(0),
            observed_generation: s.observed_generation.unwrap_or(0),
            conditions: s
                .conditions
                .iter()
                .flatten()
                .map(|c| Condition {
                    type_: c.type_.clone(),
                    status: c.status.clone(),
                    reason: c.reason.clone(),
                    message: c.message.clone(),
                    last_transition_time: c.last_transition_time.clone(),
                })
                .collect(),
        }
    }
    fn set_status(&mut self, s: Status) {
        let terminating = self.status.as_ref().and_then(|s| s.terminating_replicas);
        self.status = Some(ReplicaSetStatus {
            replicas: s.replicas,
            fully_labeled_replicas: nz(s.fully_labeled_replicas),
            ready_replicas: nz(s.ready_replicas),
            available_replicas: nz(s.available_replicas),
            observed_generation: (s.observed_generation != 0).then_some(s.observed_generation),
            conditions: (!s.conditions.is_empty()).then(|| {
                s.conditions
                    .into_iter()
                    .map(|c| ReplicaSetCondition {
                        type_: c.type_,
                        status: c.status,
                        reason: c.reason,
                        message: c.message,
                        last_transition_time: c.last_transition_time,
                    })
                    .collect()
            }),
            terminating_replicas: terminating,
        });
    }
}

impl ReplicaOwner for ReplicationController {
    const COMPONENT: &'static str = "replication-controller";
    fn replicas(&self) -> i32 {
        self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }
    fn min_ready_seconds(&self) -> i32 {
        self.spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0)
    }
    fn selector(&self) -> Option<LabelSelector> {
        let sel = self.spec.as_ref()?.selector.as_ref()?;
        Some(LabelSelector::from_set(sel))
    }
    fn template(&self) -> Option<&PodTemplateSpec> {
        self.spec.as_ref().and_then(|s| s.template.as_ref())
    }
    fn status(&self) -> Status {
        let Some(s) = &self.status else {
            return Status::default();
        };
        Status {
            replicas: s.replicas,
            fully_labeled_replicas: s.fully_labeled_replicas.unwrap_or(0),
            ready_replicas: s.ready_replicas.unwrap_or(0),
            available_replicas: s.available_replicas.unwrap_or(0),
            observed_generation: s.observed_generation.unwrap_or(0),
            conditions: s
                .conditions
                .iter()
                .flatten()
                .map(|c| Condition {
                    type_: c.type_.clone(),
                    status: c.status.clone(),
                    reason: c.reason.clone(),
                    message: c.message.clone(),
                    last_transition_time: c.last_transition_time.clone(),
                })
                .collect(),
        }
    }
    fn set_status(&mut self, s: Status) {
        self.status = Some(ReplicationControllerStatus {
            replicas: s.replicas,
            fully_labeled_replicas: nz(s.fully_labeled_replicas),
            ready_replicas: nz(s.ready_replicas),
            available_replicas: nz(s.available_replicas),
            observed_generation: (s.observed_generation != 0).then_some(s.observed_generation),
            conditions: (!s.conditions.is_empty()).then(|| {
                s.conditions
                    .into_iter()
                    .map(|c| ReplicationControllerCondition {
                        type_: c.type_,
                        status: c.status,
                        reason: c.reason,
                        message: c.message,
                        last_transition_time: c.last_transition_time,
                    })
                    .collect()
            }),
        });
    }
}
