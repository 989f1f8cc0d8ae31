//! The DaemonSet's RollingUpdate (upstream `rollingUpdate`): without surge, old pods are
//! deleted (unavailable ones at once, available ones while fewer than `maxUnavailable`
//! pods are unavailable) and the core loop recreates them; with `maxSurge`, a new pod is
//! started beside an old one (at once where the old one is unavailable, else up to
//! `maxSurge` at a time) and the old one deleted when the new one is available.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::manage::node_to_pods;
use super::placement::{is_pod_updated, placement, template_generation};
use super::pods::is_available;

/// Upstream `intstr.GetScaledValueFromIntOrPercent`.
pub fn scaled_value(v: &IntOrString, total: i32, round_up: bool) -> Result<i32, String> {
    match v {
        IntOrString::Int(i) => Ok(*i),
        IntOrString::String(s) => {
            let pct: i64 = s
                .strip_suffix('%')
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| {
                    "invalid value for IntOrString: invalid type: string is not a percentage"
                        .to_string()
                })?;
            let prod = pct * i64::from(total);
            let v = if round_up {
                (prod + 99).div_euclid(100)
            } else {
                prod.div_euclid(100)
            };
            Ok(v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
        }
    }
}

fn rolling_params(ds: &DaemonSet) -> Option<&k8s_openapi::api::apps::v1::RollingUpdateDaemonSet> {
    let s = ds.spec.as_ref()?.update_strategy.as_ref()?;
    if s.type_.as_deref().unwrap_or("RollingUpdate") != "RollingUpdate" {
        return None;
    }
    s.rolling_update.as_ref()
}

/// Upstream `UnavailableCount`.
pub fn unavailable_count(ds: &DaemonSet, desired: i32) -> Result<i32, String> {
    match rolling_params(ds).and_then(|r| r.max_unavailable.as_ref()) {
        Some(v) => scaled_value(v, desired, true),
        None => Ok(0),
    }
}

/// Upstream `SurgeCount`.
pub fn surge_count(ds: &DaemonSet, desired: i32) -> Result<i32, String> {
    match rolling_params(ds).and_then(|r| r.max_surge.as_ref()) {
        Some(v) => scaled_value(v, desired, true),
        None => Ok(0),
    }
}

/// Upstream `AllowsSurge`.
pub fn allows_surge(ds: &DaemonSet) -> bool {
    matches!(surge_count(ds, 1), Ok(n) if n != 0)
}

/// What one rolling-update step does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollingPlan {
    pub delete: Vec<String>,
    pub create_on: Vec<String>,
}

/// A node's new and old pod.
type NewAndOld<'a> = (Option<&'a Arc<Pod>>, Option<&'a Arc<Pod>>);

/// Upstream `findUpdatedPodsOnNode`: the node's live new and old pod; `None` when it has
/// more than one of either (the core loop prunes those first).
fn updated_pods_on_node<'a>(
    pods: &'a [Arc<Pod>],
    hash: &str,
    generation: Option<i64>,
) -> Option<NewAndOld<'a>> {
    let mut new = None;
    let mut old = None;
    for p in pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
    {
        let slot = if is_pod_updated(p, hash, generation) {
            &mut new
        } else {
            &mut old
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(p);
    }
    Some((new, old))
}

fn name(p: &Pod) -> String {
    p.metadata.name.clone().unwrap_or_default()
}

/// Upstream `rollingUpdate` (given the core loop had nothing to do).
pub fn rolling_update(
    ds: &DaemonSet,
    nodes: &[Arc<Node>],
    pods: &[Arc<Pod>],
    hash: &str,
    now: jiff::Timestamp,
) -> Result<RollingPlan, String> {
    let mut by_node: BTreeMap<String, Vec<Arc<Pod>>> = node_to_pods(pods, false);
    // updatedDesiredNodeCounts
    let mut desired = 0;
    for n in nodes {
        if placement(n, ds).should_run {
            desired += 1;
            by_node
                .entry(n.metadata.name.clone().unwrap_or_default())
                .or_default();
        }
    }
    let mut max_unavailable = unavailable_count(ds, desired).map_err(|e| {
        format!("couldn't get unavailable numbers: invalid value for MaxUnavailable: {e}")
    })?;
    let max_surge = surge_count(ds, desired).map_err(|e| {
        format!("couldn't get unavailable numbers: invalid value for MaxSurge: {e}")
    })?;
    if desired > 0 && max_unavailable == 0 && max_surge == 0 {
        max_unavailable = 1;
    }
    let min_ready = ds
        .spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0);
    let generation = template_generation(ds);
    let available = |p: &Pod| is_available(p, min_ready, now);
    let node_of = |n: &str| nodes.iter().find(|x| x.metadata.name.as_deref() == Some(n));

    if max_surge == 0 {
        let mut num_unavailable = 0;
        let mut replacements = Vec::new();
        let mut candidates = Vec::new();
        for pods in by_node.values() {
            let Some((new, old)) = updated_pods_on_node(pods, hash, generation) else {
                num_unavailable += 1;
                continue;
            };
            match (new, old) {
                (None, None) | (Some(_), Some(_)) => num_unavailable += 1,
                (Some(new), None) => {
                    if !available(new) {
                        num_unavailable += 1;
                    }
                }
                (None, Some(old)) => {
                    if !available(old) {
                        replacements.push(name(old));
                        num_unavailable += 1;
                    } else if num_unavailable < max_unavailable {
                        candidates.push(name(old));
                    }
                }
            }
        }
        let remaining = (max_unavailable - num_unavailable).max(0) as usize;
        let mut delete = replacements;
        delete.extend(candidates.into_iter().take(remaining));
        return Ok(RollingPlan {
            delete,
            create_on: Vec::new(),
        });
    }

    let mut delete = Vec::new();
    let mut should_not_run = Vec::new();
    let mut candidates = Vec::new();
    let mut allowed = Vec::new();
    let mut num_surge = 0;
    let mut num_available = 0;
    for (node_name, pods) in &by_node {
        let Some((new, old)) = updated_pods_on_node(pods, hash, generation) else {
            num_surge += 1;
            continue;
        };
        match (old, new) {
            (Some(o), _) if available(o) => num_available += 1,
            (None, Some(n)) if available(n) => num_available += 1,
            _ => {}
        }
        let should_run = || node_of(node_name).is_some_and(|n| placement(n, ds).should_run);
        match (old, new) {
            (None, _) => {}
            (Some(old), None) => {
                if !available(old) {
                    if !should_run() {
                        delete.push(name(old));
                        continue;
                    }
                    allowed.push(node_name.clone());
                } else {
                    if !should_run() {
                        should_not_run.push(name(old));
                        continue;
                    }
                    if num_surge >= max_surge {
                        continue;
                    }
                    candidates.push(node_name.clone());
                }
            }
            (Some(old), Some(new)) => {
                if !available(new) {
                    num_surge += 1;
                    continue;
                }
                delete.push(name(old));
            }
        }
    }
    let remaining = (max_surge - num_surge).max(0) as usize;
    let deletable = (num_available - desired).max(0) as usize;
    delete.extend(should_not_run.into_iter().take(deletable));
    let mut create_on = allowed;
    create_on.extend(candidates.into_iter().take(remaining));
    Ok(RollingPlan { delete, create_on })
}
