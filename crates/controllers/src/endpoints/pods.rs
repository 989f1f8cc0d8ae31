//! What the Endpoints and EndpointSlice controllers ask of a Pod and a Service (upstream's
//! endpointslice util and podutil helpers): which pods a Service selects, whether a pod
//! belongs in its endpoints, whether it is ready, the port a service port targets on it,
//! its address of one IP family, its hostname. Pure.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The Service's selector; `None` when it has none (its endpoints are managed by hand).
/// An empty selector is none, as upstream's storage reads it back.
pub fn selector(svc: &Service) -> Option<&BTreeMap<String, String>> {
    svc.spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .filter(|s| !s.is_empty())
}

/// Whether the Service gets endpoints from the controllers: it has a selector and is not
/// of type ExternalName.
pub fn is_managed(svc: &Service) -> bool {
    let external = svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("ExternalName");
    !external && selector(svc).is_some()
}

/// Whether `selector` selects `pod`.
pub fn selects(selector: &BTreeMap<String, String>, pod: &Pod) -> bool {
    let labels = pod.metadata.labels.as_ref();
    selector
        .iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// The pod is done (Succeeded or Failed).
pub fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// The pod's Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

fn has_ip(pod: &Pod) -> bool {
    pod.status.as_ref().is_some_and(|s| {
        s.pod_ip.as_deref().is_some_and(|ip| !ip.is_empty())
            || s.pod_ips.as_ref().is_some_and(|ips| !ips.is_empty())
    })
}

/// Upstream's ShouldPodBeInEndpoints: not terminal, has an IP, and (unless terminating
/// pods are wanted) not being deleted.
pub fn should_be_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    if is_terminal(pod) || !has_ip(pod) {
        return false;
    }
    include_terminating || pod.metadata.deletion_timestamp.is_none()
}

/// The pod's IPs (status.podIPs, or status.podIP when that is all there is).
pub fn pod_ips(pod: &Pod) -> Vec<String> {
    let Some(status) = pod.status.as_ref() else {
        return Vec::new();
    };
    let ips: Vec<String> = status
        .pod_ips
        .iter()
        .flatten()
        .map(|p| p.ip.clone())
        .filter(|ip| !ip.is_empty())
        .collect();
    if !ips.is_empty() {
        return ips;
    }
    status
        .pod_ip
        .iter()
        .filter(|ip| !ip.is_empty())
        .cloned()
        .collect()
}

pub fn is_ipv6(ip: &str) -> bool {
    ip.contains(':')
}

/// Whether the Service's ClusterIP is set (not headless, not empty).
pub fn is_service_ip_set(svc: &Service) -> bool {
    let ip = svc
        .spec
        .as_ref()
        .and_then(|s| s.cluster_ip.as_deref())
        .unwrap_or("");
    !ip.is_empty() && ip != "None"
}

/// Whether the Service is headless (`clusterIP: None`).
pub fn is_headless(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None")
}

/// The IP family of the Service's primary address: the first of spec.ipFamilies, else
/// the family of its ClusterIP, else (headless) that of the pod's IP.
pub fn primary_family_is_ipv6(svc: &Service, pod: &Pod) -> bool {
    let spec = svc.spec.as_ref();
    if let Some(f) = spec
        .and_then(|s| s.ip_families.as_ref())
        .and_then(|f| f.first())
    {
        return f == "IPv6";
    }
    if is_service_ip_set(svc) {
        return spec
            .and_then(|s| s.cluster_ip.as_deref())
            .is_some_and(is_ipv6);
    }
    pod_ips(pod).first().is_some_and(|ip| is_ipv6(ip))
}

/// The pod's address for the Service (of the Service's primary family); `None` when the
/// pod has none of that family.
pub fn address_for_service(svc: &Service, pod: &Pod) -> Option<String> {
    let v6 = primary_family_is_ipv6(svc, pod);
    pod_ips(pod).into_iter().find(|ip| is_ipv6(ip) == v6)
}

/// Upstream's ShouldSetHostname: the pod names a hostname and the Service as its
/// subdomain, in the same namespace.
pub fn should_set_hostname(pod: &Pod, svc: &Service) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return false;
    };
    spec.hostname.as_deref().is_some_and(|h| !h.is_empty())
        && spec.subdomain.as_deref() == svc.metadata.name.as_deref()
        && pod.metadata.namespace == svc.metadata.namespace
}

