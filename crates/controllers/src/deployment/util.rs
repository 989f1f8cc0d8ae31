//! The Deployment facts upstream keeps in `deployment/util/deployment_util.go`, pure: the
//! annotations (revision, revision history, desired and max replicas, what is copied from
//! the Deployment), revisions, maxSurge / maxUnavailable fenceposts, the pod-template hash,
//! which ReplicaSet is new, conditions, and the completeness / progress / timeout tests.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
pub const ROLLBACK_TO: &str = "deprecated.deployment.rollback.to";
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// The label that tells a Deployment's ReplicaSets (and their pods) apart.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// The longest revision-history annotation kept.
pub const MAX_REV_HISTORY_CHARS: usize = 2000;

pub const AVAILABLE: &str = "Available";
pub const PROGRESSING: &str = "Progressing";
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

// Reasons of the Progressing and Available conditions.
pub const NEW_RS_REASON: &str = "NewReplicaSetCreated";
pub const FOUND_NEW_RS_REASON: &str = "FoundNewReplicaSet";
pub const RS_UPDATED_REASON: &str = "ReplicaSetUpdated";
pub const NEW_RS_AVAILABLE_REASON: &str = "NewReplicaSetAvailable";
pub const TIMED_OUT_REASON: &str = "ProgressDeadlineExceeded";
pub const FAILED_RS_CREATE_REASON: &str = "ReplicaSetCreateError";
pub const PAUSED_REASON: &str = "DeploymentPaused";
pub const RESUMED_REASON: &str = "DeploymentResumed";
pub const MIN_AVAILABLE_REASON: &str = "MinimumReplicasAvailable";
pub const MIN_UNAVAILABLE_REASON: &str = "MinimumReplicasUnavailable";

/// Annotations never copied from a Deployment to its ReplicaSets (nor back on rollback).
const SKIPPED_ANNOTATIONS: [&str; 6] = [
    LAST_APPLIED,
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    ROLLBACK_TO,
];

pub fn skip_copy(key: &str) -> bool {
    SKIPPED_ANNOTATIONS.contains(&key)
}

// ---------------------------------------------------------------------------------------------
// Spec accessors (defaults as the API server applies them)

/// Counts read from objects are kept within [0, CAP] and sums within [0, 4 * CAP], so no
/// arithmetic on them can overflow whatever a user writes.
const CAP: i32 = 1 << 28;

fn cap(v: i32) -> i32 {
    v.clamp(0, CAP)
}

/// The sum of counts, bounded.
pub fn total(counts: impl IntoIterator<Item = i32>) -> i32 {
    counts
        .into_iter()
        .map(i64::from)
        .sum::<i64>()
        .clamp(0, 4 * i64::from(CAP)) as i32
}

pub fn replicas(d: &Deployment) -> i32 {
    cap(d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1))
}

pub fn rs_replicas(rs: &ReplicaSet) -> i32 {
    cap(rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0))
}

pub fn set_rs_replicas(rs: &mut ReplicaSet, n: i32) {
    if let Some(s) = rs.spec.as_mut() {
        s.replicas = Some(n);
    }
}

pub fn min_ready_seconds(d: &Deployment) -> i32 {
    d.spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0)
}

pub fn paused(d: &Deployment) -> bool {
    d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false)
}

pub fn is_recreate(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        == Some("Recreate")
}

pub fn is_rolling(d: &Deployment) -> bool {
    !is_recreate(d)
}

/// The progress deadline, unless absent or "never" (MaxInt32).
pub fn progress_deadline(d: &Deployment) -> Option<i32> {
    d.spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .filter(|v| *v != i32::MAX)
}

/// The revision history limit, unless absent or unlimited (MaxInt32).
pub fn revision_history_limit(d: &Deployment) -> Option<i32> {
    d.spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .filter(|v| *v != i32::MAX)
}

pub fn template(d: &Deployment) -> PodTemplateSpec {
    d.spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default()
}

