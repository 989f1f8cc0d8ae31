//! What every controller that owns pods (or other objects) shares, as upstream's
//! `controller_utils.go` and `controller_ref_manager.go`: expectations (so a controller does
//! not act again before its own creates and deletes come back through the watch), pods made
//! from a template, which pods count (active, ready, available), the order in which surplus
//! pods are deleted, adoption and release of objects by label selector (pure plan plus the
//! patches that carry it out), slow-start batching of creates, and label selectors read from
//! `metav1.LabelSelector`.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use futures::future::join_all;
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector as K8sSelector, ObjectMeta, OwnerReference,
};
use kube::Resource;
use parking_lot::Mutex;
use serde_json::{json, Value};
use skiff_api::labels::{LabelSelector, MetaLabelSelector, MetaLabelSelectorRequirement};

/// How many pods one sync may create or delete at most (upstream `BurstReplicas`).
pub const BURST_REPLICAS: usize = 500;
/// The first batch of slow-start creates (upstream `SlowStartInitialBatchSize`).
pub const SLOW_START_INITIAL_BATCH: usize = 1;
/// After this long unfulfilled expectations no longer hold a controller back
/// (upstream `ExpectationsTimeout`).
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// The pod annotation that makes a pod cheaper or dearer to delete.
pub const POD_DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

// ---------------------------------------------------------------------------------------------
// Expectations

#[derive(Debug, Clone)]
struct Expectation {
    adds: i64,
    deletes: HashSet<String>,
    at: Instant,
}

/// Upstream's `UIDTrackingControllerExpectations`: per controller key, how many creations it
/// still waits to see and which deleted objects (by `namespace/name`) it still waits to see
/// go. Cheap to share (`Arc`); every method takes the time it is called at.
#[derive(Debug, Default)]
pub struct Expectations {
    inner: Mutex<HashMap<String, Expectation>>,
}

impl Expectations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the controller `key` may act: nothing expected, everything seen, or the
    /// expectations are older than [`EXPECTATIONS_TIMEOUT`].
    pub fn satisfied(&self, key: &str, now: Instant) -> bool {
        match self.inner.lock().get(key) {
            None => true,
            Some(e) => {
                (e.adds <= 0 && e.deletes.is_empty())
                    || now.saturating_duration_since(e.at) > EXPECTATIONS_TIMEOUT
            }
        }
    }

    /// Expects `n` creations (replacing what was expected).
    pub fn expect_creations(&self, key: &str, n: usize, now: Instant) {
        self.inner.lock().insert(
            key.to_string(),
            Expectation {
                adds: n as i64,
                deletes: HashSet::new(),
                at: now,
            },
        );
    }

    /// Expects the objects `keys` to be deleted (replacing what was expected).
    pub fn expect_deletions(
        &self,
        key: &str,
        keys: impl IntoIterator<Item = String>,
        now: Instant,
    ) {
        self.inner.lock().insert(
            key.to_string(),
            Expectation {
                adds: 0,
                deletes: keys.into_iter().collect(),
                at: now,
            },
        );
    }

    /// One creation was seen (or will never happen: a create that failed or was skipped).
    pub fn creation_observed(&self, key: &str) {
        if let Some(e) = self.inner.lock().get_mut(key) {
            e.adds -= 1;
        }
    }

    /// The object `obj_key` was seen deleted (or its delete failed).
    pub fn deletion_observed(&self, key: &str, obj_key: &str) {
        if let Some(e) = self.inner.lock().get_mut(key) {
            e.deletes.remove(obj_key);
        }
    }

    /// Forgets controller `key` (it was deleted).
    pub fn forget(&self, key: &str) {
        self.inner.lock().remove(key);
    }
}

// ---------------------------------------------------------------------------------------------
// Pods

/// Not finished and not being deleted (upstream `IsPodActive`).
pub fn is_active(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    phase != Some("Succeeded")
        && phase != Some("Failed")
        && pod.metadata.deletion_timestamp.is_none()
}

/// The pod's phase, `Pending` when absent.
pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// When the pod's Ready condition last turned True, if it is True.
pub fn ready_since(pod: &Pod) -> Option<Option<jiff::Timestamp>> {
    let c = pod
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")?;
    (c.status == "True").then(|| c.last_transition_time.as_ref().map(|t| t.0))
}

