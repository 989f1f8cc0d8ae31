//! The HorizontalPodAutoscaler controller (autoscaling/v2, resource metrics): every 15 s it
//! reads each HPA's target through its `/scale` subresource, the pods' usage from a
//! [`MetricsSource`] (the real one asks metrics.k8s.io, which skiff does not serve yet, so
//! it reports upstream's FailedGetResourceMetric condition and event), computes the replicas
//! with [`algorithm`], scales the target and writes the status with upstream's conditions.
//! Not yet: behavior policies (Pods / Percent rate limits), object / external metrics.

pub mod algorithm;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use kube::Client;
use parking_lot::Mutex;
use serde_json::{json, Value};
use skiff_api::labels::LabelSelector;
use skiff_api::quantity::parse_quantity;
use skiff_runtime::events::{EventType, Recorder};
use skiff_runtime::ObjectKey;

use crate::context::Context;
use algorithm::{bound, recommend, stabilize, PodSample, Target};

/// Upstream's --horizontal-pod-autoscaler-sync-period.
const SYNC_PERIOD: Duration = Duration::from_secs(15);
const DEFAULT_DOWN_WINDOW: i64 = 300;

/// Where pod usage comes from.
#[async_trait]
pub trait MetricsSource: Send + Sync {
    /// Usage of `resource` (millicores for cpu, bytes for memory) per pod name.
    async fn pod_usage(
        &self,
        namespace: &str,
        selector: &str,
        resource: &str,
    ) -> Result<HashMap<String, i64>, String>;
}

/// The resource metrics API (metrics.k8s.io/v1beta1 PodMetrics).
pub struct MetricsApi(pub Client);

#[async_trait]
impl MetricsSource for MetricsApi {
    async fn pod_usage(
        &self,
        namespace: &str,
        selector: &str,
        resource: &str,
    ) -> Result<HashMap<String, i64>, String> {
        let mut url = format!("/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods");
        if !selector.is_empty() {
            url.push_str("?labelSelector=");
            url.extend(form_urlencoded_byte_serialize(selector));
        }
        let req = http::Request::get(url)
            .body(Vec::new())
            .map_err(|e| e.to_string())?;
        let list: Value = self.0.request(req).await.map_err(|e| match e {
            kube::Error::Api(s) if s.code == 404 => {
                "the server could not find the requested resource (get pods.metrics.k8s.io)"
                    .to_string()
            }
            other => other.to_string(),
        })?;
        let mut out = HashMap::new();
        for item in list["items"].as_array().into_iter().flatten() {
            let name = item["metadata"]["name"].as_str().unwrap_or("").to_string();
            let sum: i64 = item["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["usage"][resource].as_str())
                .filter_map(|q| parse_quantity(q, resource == "cpu"))
                .sum();
            out.insert(name, sum);
        }
        Ok(out)
    }
}

fn form_urlencoded_byte_serialize(s: &str) -> impl Iterator<Item = String> + '_ {
    s.bytes().map(|b| match b {
        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
            (b as char).to_string()
        }
        _ => format!("%{b:02X}"),
    })
}

/// The API path of a scale target's `/scale`.
pub fn scale_path(namespace: &str, api_version: &str, kind: &str, name: &str) -> Option<String> {
    let plural = match kind {
        "Deployment" => "deployments",
        "ReplicaSet" => "replicasets",
        "StatefulSet" => "statefulsets",
        "ReplicationController" => "replicationcontrollers",
        _ => return None,
    };
    let prefix = if api_version == "v1" || kind == "ReplicationController" {
        "/api/v1".to_string()
    } else {
        format!("/apis/{api_version}")
    };
    Some(format!(
        "{prefix}/namespaces/{namespace}/{plural}/{name}/scale"
    ))
}

fn pod_request(pod: &Pod, resource: &str) -> i64 {
    pod.spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .filter_map(|c| c.resources.as_ref()?.requests.as_ref()?.get(resource))
        .filter_map(|q| parse_quantity(&q.0, resource == "cpu"))
        .sum()
}

fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn condition(kind: &str, status: &str, reason: &str, message: &str) -> Value {
    json!({"type": kind, "status": status, "reason": reason, "message": message,
           "lastTransitionTime": jiff::Timestamp::now().to_string()})
}

/// Runs the controller with the real metrics source until the process ends.
pub async fn run(ctx: Arc<Context>) {
    let source = Arc::new(MetricsApi(ctx.client.clone()));
    run_with(ctx, source).await
}

/// Runs the controller with `source`.
pub async fn run_with(ctx: Arc<Context>, source: Arc<dyn MetricsSource>) {
    let hpas = ctx.informers.get::<HorizontalPodAutoscaler>();
    let pods = ctx.informers.get::<Pod>();
    hpas.synced().await;
    pods.synced().await;
    let events = ctx.recorder("horizontal-pod-autoscaler");
    let history: Mutex<HashMap<ObjectKey, Vec<(i64, i32)>>> = Mutex::new(HashMap::new());
    let mut tick = tokio::time::interval(SYNC_PERIOD);
    loop {
        tick.tick().await;
        for hpa in hpas.list() {
            if let Err(e) = sync(&ctx, &*source, &pods, &events, &history, &hpa).await {
                tracing::debug!(error = %e, "hpa sync failed");
            }
        }
    }
}