pub fn rs_status(rs: &ReplicaSet) -> (i32, i32, i32) {
    let s = rs.status.as_ref();
    (
        cap(s.map(|s| s.replicas).unwrap_or(0)),
        cap(s.and_then(|s| s.ready_replicas).unwrap_or(0)),
        cap(s.and_then(|s| s.available_replicas).unwrap_or(0)),
    )
}

pub fn rs_available(rs: &ReplicaSet) -> i32 {
    rs_status(rs).2
}

// ---------------------------------------------------------------------------------------------
// Fenceposts

/// An int or a percentage of `total`, rounded up or down (upstream
/// `GetScaledValueFromIntOrPercent`); None when malformed.
pub fn scaled_value(v: &IntOrString, total: i32, round_up: bool) -> Option<i32> {
    match v {
        IntOrString::Int(i) => Some(cap(*i)),
        IntOrString::String(s) => {
            let pct: i64 = s.strip_suffix('%')?.parse().ok()?;
            let exact = pct as f64 * f64::from(total) / 100.0;
            Some(cap(if round_up {
                exact.ceil()
            } else {
                exact.floor()
            } as i32))
        }
    }
}

fn rolling_params(d: &Deployment) -> (IntOrString, IntOrString) {
    let ru = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref());
    let default = || IntOrString::String("25%".into());
    (
        ru.and_then(|r| r.max_surge.clone()).unwrap_or_else(default),
        ru.and_then(|r| r.max_unavailable.clone())
            .unwrap_or_else(default),
    )
}

/// maxSurge (rounded up) and maxUnavailable (rounded down) for `desired` replicas; both zero
/// becomes unavailable 1 (upstream `ResolveFenceposts`).
pub fn resolve_fenceposts(d: &Deployment, desired: i32) -> (i32, i32) {
    let (surge, unavailable) = rolling_params(d);
    let surge = scaled_value(&surge, desired, true).unwrap_or(0);
    let mut unavailable = scaled_value(&unavailable, desired, false).unwrap_or(0);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

pub fn max_surge(d: &Deployment) -> i32 {
    if !is_rolling(d) {
        return 0;
    }
    resolve_fenceposts(d, replicas(d)).0
}

pub fn max_unavailable(d: &Deployment) -> i32 {
    if !is_rolling(d) || replicas(d) == 0 {
        return 0;
    }
    resolve_fenceposts(d, replicas(d)).1.min(replicas(d))
}

// ---------------------------------------------------------------------------------------------
// Revisions and annotations

fn annotation<'a>(rs: &'a ReplicaSet, key: &str) -> Option<&'a str> {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .map(String::as_str)
}

/// The revision of a ReplicaSet: 0 without the annotation, None when it is not a number.
pub fn revision(rs: &ReplicaSet) -> Option<i64> {
    match annotation(rs, REVISION) {
        None => Some(0),
        Some(v) => v.parse().ok(),
    }
}

pub fn max_revision(rss: &[ReplicaSet]) -> i64 {
    // (kept below i64::MAX: the next revision is this plus one)
    rss.iter()
        .filter_map(revision)
        .max()
        .unwrap_or(0)
        .clamp(0, i64::MAX - 1)
}

/// The second highest revision (upstream `LastRevision`).
pub fn last_revision(rss: &[ReplicaSet]) -> i64 {
    let (mut max, mut second) = (0, 0);
    for v in rss.iter().filter_map(revision) {
        if v >= max {
            second = max;
            max = v;
        } else if v > second {
            second = v;
        }
    }
    second
}