/// Ready condition True (upstream `IsPodReady`).
pub fn is_ready(pod: &Pod) -> bool {
    ready_since(pod).is_some()
}

/// Ready for at least `min_ready_seconds` at `now` (upstream `IsPodAvailable`).
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: jiff::Timestamp) -> bool {
    match ready_since(pod) {
        None => false,
        Some(_) if min_ready_seconds <= 0 => true,
        Some(None) => false,
        Some(Some(t)) => {
            t.as_millisecond() + i64::from(min_ready_seconds) * 1000 < now.as_millisecond()
        }
    }
}

/// `namespace/name` of an object.
pub fn key_of(meta: &ObjectMeta) -> String {
    format!(
        "{}/{}",
        meta.namespace.as_deref().unwrap_or(""),
        meta.name.as_deref().unwrap_or("")
    )
}

/// The controller reference of `owner` (controller and blockOwnerDeletion true).
pub fn controller_ref<K: Resource<DynamicType = ()>>(owner: &K) -> OwnerReference {
    OwnerReference {
        api_version: K::api_version(&()).into_owned(),
        kind: K::kind(&()).into_owned(),
        name: owner.meta().name.clone().unwrap_or_default(),
        uid: owner.meta().uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// The owner reference marked `controller: true`, if any.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|r| r.controller == Some(true))
}

/// The `generateName` of pods made for controller `name` (upstream `getPodsPrefix`).
pub fn pods_prefix(name: &str) -> String {
    let prefix = format!("{name}-");
    // A pod name must stay within 253 characters with the 5 random ones the server adds.
    if prefix.len() + 5 > 253 {
        name.to_string()
    } else {
        prefix
    }
}

/// The pod a controller creates from its template (upstream `GetPodFromTemplate`).
pub fn pod_from_template(
    template: &PodTemplateSpec,
    namespace: &str,
    generate_name: &str,
    owner: OwnerReference,
) -> Pod {
    let tm = template.metadata.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(generate_name.to_string()),
            namespace: Some(namespace.to_string()),
            labels: tm.labels,
            annotations: tm.annotations,
            finalizers: tm.finalizers,
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

fn phase_ordinal(pod: &Pod) -> u8 {
    match phase(pod) {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    }
}

fn deletion_cost(pod: &Pod) -> i32 {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(POD_DELETION_COST))
        .and_then(|v| v.parse::<i32>().ok())
        .unwrap_or(0)
}

fn max_restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().map(|c| c.restart_count).max().unwrap_or(0))
        .unwrap_or(0)
}

