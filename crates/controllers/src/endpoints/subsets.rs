//! The Endpoints object a Service should have (upstream's endpoints controller
//! syncService, RepackSubsets and truncation): one address per selected pod with an IP
//! (ready ones in `addresses`, others in `notReadyAddresses` unless the Service publishes
//! not-ready addresses), per service port the port it targets on that pod, packed into
//! subsets of addresses sharing the same ports; labels from the Service plus
//! `service.kubernetes.io/headless`; the trigger-time and over-capacity annotations. Pure.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::pods;
use super::trigger_time;

/// The label marking the Endpoints (and EndpointSlices) of a headless Service.
pub const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";
/// Set when the Endpoints were cut to [`MAX_CAPACITY`] addresses.
pub const OVER_CAPACITY: &str = "endpoints.kubernetes.io/over-capacity";
/// The most addresses an Endpoints object carries.
pub const MAX_CAPACITY: usize = 1000;

fn endpoint_address(svc: &Service, pod: &Pod, ip: String) -> EndpointAddress {
    EndpointAddress {
        ip,
        node_name: Some(
            pod.spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .unwrap_or_default(),
        ),
        hostname: pods::should_set_hostname(pod, svc)
            .then(|| pod.spec.as_ref().and_then(|s| s.hostname.clone()))
            .flatten(),
        target_ref: Some(ObjectReference {
            kind: Some("Pod".into()),
            namespace: pod.metadata.namespace.clone(),
            name: pod.metadata.name.clone(),
            uid: pod.metadata.uid.clone(),
            ..Default::default()
        }),
    }
}

/// The subsets of the Service's Endpoints, before packing: one per pod and port.
fn unpacked(svc: &Service, pods: &[&Pod]) -> Vec<EndpointSubset> {
    let spec = svc.spec.clone().unwrap_or_default();
    let tolerate_unready = spec.publish_not_ready_addresses == Some(true);
    let ports = spec.ports.unwrap_or_default();
    let mut out = Vec::new();
    for pod in pods {
        if !pods::should_be_in_endpoints(pod, tolerate_unready) {
            continue;
        }
        let Some(ip) = pods::address_for_service(svc, pod) else {
            continue;
        };
        let addr = endpoint_address(svc, pod, ip);
        let ready = tolerate_unready || pods::is_ready(pod);
        let subset = |port: Option<EndpointPort>| {
            let addrs = Some(vec![addr.clone()]);
            EndpointSubset {
                addresses: if ready { addrs.clone() } else { None },
                not_ready_addresses: if ready { None } else { addrs },
                ports: port.map(|p| vec![p]),
            }
        };
        if ports.is_empty() {
            if pods::is_headless(svc) {
                out.push(subset(None));
            }
            continue;
        }
        for sp in &ports {
            let Some(num) = pods::find_port(pod, sp) else {
                continue;
            };
            out.push(subset(Some(EndpointPort {
                name: sp.name.clone().filter(|n| !n.is_empty()),
                port: num,
                protocol: sp.protocol.clone(),
                app_protocol: sp.app_protocol.clone(),
            })));
        }
    }
    out
}

type PortKey = (String, i32, String, String);

fn port_key(p: &EndpointPort) -> PortKey {
    (
        p.name.clone().unwrap_or_default(),
        p.port,
        p.protocol.clone().unwrap_or_default(),
        p.app_protocol.clone().unwrap_or_default(),
    )
}

/// The port standing for "no ports" while packing (headless Services without ports).
const SENTINEL_PORT: i32 = -1;

fn less_address(a: &EndpointAddress, b: &EndpointAddress) -> std::cmp::Ordering {
    let uid = |x: &EndpointAddress| x.target_ref.as_ref().and_then(|r| r.uid.clone());
    a.ip.as_bytes()
        .cmp(b.ip.as_bytes())
        .then_with(|| uid(a).cmp(&uid(b)))
}