async fn sync(
    ctx: &Context,
    source: &dyn MetricsSource,
    pods: &skiff_runtime::Informer<Pod>,
    events: &Recorder,
    history: &Mutex<HashMap<ObjectKey, Vec<(i64, i32)>>>,
    hpa: &HorizontalPodAutoscaler,
) -> Result<(), kube::Error> {
    let ns = hpa.metadata.namespace.clone().unwrap_or_default();
    let name = hpa.metadata.name.clone().unwrap_or_default();
    let Some(spec) = hpa.spec.as_ref() else {
        return Ok(());
    };
    let target = &spec.scale_target_ref;
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(ctx.client.clone(), &ns);
    let write_status = |status: Value| {
        let api = api.clone();
        let name = name.clone();
        async move {
            api.patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(&json!({"status": status})),
            )
            .await
            .map(|_| ())
        }
    };
    let path = scale_path(
        &ns,
        target.api_version.as_deref().unwrap_or("apps/v1"),
        &target.kind,
        &target.name,
    );
    let scale: Option<Value> = match &path {
        Some(p) => ctx
            .client
            .request::<Value>(
                http::Request::get(p.clone())
                    .body(Vec::new())
                    .map_err(|e| kube::Error::Service(e.into()))?,
            )
            .await
            .ok(),
        None => None,
    };
    let Some(scale) = scale else {
        let msg = format!(
            "the HPA controller was unable to get the target's current scale: {} {:?} not found",
            target.kind, target.name
        );
        events.record(hpa, EventType::Warning, "FailedGetScale", msg.clone());
        return write_status(
            json!({"conditions": [condition("AbleToScale", "False", "FailedGetScale", &msg)]}),
        )
        .await;
    };
    let current = scale["spec"]["replicas"].as_i64().unwrap_or(0) as i32;
    let selector = scale["status"]["selector"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let able = condition(
        "AbleToScale",
        "True",
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale",
    );
    let parsed = LabelSelector::parse(&selector).ok();
    let matching: Vec<Arc<Pod>> = pods
        .list_in(&ns)
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| {
            let labels: BTreeMap<String, String> = p.metadata.labels.clone().unwrap_or_default();
            parsed.as_ref().is_some_and(|s| s.matches(&labels))
        })
        .collect();
    let mut desired = None;
    let mut current_metrics = Vec::new();
    for m in spec.metrics.iter().flatten() {
        let Some(res) = m.resource.as_ref() else {
            continue;
        };
        let t = match (
            res.target.average_utilization,
            res.target.average_value.as_ref(),
        ) {
            (Some(u), _) => Target::Utilization(u),
            (None, Some(v)) => {
                Target::AverageValue(parse_quantity(&v.0, res.name == "cpu").unwrap_or(0))
            }
            _ => continue,
        };
        let usage = match source.pod_usage(&ns, &selector, &res.name).await {
            Ok(u) => u,
            Err(e) => {
                let what = match t {
                    Target::Utilization(_) => format!("{} utilization", res.name),
                    Target::AverageValue(_) => format!("{} usage", res.name),
                };
                let msg = format!(
                    "failed to get {what}: unable to get metrics for resource {}: unable to fetch metrics from resource metrics API: {e}",
                    res.name
                );
                events.record(
                    hpa,
                    EventType::Warning,
                    "FailedGetResourceMetric",
                    msg.clone(),
                );
                let active = condition(
                    "ScalingActive",
                    "False",
                    "FailedGetResourceMetric",
                    &format!("the HPA was unable to compute the replica count: {msg}"),
                );
                return write_status(
                    json!({"currentReplicas": current, "desiredReplicas": current,
                    "conditions": [able, active]}),
                )
                .await;
            }
        };
        let samples: Vec<PodSample> = matching
            .iter()
            .map(|p| PodSample {
                ready: pod_ready(p),
                usage: usage.get(p.metadata.name.as_deref().unwrap_or("")).copied(),
                request: pod_request(p, &res.name),
            })
            .collect();
        if let Ok((n, value)) = recommend(current, &samples, t) {
            desired = Some(desired.map_or(n, |d: i32| d.max(n)));
            current_metrics.push(match t {
                Target::Utilization(_) => json!({"type": "Resource", "resource": {"name": res.name, "current": {"averageUtilization": value}}}),
                Target::AverageValue(_) => json!({"type": "Resource", "resource": {"name": res.name, "current": {"averageValue": value.to_string()}}}),
            });
        }
    }
    let Some(recommended) = desired else {
        return Ok(());
    };
    let window = spec
        .behavior
        .as_ref()
        .and_then(|b| b.scale_down.as_ref())
        .and_then(|d| d.stabilization_window_seconds)
        .map(i64::from)
        .unwrap_or(DEFAULT_DOWN_WINDOW);
    let now = jiff::Timestamp::now().as_second();
    let stabilized = stabilize(
        history
            .lock()
            .entry(ObjectKey::new(&ns, &name))
            .or_default(),
        now,
        recommended,
        window,
    );
    let (new, limited) = bound(
        stabilized,
        spec.min_replicas.unwrap_or(1),
        spec.max_replicas,
    );
    let mut status = json!({"currentReplicas": current, "desiredReplicas": new, "currentMetrics": current_metrics});
    if new != current {
        if let Some(p) = &path {
            let body = serde_json::to_vec(&json!({"spec": {"replicas": new}})).unwrap_or_default();
            let req = http::Request::patch(p.clone())
                .header("Content-Type", "application/merge-patch+json")
                .body(body)
                .map_err(|e| kube::Error::Service(e.into()))?;
            ctx.client.request::<Value>(req).await?;
            events.record(
                hpa,
                EventType::Normal,
                "SuccessfulRescale",
                format!(
                    "New size: {new}; reason: All metrics {} target",
                    if new > current { "above" } else { "below" }
                ),
            );
            status["lastScaleTime"] = json!(jiff::Timestamp::now().to_string());
        }
    }
    let active = condition("ScalingActive", "True", "ValidMetricFound", "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)");
    let limit = match limited {
        Some(reason) => condition(
            "ScalingLimited",
            "True",
            reason,
            "the desired replica count is beyond the allowed range",
        ),
        None => condition(
            "ScalingLimited",
            "False",
            "DesiredWithinRange",
            "the desired count is within the acceptable range",
        ),
    };
    status["conditions"] = json!([able, active, limit]);
    write_status(status).await
}