fn node_name(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

/// `floor(log2(now - t))` in nanoseconds, -1 when `t` is not before `now`.
fn log_rank(t: jiff::Timestamp, now: jiff::Timestamp) -> i64 {
    let d = now.as_nanosecond() - t.as_nanosecond();
    if d > 0 {
        (d as f64).log2() as i64
    } else {
        -1
    }
}

/// "t1 comes first": t1 is the zero time, or later than t2 (upstream `afterOrZero`).
fn after_or_zero(t1: Option<jiff::Timestamp>, t2: Option<jiff::Timestamp>) -> bool {
    match (t1, t2) {
        (None, _) | (_, None) => t1.is_none(),
        (Some(a), Some(b)) => a > b,
    }
}

fn time_order(
    a: &Pod,
    b: &Pod,
    ta: Option<jiff::Timestamp>,
    tb: Option<jiff::Timestamp>,
    now: jiff::Timestamp,
) -> Option<bool> {
    if ta == tb {
        return None;
    }
    let (Some(x), Some(y)) = (ta, tb) else {
        return Some(after_or_zero(ta, tb));
    };
    let diff = log_rank(x, now) - log_rank(y, now);
    if diff == 0 {
        return Some(
            a.metadata.uid.as_deref().unwrap_or("") < b.metadata.uid.as_deref().unwrap_or(""),
        );
    }
    Some(diff < 0)
}

/// Whether pod `a` (colocated with `rank_a` related pods) should be deleted before pod `b`
/// (upstream `ActivePodsWithRanks.Less` with pod deletion cost and logarithmic scale-down).
pub fn delete_before(a: &Pod, rank_a: usize, b: &Pod, rank_b: usize, now: jiff::Timestamp) -> bool {
    // 1. unassigned before assigned
    let (na, nb) = (node_name(a), node_name(b));
    if na != nb && (na.is_empty() || nb.is_empty()) {
        return na.is_empty();
    }
    // 2. Pending < Unknown < Running
    if phase_ordinal(a) != phase_ordinal(b) {
        return phase_ordinal(a) < phase_ordinal(b);
    }
    // 3. not ready before ready
    if is_ready(a) != is_ready(b) {
        return !is_ready(a);
    }
    // 4. lower deletion cost first
    if deletion_cost(a) != deletion_cost(b) {
        return deletion_cost(a) < deletion_cost(b);
    }
    // 5. doubled up before not doubled up
    if rank_a != rank_b {
        return rank_a > rank_b;
    }
    // 6. ready for a shorter time first
    if let (Some(ra), Some(rb)) = (ready_since(a), ready_since(b)) {
        if let Some(o) = time_order(a, b, ra, rb, now) {
            return o;
        }
    }
    // 7. more restarts first
    if max_restarts(a) != max_restarts(b) {
        return max_restarts(a) > max_restarts(b);
    }
    // 8. newer first
    let ca = a.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let cb = b.metadata.creation_timestamp.as_ref().map(|t| t.0);
    time_order(a, b, ca, cb, now).unwrap_or(false)
}

/// The `n` pods of `pods` to delete first (upstream `getPodsToDelete`): ranked by how many of
/// `related` active pods share their node, then by [`delete_before`].
pub fn pods_to_delete<'a>(
    pods: &[&'a Pod],
    related: &[&Pod],
    n: usize,
    now: jiff::Timestamp,
) -> Vec<&'a Pod> {
    if n >= pods.len() {
        return pods.to_vec();
    }
    let mut on_node: HashMap<&str, usize> = HashMap::new();
    for p in related.iter().filter(|p| is_active(p)) {
        *on_node.entry(node_name(p)).or_default() += 1;
    }
    let mut ranked: Vec<(&Pod, usize)> = pods
        .iter()
        .map(|p| (*p, on_node.get(node_name(p)).copied().unwrap_or(0)))
        .collect();
    ranked.sort_by(|(a, ra), (b, rb)| {
        if delete_before(a, *ra, b, *rb, now) {
            Ordering::Less
        } else if delete_before(b, *rb, a, *ra, now) {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    });
    ranked.into_iter().take(n).map(|(p, _)| p).collect()
}

// ---------------------------------------------------------------------------------------------
// Selectors

/// A `metav1.LabelSelector` as a matcher (None or invalid: matches nothing).
pub fn selector(s: Option<&K8sSelector>) -> Option<LabelSelector> {
    let s = s?;
    let meta = MetaLabelSelector {
        match_labels: s.match_labels.clone().unwrap_or_default(),
        match_expressions: s
            .match_expressions
            .iter()
            .flatten()
            .map(|e| MetaLabelSelectorRequirement {
                key: e.key.clone(),
                operator: e.operator.clone(),
                values: e.values.clone().unwrap_or_default(),
            })
            .collect(),
    };
    LabelSelector::from_meta(&meta).ok()
}

/// Whether `labels` satisfy `selector`.
pub fn matches(selector: &LabelSelector, labels: Option<&BTreeMap<String, String>>) -> bool {
    static EMPTY: BTreeMap<String, String> = BTreeMap::new();
    selector.matches(labels.unwrap_or(&EMPTY))
}

// ---------------------------------------------------------------------------------------------
// Adoption and release (ControllerRefManager)

/// What to do with the candidates of one owner (upstream `ClaimObject`).
#[derive(Debug, Default, PartialEq)]
pub struct Claims<T> {
    /// Owned and matching: the owner's.
    pub owned: Vec<T>,
    /// Orphans that match: adopt, then they are the owner's.
    pub adopt: Vec<T>,
    /// Owned but no longer matching: release.
    pub release: Vec<T>,
}

/// Sorts `candidates` for the owner with `owner_uid` (being deleted or not) by whether
/// their labels match `selector`.
pub fn claim<T: Clone>(
    owner_uid: &str,
    owner_deleting: bool,
    selector: &LabelSelector,
    candidates: &[T],
    meta: impl Fn(&T) -> &ObjectMeta,
) -> Claims<T> {
    let mut out = Claims {
        owned: Vec::new(),
        adopt: Vec::new(),
        release: Vec::new(),
    };
    for c in candidates {
        let m = meta(c);
        let matching = matches(selector, m.labels.as_ref());
        match controller_of(m) {
            Some(r) if r.uid != owner_uid => {}
            Some(_) if matching => out.owned.push(c.clone()),
            Some(_) if owner_deleting => {}
            Some(_) => out.release.push(c.clone()),
            None if owner_deleting || !matching || m.deletion_timestamp.is_some() => {}
            None => out.adopt.push(c.clone()),
        }
    }
    out
}

/// The strategic-merge patch that makes `owner` an object's controller.
pub fn adopt_patch(owner: &OwnerReference, obj_uid: &str) -> Value {
    json!({"metadata": {"ownerReferences": [owner], "uid": obj_uid}})
}

/// The strategic-merge patch that removes owner `owner_uid` from an object.
pub fn release_patch(owner_uid: &str, obj_uid: &str) -> Value {
    json!({"metadata": {"ownerReferences": [{"$patch": "delete", "uid": owner_uid}], "uid": obj_uid}})
}

// ---------------------------------------------------------------------------------------------
// Batching

/// Calls `f` `count` times in batches of 1, 2, 4, ... run concurrently, stopping after the
/// first batch with a failure (upstream `slowStartBatch`). Returns the successes and the
/// first error.
pub async fn slow_start_batch<F, Fut, E>(count: usize, initial: usize, f: F) -> (usize, Option<E>)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
{
    let mut remaining = count;
    let mut successes = 0;
    let mut batch = remaining.min(initial.max(1));
    let mut index = 0;
    while batch > 0 {
        let results = join_all((index..index + batch).map(&f)).await;
        index += batch;
        let mut first_err = None;
        for r in results {
            match r {
                Ok(()) => successes += 1,
                Err(e) => {
                    if first_err.is_none() {
                        first_err = Some(e);
                    }
                }
            }
        }
        if first_err.is_some() {
            return (successes, first_err);
        }
        remaining -= batch;
        batch = (2 * batch).min(remaining);
    }
    (successes, None)
}

/// Whether an API error says the namespace is being deleted (creates there are pointless).
pub fn namespace_terminating(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => {
            s.details
                .as_ref()
                .is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating"))
                || s.message.contains("because it is being terminated")
        }
        _ => false,
    }
}