/// Upstream's RepackSubsets: every address (by IP and pod uid) once per set of ports it
/// serves, not-ready winning over ready; subsets of identical address sets merged; all
/// sorted.
pub fn repack(subsets: Vec<EndpointSubset>) -> Vec<EndpointSubset> {
    let mut addrs: Vec<EndpointAddress> = Vec::new();
    let mut index: HashMap<(String, Option<String>), usize> = HashMap::new();
    let mut by_port: BTreeMap<PortKey, (EndpointPort, BTreeMap<usize, bool>)> = BTreeMap::new();
    for s in subsets {
        let ports = match s.ports.filter(|p| !p.is_empty()) {
            Some(p) => p,
            None => vec![EndpointPort {
                port: SENTINEL_PORT,
                ..Default::default()
            }],
        };
        let entries = s.addresses.into_iter().flatten().map(|a| (a, true)).chain(
            s.not_ready_addresses
                .into_iter()
                .flatten()
                .map(|a| (a, false)),
        );
        for (addr, ready) in entries {
            let key = (
                addr.ip.clone(),
                addr.target_ref.as_ref().and_then(|r| r.uid.clone()),
            );
            let i = *index.entry(key).or_insert_with(|| {
                addrs.push(addr);
                addrs.len() - 1
            });
            for p in &ports {
                let set = &mut by_port
                    .entry(port_key(p))
                    .or_insert_with(|| (p.clone(), BTreeMap::new()))
                    .1;
                let was = set.get(&i).copied();
                if was.is_none_or(|w| w) {
                    set.insert(i, ready);
                }
            }
        }
    }
    // Ports offered by the same addresses (with the same readiness) share a subset.
    let mut groups: BTreeMap<Vec<(usize, bool)>, Vec<EndpointPort>> = BTreeMap::new();
    for (_, (port, set)) in by_port {
        groups
            .entry(set.into_iter().collect())
            .or_default()
            .push(port);
    }
    let mut out: Vec<EndpointSubset> = groups
        .into_iter()
        .map(|(set, mut ports)| {
            let mut ready: Vec<EndpointAddress> = Vec::new();
            let mut not_ready: Vec<EndpointAddress> = Vec::new();
            for (i, r) in set {
                let a = addrs[i].clone();
                if r {
                    ready.push(a)
                } else {
                    not_ready.push(a)
                }
            }
            ready.sort_by(less_address);
            not_ready.sort_by(less_address);
            ports.sort_by_key(port_key);
            let sentinel = ports.len() == 1 && ports[0].port == SENTINEL_PORT;
            EndpointSubset {
                addresses: (!ready.is_empty()).then_some(ready),
                not_ready_addresses: (!not_ready.is_empty()).then_some(not_ready),
                ports: (!sentinel).then_some(ports),
            }
        })
        .collect();
    out.sort_by_cached_key(|s| serde_json::to_string(s).unwrap_or_default());
    out
}

fn count(subsets: &[EndpointSubset]) -> (usize, usize) {
    subsets.iter().fold((0, 0), |(r, n), s| {
        (
            r + s.addresses.as_ref().map_or(0, Vec::len),
            n + s.not_ready_addresses.as_ref().map_or(0, Vec::len),
        )
    })
}

/// Upstream's truncateEndpoints: cut to [`MAX_CAPACITY`] addresses, each subset keeping
/// its share, ready addresses first. Returns whether anything was cut.
pub fn truncate(subsets: &mut [EndpointSubset]) -> bool {
    let (ready, not_ready) = count(subsets);
    if ready + not_ready <= MAX_CAPACITY {
        return false;
    }
    let truncate_ready = ready > MAX_CAPACITY;
    let (max, total) = if truncate_ready {
        (MAX_CAPACITY, ready)
    } else {
        (MAX_CAPACITY - ready, not_ready)
    };
    let mut can_be_added = max;
    for s in subsets.iter_mut() {
        let n = if truncate_ready {
            s.addresses.as_ref().map_or(0, Vec::len)
        } else {
            s.not_ready_addresses.as_ref().map_or(0, Vec::len)
        };
        let share = ((n as f64 / total as f64) * max as f64).ceil() as usize;
        let keep = share.min(can_be_added);
        let list = if truncate_ready {
            s.not_ready_addresses = None;
            &mut s.addresses
        } else {
            &mut s.not_ready_addresses
        };
        if let Some(l) = list.as_mut() {
            l.truncate(keep);
            can_be_added -= l.len();
        }
    }
    true
}

/// The subsets the Service's Endpoints should have.
pub fn desired_subsets(svc: &Service, pods: &[&Pod]) -> Vec<EndpointSubset> {
    repack(unpacked(svc, pods))
}

