//! Validation of the other core/v1 kinds: ConfigMap, Secret, Namespace, Node,
//! PersistentVolumeClaim, PersistentVolume, ServiceAccount, Endpoints,
//! ReplicationController, Event, LimitRange, ResourceQuota.

use base64::Engine;
use serde_json::Value;

use super::meta;
use super::names::{self, NameRule};
use super::pod::{self, dns_label, nonnegative, protocol};
use crate::admission::field::{
    child, duplicate, forbidden, index, invalid, key, not_supported, required, too_long, Bad, Errs,
};
use crate::admission::quantity::Quantity;
use crate::admission::value as v;

/// Largest total size of a Secret's or ConfigMap's data (1 MiB).
pub(crate) const MAX_SECRET_SIZE: usize = 1024 * 1024;

fn decoded_len(s: &str) -> usize {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map(|b| b.len())
        .unwrap_or(s.len())
}

/// `ValidateConfigMap`.
pub(crate) fn config_map(cm: &Value, errs: &mut Errs) {
    meta::object_meta(cm, true, NameRule::Subdomain, errs);
    let mut total = 0usize;
    let binary = v::obj(cm, &["binaryData"]);
    if let Some(data) = v::obj(cm, &["data"]) {
        for (k, val) in data {
            for m in names::config_map_key(k) {
                errs.push(invalid(&key("data", k), Bad::str(k), &m));
            }
            if binary.is_some_and(|b| b.contains_key(k)) {
                errs.push(invalid(
                    &key("data", k),
                    Bad::str(k),
                    "duplicate of key present in binaryData",
                ));
            }
            total += val.as_str().map_or(0, str::len);
        }
    }
    if let Some(bin) = binary {
        for (k, val) in bin {
            for m in names::config_map_key(k) {
                errs.push(invalid(&key("binaryData", k), Bad::str(k), &m));
            }
            total += val.as_str().map_or(0, decoded_len);
        }
    }
    if total > MAX_SECRET_SIZE {
        errs.push(too_long("", MAX_SECRET_SIZE));
    }
}

/// `ValidateConfigMapUpdate`.
pub(crate) fn config_map_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    immutable_data(new, old, &["data", "binaryData"], errs);
    config_map(new, errs);
}

fn immutable_data(new: &Value, old: &Value, fields: &[&str], errs: &mut Errs) {
    if v::boolean(old, &["immutable"]) == Some(true) {
        if v::boolean(new, &["immutable"]) != Some(true) {
            errs.push(forbidden(
                "immutable",
                "field is immutable when `immutable` is set",
            ));
        }
        for f in fields {
            if !v::semantic_eq(new.get(*f), old.get(*f)) {
                errs.push(forbidden(f, "field is immutable when `immutable` is set"));
            }
        }
    }
}

/// `ValidateSecret`.
pub(crate) fn secret(s: &Value, errs: &mut Errs) {
    meta::object_meta(s, true, NameRule::Subdomain, errs);
    let data = v::obj(s, &["data"]);
    let mut total = 0usize;
    if let Some(data) = data {
        for (k, val) in data {
            for m in names::config_map_key(k) {
                errs.push(invalid(&key("data", k), Bad::str(k), &m));
            }
            total += val.as_str().map_or(0, decoded_len);
        }
    }
    if total > MAX_SECRET_SIZE {
        errs.push(too_long("data", MAX_SECRET_SIZE));
    }
    let has = |k: &str| data.is_some_and(|d| d.contains_key(k));
    let get = |k: &str| {
        data.and_then(|d| d.get(k))
            .and_then(Value::as_str)
            .and_then(|x| base64::engine::general_purpose::STANDARD.decode(x).ok())
    };
    match v::s(s, &["type"]) {
        "kubernetes.io/service-account-token"
            if v::s(
                s,
                &[
                    "metadata",
                    "annotations",
                    "kubernetes.io/service-account.name",
                ],
            )
            .is_empty() =>
        {
            errs.push(required(
                "metadata.annotations[kubernetes.io/service-account.name]",
                "",
            ));
        }
        "kubernetes.io/dockercfg" | "kubernetes.io/dockerconfigjson" => {
            let k = if v::s(s, &["type"]) == "kubernetes.io/dockercfg" {
                ".dockercfg"
            } else {
                ".dockerconfigjson"
            };
            if !has(k) {
                errs.push(required(&key("data", k), ""));
            } else if let Some(bytes) = get(k) {
                if let Err(e) = serde_json::from_slice::<serde_json::Map<String, Value>>(&bytes) {
                    errs.push(invalid(
                        &key("data", k),
                        Bad::str("<secret contents redacted>"),
                        &e.to_string(),
                    ));
                }
            }
        }
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            errs.push(required("data[username]", ""));
            errs.push(required("data[password]", ""));
        }
        "kubernetes.io/ssh-auth" if get("ssh-privatekey").is_none_or(|b| b.is_empty()) => {
            errs.push(required("data[ssh-privatekey]", ""));
        }
        "kubernetes.io/tls" => {
            if !has("tls.crt") {
                errs.push(required("data[tls.crt]", ""));
            }
            if !has("tls.key") {
                errs.push(required("data[tls.key]", ""));
            }
        }
        _ => {}
    }
}