fn annotations_mut(
    meta: &mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> &mut BTreeMap<String, String> {
    meta.annotations.get_or_insert_with(BTreeMap::new)
}

/// Copies the Deployment's annotations (but the skipped ones) onto `rs`; whether any changed.
pub fn copy_annotations_to_rs(d: &Deployment, rs: &mut ReplicaSet) -> bool {
    let mut changed = false;
    let target = annotations_mut(&mut rs.metadata);
    for (k, v) in d.metadata.annotations.iter().flatten() {
        if skip_copy(k) || target.get(k) == Some(v) {
            continue;
        }
        target.insert(k.clone(), v.clone());
        changed = true;
    }
    changed
}

/// Sets the desired- and max-replicas annotations; whether they changed.
pub fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let a = annotations_mut(&mut rs.metadata);
    let mut changed = false;
    for (k, v) in [(DESIRED_REPLICAS, desired), (MAX_REPLICAS, max)] {
        let v = v.to_string();
        if a.get(k) != Some(&v) {
            a.insert(k.to_string(), v);
            changed = true;
        }
    }
    changed
}

pub fn replicas_annotations_need_update(rs: &ReplicaSet, desired: i32, max: i32) -> bool {
    annotation(rs, DESIRED_REPLICAS) != Some(desired.to_string().as_str())
        || annotation(rs, MAX_REPLICAS) != Some(max.to_string().as_str())
}

pub fn desired_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    annotation(rs, DESIRED_REPLICAS)?.parse().ok()
}

pub fn max_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    annotation(rs, MAX_REPLICAS)?.parse().ok()
}

/// Upstream `SetNewReplicaSetAnnotations`: copied annotations, the revision (raised to
/// `new_revision`, keeping the revisions it had in revision-history), and for a ReplicaSet
/// about to be created the replicas annotations. Whether anything changed.
pub fn set_new_rs_annotations(
    d: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: i64,
    exists: bool,
) -> bool {
    let mut changed = copy_annotations_to_rs(d, rs);
    let a = annotations_mut(&mut rs.metadata);
    let old = a.get(REVISION).cloned();
    let old_int = match old.as_deref() {
        None | Some("") => 0,
        Some(v) => match v.parse::<i64>() {
            Ok(n) => n,
            Err(_) => return false,
        },
    };
    if old_int < new_revision {
        a.insert(REVISION.into(), new_revision.to_string());
        changed = true;
        if let Some(old) = old {
            let history = a.get(REVISION_HISTORY).cloned().unwrap_or_default();
            if history.is_empty() {
                a.insert(REVISION_HISTORY.into(), old);
            } else {
                let mut parts: Vec<&str> = history.split(',').collect();
                let mut total = history.len() + old.len() + 1;
                let mut start = 0;
                while total > MAX_REV_HISTORY_CHARS && start < parts.len() {
                    total -= parts[start].len() + 1;
                    start += 1;
                }
                if total <= MAX_REV_HISTORY_CHARS {
                    parts = parts.split_off(start);
                    parts.push(&old);
                    a.insert(REVISION_HISTORY.into(), parts.join(","));
                }
            }
        }
    }
    if !exists && set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d)) {
        changed = true;
    }
    changed
}

/// Sets the Deployment's revision annotation; whether it changed.
pub fn set_deployment_revision(d: &mut Deployment, revision: &str) -> bool {
    let a = annotations_mut(&mut d.metadata);
    if a.get(REVISION).map(String::as_str) == Some(revision) {
        return false;
    }
    a.insert(REVISION.into(), revision.to_string());
    true
}

// ---------------------------------------------------------------------------------------------
// Hash and template identity

/// FNV-1a, 32 bits.
fn fnv32a(bytes: &[u8], mut h: u32) -> u32 {
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Upstream `rand.SafeEncodeString`: each byte mapped into an alphabet without vowels.
pub fn safe_encode(s: &str) -> String {
    s.bytes()
        .map(|b| SAFE_ALPHABET[usize::from(b) % SAFE_ALPHABET.len()] as char)
        .collect()
}

/// The pod-template hash: FNV-32a over the template (canonical JSON) and the collision
/// count, printed in decimal and safe-encoded (upstream `ComputeHash`).
pub fn compute_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let bytes = serde_json::to_vec(template).unwrap_or_default();
    let mut h = fnv32a(&bytes, 0x811c_9dc5);
    if let Some(c) = collision_count {
        let mut buf = [0u8; 8];
        buf[..4].copy_from_slice(&(c as u32).to_le_bytes());
        h = fnv32a(&buf, h);
    }
    safe_encode(&h.to_string())
}

