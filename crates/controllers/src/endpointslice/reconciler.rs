//! The EndpointSlices a Service should have (upstream's endpointslice reconciler): per
//! address type of the Service, one endpoint per selected pod with an address of that type
//! (conditions ready / serving / terminating, node, zone, pod reference), grouped by the
//! ports they resolve to, at most [`MAX_ENDPOINTS_PER_SLICE`] per slice. Existing slices are
//! changed as little as possible: endpoints updated in place, new ones filling the fullest
//! changed slices first, then an unchanged slice they fit in, then new slices; a slice
//! left empty is deleted (or reused for a slice to create); a Service without endpoints
//! keeps one empty placeholder slice. Pure.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ObjectReference, Pod, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::endpoints::pods;
use crate::endpoints::subsets::HEADLESS_LABEL;
use crate::endpoints::trigger_time;

/// The most endpoints one slice carries (`--max-endpoints-per-slice`).
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;
/// The label naming a slice's Service.
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
/// The label naming a slice's manager.
pub const LABEL_MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// This controller's name in [`LABEL_MANAGED_BY`].
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
/// The node label giving an endpoint's zone.
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";

/// The writes that bring a Service's slices to what they should be.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Plan {
    pub create: Vec<EndpointSlice>,
    pub update: Vec<EndpointSlice>,
    pub delete: Vec<EndpointSlice>,
    /// Pods were left out because their node is not known yet: sync again later.
    pub missing_nodes: bool,
}

/// What a node lookup answers: `None` when the node does not exist, else its zone.
pub type NodeZone<'a> = &'a dyn Fn(&str) -> Option<Option<String>>;

/// The address types the Service's slices have (from spec.ipFamilies, else its
/// ClusterIP's family, else both for a headless Service).
pub fn address_types(svc: &Service) -> BTreeSet<&'static str> {
    let spec = svc.spec.as_ref();
    let mut out = BTreeSet::new();
    for f in spec
        .and_then(|s| s.ip_families.as_ref())
        .into_iter()
        .flatten()
    {
        match f.as_str() {
            "IPv4" => {
                out.insert("IPv4");
            }
            "IPv6" => {
                out.insert("IPv6");
            }
            _ => {}
        }
    }
    if !out.is_empty() {
        return out;
    }
    if pods::is_service_ip_set(svc) {
        let v6 = spec
            .and_then(|s| s.cluster_ip.as_deref())
            .is_some_and(pods::is_ipv6);
        out.insert(if v6 { "IPv6" } else { "IPv4" });
        return out;
    }
    out.insert("IPv4");
    out.insert("IPv6");
    out
}

fn pod_to_endpoint(pod: &Pod, zone: Option<String>, svc: &Service, address_type: &str) -> Endpoint {
    let serving = pods::is_ready(pod);
    let terminating = pod.metadata.deletion_timestamp.is_some();
    let publish = svc
        .spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false);
    let ready = publish || (serving && !terminating);
    let v6 = address_type == "IPv6";
    Endpoint {
        addresses: pods::pod_ips(pod)
            .into_iter()
            .filter(|ip| pods::is_ipv6(ip) == v6)
            .collect(),
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        target_ref: Some(ObjectReference {
            kind: Some("Pod".into()),
            namespace: pod.metadata.namespace.clone(),
            name: pod.metadata.name.clone(),
            uid: pod.metadata.uid.clone(),
            ..Default::default()
        }),
        node_name: pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .filter(|n| !n.is_empty()),
        zone: zone.filter(|z| !z.is_empty()),
        hostname: pods::should_set_hostname(pod, svc)
            .then(|| pod.spec.as_ref().and_then(|s| s.hostname.clone()))
            .flatten(),
        ..Default::default()
    }
}

fn endpoint_ports(svc: &Service, pod: &Pod) -> Vec<EndpointPort> {
    let ports = svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.clone())
        .unwrap_or_default();
    if ports.is_empty() && pods::is_headless(svc) {
        return Vec::new();
    }
    ports
        .iter()
        .filter_map(|sp| {
            let num = pods::find_port(pod, sp)?;
            Some(EndpointPort {
                name: Some(sp.name.clone().unwrap_or_default()),
                port: Some(num),
                protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".into())),
                app_protocol: sp.app_protocol.clone(),
            })
        })
        .collect()
}