/// The port number `port` targets on `pod`: a number as is, a name looked up among the
/// containers' (and sidecars') ports of the same protocol.
pub fn find_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    let protocol = port.protocol.as_deref().unwrap_or("TCP");
    match port.target_port.as_ref() {
        None => Some(port.port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) => {
            let spec = pod.spec.as_ref()?;
            let sidecars = spec
                .init_containers
                .iter()
                .flatten()
                .filter(|c| c.restart_policy.as_deref() == Some("Always"));
            spec.containers
                .iter()
                .chain(sidecars)
                .flat_map(|c| c.ports.iter().flatten())
                .find(|p| {
                    p.name.as_deref() == Some(name.as_str())
                        && p.protocol.as_deref().unwrap_or("TCP") == protocol
                })
                .map(|p| p.container_port)
        }
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use k8s_openapi::api::core::v1::{
        Container, ContainerPort, PodCondition, PodIP, PodSpec, PodStatus, ServiceSpec,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

    use super::*;

    pub fn ts(secs: i64) -> Time {
        Time(jiff::Timestamp::from_second(secs).unwrap())
    }

    pub fn pod(name: &str, ip: &str, ready: bool) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                uid: Some(format!("uid-{name}")),
                labels: Some([("app".to_string(), "web".to_string())].into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: Some("node-1".into()),
                containers: vec![Container {
                    name: "c".into(),
                    ports: Some(vec![ContainerPort {
                        name: Some("http".into()),
                        container_port: 8080,
                        protocol: Some("TCP".into()),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some("Running".into()),
                pod_ip: (!ip.is_empty()).then(|| ip.to_string()),
                pod_ips: (!ip.is_empty()).then(|| vec![PodIP { ip: ip.into() }]),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    last_transition_time: Some(ts(1_000)),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        }
    }

    pub fn service(name: &str, ports: Vec<ServicePort>) -> Service {
        Service {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                uid: Some(format!("uid-{name}")),
                labels: Some([("team".to_string(), "a".to_string())].into()),
                creation_timestamp: Some(ts(500)),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                selector: Some([("app".to_string(), "web".to_string())].into()),
                cluster_ip: Some("10.43.0.10".into()),
                ip_families: Some(vec!["IPv4".into()]),
                ports: Some(ports),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    pub fn port(name: &str, port: i32, target: IntOrString) -> ServicePort {
        ServicePort {
            name: (!name.is_empty()).then(|| name.to_string()),
            port,
            protocol: Some("TCP".into()),
            target_port: Some(target),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn membership_and_readiness() {
        let svc = service("web", vec![]);
        let p = pod("a", "10.42.0.5", true);
        assert!(selects(selector(&svc).unwrap(), &p));
        assert!(is_ready(&p));
        assert!(should_be_in_endpoints(&p, false));
        let no_ip = pod("b", "", true);
        assert!(!should_be_in_endpoints(&no_ip, true));
        let mut done = pod("c", "10.42.0.6", false);
        done.status.as_mut().unwrap().phase = Some("Succeeded".into());
        assert!(!should_be_in_endpoints(&done, true));
        let mut going = pod("d", "10.42.0.7", true);
        going.metadata.deletion_timestamp = Some(ts(2_000));
        assert!(!should_be_in_endpoints(&going, false));
        assert!(should_be_in_endpoints(&going, true));
        let mut bare = svc.clone();
        bare.spec.as_mut().unwrap().selector = Some(Default::default());
        assert!(!is_managed(&bare));
        let mut ext = svc.clone();
        ext.spec.as_mut().unwrap().type_ = Some("ExternalName".into());
        assert!(!is_managed(&ext));
    }

    #[test]
    fn ports_by_number_and_name() {
        let p = pod("a", "10.42.0.5", true);
        assert_eq!(
            find_port(&p, &port("", 80, IntOrString::Int(9000))),
            Some(9000)
        );
        assert_eq!(
            find_port(&p, &port("", 80, IntOrString::String("http".into()))),
            Some(8080)
        );
        assert_eq!(
            find_port(&p, &port("", 80, IntOrString::String("grpc".into()))),
            None
        );
        let mut udp = port("", 80, IntOrString::String("http".into()));
        udp.protocol = Some("UDP".into());
        assert_eq!(find_port(&p, &udp), None);
    }

    #[test]
    fn addresses_by_family() {
        let svc = service("web", vec![]);
        let mut p = pod("a", "10.42.0.5", true);
        assert_eq!(address_for_service(&svc, &p).as_deref(), Some("10.42.0.5"));
        p.status.as_mut().unwrap().pod_ips = Some(vec![
            k8s_openapi::api::core::v1::PodIP {
                ip: "fd00::5".into(),
            },
            k8s_openapi::api::core::v1::PodIP {
                ip: "10.42.0.5".into(),
            },
        ]);
        assert_eq!(address_for_service(&svc, &p).as_deref(), Some("10.42.0.5"));
        let mut v6 = svc.clone();
        v6.spec.as_mut().unwrap().ip_families = Some(vec!["IPv6".into()]);
        assert_eq!(address_for_service(&v6, &p).as_deref(), Some("fd00::5"));
    }
}
