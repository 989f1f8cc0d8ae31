//! The HorizontalPodAutoscaler's arithmetic (upstream's replica calculator, resource
//! metrics), pure: from the pods' usage and requests to a replica recommendation, with the
//! 10 % tolerance, pods without metrics counted as using nothing when scaling up and their
//! full request when scaling down, not-ready pods left out of a scale-up, min / max bounds,
//! and the scale-down stabilization window (the highest recommendation of the last 300 s).

/// One pod as the calculator sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PodSample {
    pub ready: bool,
    /// Usage of the resource (millicores or bytes); `None` when no metric was reported.
    pub usage: Option<i64>,
    /// The pod's request of the resource (0: none).
    pub request: i64,
}

/// The target of one resource metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Percent of the request.
    Utilization(i32),
    /// Absolute average per pod.
    AverageValue(i64),
}

pub const TOLERANCE: f64 = 0.1;

/// Why no recommendation could be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalcError {
    NoMetrics,
    MissingRequest,
}

/// The recommended replicas for `current` replicas, and the current value of the metric
/// (utilization percent or average value).
pub fn recommend(
    current: i32,
    pods: &[PodSample],
    target: Target,
) -> Result<(i32, i64), CalcError> {
    let with_metrics: Vec<&PodSample> = pods.iter().filter(|p| p.usage.is_some()).collect();
    if with_metrics.is_empty() {
        return Err(CalcError::NoMetrics);
    }
    let ready: Vec<&PodSample> = with_metrics.iter().copied().filter(|p| p.ready).collect();
    let usage = |ps: &[&PodSample]| ps.iter().map(|p| p.usage.unwrap_or(0)).sum::<i64>();
    let requests = |ps: &[&PodSample]| ps.iter().map(|p| p.request).sum::<i64>();
    let (ratio, value) = match target {
        Target::Utilization(t) => {
            if ready.iter().any(|p| p.request == 0) {
                return Err(CalcError::MissingRequest);
            }
            let req = requests(&ready).max(1);
            let util = usage(&ready) * 100 / req;
            (util as f64 / f64::from(t.max(1)), util)
        }
        Target::AverageValue(t) => {
            let avg = usage(&ready) / (ready.len().max(1) as i64);
            (avg as f64 / t.max(1) as f64, avg)
        }
    };
    let missing = pods.len() - with_metrics.len();
    let unready = with_metrics.len() - ready.len();
    if missing == 0 && unready == 0 {
        if (ratio - 1.0).abs() <= TOLERANCE {
            return Ok((current, value));
        }
        return Ok(((ratio * ready.len() as f64).ceil() as i32, value));
    }
    // Rebalance: missing pods use nothing when scaling up, their request when scaling down;
    // unready pods use nothing and count only when scaling down would not happen anyway.
    let scale_up = ratio > 1.0;
    let mut samples: Vec<(i64, i64)> = ready
        .iter()
        .map(|p| (p.usage.unwrap_or(0), p.request))
        .collect();
    for p in pods.iter().filter(|p| p.usage.is_none()) {
        samples.push((if scale_up { 0 } else { p.request }, p.request));
    }
    if scale_up {
        for p in with_metrics.iter().filter(|p| !p.ready) {
            samples.push((0, p.request));
        }
    }
    let n = samples.len().max(1) as f64;
    let new_ratio = match target {
        Target::Utilization(t) => {
            let u: i64 = samples.iter().map(|s| s.0).sum();
            let r: i64 = samples.iter().map(|s| s.1).sum::<i64>().max(1);
            (u * 100 / r) as f64 / f64::from(t.max(1))
        }
        Target::AverageValue(t) => {
            let u: i64 = samples.iter().map(|s| s.0).sum();
            (u as f64 / n) / t.max(1) as f64
        }
    };
    if (new_ratio - 1.0).abs() <= TOLERANCE || (new_ratio > 1.0) != scale_up {
        return Ok((current, value));
    }
    let desired = (new_ratio * n).ceil() as i32;
    if (scale_up && desired < current) || (!scale_up && desired > current) {
        return Ok((current, value));
    }
    Ok((desired, value))
}

/// Scale-down stabilization: the highest of the recommendations made within `window`
/// seconds before `now` (and the new one). Returns the stabilized value; `history` keeps
/// (time, recommendation) pairs and is pruned.
pub fn stabilize(history: &mut Vec<(i64, i32)>, now: i64, recommendation: i32, window: i64) -> i32 {
    history.retain(|(t, _)| now - t < window);
    history.push((now, recommendation));
    history
        .iter()
        .map(|(_, r)| *r)
        .max()
        .unwrap_or(recommendation)
}

/// Clamps to [min, max]; also whether the limit was hit (ScalingLimited).
pub fn bound(desired: i32, min: i32, max: i32) -> (i32, Option<&'static str>) {
    if desired > max {
        (max, Some("TooManyReplicas"))
    } else if desired < min {
        (min, Some("TooFewReplicas"))
    } else {
        (desired, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(usage: i64, request: i64) -> PodSample {
        PodSample {
            ready: true,
            usage: Some(usage),
            request,
        }
    }

    #[test]
    fn scales_by_the_ratio_outside_the_tolerance() {
        // 3 pods at 100 % of a 50 % target: 6.
        let pods = vec![pod(100, 100); 3];
        assert_eq!(recommend(3, &pods, Target::Utilization(50)), Ok((6, 100)));
        // Within 10 %: unchanged.
        let pods = vec![pod(54, 100); 3];
        assert_eq!(recommend(3, &pods, Target::Utilization(50)), Ok((3, 54)));
        // Down: 3 pods at 10 % of 50 %: 1.
        let pods = vec![pod(10, 100); 3];
        assert_eq!(recommend(3, &pods, Target::Utilization(50)), Ok((1, 10)));
        assert_eq!(
            recommend(2, &[pod(300, 1)], Target::AverageValue(100)),
            Ok((3, 300))
        );
    }

    #[test]
    fn missing_metrics_damp_the_change() {
        let mut pods = vec![pod(100, 100); 2];
        pods.push(PodSample {
            ready: true,
            usage: None,
            request: 100,
        });
        // Scaling up, the missing pod counts as 0: (200/300)/0.5 = 1.33 -> ceil(4.0) = 4.
        assert_eq!(
            recommend(3, &pods, Target::Utilization(50)).map(|r| r.0),
            Ok(4)
        );
        assert_eq!(
            recommend(
                3,
                &[PodSample {
                    ready: true,
                    usage: None,
                    request: 1
                }],
                Target::Utilization(50)
            ),
            Err(CalcError::NoMetrics)
        );
        assert_eq!(
            recommend(1, &[pod(1, 0)], Target::Utilization(50)),
            Err(CalcError::MissingRequest)
        );
    }

    #[test]
    fn stabilization_keeps_the_highest_recent_recommendation() {
        let mut h = Vec::new();
        assert_eq!(stabilize(&mut h, 0, 5, 300), 5);
        assert_eq!(stabilize(&mut h, 100, 2, 300), 5);
        assert_eq!(stabilize(&mut h, 301, 2, 300), 2);
        assert_eq!(bound(12, 1, 10), (10, Some("TooManyReplicas")));
        assert_eq!(bound(0, 1, 10), (1, Some("TooFewReplicas")));
        assert_eq!(bound(4, 1, 10), (4, None));
    }
}