/// The key grouping slices by their ports (order does not matter).
fn port_map_key(ports: &[EndpointPort]) -> String {
    let mut keys: Vec<String> = ports
        .iter()
        .map(|p| {
            format!(
                "{}/{}/{}/{}",
                p.name.as_deref().unwrap_or(""),
                p.port.unwrap_or(0),
                p.protocol.as_deref().unwrap_or(""),
                p.app_protocol.as_deref().unwrap_or("")
            )
        })
        .collect();
    keys.sort();
    keys.join(",")
}

/// What identifies an endpoint across syncs (upstream's endpoint hash): its addresses,
/// hostname and the pod it stands for; other fields may change in place.
fn endpoint_key(e: &Endpoint) -> String {
    let mut addrs = e.addresses.clone();
    addrs.sort();
    let r = e.target_ref.as_ref();
    format!(
        "{}|{}|{}|{}",
        addrs.join(","),
        e.hostname.as_deref().unwrap_or(""),
        r.and_then(|r| r.namespace.as_deref()).unwrap_or(""),
        r.and_then(|r| r.name.as_deref()).unwrap_or("")
    )
}

fn normalized(e: &Endpoint) -> Endpoint {
    let mut e = e.clone();
    e.addresses.sort();
    if let Some(r) = e.target_ref.as_mut() {
        r.resource_version = None;
    }
    e
}

/// Whether the slice is owned by the Service.
pub fn owned_by(slice: &EndpointSlice, svc: &Service) -> bool {
    slice.metadata.owner_references.iter().flatten().any(|o| {
        Some(&o.uid) == svc.metadata.uid.as_ref() && o.kind == "Service" && o.api_version == "v1"
    })
}

fn is_reserved_label(k: &str) -> bool {
    k == LABEL_SERVICE_NAME || k == LABEL_MANAGED_BY || k == HEADLESS_LABEL
}