/// What to do with the Service's Endpoints.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Unchanged,
    Create(Endpoints),
    Update(Endpoints),
}

fn without_resource_versions(subsets: &[EndpointSubset]) -> Vec<EndpointSubset> {
    let mut s = subsets.to_vec();
    for sub in &mut s {
        for a in sub
            .addresses
            .iter_mut()
            .flatten()
            .chain(sub.not_ready_addresses.iter_mut().flatten())
        {
            if let Some(r) = a.target_ref.as_mut() {
                r.resource_version = None;
            }
        }
    }
    s
}

/// Upstream's decision for a Service with a selector: the Endpoints it should have given
/// the selected `pods`, the current Endpoints, and the sync's trigger time.
pub fn reconcile(
    svc: &Service,
    pods: &[&Pod],
    current: Option<&Endpoints>,
    trigger: Option<Timestamp>,
) -> Decision {
    let subsets = desired_subsets(svc, pods);
    let svc_labels = svc.metadata.labels.clone().unwrap_or_default();
    if let Some(cur) = current {
        let mut cmp_labels = cur.metadata.labels.clone().unwrap_or_default();
        cmp_labels.remove(HEADLESS_LABEL);
        let cur_subsets = cur.subsets.clone().unwrap_or_default();
        let (r, n) = count(&cur_subsets);
        let capacity_ok = r + n <= MAX_CAPACITY
            && !cur
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(OVER_CAPACITY));
        if without_resource_versions(&cur_subsets) == without_resource_versions(&subsets)
            && cmp_labels == svc_labels
            && capacity_ok
        {
            return Decision::Unchanged;
        }
    }
    let mut ep = current.cloned().unwrap_or_else(|| Endpoints {
        metadata: ObjectMeta {
            name: svc.metadata.name.clone(),
            namespace: svc.metadata.namespace.clone(),
            ..Default::default()
        },
        ..Default::default()
    });
    let mut subsets = subsets;
    let mut annotations = ep.metadata.annotations.take().unwrap_or_default();
    match trigger {
        Some(t) => {
            annotations.insert(trigger_time::ANNOTATION.into(), trigger_time::format(t));
        }
        None => {
            annotations.remove(trigger_time::ANNOTATION);
        }
    }
    if truncate(&mut subsets) {
        annotations.insert(OVER_CAPACITY.into(), "truncated".into());
    } else {
        annotations.remove(OVER_CAPACITY);
    }
    let mut labels = svc_labels;
    if pods::is_service_ip_set(svc) {
        labels.remove(HEADLESS_LABEL);
    } else {
        labels.insert(HEADLESS_LABEL.into(), String::new());
    }
    ep.metadata.annotations = (!annotations.is_empty()).then_some(annotations);
    ep.metadata.labels = (!labels.is_empty()).then_some(labels);
    ep.subsets = (!subsets.is_empty()).then_some(subsets);
    match current {
        Some(_) => Decision::Update(ep),
        None => Decision::Create(ep),
    }
}

#[cfg(test)]
mod tests {
    use super::super::pods::fixtures::*;
    use super::*;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    fn ips(list: &Option<Vec<EndpointAddress>>) -> Vec<&str> {
        list.iter().flatten().map(|a| a.ip.as_str()).collect()
    }

    #[test]
    fn ready_and_not_ready_addresses_share_a_subset() {
        let svc = service(
            "web",
            vec![port("http", 80, IntOrString::String("http".into()))],
        );
        let a = pod("a", "10.42.0.5", true);
        let b = pod("b", "10.42.0.10", true);
        let c = pod("c", "10.42.0.7", false);
        let no_ip = pod("d", "", true);
        let subsets = desired_subsets(&svc, &[&a, &b, &c, &no_ip]);
        assert_eq!(subsets.len(), 1);
        let s = &subsets[0];
        // Sorted as strings, as upstream compares IPs bytewise.
        assert_eq!(ips(&s.addresses), vec!["10.42.0.10", "10.42.0.5"]);
        assert_eq!(ips(&s.not_ready_addresses), vec!["10.42.0.7"]);
        let p = &s.ports.as_ref().unwrap()[0];
        assert_eq!((p.name.as_deref(), p.port), (Some("http"), 8080));
        let a0 = &s.addresses.as_ref().unwrap()[1];
        assert_eq!(a0.node_name.as_deref(), Some("node-1"));
        let r = a0.target_ref.as_ref().unwrap();
        assert_eq!(
            (r.kind.as_deref(), r.name.as_deref(), r.uid.as_deref()),
            (Some("Pod"), Some("a"), Some("uid-a"))
        );
    }

