//! Leader election through a coordination.k8s.io/v1 Lease in kube-system, as upstream's
//! controller manager and scheduler do: the holder renews the Lease every `retry`; another
//! candidate takes it over once it has seen no renewal for `lease_duration` (measured on its
//! own clock, so clock skew between servers does not matter). The leader's work runs only
//! while it holds the Lease and is stopped when it loses it.

use std::future::Future;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use kube::Client;

/// The election settings (upstream's defaults: 15 s lease, 2 s retry).
#[derive(Debug, Clone)]
pub struct Election {
    pub lease_name: String,
    pub identity: String,
    pub lease_duration: Duration,
    pub retry: Duration,
}

impl Election {
    pub fn new(lease_name: impl Into<String>, identity: impl Into<String>) -> Self {
        Election {
            lease_name: lease_name.into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            retry: Duration::from_secs(2),
        }
    }
}

/// What a candidate should do with the Lease it read, given how long ago it last saw the
/// Lease change. Pure.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Nobody holds it, it is ours, or its holder stopped renewing: write it as ours.
    Take,
    /// Someone else holds it.
    Wait,
}

pub fn decide(
    lease: Option<&LeaseSpec>,
    me: &str,
    unchanged_for: Duration,
    lease_duration: Duration,
) -> Decision {
    let Some(spec) = lease else {
        return Decision::Take;
    };
    match spec.holder_identity.as_deref() {
        None | Some("") => Decision::Take,
        Some(h) if h == me => Decision::Take,
        Some(_) if unchanged_for >= lease_duration => Decision::Take,
        Some(_) => Decision::Wait,
    }
}

/// Runs `work` whenever this candidate leads; returns only if `work` returns.
pub async fn run_as_leader<F, Fut>(client: Client, election: Election, work: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    let api: Api<Lease> = Api::namespaced(client, "kube-system");
    let mut observed: Option<(String, Instant)> = None;
    loop {
        if try_acquire(&api, &election, &mut observed).await {
            tracing::info!(lease = %election.lease_name, identity = %election.identity, "became leader");
            let work = work();
            tokio::pin!(work);
            let mut tick = tokio::time::interval(election.retry);
            let mut last_renew = Instant::now();
            loop {
                tokio::select! {
                    _ = &mut work => return,
                    _ = tick.tick() => {
                        if try_acquire(&api, &election, &mut observed).await {
                            last_renew = Instant::now();
                        } else if last_renew.elapsed() >= election.lease_duration.mul_f32(0.66) {
                            tracing::warn!(lease = %election.lease_name, "lost leadership");
                            break;
                        }
                    }
                }
            }
        }
        tokio::time::sleep(election.retry).await;
    }
}

/// One attempt to take or renew the Lease.
async fn try_acquire(
    api: &Api<Lease>,
    election: &Election,
    observed: &mut Option<(String, Instant)>,
) -> bool {
    let now = MicroTime(jiff::Timestamp::now());
    let current = match api.get_opt(&election.lease_name).await {
        Ok(l) => l,
        Err(_) => return false,
    };
    let rv = current
        .as_ref()
        .and_then(|l| l.metadata.resource_version.clone())
        .unwrap_or_default();
    let unchanged_for = match observed {
        Some((seen, at)) if *seen == rv => at.elapsed(),
        _ => {
            *observed = Some((rv.clone(), Instant::now()));
            Duration::ZERO
        }
    };
    let spec = current.as_ref().and_then(|l| l.spec.as_ref());
    if decide(
        spec,
        &election.identity,
        unchanged_for,
        election.lease_duration,
    ) == Decision::Wait
    {
        return false;
    }
    let held_by_me = spec.and_then(|s| s.holder_identity.as_deref()) == Some(&election.identity);
    let transitions = spec.and_then(|s| s.lease_transitions).unwrap_or(0);
    let new_spec = LeaseSpec {
        holder_identity: Some(election.identity.clone()),
        lease_duration_seconds: Some(election.lease_duration.as_secs() as i32),
        acquire_time: if held_by_me {
            spec.and_then(|s| s.acquire_time.clone())
        } else {
            Some(now.clone())
        },
        renew_time: Some(now),
        lease_transitions: Some(if held_by_me || current.is_none() {
            transitions
        } else {
            transitions + 1
        }),
        ..Default::default()
    };
    let result = match current {
        None => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(election.lease_name.clone()),
                    namespace: Some("kube-system".into()),
                    ..Default::default()
                },
                spec: Some(new_spec),
            };
            api.create(&PostParams::default(), &lease).await
        }
        Some(mut lease) => {
            lease.spec = Some(new_spec);
            api.replace(&election.lease_name, &PostParams::default(), &lease)
                .await
        }
    };
    match result {
        Ok(l) => {
            *observed = Some((
                l.metadata.resource_version.unwrap_or_default(),
                Instant::now(),
            ));
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held_by(h: &str) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(h.into()),
            ..Default::default()
        }
    }

    #[test]
    fn takes_free_own_or_expired_leases_only() {
        let d = Duration::from_secs(15);
        assert_eq!(decide(None, "a", Duration::ZERO, d), Decision::Take);
        assert_eq!(
            decide(Some(&held_by("a")), "a", Duration::ZERO, d),
            Decision::Take
        );
        assert_eq!(
            decide(Some(&held_by("b")), "a", Duration::from_secs(3), d),
            Decision::Wait
        );
        assert_eq!(decide(Some(&held_by("b")), "a", d, d), Decision::Take);
        assert_eq!(
            decide(Some(&LeaseSpec::default()), "a", Duration::ZERO, d),
            Decision::Take
        );
    }
}