/// The labels a slice of the Service carries, and whether the slice's own (non-reserved)
/// labels differ from the Service's.
fn slice_labels(
    current: Option<&BTreeMap<String, String>>,
    svc: &Service,
) -> (BTreeMap<String, String>, bool) {
    let ep: BTreeMap<String, String> = current
        .into_iter()
        .flatten()
        .filter(|(k, _)| !is_reserved_label(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut labels: BTreeMap<String, String> = svc
        .metadata
        .labels
        .iter()
        .flatten()
        .filter(|(k, _)| !is_reserved_label(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let changed = ep != labels;
    if !pods::is_service_ip_set(svc) {
        labels.insert(HEADLESS_LABEL.into(), String::new());
    }
    labels.insert(
        LABEL_SERVICE_NAME.into(),
        svc.metadata.name.clone().unwrap_or_default(),
    );
    labels.insert(LABEL_MANAGED_BY.into(), CONTROLLER_NAME.into());
    (labels, changed)
}

/// The `generateName` of the Service's slices.
pub fn slice_prefix(service_name: &str) -> String {
    // `<name>-` unless that is no longer a valid name (too long): then the name itself.
    if service_name.len() < 253 {
        format!("{service_name}-")
    } else {
        service_name.to_string()
    }
}

fn new_slice(svc: &Service, ports: Option<Vec<EndpointPort>>, address_type: &str) -> EndpointSlice {
    let (labels, _) = slice_labels(None, svc);
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(slice_prefix(
                svc.metadata.name.as_deref().unwrap_or_default(),
            )),
            namespace: svc.metadata.namespace.clone(),
            labels: Some(labels),
            owner_references: Some(vec![OwnerReference {
                api_version: "v1".into(),
                kind: "Service".into(),
                name: svc.metadata.name.clone().unwrap_or_default(),
                uid: svc.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        address_type: address_type.into(),
        endpoints: Vec::new(),
        ports,
    }
}

/// Whether an existing slice is just the placeholder the Service would get anyway.
fn is_placeholder_of(slice: &EndpointSlice, placeholder: &EndpointSlice) -> bool {
    slice.metadata.namespace == placeholder.metadata.namespace
        && slice.metadata.labels.clone().unwrap_or_default()
            == placeholder.metadata.labels.clone().unwrap_or_default()
        && slice.metadata.owner_references == placeholder.metadata.owner_references
        && slice.address_type == placeholder.address_type
        && slice.endpoints.is_empty()
        && slice.ports.as_ref().is_none_or(Vec::is_empty)
}

fn set_trigger_time(slice: &mut EndpointSlice, trigger: Option<Timestamp>) {
    let mut a = slice.metadata.annotations.take().unwrap_or_default();
    match trigger {
        Some(t) => {
            a.insert(trigger_time::ANNOTATION.into(), trigger_time::format(t));
        }
        None => {
            a.remove(trigger_time::ANNOTATION);
        }
    }
    slice.metadata.annotations = (!a.is_empty()).then_some(a);
}

struct Desired {
    ports: Vec<EndpointPort>,
    endpoints: BTreeMap<String, Endpoint>,
}

/// Upstream's Reconcile for a Service with a selector: the writes that turn `existing`
/// (the slices labelled as the Service's and managed by this controller, none being
/// deleted) into the slices for the selected `pods`.
pub fn reconcile(
    svc: &Service,
    pods: &[&Pod],
    node_zone: NodeZone<'_>,
    existing: &[&EndpointSlice],
    trigger: Option<Timestamp>,
) -> Plan {
    let mut plan = Plan::default();
    let types = address_types(svc);
    let mut by_type: BTreeMap<&str, Vec<&EndpointSlice>> = BTreeMap::new();
    let mut unsupported = Vec::new();
    for s in existing {
        match types.get(s.address_type.as_str()) {
            Some(t) => by_type.entry(t).or_default().push(s),
            None => unsupported.push((*s).clone()),
        }
    }
    for t in &types {
        let slices = by_type.remove(t).unwrap_or_default();
        reconcile_address_type(svc, pods, node_zone, &slices, trigger, t, &mut plan);
    }
    plan.delete.extend(unsupported);
    plan
}

fn reconcile_address_type(
    svc: &Service,
    pods: &[&Pod],
    node_zone: NodeZone<'_>,
    existing: &[&EndpointSlice],
    trigger: Option<Timestamp>,
    address_type: &str,
    plan: &mut Plan,
) {
    let mut to_create: Vec<EndpointSlice> = Vec::new();
    let mut to_update: Vec<EndpointSlice> = Vec::new();
    let mut to_delete: Vec<EndpointSlice> = Vec::new();

    let mut existing_by_ports: BTreeMap<String, Vec<&EndpointSlice>> = BTreeMap::new();
    for s in existing {
        if owned_by(s, svc) {
            existing_by_ports
                .entry(port_map_key(s.ports.as_deref().unwrap_or_default()))
                .or_default()
                .push(s);
        } else {
            to_delete.push((*s).clone());
        }
    }

    let publish = svc
        .spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false);
    let mut desired: BTreeMap<String, Desired> = BTreeMap::new();
    for pod in pods {
        if !pods::should_be_in_endpoints(pod, true) {
            continue;
        }
        let ports = endpoint_ports(svc, pod);
        let key = port_map_key(&ports);
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        let zone = match node_zone(&node) {
            Some(z) => z,
            None if publish => None,
            None => {
                plan.missing_nodes = true;
                continue;
            }
        };
        let entry = desired.entry(key).or_insert_with(|| Desired {
            ports,
            endpoints: BTreeMap::new(),
        });
        let ep = pod_to_endpoint(pod, zone, svc, address_type);
        if !ep.addresses.is_empty() {
            entry.endpoints.insert(endpoint_key(&ep), ep);
        }
    }

    for (key, want) in desired.iter_mut() {
        let slices = existing_by_ports.get(key).cloned().unwrap_or_default();
        let (c, u, d) = reconcile_by_ports(svc, &slices, want, address_type);
        to_create.extend(c);
        to_update.extend(u);
        to_delete.extend(d);
    }
    for (key, slices) in &existing_by_ports {
        if !desired.contains_key(key) {
            to_delete.extend(slices.iter().map(|s| (*s).clone()));
        }
    }

    // A Service without endpoints keeps one empty slice.
    if existing.len() == to_delete.len() && to_create.is_empty() {
        let placeholder = new_slice(svc, None, address_type);
        if to_delete.len() == 1 && is_placeholder_of(&to_delete[0], &placeholder) {
            to_delete.clear();
        } else {
            to_create.push(placeholder);
        }
    }

    // Slices to create reuse the slices to delete (same address type, owned).
    let mut i = 0;
    while i < to_delete.len() && !to_create.is_empty() {
        let reusable = to_delete[i].address_type == address_type && owned_by(&to_delete[i], svc);
        if reusable {
            let old = to_delete.remove(i);
            let mut slice = to_create.pop().unwrap_or_default();
            slice.metadata.name = old.metadata.name.clone();
            slice.metadata.generate_name = None;
            slice.metadata.resource_version = old.metadata.resource_version.clone();
            to_update.push(slice);
        } else {
            i += 1;
        }
    }

    let terminating = svc.metadata.deletion_timestamp.is_some();
    for mut s in to_create {
        if terminating {
            continue;
        }
        set_trigger_time(&mut s, trigger);
        plan.create.push(s);
    }
    for mut s in to_update {
        set_trigger_time(&mut s, trigger);
        plan.update.push(s);
    }
    plan.delete.extend(to_delete);
}

/// Upstream's reconcileByPortMapping for the slices of one set of ports.
fn reconcile_by_ports(
    svc: &Service,
    existing: &[&EndpointSlice],
    want: &mut Desired,
    address_type: &str,
) -> (Vec<EndpointSlice>, Vec<EndpointSlice>, Vec<EndpointSlice>) {
    let desired = &mut want.endpoints;
    let mut by_name: BTreeMap<String, EndpointSlice> = BTreeMap::new();
    let mut unchanged: BTreeSet<String> = BTreeSet::new();
    let mut to_update: BTreeSet<String> = BTreeSet::new();
    let mut to_delete: BTreeSet<String> = BTreeSet::new();

    // 1. Keep (and refresh) the endpoints still wanted, drop the others.
    for s in existing {
        let name = s.metadata.name.clone().unwrap_or_default();
        let mut kept = Vec::new();
        let mut changed = false;
        for e in &s.endpoints {
            if let Some(got) = desired.remove(&endpoint_key(e)) {
                if normalized(&got) != normalized(e) {
                    changed = true;
                }
                kept.push(got);
            }
        }
        let (labels, labels_changed) = slice_labels(s.metadata.labels.as_ref(), svc);
        if changed || kept.len() != s.endpoints.len() {
            if kept.is_empty() {
                to_delete.insert(name.clone());
                by_name.insert(name, (*s).clone());
            } else {
                let mut copy = (*s).clone();
                copy.endpoints = kept;
                copy.metadata.labels = Some(labels);
                to_update.insert(name.clone());
                by_name.insert(name, copy);
            }
        } else if labels_changed {
            let mut copy = (*s).clone();
            copy.metadata.labels = Some(labels);
            to_update.insert(name.clone());
            by_name.insert(name, copy);
        } else {
            unchanged.insert(name.clone());
            by_name.insert(name, (*s).clone());
        }
    }

    let pop = |desired: &mut BTreeMap<String, Endpoint>| desired.pop_first().map(|(_, e)| e);

    // 2. Fill the slices being updated anyway, fullest first.
    if !desired.is_empty() && !to_update.is_empty() {
        let mut names: Vec<String> = to_update.iter().cloned().collect();
        names.sort_by_key(|n| std::cmp::Reverse(by_name[n].endpoints.len()));
        for n in names {
            if let Some(s) = by_name.get_mut(&n) {
                while s.endpoints.len() < MAX_ENDPOINTS_PER_SLICE {
                    match pop(desired) {
                        Some(e) => s.endpoints.push(e),
                        None => break,
                    }
                }
            }
        }
    }

    // 3. Put the rest in an unchanged slice they fit in best, or in new slices.
    let mut to_create = Vec::new();
    while !desired.is_empty() {
        let mut fill: Option<String> = None;
        if desired.len() < MAX_ENDPOINTS_PER_SLICE && !unchanged.is_empty() {
            let mut closest = MAX_ENDPOINTS_PER_SLICE;
            for n in &unchanged {
                let len = by_name[n].endpoints.len();
                if len + desired.len() <= MAX_ENDPOINTS_PER_SLICE {
                    let diff = MAX_ENDPOINTS_PER_SLICE - (len + desired.len());
                    if diff < closest {
                        closest = diff;
                        fill = Some(n.clone());
                    }
                }
            }
        }
        let mut slice = match &fill {
            Some(n) => by_name[n].clone(),
            None => new_slice(svc, Some(want.ports.clone()), address_type),
        };
        while slice.endpoints.len() < MAX_ENDPOINTS_PER_SLICE {
            match pop(desired) {
                Some(e) => slice.endpoints.push(e),
                None => break,
            }
        }
        match fill {
            Some(n) => {
                unchanged.remove(&n);
                to_update.insert(n.clone());
                by_name.insert(n, slice);
            }
            None => to_create.push(slice),
        }
    }

    let update = to_update
        .iter()
        .filter_map(|n| by_name.get(n).cloned())
        .collect();
    let delete = to_delete
        .iter()
        .filter_map(|n| by_name.get(n).cloned())
        .collect();
    (to_create, update, delete)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::pods::fixtures::*;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    fn zone_a(node: &str) -> Option<Option<String>> {
        (node == "node-1").then(|| Some("zone-a".to_string()))
    }

    fn named(mut s: EndpointSlice, name: &str) -> EndpointSlice {
        s.metadata.name = Some(name.into());
        s.metadata.generate_name = None;
        s.metadata.resource_version = Some("1".into());
        s
    }

    fn web() -> Service {
        service(
            "web",
            vec![port("http", 80, IntOrString::String("http".into()))],
        )
    }

    #[test]
    fn a_new_service_gets_one_slice() {
        let svc = web();
        let a = pod("a", "10.42.0.5", true);
        let mut b = pod("b", "10.42.0.6", false);
        b.metadata.deletion_timestamp = Some(ts(9));
        let no_ip = pod("c", "", true);
        let plan = reconcile(&svc, &[&a, &b, &no_ip], &zone_a, &[], Some(ts(500).0));
        assert_eq!(plan.create.len(), 1);
        assert!(plan.update.is_empty() && plan.delete.is_empty());
        let s = &plan.create[0];
        assert_eq!(s.metadata.generate_name.as_deref(), Some("web-"));
        assert_eq!(s.address_type, "IPv4");
        let labels = s.metadata.labels.as_ref().unwrap();
        assert_eq!(labels[LABEL_SERVICE_NAME], "web");
        assert_eq!(labels[LABEL_MANAGED_BY], CONTROLLER_NAME);
        assert_eq!(labels["team"], "a");
        assert!(!labels.contains_key(HEADLESS_LABEL));
        let owner = &s.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str(), owner.controller),
            ("Service", "uid-web", Some(true))
        );
        let ports = s.ports.as_ref().unwrap();
        assert_eq!(ports[0].port, Some(8080));
        assert_eq!(ports[0].name.as_deref(), Some("http"));
        assert_eq!(s.endpoints.len(), 2);
        let ea = &s.endpoints[0];
        assert_eq!(ea.addresses, vec!["10.42.0.5"]);
        let c = ea.conditions.as_ref().unwrap();
        assert_eq!(
            (c.ready, c.serving, c.terminating),
            (Some(true), Some(true), Some(false))
        );
        assert_eq!(ea.zone.as_deref(), Some("zone-a"));
        assert_eq!(ea.node_name.as_deref(), Some("node-1"));
        let eb = &s.endpoints[1];
        let c = eb.conditions.as_ref().unwrap();
        assert_eq!(
            (c.ready, c.serving, c.terminating),
            (Some(false), Some(false), Some(true))
        );
        assert_eq!(
            s.metadata.annotations.as_ref().unwrap()[trigger_time::ANNOTATION],
            "1970-01-01T00:08:20Z"
        );
    }

    #[test]
    fn no_endpoints_means_one_placeholder_kept() {
        let svc = web();
        let plan = reconcile(&svc, &[], &zone_a, &[], None);
        assert_eq!(plan.create.len(), 1);
        assert!(plan.create[0].endpoints.is_empty());
        assert!(plan.create[0].ports.is_none());
        let existing = named(plan.create[0].clone(), "web-abcde");
        let plan = reconcile(&svc, &[], &zone_a, &[&existing], None);
        assert_eq!(plan, Plan::default(), "the placeholder stays as it is");
    }

    #[test]
    fn changes_are_made_in_place() {
        let svc = web();
        let a = pod("a", "10.42.0.5", false);
        let first = reconcile(&svc, &[&a], &zone_a, &[], None);
        let existing = named(first.create[0].clone(), "web-abcde");
        // Nothing changed: nothing to write.
        assert_eq!(
            reconcile(&svc, &[&a], &zone_a, &[&existing], None),
            Plan::default()
        );
        // The pod became ready: the slice is updated, not replaced.
        let ready = pod("a", "10.42.0.5", true);
        let plan = reconcile(&svc, &[&ready], &zone_a, &[&existing], None);
        assert!(plan.create.is_empty() && plan.delete.is_empty());
        assert_eq!(plan.update.len(), 1);
        assert_eq!(plan.update[0].metadata.name.as_deref(), Some("web-abcde"));
        assert_eq!(
            plan.update[0].endpoints[0]
                .conditions
                .as_ref()
                .unwrap()
                .ready,
            Some(true)
        );
        // The pod went away: the slice becomes the placeholder (reused, not recreated).
        let plan = reconcile(&svc, &[], &zone_a, &[&existing], None);
        assert!(plan.create.is_empty() && plan.delete.is_empty());
        assert_eq!(plan.update.len(), 1);
        assert!(plan.update[0].endpoints.is_empty());
        assert_eq!(plan.update[0].metadata.name.as_deref(), Some("web-abcde"));
    }

    #[test]
    fn at_most_a_hundred_per_slice() {
        let svc = web();
        let pods: Vec<Pod> = (0..250)
            .map(|i| {
                pod(
                    &format!("p{i}"),
                    &format!("10.42.{}.{}", i / 200, i % 200),
                    true,
                )
            })
            .collect();
        let refs: Vec<&Pod> = pods.iter().collect();
        let plan = reconcile(&svc, &refs, &zone_a, &[], None);
        let mut sizes: Vec<usize> = plan.create.iter().map(|s| s.endpoints.len()).collect();
        sizes.sort();
        assert_eq!(sizes, vec![50, 100, 100]);
    }

    #[test]
    fn unknown_nodes_are_skipped_and_retried() {
        let svc = web();
        let mut a = pod("a", "10.42.0.5", true);
        a.spec.as_mut().unwrap().node_name = Some("elsewhere".into());
        let plan = reconcile(&svc, &[&a], &zone_a, &[], None);
        assert!(plan.missing_nodes);
        assert!(plan.create[0].endpoints.is_empty());
    }

    #[test]
    fn slices_of_other_owners_or_families_go() {
        let svc = web();
        let a = pod("a", "10.42.0.5", true);
        let mut stale = named(new_slice(&svc, None, "IPv4"), "web-old");
        stale.metadata.owner_references.as_mut().unwrap()[0].uid = "someone-else".into();
        let v6 = named(new_slice(&svc, None, "IPv6"), "web-v6");
        let plan = reconcile(&svc, &[&a], &zone_a, &[&stale, &v6], None);
        // The stale IPv4 slice is reused? No: it is not the Service's; deleted.
        let deleted: Vec<_> = plan
            .delete
            .iter()
            .map(|s| s.metadata.name.clone().unwrap())
            .collect();
        assert!(deleted.contains(&"web-old".to_string()));
        assert!(deleted.contains(&"web-v6".to_string()));
        assert_eq!(plan.create.len(), 1);
    }

    #[test]
    fn headless_services_are_labelled() {
        let mut svc = web();
        svc.spec.as_mut().unwrap().cluster_ip = Some("None".into());
        let plan = reconcile(&svc, &[], &zone_a, &[], None);
        let labels = plan.create[0].metadata.labels.as_ref().unwrap();
        assert_eq!(labels.get(HEADLESS_LABEL).map(String::as_str), Some(""));
    }
}