    #[test]
    fn publish_not_ready_and_unresolvable_ports() {
        let mut svc = service(
            "web",
            vec![
                port("http", 80, IntOrString::String("http".into())),
                port("grpc", 90, IntOrString::String("grpc".into())),
            ],
        );
        svc.spec.as_mut().unwrap().publish_not_ready_addresses = Some(true);
        let c = pod("c", "10.42.0.7", false);
        let subsets = desired_subsets(&svc, &[&c]);
        assert_eq!(subsets.len(), 1);
        assert_eq!(ips(&subsets[0].addresses), vec!["10.42.0.7"]);
        assert_eq!(
            subsets[0].ports.as_ref().unwrap().len(),
            1,
            "grpc is not on the pod"
        );
    }

    #[test]
    fn pods_offering_different_ports_get_different_subsets() {
        let svc = service(
            "web",
            vec![port("http", 80, IntOrString::String("http".into()))],
        );
        let a = pod("a", "10.42.0.5", true);
        let mut b = pod("b", "10.42.0.6", true);
        b.spec.as_mut().unwrap().containers[0]
            .ports
            .as_mut()
            .unwrap()[0]
            .container_port = 9090;
        let subsets = desired_subsets(&svc, &[&a, &b]);
        assert_eq!(subsets.len(), 2);
    }

    #[test]
    fn headless_without_ports() {
        let mut svc = service("web", vec![]);
        svc.spec.as_mut().unwrap().cluster_ip = Some("None".into());
        let a = pod("a", "10.42.0.5", true);
        let subsets = desired_subsets(&svc, &[&a]);
        assert_eq!(subsets.len(), 1);
        assert!(subsets[0].ports.is_none());
        match reconcile(&svc, &[&a], None, None) {
            Decision::Create(ep) => {
                let l = ep.metadata.labels.unwrap();
                assert_eq!(l.get(HEADLESS_LABEL).map(String::as_str), Some(""));
                assert_eq!(l.get("team").map(String::as_str), Some("a"));
            }
            d => panic!("{d:?}"),
        }
        // Not headless, no ports: nothing.
        let plain = service("web", vec![]);
        assert!(desired_subsets(&plain, &[&a]).is_empty());
    }

    #[test]
    fn create_then_unchanged_then_update() {
        let svc = service("web", vec![port("", 80, IntOrString::Int(8080))]);
        let a = pod("a", "10.42.0.5", true);
        let created = match reconcile(&svc, &[&a], None, Some(ts(500).0)) {
            Decision::Create(ep) => ep,
            d => panic!("{d:?}"),
        };
        assert_eq!(created.metadata.name.as_deref(), Some("web"));
        assert_eq!(
            created.metadata.annotations.as_ref().unwrap()[trigger_time::ANNOTATION],
            "1970-01-01T00:08:20Z"
        );
        assert_eq!(
            reconcile(&svc, &[&a], Some(&created), None),
            Decision::Unchanged
        );
        let b = pod("b", "10.42.0.6", false);
        match reconcile(&svc, &[&a, &b], Some(&created), None) {
            Decision::Update(ep) => {
                assert!(
                    ep.metadata.annotations.is_none(),
                    "no trigger time: removed"
                );
                assert_eq!(
                    ips(&ep.subsets.unwrap()[0].not_ready_addresses),
                    vec!["10.42.0.6"]
                );
            }
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn truncation_keeps_ready_addresses_first() {
        let addr = |i: usize| EndpointAddress {
            ip: format!("10.0.{}.{}", i / 250, i % 250),
            ..Default::default()
        };
        let mut subsets = vec![EndpointSubset {
            addresses: Some((0..900).map(addr).collect()),
            not_ready_addresses: Some((900..1200).map(addr).collect()),
            ports: None,
        }];
        assert!(truncate(&mut subsets));
        assert_eq!(count(&subsets), (900, 100));
        let mut small = vec![EndpointSubset {
            addresses: Some((0..10).map(addr).collect()),
            ..Default::default()
        }];
        assert!(!truncate(&mut small));
    }
}