/// The HTTP code of an API error (0 for other errors).
pub fn api_code(e: &kube::Error) -> u16 {
    match e {
        kube::Error::Api(s) => s.code,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn ts(s: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(s).unwrap()
    }

    fn pod(name: &str, node: &str, phase: &str, ready_at: Option<i64>, created: i64) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                uid: Some(format!("uid-{name}")),
                creation_timestamp: Some(Time(ts(created))),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: (!node.is_empty()).then(|| node.to_string()),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some(phase.into()),
                conditions: ready_at.map(|t| {
                    vec![PodCondition {
                        type_: "Ready".into(),
                        status: "True".into(),
                        last_transition_time: Some(Time(ts(t))),
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn deletion_order_follows_upstream_ranking() {
        let now = ts(100_000);
        let unassigned = pod("unassigned", "", "Pending", None, 10);
        let pending = pod("pending", "n1", "Pending", None, 10);
        let unknown = pod("unknown", "n1", "Unknown", None, 10);
        let running_not_ready = pod("running", "n1", "Running", None, 10);
        let ready_new = pod("ready-new", "n2", "Running", Some(99_990), 10);
        let ready_old = pod("ready-old", "n3", "Running", Some(10), 10);
        let all = [
            &ready_old,
            &ready_new,
            &running_not_ready,
            &unknown,
            &pending,
            &unassigned,
        ];
        let order: Vec<_> = pods_to_delete(&all, &[], 5, now)
            .into_iter()
            .map(|p| p.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(
            order,
            ["unassigned", "pending", "unknown", "running", "ready-new"]
        );
    }

    #[test]
    fn doubled_up_pods_and_newer_pods_go_first() {
        let now = ts(100_000);
        let a = pod("a", "n1", "Running", Some(10), 10);
        let b = pod("b", "n2", "Running", Some(10), 10);
        let c = pod("c", "n2", "Running", Some(10), 10);
        let pods = [&a, &b, &c];
        let first = pods_to_delete(&pods, &pods, 1, now);
        assert_ne!(first[0].metadata.name.as_deref(), Some("a"));
        let old = pod("old", "n1", "Running", Some(10), 10);
        let new = pod("new", "n2", "Running", Some(10), 99_000);
        let first = pods_to_delete(&[&old, &new], &[], 1, now);
        assert_eq!(first[0].metadata.name.as_deref(), Some("new"));
    }

    #[test]
    fn availability_needs_min_ready_seconds() {
        let p = pod("p", "n", "Running", Some(100), 1);
        assert!(is_available(&p, 0, ts(100)));
        assert!(!is_available(&p, 10, ts(105)));
        assert!(is_available(&p, 10, ts(111)));
        let np = pod("np", "n", "Running", None, 1);
        assert!(!is_available(&np, 0, ts(200)));
        assert!(is_active(&np));
    }

    #[test]
    fn expectations_hold_until_observed() {
        let e = Expectations::new();
        let t = Instant::now();
        assert!(e.satisfied("ns/rs", t));
        e.expect_creations("ns/rs", 2, t);
        assert!(!e.satisfied("ns/rs", t));
        e.creation_observed("ns/rs");
        e.creation_observed("ns/rs");
        assert!(e.satisfied("ns/rs", t));
        e.expect_deletions("ns/rs", ["ns/p1".to_string()], t);
        e.deletion_observed("ns/rs", "ns/other");
        assert!(!e.satisfied("ns/rs", t));
        assert!(e.satisfied("ns/rs", t + EXPECTATIONS_TIMEOUT + Duration::from_secs(1)));
        e.deletion_observed("ns/rs", "ns/p1");
        assert!(e.satisfied("ns/rs", t));
    }

    #[test]
    fn claims_adopt_orphans_and_release_strays() {
        let sel = selector(Some(&K8sSelector {
            match_labels: Some([("app".to_string(), "web".to_string())].into()),
            ..Default::default()
        }))
        .unwrap();
        let mk = |name: &str, app: &str, owner: Option<&str>| ObjectMeta {
            name: Some(name.into()),
            labels: Some([("app".to_string(), app.to_string())].into()),
            owner_references: owner.map(|u| {
                vec![OwnerReference {
                    uid: u.into(),
                    controller: Some(true),
                    ..Default::default()
                }]
            }),
            ..Default::default()
        };
        let objs = vec![
            mk("mine", "web", Some("me")),
            mk("orphan", "web", None),
            mk("stray", "db", Some("me")),
            mk("theirs", "web", Some("other")),
            mk("unrelated", "db", None),
        ];
        let c = claim("me", false, &sel, &objs, |m| m);
        let names = |v: &Vec<ObjectMeta>| {
            v.iter()
                .map(|m| m.name.clone().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&c.owned), ["mine"]);
        assert_eq!(names(&c.adopt), ["orphan"]);
        assert_eq!(names(&c.release), ["stray"]);
        let c = claim("me", true, &sel, &objs, |m| m);
        assert!(c.adopt.is_empty() && c.release.is_empty());
    }

    #[tokio::test]
    async fn slow_start_doubles_and_stops_at_a_failure() {
        let calls = Mutex::new(Vec::new());
        let (ok, err) = slow_start_batch(10, 1, |i| {
            calls.lock().push(i);
            async move {
                if i == 5 {
                    Err("boom")
                } else {
                    Ok(())
                }
            }
        })
        .await;
        // Batches 1, 2, 4: the third batch (3..7) holds the failure.
        assert_eq!(calls.lock().len(), 7);
        assert_eq!(ok, 6);
        assert_eq!(err, Some("boom"));
        let (ok, err) = slow_start_batch(10, 1, |_| async { Ok::<(), ()>(()) }).await;
        assert_eq!((ok, err), (10, None));
    }
}