/// Drops nulls and empty lists / maps, which upstream's semantic equality does not tell
/// from absent ones.
fn normalize(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for x in m.values_mut() {
                normalize(x);
            }
            m.retain(|_, x| !is_empty(x));
        }
        Value::Array(a) => a.iter_mut().for_each(normalize),
        _ => {}
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

fn comparable(t: &PodTemplateSpec) -> Value {
    let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
    if let Some(l) = v
        .get_mut("metadata")
        .and_then(|m| m.get_mut("labels"))
        .and_then(Value::as_object_mut)
    {
        l.remove(POD_TEMPLATE_HASH);
    }
    normalize(&mut v);
    v
}

/// Whether two templates are equal but for the pod-template-hash label.
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    comparable(a) == comparable(b)
}

fn created(rs: &ReplicaSet) -> Option<jiff::Timestamp> {
    rs.metadata.creation_timestamp.as_ref().map(|t| t.0)
}

/// Oldest first, then by name (upstream `ReplicaSetsByCreationTimestamp`).
pub fn by_creation(a: &ReplicaSet, b: &ReplicaSet) -> std::cmp::Ordering {
    created(a)
        .cmp(&created(b))
        .then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

/// The new ReplicaSet: the oldest whose template equals the Deployment's.
pub fn find_new_rs<'a>(d: &Deployment, rss: &'a [ReplicaSet]) -> Option<&'a ReplicaSet> {
    let t = template(d);
    let mut sorted: Vec<&ReplicaSet> = rss.iter().collect();
    sorted.sort_by(|a, b| by_creation(a, b));
    sorted.into_iter().find(|rs| {
        rs.spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .is_some_and(|rt| equal_ignore_hash(rt, &t))
    })
}

/// Whether the new ReplicaSet has all desired replicas, all available.
pub fn is_saturated(d: &Deployment, rs: Option<&ReplicaSet>) -> bool {
    let Some(rs) = rs else { return false };
    let Some(desired) = desired_replicas_annotation(rs) else {
        return false;
    };
    rs_replicas(rs) == replicas(d) && desired == replicas(d) && rs_available(rs) == replicas(d)
}

/// How many replicas the new ReplicaSet may have now (upstream `NewRSNewReplicas`).
pub fn new_rs_new_replicas(d: &Deployment, all: &[&ReplicaSet], new_rs: &ReplicaSet) -> i32 {
    if is_recreate(d) {
        return replicas(d);
    }
    let surge = scaled_value(&rolling_params(d).0, replicas(d), true).unwrap_or(0);
    let current = total(all.iter().map(|rs| rs_replicas(rs)));
    let max_total = replicas(d) + surge;
    if current >= max_total {
        return rs_replicas(new_rs);
    }
    let up = (max_total - current).min(replicas(d) - rs_replicas(new_rs));
    rs_replicas(new_rs) + up
}

/// The share of `to_add` replicas this ReplicaSet gets in proportional scaling (upstream
/// `GetReplicaSetProportion`).
pub fn proportion(rs: &ReplicaSet, d: &Deployment, to_add: i32, added: i32) -> i32 {
    if rs_replicas(rs) == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = fraction(rs, d);
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

fn fraction(rs: &ReplicaSet, d: &Deployment) -> i32 {
    if replicas(d) == 0 {
        return -rs_replicas(rs);
    }
    let deployment_max = replicas(d) + max_surge(d);
    let annotated = max_replicas_annotation(rs)
        .filter(|v| *v > 0)
        .unwrap_or_else(|| cap(d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0)));
    if annotated == 0 {
        return 0;
    }
    let size = f64::from(rs_replicas(rs)) * f64::from(deployment_max) / f64::from(annotated);
    cap(size.round() as i32) - rs_replicas(rs)
}