/// `ValidateSecretUpdate`.
pub(crate) fn secret_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    let nt = v::s(new, &["type"]);
    if nt != v::s(old, &["type"]) {
        errs.push(invalid("type", Bad::str(nt), "field is immutable"));
    }
    immutable_data(new, old, &["data"], errs);
    secret(new, errs);
}

/// `ValidateNamespace`.
pub(crate) fn namespace(ns: &Value, errs: &mut Errs) {
    meta::object_meta(ns, false, NameRule::Label, errs);
    for f in v::strings(ns, &["spec", "finalizers"]) {
        for m in names::qualified_name(&f) {
            errs.push(invalid("spec.finalizers", Bad::Str(f.clone()), &m));
        }
        if !f.contains('/') && f != "kubernetes" {
            errs.push(invalid(
                "spec.finalizers",
                Bad::Str(f.clone()),
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
}

/// `ValidateNamespaceStatusUpdate`.
pub(crate) fn namespace_status_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    let phase = v::s(new, &["status", "phase"]);
    if !v::present(new, &["metadata", "deletionTimestamp"]) {
        if phase != "Active" {
            errs.push(invalid(
                "status.Phase",
                Bad::str(phase),
                "may only be 'Active' if `deletionTimestamp` is empty",
            ));
        }
    } else if phase != "Terminating" {
        errs.push(invalid(
            "status.Phase",
            Bad::str(phase),
            "may only be 'Terminating' if `deletionTimestamp` is not empty",
        ));
    }
}

fn taints(node: &Value, errs: &mut Errs) {
    let mut seen = std::collections::BTreeSet::new();
    for (i, t) in v::arr(node, &["spec", "taints"]).iter().enumerate() {
        // upstream validates node taints under metadata.taints
        let p = index("metadata.taints", i);
        let k = v::s(t, &["key"]);
        meta::label_name(k, &child(&p, "key"), errs);
        let val = v::s(t, &["value"]);
        let msgs = names::label_value(val);
        if !msgs.is_empty() {
            errs.push(invalid(&child(&p, "value"), Bad::str(val), &msgs.join(";")));
        }
        let effect = v::s(t, &["effect"]);
        if effect.is_empty() {
            errs.push(required(&child(&p, "effect"), ""));
        } else {
            pod::taint_effect(effect, &child(&p, "effect"), errs);
        }
        if !seen.insert((effect.to_string(), k.to_string())) {
            let mut c = duplicate(
                &p,
                Bad::Go(format!(
                    "core.Taint{{Key:{}, Value:{}, Effect:{}, TimeAdded:<nil>}}",
                    crate::admission::field::go_quote(k),
                    crate::admission::field::go_quote(val),
                    crate::admission::field::go_quote(effect)
                )),
            );
            c.message
                .push_str(": taints must be unique by key and effect pair");
            errs.push(c);
        }
    }
}

fn node_resources(node: &Value, errs: &mut Errs) {
    for list in ["capacity", "allocatable"] {
        if let Some(m) = v::obj(node, &["status", list]) {
            for (k, q) in m {
                if let Ok(q) = Quantity::from_json(q) {
                    pod::quantity_value(k, &q, &format!("status.{list}.{k}"), errs);
                }
            }
        }
    }
}

/// `ValidateNode`.
pub(crate) fn node(n: &Value, errs: &mut Errs) {
    meta::object_meta(n, false, NameRule::Subdomain, errs);
    taints(n, errs);
    node_resources(n, errs);
    let cidrs = v::strings(n, &["spec", "podCIDRs"]);
    for (i, c) in cidrs.iter().enumerate() {
        if !names::is_cidr(c) {
            errs.push(invalid(
                &index("spec.podCIDRs", i),
                Bad::Str(c.clone()),
                "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            ));
        }
    }
}

/// `ValidateNodeUpdate`.
pub(crate) fn node_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    node_resources(new, errs);
    let old_cidrs = v::strings(old, &["spec", "podCIDRs"]);
    if !old_cidrs.is_empty() && old_cidrs != v::strings(new, &["spec", "podCIDRs"]) {
        errs.push(forbidden(
            "spec.podCIDRs",
            "node updates may not change podCIDR except from \"\" to valid",
        ));
    }
    let old_pid = v::s(old, &["spec", "providerID"]);
    if !old_pid.is_empty() && old_pid != v::s(new, &["spec", "providerID"]) {
        errs.push(forbidden(
            "spec.providerID",
            "node updates may not change providerID except from \"\" to valid",
        ));
    }
    taints(new, errs);
    if v::s(new, &["spec", "externalID"]) != v::s(old, &["spec", "externalID"]) {
        errs.push(forbidden("spec.externalID", "may not be updated"));
    }
}

const ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];

fn access_modes(spec: &Value, path: &str, detail: &str, errs: &mut Errs) {
    let modes = v::strings(spec, &["accessModes"]);
    if modes.is_empty() {
        errs.push(required(&child(path, "accessModes"), detail));
    }
    let (mut once_pod, mut other) = (false, false);
    for m in &modes {
        if !ACCESS_MODES.contains(&m.as_str()) {
            errs.push(not_supported(
                &child(path, "accessModes"),
                Bad::Str(m.clone()),
                ACCESS_MODES,
            ));
        } else if m == "ReadWriteOncePod" {
            once_pod = true;
        } else {
            other = true;
        }
    }
    if once_pod && other {
        errs.push(forbidden(
            &child(path, "accessModes"),
            "may not use ReadWriteOncePod with other access modes",
        ));
    }
}

fn volume_mode(spec: &Value, path: &str, errs: &mut Errs) {
    if let Some(m) = v::opt_s(spec, &["volumeMode"]) {
        if m != "Block" && m != "Filesystem" {
            errs.push(not_supported(
                &child(path, "volumeMode"),
                Bad::str(m),
                &["Block", "Filesystem"],
            ));
        }
    }
}

fn class_name(spec: &Value, field: &str, path: &str, errs: &mut Errs) {
    if let Some(c) = v::opt_s(spec, &[field]).filter(|c| !c.is_empty()) {
        for m in NameRule::Subdomain.check(c, false) {
            errs.push(invalid(&child(path, field), Bad::str(c), &m));
        }
    }
}

/// `ValidatePersistentVolumeClaimSpec`.
pub(crate) fn pvc_spec(spec: &Value, path: &str, errs: &mut Errs) {
    access_modes(spec, path, "at least 1 access mode is required", errs);
    meta::label_selector(spec.get("selector"), &child(path, "selector"), errs);
    let sp = key(&child(path, "resources"), "storage");
    match v::at(spec, &["resources", "requests", "storage"]).map(Quantity::from_json) {
        None => errs.push(required(&sp, "")),
        Some(Ok(q)) if !q.is_positive() => errs.push(invalid(
            &sp,
            Bad::Str(q.canonical()),
            "must be greater than zero",
        )),
        _ => {}
    }
    class_name(spec, "storageClassName", path, errs);
    volume_mode(spec, path, errs);
    for ds in ["dataSource", "dataSourceRef"] {
        if let Some(d) = spec.get(ds).filter(|x| x.is_object()) {
            let dp = child(path, ds);
            if v::s(d, &["name"]).is_empty() {
                errs.push(required(&child(&dp, "name"), ""));
            }
            let kind = v::s(d, &["kind"]);
            if kind.is_empty() {
                errs.push(required(&child(&dp, "kind"), ""));
            }
            if v::s(d, &["apiGroup"]).is_empty() && kind != "PersistentVolumeClaim" {
                errs.push(invalid(
                    &dp,
                    Bad::str(kind),
                    "must be 'PersistentVolumeClaim' when referencing the default apiGroup",
                ));
            }
        }
    }
}

/// `ValidatePersistentVolumeClaim`.
pub(crate) fn pvc(obj: &Value, errs: &mut Errs) {
    meta::object_meta(obj, true, NameRule::Subdomain, errs);
    pvc_spec(obj.get("spec").unwrap_or(&Value::Null), "spec", errs);
}

/// `ValidatePersistentVolumeClaimUpdate`: the spec is immutable except the storage request
/// (which may only grow) and the volume name (set once).
pub(crate) fn pvc_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    pvc(new, errs);
    let mut n = new.get("spec").cloned().unwrap_or(Value::Null);
    let mut o = old.get("spec").cloned().unwrap_or(Value::Null);
    if v::s(&o, &["volumeName"]).is_empty() {
        if let (Some(om), Some(vn)) = (
            o.as_object_mut(),
            new.get("spec").and_then(|s| s.get("volumeName")),
        ) {
            om.insert("volumeName".into(), vn.clone());
        }
    }
    // A claim without a class may be given one (upstream's retroactive default
    // StorageClass assignment).
    if o.get("storageClassName").is_none_or(Value::is_null) {
        if let (Some(om), Some(sc)) = (
            o.as_object_mut(),
            new.get("spec").and_then(|s| s.get("storageClassName")),
        ) {
            om.insert("storageClassName".into(), sc.clone());
        }
    }
    if v::s(new, &["status", "phase"]) == "Bound" {
        if let Some(req) =
            v::ensure_path(&mut n, &["resources", "requests"]).and_then(Value::as_object_mut)
        {
            match v::at(old, &["spec", "resources", "requests", "storage"]) {
                Some(s) => req.insert("storage".into(), s.clone()),
                None => req.remove("storage"),
            };
        }
    }
    if !v::semantic_eq(Some(&n), Some(&o)) {
        let diff = pod::spec_diff(&o, &n);
        errs.push(forbidden(
            "spec",
            &format!("spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n{diff}"),
        ));
    }
    let q = |x: &Value| {
        v::at(x, &["spec", "resources", "requests", "storage"])
            .and_then(|q| Quantity::from_json(q).ok())
            .unwrap_or_else(Quantity::zero)
    };
    if q(new) < q(old) {
        errs.push(forbidden(
            "spec.resources.requests.storage",
            "field can not be less than status.capacity",
        ));
    }
}

const RECLAIM: &[&str] = &["Delete", "Recycle", "Retain"];

/// `ValidatePersistentVolume`.
pub(crate) fn pv(obj: &Value, errs: &mut Errs) {
    meta::object_meta(obj, false, NameRule::Subdomain, errs);
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    access_modes(spec, "spec", "", errs);
    let cap = v::obj(spec, &["capacity"]);
    if cap.is_none_or(|c| c.is_empty()) {
        errs.push(required("spec.capacity", ""));
    }
    if cap.is_none_or(|c| !c.contains_key("storage") || c.len() > 1) {
        errs.push(not_supported(
            "spec.capacity",
            Bad::Go(format!(
                "core.ResourceList{}",
                spec.get("capacity").unwrap_or(&Value::Null)
            )),
            &["storage"],
        ));
    }
    if let Some(cap) = cap {
        for (k, q) in cap {
            if let Ok(q) = Quantity::from_json(q) {
                if !q.is_positive() {
                    errs.push(invalid(
                        &key("spec.capacity", k),
                        Bad::Str(q.canonical()),
                        "must be greater than zero",
                    ));
                }
            }
        }
    }
    if let Some(p) = v::opt_s(spec, &["persistentVolumeReclaimPolicy"]).filter(|p| !p.is_empty()) {
        if !RECLAIM.contains(&p) {
            errs.push(not_supported(
                "spec.persistentVolumeReclaimPolicy",
                Bad::str(p),
                RECLAIM,
            ));
        }
    }
    let mut n = 0;
    for s in PV_SOURCE_FIELDS {
        if v::present(spec, &[s]) {
            if n > 0 {
                errs.push(forbidden(
                    &child("spec", s),
                    "may not specify more than 1 volume type",
                ));
            }
            n += 1;
        }
    }
    if n == 0 {
        errs.push(required("spec", "must specify a volume type"));
    }
    if v::present(spec, &["hostPath"]) && v::s(spec, &["hostPath", "path"]).is_empty() {
        errs.push(required("spec.hostPath.path", ""));
    }
    if v::present(spec, &["local"]) {
        if v::s(spec, &["local", "path"]).is_empty() {
            errs.push(required("spec.local.path", ""));
        }
        if !v::present(spec, &["nodeAffinity", "required"]) {
            errs.push(required(
                "spec.nodeAffinity",
                "Local volume requires node affinity",
            ));
        }
    }
    class_name(spec, "storageClassName", "spec", errs);
    volume_mode(spec, "spec", errs);
}

const PV_SOURCE_FIELDS: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "flocker",
    "nfs",
    "rbd",
    "quobyte",
    "cephfs",
    "iscsi",
    "cinder",
    "fc",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "scaleIO",
    "local",
    "storageos",
    "csi",
];

/// `ValidatePersistentVolumeUpdate`.
pub(crate) fn pv_update(new: &Value, old: &Value, errs: &mut Errs) {
    pv(new, errs);
    meta::object_meta_update(new, old, errs);
    let changed = PV_SOURCE_FIELDS
        .iter()
        .any(|f| !v::semantic_eq(v::at(new, &["spec", f]), v::at(old, &["spec", f])));
    if changed {
        errs.push(forbidden(
            "spec.persistentvolumesource",
            "spec.persistentvolumesource is immutable after creation",
        ));
    }
    let nm = v::at(new, &["spec", "volumeMode"]);
    if nm != v::at(old, &["spec", "volumeMode"]) {
        errs.push(invalid(
            "volumeMode",
            nm.and_then(Value::as_str).map_or(Bad::Null, Bad::str),
            "field is immutable",
        ));
    }
}

/// `ValidateServiceAccount`.
pub(crate) fn service_account(sa: &Value, errs: &mut Errs) {
    meta::object_meta(sa, true, NameRule::Subdomain, errs);
}

/// `ValidateEndpoints`.
pub(crate) fn endpoints(ep: &Value, errs: &mut Errs) {
    meta::object_meta(ep, true, NameRule::Subdomain, errs);
    for (i, ss) in v::arr(ep, &["subsets"]).iter().enumerate() {
        let p = index("subsets", i);
        let addrs = v::arr(ss, &["addresses"]);
        let not_ready = v::arr(ss, &["notReadyAddresses"]);
        if addrs.is_empty() && not_ready.is_empty() {
            errs.push(required(
                &p,
                "must specify `addresses` or `notReadyAddresses`",
            ));
        }
        for (list, items) in [("addresses", addrs), ("notReadyAddresses", not_ready)] {
            for (j, a) in items.iter().enumerate() {
                let ap = index(&child(&p, list), j);
                let ip = v::s(a, &["ip"]);
                match names::parse_ip_sloppy(ip) {
                    None => {
                        errs.push(invalid(&child(&ap, "ip"), Bad::str(ip), names::INVALID_IP));
                        errs.push(invalid(
                            &child(&ap, "ip"),
                            Bad::str(ip),
                            "must be a valid IP address",
                        ));
                    }
                    Some(addr) => special_ip(addr, ip, &child(&ap, "ip"), errs),
                }
                let h = v::s(a, &["hostname"]);
                if !h.is_empty() {
                    dns_label(h, &child(&ap, "hostname"), errs);
                }
            }
        }
        let ports = v::arr(ss, &["ports"]);
        for (j, port) in ports.iter().enumerate() {
            let pp = index(&child(&p, "ports"), j);
            let name = v::s(port, &["name"]);
            if ports.len() > 1 && name.is_empty() {
                errs.push(required(&child(&pp, "name"), ""));
            } else if !name.is_empty() {
                dns_label(name, &child(&pp, "name"), errs);
            }
            let n = v::int(port, &["port"]).unwrap_or(0);
            for m in names::port_num(n) {
                errs.push(invalid(&child(&pp, "port"), Bad::Int(n), &m));
            }
            protocol(v::s(port, &["protocol"]), &child(&pp, "protocol"), errs);
        }
    }
}

/// `ValidateNonSpecialIP` for a parsed address.
pub(crate) fn special_ip(ip: std::net::IpAddr, text: &str, path: &str, errs: &mut Errs) {
    if ip.is_unspecified() {
        errs.push(invalid(
            path,
            Bad::str(text),
            &format!("may not be unspecified ({text})"),
        ));
    }
    if ip.is_loopback() {
        errs.push(invalid(
            path,
            Bad::str(text),
            "may not be in the loopback range (127.0.0.0/8, ::1/128)",
        ));
    }
    let link_local_unicast = match ip {
        std::net::IpAddr::V4(a) => a.is_link_local(),
        std::net::IpAddr::V6(a) => (a.segments()[0] & 0xffc0) == 0xfe80,
    };
    if link_local_unicast {
        errs.push(invalid(
            path,
            Bad::str(text),
            "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        ));
    }
    let link_local_multicast = match ip {
        std::net::IpAddr::V4(a) => a.octets()[..3] == [224, 0, 0],
        std::net::IpAddr::V6(a) => (a.segments()[0] & 0xff0f) == 0xff02,
    };
    if link_local_multicast {
        errs.push(invalid(
            path,
            Bad::str(text),
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        ));
    }
}

/// `ValidateReplicationController` (and the spec part of its update).
pub(crate) fn replication_controller(rc: &Value, errs: &mut Errs) {
    meta::object_meta(rc, true, NameRule::Subdomain, errs);
    let spec = rc.get("spec").unwrap_or(&Value::Null);
    nonnegative(
        v::int(spec, &["minReadySeconds"]),
        "spec.minReadySeconds",
        errs,
    );
    let selector = spec
        .get("selector")
        .filter(|s| s.as_object().is_some_and(|m| !m.is_empty()));
    if selector.is_none() {
        errs.push(required("spec.selector", ""));
    }
    nonnegative(v::int(spec, &["replicas"]), "spec.replicas", errs);
    match spec.get("template").filter(|t| t.is_object()) {
        None => errs.push(required("spec.template", "")),
        Some(tpl) => {
            if let Some(sel) = selector {
                let want = meta::label_set(Some(sel));
                let have = meta::label_set(v::at(tpl, &["metadata", "labels"]));
                if !want.iter().all(|(k, val)| have.get(k) == Some(val)) {
                    errs.push(invalid(
                        "spec.template.metadata.labels",
                        Bad::Go(crate::admission::field::go_string_map(v::at(
                            tpl,
                            &["metadata", "labels"],
                        ))),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
            pod::pod_template_spec(tpl, "spec.template", errs);
            let rp = v::s(tpl, &["spec", "restartPolicy"]);
            if rp != "Always" {
                errs.push(not_supported(
                    "spec.template.spec.restartPolicy",
                    Bad::str(rp),
                    &["Always"],
                ));
            }
            if v::present(tpl, &["spec", "activeDeadlineSeconds"]) {
                errs.push(forbidden(
                    "spec.template.spec.activeDeadlineSeconds",
                    "activeDeadlineSeconds in ReplicationController is not Supported",
                ));
            }
        }
    }
}

/// `ValidateEvent` for core/v1 events created through the legacy API.
pub(crate) fn event(ev: &Value, errs: &mut Errs) {
    let ns = v::s(ev, &["metadata", "namespace"]);
    let involved_ns = v::s(ev, &["involvedObject", "namespace"]);
    meta::object_meta(ev, true, NameRule::Subdomain, errs);
    if !involved_ns.is_empty() && involved_ns != ns {
        errs.push(invalid(
            "involvedObject.namespace",
            Bad::str(involved_ns),
            "does not match event.namespace",
        ));
    }
    let t = v::s(ev, &["type"]);
    if !t.is_empty() && t != "Normal" && t != "Warning" {
        errs.push(not_supported("type", Bad::str(t), &["Normal", "Warning"]));
    }
}

/// `ValidateLimitRange` (type names and duplicate types).
pub(crate) fn limit_range(lr: &Value, errs: &mut Errs) {
    meta::object_meta(lr, true, NameRule::Subdomain, errs);
    let mut seen = std::collections::BTreeSet::new();
    for (i, l) in v::arr(lr, &["spec", "limits"]).iter().enumerate() {
        let t = v::s(l, &["type"]);
        let p = child(&index("spec.limits", i), "type");
        pod::qualified(t, &p, errs);
        if !t.contains('/') && !["Pod", "Container", "PersistentVolumeClaim"].contains(&t) {
            errs.push(invalid(
                &p,
                Bad::str(t),
                "must be a standard limit type or fully qualified",
            ));
        }
        if !seen.insert(t.to_string()) {
            errs.push(duplicate(&p, Bad::str(t)));
        }
    }
}

/// `ValidateResourceQuota` (quantities of `spec.hard`).
pub(crate) fn resource_quota(rq: &Value, errs: &mut Errs) {
    meta::object_meta(rq, true, NameRule::Subdomain, errs);
    if let Some(hard) = v::obj(rq, &["spec", "hard"]) {
        for (k, q) in hard {
            if let Ok(q) = Quantity::from_json(q) {
                pod::quantity_value(k, &q, &key("spec.hard", k), errs);
            }
        }
    }
}
