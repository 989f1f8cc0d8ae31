//! Recording Events (core/v1) about objects, as upstream's event recorder: `Normal` or
//! `Warning`, a reason and a message, the involved object and the reporting component.
//! [`crate::correlate`] decides what is written: repeats bump `count`, floods of similar
//! events are combined or dropped as client-go's correlator does. Recording never blocks or fails the caller.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, Resource};
use parking_lot::Mutex;
use serde_json::json;

use crate::correlate::{Correlator, Decision};

/// Normal or Warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// Records events as one component (e.g. `replicaset-controller`).
#[derive(Clone)]
pub struct Recorder {
    client: Client,
    component: String,
    host: Option<String>,
    correlator: Arc<Mutex<Correlator>>,
}

/// The reference to `obj` an Event carries.
pub fn reference<K: Resource<DynamicType = ()>>(obj: &K) -> ObjectReference {
    ObjectReference {
        api_version: Some(K::api_version(&()).into_owned()),
        kind: Some(K::kind(&()).into_owned()),
        name: obj.meta().name.clone(),
        namespace: obj.meta().namespace.clone(),
        uid: obj.meta().uid.clone(),
        resource_version: obj.meta().resource_version.clone(),
        field_path: None,
    }
}

impl Recorder {
    pub fn new(client: Client, component: impl Into<String>) -> Self {
        Recorder {
            client,
            component: component.into(),
            host: None,
            correlator: Arc::new(Mutex::new(Correlator::default())),
        }
    }

    /// Events from this recorder name `host` as their source (the kubelet's node).
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// Records an event about `obj` in the background.
    pub fn record<K: Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        kind: EventType,
        reason: &str,
        message: impl Into<String>,
    ) {
        self.record_ref(reference(obj), kind, reason, message.into());
    }

    /// Records an event about the object `involved` refers to.
    pub fn record_ref(
        &self,
        involved: ObjectReference,
        kind: EventType,
        reason: &str,
        message: String,
    ) {
        let namespace = involved
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".to_string());
        let uid = involved.uid.clone().unwrap_or_default();
        let now = jiff::Timestamp::now();
        let decision = self.correlator.lock().observe(
            &uid,
            involved.name.as_deref().unwrap_or(""),
            kind.as_str(),
            reason,
            &message,
            now,
        );
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let stamp = Time(now);
        match decision {
            Decision::Drop => {}
            Decision::Bump {
                name,
                count,
                message,
            } => {
                tokio::spawn(async move {
                    let patch = json!({"count": count, "lastTimestamp": stamp, "message": message});
                    let _ = api
                        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                        .await;
                });
            }
            Decision::Create { name, message } => {
                let ev = Event {
                    metadata: ObjectMeta {
                        name: Some(name),
                        namespace: Some(namespace),
                        ..Default::default()
                    },
                    involved_object: involved,
                    reason: Some(reason.to_string()),
                    message: Some(message),
                    type_: Some(kind.as_str().to_string()),
                    source: Some(EventSource {
                        component: Some(self.component.clone()),
                        host: self.host.clone(),
                    }),
                    first_timestamp: Some(stamp.clone()),
                    last_timestamp: Some(stamp),
                    count: Some(1),
                    event_time: None::<MicroTime>,
                    reporting_component: Some(self.component.clone()),
                    reporting_instance: Some(
                        self.host.clone().unwrap_or_else(|| self.component.clone()),
                    ),
                    ..Default::default()
                };
                tokio::spawn(async move {
                    if let Err(e) = api.create(&PostParams::default(), &ev).await {
                        tracing::debug!(error = %e, "recording an event failed");
                    }
                });
            }
        }
    }
}
