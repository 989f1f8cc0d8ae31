//! `spec.podFailurePolicy`: which rule a failed pod matches (exit codes of terminated
//! containers, or pod conditions such as DisruptionTarget) and what follows: fail the Job
//! (with upstream's message), ignore the failure, or count it. Pure.

use k8s_openapi::api::batch::v1::{PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

/// What matching a failed pod against the policy gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The Job failure message (a `FailJob` rule matched).
    pub fail_job: Option<String>,
    /// Whether the failure counts towards `backoffLimit` (not for `Ignore`).
    pub count: bool,
    /// The matched rule's action.
    pub action: Option<String>,
}

const NO_MATCH: Match = Match {
    fail_job: None,
    count: true,
    action: None,
};

fn exit_code_matches(code: i32, req: &PodFailurePolicyOnExitCodesRequirement) -> bool {
    match req.operator.as_str() {
        "In" => req.values.contains(&code),
        "NotIn" => !req.values.contains(&code),
        _ => false,
    }
}

fn matching_container<'a>(
    list: Option<&'a Vec<ContainerStatus>>,
    req: &PodFailurePolicyOnExitCodesRequirement,
) -> Option<(&'a ContainerStatus, i32)> {
    list.into_iter().flatten().find_map(|cs| {
        let code = cs.state.as_ref()?.terminated.as_ref()?.exit_code;
        let name_ok = req.container_name.as_deref().is_none_or(|n| n == cs.name);
        (name_ok && code != 0 && exit_code_matches(code, req)).then_some((cs, code))
    })
}

/// Upstream's `matchPodFailurePolicy` for a failed pod.
pub fn match_pod(policy: Option<&PodFailurePolicy>, pod: &Pod) -> Match {
    let Some(policy) = policy else {
        return NO_MATCH;
    };
    let status = pod.status.clone().unwrap_or_default();
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    let name = pod.metadata.name.as_deref().unwrap_or("");
    for (index, rule) in policy.rules.iter().enumerate() {
        let action = rule.action.as_str();
        let describe: Option<String> = if let Some(req) = rule.on_exit_codes.as_ref() {
            matching_container(status.container_statuses.as_ref(), req)
                .or_else(|| matching_container(status.init_container_statuses.as_ref(), req))
                .map(|(cs, code)| {
                    format!(
                        "Container {} for pod {ns}/{name} failed with exit code {code} matching {action} rule at index {index}",
                        cs.name
                    )
                })
        } else if let Some(patterns) = rule.on_pod_conditions.as_ref() {
            status.conditions.iter().flatten().find_map(|c| {
                patterns
                    .iter()
                    .any(|p| p.type_ == c.type_ && p.status == c.status)
                    .then(|| {
                        format!(
                            "Pod {ns}/{name} has condition {} matching {action} rule at index {index}",
                            c.type_
                        )
                    })
            })
        } else {
            None
        };
        let Some(msg) = describe else { continue };
        match action {
            "Ignore" => {
                return Match {
                    fail_job: None,
                    count: false,
                    action: Some(action.into()),
                }
            }
            "Count" => {
                return Match {
                    fail_job: None,
                    count: true,
                    action: Some(action.into()),
                }
            }
            "FailJob" => {
                return Match {
                    fail_job: Some(msg),
                    count: true,
                    action: Some(action.into()),
                }
            }
            // FailIndex (per-index backoff) and unknown actions: keep looking, as
            // upstream's switch falls through without returning.
            _ => {}
        }
    }
    NO_MATCH
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::{
        PodFailurePolicyOnPodConditionsPattern, PodFailurePolicyRule,
    };
    use k8s_openapi::api::core::v1::{
        ContainerState, ContainerStateTerminated, PodCondition, PodStatus,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn failed(code: i32, cond: Option<&str>) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                namespace: Some("ns".into()),
                ..Default::default()
            },
            spec: None,
            status: Some(PodStatus {
                phase: Some("Failed".into()),
                container_statuses: Some(vec![ContainerStatus {
                    name: "main".into(),
                    state: Some(ContainerState {
                        terminated: Some(ContainerStateTerminated {
                            exit_code: code,
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]),
                conditions: cond.map(|c| {
                    vec![PodCondition {
                        type_: c.into(),
                        status: "True".into(),
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            }),
        }
    }

    fn policy() -> PodFailurePolicy {
        PodFailurePolicy {
            rules: vec![
                PodFailurePolicyRule {
                    action: "FailJob".into(),
                    on_exit_codes: Some(PodFailurePolicyOnExitCodesRequirement {
                        container_name: Some("main".into()),
                        operator: "In".into(),
                        values: vec![42],
                    }),
                    on_pod_conditions: None,
                },
                PodFailurePolicyRule {
                    action: "Ignore".into(),
                    on_exit_codes: None,
                    on_pod_conditions: Some(vec![PodFailurePolicyOnPodConditionsPattern {
                        type_: "DisruptionTarget".into(),
                        status: "True".into(),
                    }]),
                },
                PodFailurePolicyRule {
                    action: "Count".into(),
                    on_exit_codes: Some(PodFailurePolicyOnExitCodesRequirement {
                        container_name: None,
                        operator: "NotIn".into(),
                        values: vec![1],
                    }),
                    on_pod_conditions: None,
                },
            ],
        }
    }

    #[test]
    fn fail_job_on_exit_code() {
        let m = match_pod(Some(&policy()), &failed(42, None));
        assert_eq!(
            m.fail_job.as_deref(),
            Some("Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 0")
        );
        assert!(m.count);
    }

    #[test]
    fn ignore_disruption() {
        let m = match_pod(Some(&policy()), &failed(1, Some("DisruptionTarget")));
        assert_eq!((m.count, m.action.as_deref()), (false, Some("Ignore")));
    }

    #[test]
    fn count_and_no_match() {
        let m = match_pod(Some(&policy()), &failed(3, None));
        assert_eq!((m.count, m.action.as_deref()), (true, Some("Count")));
        let m = match_pod(Some(&policy()), &failed(1, None));
        assert_eq!(m, NO_MATCH);
        assert_eq!(match_pod(None, &failed(42, None)), NO_MATCH);
    }
}