// ---------------------------------------------------------------------------------------------
// Conditions

pub fn condition<'a>(s: &'a DeploymentStatus, type_: &str) -> Option<&'a DeploymentCondition> {
    s.conditions.iter().flatten().find(|c| c.type_ == type_)
}

pub fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: jiff::Timestamp,
) -> DeploymentCondition {
    DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_update_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

/// Sets a condition unless one of the same status and reason is there; keeps the transition
/// time when the status did not change (upstream `SetDeploymentCondition`).
pub fn set_condition(s: &mut DeploymentStatus, mut c: DeploymentCondition) {
    if let Some(cur) = condition(s, &c.type_) {
        if cur.status == c.status && cur.reason == c.reason {
            return;
        }
        if cur.status == c.status {
            c.last_transition_time = cur.last_transition_time.clone();
        }
    }
    remove_condition(s, &c.type_.clone());
    s.conditions.get_or_insert_with(Vec::new).push(c);
}

pub fn remove_condition(s: &mut DeploymentStatus, type_: &str) {
    if let Some(cs) = s.conditions.as_mut() {
        cs.retain(|c| c.type_ != type_);
        if cs.is_empty() {
            s.conditions = None;
        }
    }
}

fn n(v: Option<i32>) -> i32 {
    v.unwrap_or(0)
}

/// Every desired replica is updated and available, and the status is of this generation.
pub fn deployment_complete(d: &Deployment, s: &DeploymentStatus) -> bool {
    let want = replicas(d);
    n(s.updated_replicas) == want
        && n(s.replicas) == want
        && n(s.available_replicas) == want
        && s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
}

/// Whether `new` shows progress over the Deployment's current status.
pub fn deployment_progressing(d: &Deployment, new: &DeploymentStatus) -> bool {
    let old = d.status.clone().unwrap_or_default();
    let old_old = n(old.replicas) - n(old.updated_replicas);
    let new_old = n(new.replicas) - n(new.updated_replicas);
    n(new.updated_replicas) > n(old.updated_replicas)
        || new_old < old_old
        || n(new.ready_replicas) > n(old.ready_replicas)
        || n(new.available_replicas) > n(old.available_replicas)
}

/// Whether the rollout made no progress within the deadline.
pub fn deployment_timed_out(d: &Deployment, new: &DeploymentStatus, now: jiff::Timestamp) -> bool {
    let Some(deadline) = progress_deadline(d) else {
        return false;
    };
    let Some(c) = condition(new, PROGRESSING) else {
        return false;
    };
    match c.reason.as_deref() {
        Some(NEW_RS_AVAILABLE_REASON) => false,
        Some(TIMED_OUT_REASON) => true,
        _ => match &c.last_update_time {
            Some(t) => t.0.as_millisecond() + i64::from(deadline) * 1000 < now.as_millisecond(),
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{
        DeploymentSpec, DeploymentStrategy, ReplicaSetSpec, RollingUpdateDeployment,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    pub(crate) fn deployment(replicas: i32, surge: &str, unavailable: &str) -> Deployment {
        Deployment {
            metadata: ObjectMeta {
                name: Some("web".into()),
                ..Default::default()
            },
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                strategy: Some(DeploymentStrategy {
                    type_: Some("RollingUpdate".into()),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_surge: Some(IntOrString::String(surge.into())),
                        max_unavailable: Some(IntOrString::String(unavailable.into())),
                    }),
                }),
                ..Default::default()
            }),
            status: None,
        }
    }

    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down() {
        let d = deployment(3, "25%", "25%");
        assert_eq!(resolve_fenceposts(&d, 3), (1, 0));
        assert_eq!(max_surge(&d), 1);
        assert_eq!(max_unavailable(&d), 0);
        let d = deployment(10, "25%", "25%");
        assert_eq!(resolve_fenceposts(&d, 10), (3, 2));
        let d = deployment(1, "0%", "0%");
        assert_eq!(resolve_fenceposts(&d, 1), (0, 1));
        assert_eq!(
            scaled_value(&IntOrString::String("x".into()), 3, true),
            None
        );
        assert_eq!(scaled_value(&IntOrString::Int(2), 3, true), Some(2));
    }

    #[test]
    fn hash_is_stable_in_the_safe_alphabet_and_moves_with_collisions() {
        let t = PodTemplateSpec::default();
        let h = compute_hash(&t, None);
        assert_eq!(h, compute_hash(&t, None));
        assert!(!h.is_empty() && h.len() <= 10);
        assert!(h.bytes().all(|b| SAFE_ALPHABET.contains(&b)));
        assert_ne!(h, compute_hash(&t, Some(1)));
        assert_eq!(safe_encode("0"), "4");
    }

    fn rs(rev: Option<&str>) -> ReplicaSet {
        ReplicaSet {
            metadata: ObjectMeta {
                annotations: rev.map(|r| [(REVISION.to_string(), r.to_string())].into()),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec::default()),
            status: None,
        }
    }

    #[test]
    fn revisions_and_history_on_reuse() {
        let rss = vec![rs(Some("1")), rs(Some("3")), rs(Some("x")), rs(None)];
        assert_eq!(max_revision(&rss), 3);
        assert_eq!(last_revision(&rss), 1);
        let d = deployment(3, "25%", "25%");
        let mut r = rs(Some("1"));
        assert!(set_new_rs_annotations(&d, &mut r, 4, true));
        let a = r.metadata.annotations.clone().unwrap();
        assert_eq!(a[REVISION], "4");
        assert_eq!(a[REVISION_HISTORY], "1");
        assert!(set_new_rs_annotations(&d, &mut r, 6, true));
        assert_eq!(r.metadata.annotations.unwrap()[REVISION_HISTORY], "1,4");
        let mut fresh = rs(None);
        set_new_rs_annotations(&d, &mut fresh, 1, false);
        let a = fresh.metadata.annotations.unwrap();
        assert_eq!(a[DESIRED_REPLICAS], "3");
        assert_eq!(a[MAX_REPLICAS], "4");
        assert!(!a.contains_key(REVISION_HISTORY));
    }

    #[test]
    fn templates_equal_but_for_the_hash_label() {
        let a = PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some([("app".to_string(), "web".to_string())].into()),
                annotations: Some(BTreeMap::new()),
                ..Default::default()
            }),
            spec: None,
        };
        let mut b = a.clone();
        b.metadata.as_mut().unwrap().annotations = None;
        b.metadata
            .as_mut()
            .unwrap()
            .labels
            .as_mut()
            .unwrap()
            .insert(POD_TEMPLATE_HASH.into(), "abc".into());
        assert!(equal_ignore_hash(&a, &b));
        b.metadata
            .as_mut()
            .unwrap()
            .labels
            .as_mut()
            .unwrap()
            .insert("v".into(), "2".into());
        assert!(!equal_ignore_hash(&a, &b));
    }

    #[test]
    fn conditions_keep_transition_time_when_status_is_unchanged() {
        let mut s = DeploymentStatus::default();
        let t0 = jiff::Timestamp::from_second(100).unwrap();
        let t1 = jiff::Timestamp::from_second(200).unwrap();
        set_condition(
            &mut s,
            new_condition(PROGRESSING, "True", NEW_RS_REASON, "a".into(), t0),
        );
        set_condition(
            &mut s,
            new_condition(PROGRESSING, "True", NEW_RS_REASON, "b".into(), t1),
        );
        assert_eq!(
            condition(&s, PROGRESSING).unwrap().message.as_deref(),
            Some("a")
        );
        set_condition(
            &mut s,
            new_condition(PROGRESSING, "True", RS_UPDATED_REASON, "c".into(), t1),
        );
        let c = condition(&s, PROGRESSING).unwrap();
        assert_eq!(c.last_transition_time.as_ref().unwrap().0, t0);
        assert_eq!(c.last_update_time.as_ref().unwrap().0, t1);
    }
}
