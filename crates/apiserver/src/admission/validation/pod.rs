//! Pod and pod template validation (`pkg/apis/core/validation`: `ValidatePodSpec`,
//! `ValidatePodTemplateSpec`, `ValidatePodCreate`, `ValidatePodUpdate`,
//! `ValidatePodStatusUpdate`): containers, ports, env, volumes and mounts, probes,
//! resources, tolerations, affinity, DNS and restart policies, security context ranges, and
//! the short list of fields a pod update may change.

use std::collections::BTreeSet;

use serde_json::Value;

use super::meta;
use super::names::{self, NameRule};
use crate::admission::field::{
    child, duplicate, forbidden, index, invalid, key, not_found, not_supported, required, Bad, Errs,
};
use crate::admission::quantity::Quantity;
use crate::admission::value as v;

const MAX_INT32: i64 = 2_147_483_647;
const NEGATIVE: &str = "must be greater than or equal to 0";

/// `ValidateNonnegativeField`.
pub(crate) fn nonnegative(val: Option<i64>, path: &str, errs: &mut Errs) {
    if let Some(x) = val {
        if x < 0 {
            errs.push(invalid(path, Bad::Int(x), NEGATIVE));
        }
    }
}

/// `ValidateDNS1123Label` of a present value.
pub(crate) fn dns_label(val: &str, path: &str, errs: &mut Errs) {
    for m in names::dns1123_label(val) {
        errs.push(invalid(path, Bad::str(val), &m));
    }
}

/// `ValidateDNS1123Subdomain` of a present value.
pub(crate) fn dns_subdomain(val: &str, path: &str, errs: &mut Errs) {
    for m in names::dns1123_subdomain(val) {
        errs.push(invalid(path, Bad::str(val), &m));
    }
}

/// `ValidateQualifiedName`.
pub(crate) fn qualified(val: &str, path: &str, errs: &mut Errs) {
    for m in names::qualified_name(val) {
        errs.push(invalid(path, Bad::str(val), &m));
    }
}

/// Volume source fields in upstream's check order, with the path segment upstream names in
/// the "more than 1" error (two are misspelt upstream and kept so).
const VOLUME_SOURCES: &[(&str, &str)] = &[
    ("emptyDir", "emptyDir"),
    ("hostPath", "hostPath"),
    ("gitRepo", "gitRepo"),
    ("gcePersistentDisk", "gcePersistentDisk"),
    ("awsElasticBlockStore", "awsElasticBlockStore"),
    ("secret", "secret"),
    ("nfs", "nfs"),
    ("iscsi", "iscsi"),
    ("glusterfs", "glusterfs"),
    ("flocker", "flocker"),
    ("persistentVolumeClaim", "persistentVolumeClaim"),
    ("rbd", "rbd"),
    ("cinder", "cinder"),
    ("cephfs", "cephFS"),
    ("quobyte", "quobyte"),
    ("downwardAPI", "downwarAPI"),
    ("fc", "fc"),
    ("flexVolume", "flexVolume"),
    ("configMap", "configMap"),
    ("azureFile", "azureFile"),
    ("vsphereVolume", "vsphereVolume"),
    ("photonPersistentDisk", "photonPersistentDisk"),
    ("portworxVolume", "portworxVolume"),
    ("azureDisk", "azureDisk"),
    ("storageos", "storageos"),
    ("projected", "projected"),
    ("scaleIO", "scaleIO"),
    ("csi", "csi"),
    ("ephemeral", "ephemeral"),
    ("image", "image"),
];

const FILE_MODE_ERR: &str = "must be a number between 0 and 0777 (octal), both inclusive";

fn file_mode(src: &Value, name: &str, path: &str, errs: &mut Errs) {
    if let Some(m) = v::int(src, &[name]) {
        if !(0..=0o777).contains(&m) {
            errs.push(invalid(&child(path, name), Bad::Int(m), FILE_MODE_ERR));
        }
    }
}

fn no_backsteps(target: &str, path: &str, errs: &mut Errs) {
    if target.replace('\\', "/").split('/').any(|p| p == "..") {
        errs.push(invalid(path, Bad::str(target), "must not contain '..'"));
    }
}

fn local_descending_path(target: &str, path: &str, errs: &mut Errs) {
    if target.starts_with('/') {
        errs.push(invalid(path, Bad::str(target), "must be a relative path"));
    }
    no_backsteps(target, path, errs);
}

fn local_non_reserved_path(target: &str, path: &str, errs: &mut Errs) {
    local_descending_path(target, path, errs);
    if target.starts_with("..") && !target.starts_with("../") {
        errs.push(invalid(path, Bad::str(target), "must not start with '..'"));
    }
}

fn key_to_paths(src: &Value, path: &str, errs: &mut Errs) {
    for (i, kp) in v::arr(src, &["items"]).iter().enumerate() {
        let p = index(&child(path, "items"), i);
        if v::s(kp, &["key"]).is_empty() {
            errs.push(required(&child(&p, "key"), ""));
        }
        let target = v::s(kp, &["path"]);
        if target.is_empty() {
            errs.push(required(&child(&p, "path"), ""));
        }
        local_non_reserved_path(target, &child(&p, "path"), errs);
        file_mode(kp, "mode", &p, errs);
    }
}

fn volume_source(vol: &Value, path: &str, errs: &mut Errs) {
    let mut count = 0;
    for (field, err_name) in VOLUME_SOURCES {
        let Some(src) = vol.get(*field).filter(|s| !s.is_null()) else {
            continue;
        };
        if count > 0 {
            errs.push(forbidden(
                &child(path, err_name),
                "may not specify more than 1 volume type",
            ));
            continue;
        }
        count += 1;
        let p = child(path, field);
        match *field {
            "hostPath" => {
                let hp = v::s(src, &["path"]);
                if hp.is_empty() {
                    errs.push(required(&child(&p, "path"), ""));
                } else {
                    no_backsteps(hp, &child(&p, "path"), errs);
                    let t = v::s(src, &["type"]);
                    const TYPES: &[&str] = &[
                        "",
                        "BlockDevice",
                        "CharDevice",
                        "Directory",
                        "DirectoryOrCreate",
                        "File",
                        "FileOrCreate",
                        "Socket",
                    ];
                    if !TYPES.contains(&t) {
                        errs.push(not_supported(&child(&p, "type"), Bad::str(t), TYPES));
                    }
                }
            }
            "secret" => {
                if v::s(src, &["secretName"]).is_empty() {
                    errs.push(required(&child(&p, "secretName"), ""));
                }
                file_mode(src, "defaultMode", &p, errs);
                key_to_paths(src, &p, errs);
            }
            "configMap" => {
                if v::s(src, &["name"]).is_empty() {
                    errs.push(required(&child(&p, "name"), ""));
                }
                file_mode(src, "defaultMode", &p, errs);
                key_to_paths(src, &p, errs);
            }
            "persistentVolumeClaim" if v::s(src, &["claimName"]).is_empty() => {
                errs.push(required(&child(&p, "claimName"), ""));
            }
            "nfs" => {
                if v::s(src, &["server"]).is_empty() {
                    errs.push(required(&child(&p, "server"), ""));
                }
                let np = v::s(src, &["path"]);
                if np.is_empty() {
                    errs.push(required(&child(&p, "path"), ""));
                }
                if !np.starts_with('/') {
                    errs.push(invalid(
                        &child(&p, "path"),
                        Bad::str(np),
                        "must be an absolute path",
                    ));
                }
            }
            "emptyDir" => {
                if let Some(q) = src
                    .get("sizeLimit")
                    .and_then(|q| Quantity::from_json(q).ok())
                {
                    if q.is_negative() {
                        errs.push(forbidden(
                            &child(&p, "sizeLimit"),
                            "SizeLimit field must be a valid resource quantity",
                        ));
                    }
                }
            }
            "downwardAPI" => file_mode(src, "defaultMode", &p, errs),
            "projected" => file_mode(src, "defaultMode", &p, errs),
            "csi" if v::s(src, &["driver"]).is_empty() => {
                errs.push(required(&child(&p, "driver"), ""));
            }
            "ephemeral" if !v::present(src, &["volumeClaimTemplate"]) => {
                errs.push(required(&child(&p, "volumeClaimTemplate"), ""));
            }
            _ => {}
        }
    }
    if count == 0 {
        errs.push(required(path, "must specify a volume type"));
    }
}

/// `ValidateVolumes`: returns the valid volume names (and whether each is PVC-backed).
fn volumes(spec: &Value, path: &str, errs: &mut Errs) -> Vec<(String, bool)> {
    let mut names: Vec<(String, bool)> = Vec::new();
    for (i, vol) in v::arr(spec, &["volumes"]).iter().enumerate() {
        let p = index(path, i);
        let name = v::s(vol, &["name"]);
        let mut el = Errs::new();
        volume_source(vol, &p, &mut el);
        if name.is_empty() {
            el.push(required(&child(&p, "name"), ""));
        } else {
            dns_label(name, &child(&p, "name"), &mut el);
        }
        if names.iter().any(|(n, _)| n == name) {
            el.push(duplicate(&child(&p, "name"), Bad::str(name)));
        }
        if el.is_empty() {
            let pvc =
                v::present(vol, &["persistentVolumeClaim"]) || v::present(vol, &["ephemeral"]);
            names.push((name.to_string(), pvc));
        } else {
            errs.extend(el);
        }
    }
    names
}

fn container_ports(ctr: &Value, path: &str, errs: &mut Errs) {
    let mut seen = BTreeSet::new();
    for (i, port) in v::arr(ctr, &["ports"]).iter().enumerate() {
        let p = index(path, i);
        let name = v::s(port, &["name"]);
        if !name.is_empty() {
            let msgs = names::port_name(name);
            if !msgs.is_empty() {
                for m in msgs {
                    errs.push(invalid(&child(&p, "name"), Bad::str(name), &m));
                }
            } else if !seen.insert(name.to_string()) {
                errs.push(duplicate(&child(&p, "name"), Bad::str(name)));
            }
        }
        match v::int(port, &["containerPort"]).unwrap_or(0) {
            0 => errs.push(required(&child(&p, "containerPort"), "")),
            cp => {
                for m in names::port_num(cp) {
                    errs.push(invalid(&child(&p, "containerPort"), Bad::Int(cp), &m));
                }
            }
        }
        let hp = v::int(port, &["hostPort"]).unwrap_or(0);
        if hp != 0 {
            for m in names::port_num(hp) {
                errs.push(invalid(&child(&p, "hostPort"), Bad::Int(hp), &m));
            }
        }
        protocol(v::s(port, &["protocol"]), &child(&p, "protocol"), errs);
    }
}

/// A port protocol: required, one of TCP, UDP, SCTP.
pub(crate) fn protocol(proto: &str, path: &str, errs: &mut Errs) {
    if proto.is_empty() {
        errs.push(required(path, ""));
    } else if !["SCTP", "TCP", "UDP"].contains(&proto) {
        errs.push(not_supported(
            path,
            Bad::str(proto),
            &["SCTP", "TCP", "UDP"],
        ));
    }
}

const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

fn env(ctr: &Value, path: &str, errs: &mut Errs) {
    for (i, ev) in v::arr(ctr, &["env"]).iter().enumerate() {
        let p = index(path, i);
        let name = v::s(ev, &["name"]);
        if name.is_empty() {
            errs.push(required(&child(&p, "name"), ""));
        } else {
            for m in names::env_var_name(name) {
                errs.push(invalid(&child(&p, "name"), Bad::str(name), &m));
            }
        }
        let Some(from) = ev.get("valueFrom").filter(|x| x.is_object()) else {
            continue;
        };
        let fp = child(&p, "valueFrom");
        let mut sources = 0;
        if let Some(fr) = from.get("fieldRef").filter(|x| x.is_object()) {
            sources += 1;
            let frp = child(&fp, "fieldRef");
            if v::s(fr, &["apiVersion"]).is_empty() {
                errs.push(required(&child(&frp, "apiVersion"), ""));
            } else {
                let fpath = v::s(fr, &["fieldPath"]);
                if fpath.is_empty() {
                    errs.push(required(&child(&frp, "fieldPath"), ""));
                } else if let Some((base, sub)) = split_subscript(fpath) {
                    match base {
                        "metadata.annotations" => qualified(&sub.to_lowercase(), &frp, errs),
                        "metadata.labels" => qualified(sub, &frp, errs),
                        _ => errs.push(invalid(&frp, Bad::str(base), "does not support subscript")),
                    }
                } else if !ENV_FIELD_PATHS.contains(&fpath)
                    && fpath != "metadata.labels"
                    && fpath != "metadata.annotations"
                {
                    errs.push(not_supported(
                        &child(&frp, "fieldPath"),
                        Bad::str(fpath),
                        ENV_FIELD_PATHS,
                    ));
                }
            }
        }
        if from.get("resourceFieldRef").is_some_and(Value::is_object) {
            sources += 1;
            let r = v::s(from, &["resourceFieldRef", "resource"]);
            if r.is_empty() {
                errs.push(required(
                    &child(&child(&fp, "resourceFieldRef"), "resource"),
                    "",
                ));
            }
        }
        for (k, label) in [
            ("configMapKeyRef", "configMapKeyRef"),
            ("secretKeyRef", "secretKeyRef"),
        ] {
            if let Some(sel) = from.get(k).filter(|x| x.is_object()) {
                sources += 1;
                let sp = child(&fp, label);
                let n = v::s(sel, &["name"]);
                for m in NameRule::Subdomain.check(n, false) {
                    errs.push(invalid(&child(&sp, "name"), Bad::str(n), &m));
                }
                let key_name = v::s(sel, &["key"]);
                if key_name.is_empty() {
                    errs.push(required(&child(&sp, "key"), ""));
                } else {
                    for m in names::config_map_key(key_name) {
                        errs.push(invalid(&child(&sp, "key"), Bad::str(key_name), &m));
                    }
                }
            }
        }
        if sources == 0 {
            errs.push(invalid(
                &fp,
                Bad::str(""),
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            ));
        } else if !v::s(ev, &["value"]).is_empty() {
            errs.push(invalid(
                &fp,
                Bad::str(""),
                "may not be specified when `value` is not empty",
            ));
        } else if sources > 1 {
            errs.push(invalid(
                &fp,
                Bad::str(""),
                "may not have more than one field specified at a time",
            ));
        }
    }
    let env_from = child(path.strip_suffix(".env").unwrap_or(path), "envFrom");
    for (i, ef) in v::arr(ctr, &["envFrom"]).iter().enumerate() {
        let p = index(&env_from, i);
        let prefix = v::s(ef, &["prefix"]);
        if !prefix.is_empty() {
            for m in names::env_var_name(prefix) {
                errs.push(invalid(&child(&p, "prefix"), Bad::str(prefix), &m));
            }
        }
        let mut sources = 0;
        for k in ["configMapRef", "secretRef"] {
            if let Some(r) = ef.get(k).filter(|x| x.is_object()) {
                sources += 1;
                let n = v::s(r, &["name"]);
                if n.is_empty() {
                    errs.push(required(&child(&child(&p, k), "name"), ""));
                } else {
                    for m in NameRule::Subdomain.check(n, true) {
                        errs.push(invalid(&child(&child(&p, k), "name"), Bad::str(n), &m));
                    }
                }
            }
        }
        if sources == 0 {
            errs.push(invalid(
                &env_from,
                Bad::str(""),
                "must specify one of: `configMapRef` or `secretRef`",
            ));
        } else if sources > 1 {
            errs.push(invalid(
                &env_from,
                Bad::str(""),
                "may not have more than one field specified at a time",
            ));
        }
    }
}

fn split_subscript(path: &str) -> Option<(&str, &str)> {
    let open = path.find('[')?;
    let inner = path
        .strip_suffix("']")?
        .get(open + 1..)?
        .strip_prefix('\'')?;
    Some((&path[..open], inner))
}

fn volume_mounts(ctr: &Value, vols: &[(String, bool)], path: &str, errs: &mut Errs) {
    let devices: Vec<(String, String)> = v::arr(ctr, &["volumeDevices"])
        .iter()
        .map(|d| {
            (
                v::s(d, &["name"]).to_string(),
                v::s(d, &["devicePath"]).to_string(),
            )
        })
        .collect();
    let mut mountpoints = BTreeSet::new();
    for (i, m) in v::arr(ctr, &["volumeMounts"]).iter().enumerate() {
        let p = index(path, i);
        let name = v::s(m, &["name"]);
        if name.is_empty() {
            errs.push(required(&child(&p, "name"), ""));
        }
        if !vols.iter().any(|(n, _)| n == name) {
            errs.push(not_found(&child(&p, "name"), Bad::str(name)));
        }
        let mp = v::s(m, &["mountPath"]);
        if mp.is_empty() {
            errs.push(required(&child(&p, "mountPath"), ""));
        }
        if !mountpoints.insert(mp.to_string()) {
            errs.push(invalid(
                &child(&p, "mountPath"),
                Bad::str(mp),
                "must be unique",
            ));
        }
        if devices.iter().any(|(n, _)| n == name) {
            errs.push(invalid(
                &child(&p, "name"),
                Bad::str(name),
                "must not already exist in volumeDevices",
            ));
        }
        if devices.iter().any(|(_, d)| d == mp) {
            errs.push(invalid(
                &child(&p, "mountPath"),
                Bad::str(mp),
                "must not already exist as a path in volumeDevices",
            ));
        }
        let sub = v::s(m, &["subPath"]);
        if !sub.is_empty() {
            local_descending_path(sub, &child(path, "subPath"), errs);
        }
        let expr = v::s(m, &["subPathExpr"]);
        if !expr.is_empty() {
            if !sub.is_empty() {
                errs.push(invalid(
                    &child(&p, "subPathExpr"),
                    Bad::str(expr),
                    "subPathExpr and subPath are mutually exclusive",
                ));
            }
            local_descending_path(expr, &child(path, "subPathExpr"), errs);
        }
        if let Some(prop) = v::opt_s(m, &["mountPropagation"]) {
            const PROPS: &[&str] = &["Bidirectional", "HostToContainer", "None"];
            let mpath = child(path, "mountPropagation");
            if !PROPS.contains(&prop) {
                errs.push(not_supported(&mpath, Bad::str(prop), PROPS));
            }
            let privileged = v::boolean(ctr, &["securityContext", "privileged"]) == Some(true);
            if prop == "Bidirectional" && !privileged {
                errs.push(forbidden(
                    &mpath,
                    "Bidirectional mount propagation is available only to privileged containers",
                ));
            }
        }
    }
}

const STANDARD_CONTAINER_RESOURCES: &[&str] = &["cpu", "memory", "ephemeral-storage"];

fn is_native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

fn is_hugepages(name: &str) -> bool {
    name.starts_with("hugepages-")
}

fn overcommit_allowed(name: &str) -> bool {
    is_native(name) && !is_hugepages(name)
}

fn container_resource_name(name: &str, path: &str, errs: &mut Errs) {
    let before = errs.len();
    qualified(name, path, errs);
    if errs.len() != before {
        return;
    }
    if !name.contains('/') {
        if !STANDARD_CONTAINER_RESOURCES.contains(&name) && !is_hugepages(name) {
            // validateResourceName: "must be a standard resource type or fully qualified"
            // comes first for names that are no standard resource at all.
            const STANDARD: &[&str] = &[
                "cpu",
                "memory",
                "ephemeral-storage",
                "pods",
                "services",
                "replicationcontrollers",
                "resourcequotas",
                "secrets",
                "configmaps",
                "persistentvolumeclaims",
                "storage",
            ];
            if !STANDARD.contains(&name)
                && !name.starts_with("requests.")
                && !name.starts_with("limits.")
            {
                errs.push(invalid(
                    path,
                    Bad::str(name),
                    "must be a standard resource type or fully qualified",
                ));
                return;
            }
            errs.push(invalid(
                path,
                Bad::str(name),
                "must be a standard resource for containers",
            ));
        }
    } else if !is_native(name) {
        let extended = !name.starts_with("requests.")
            && names::qualified_name(&format!("requests.{name}")).is_empty();
        if !extended {
            errs.push(invalid(
                path,
                Bad::str(name),
                "doesn't follow extended resource name standard",
            ));
        }
    }
}

/// `ValidateResourceQuantityValue` for a parsed quantity.
pub(crate) fn quantity_value(name: &str, q: &Quantity, path: &str, errs: &mut Errs) {
    if q.is_negative() {
        errs.push(invalid(path, Bad::Str(q.canonical()), NEGATIVE));
    }
    if !is_native(name) && !q.is_integer() {
        errs.push(invalid(path, Bad::Go(q.canonical()), "must be an integer"));
    }
}

fn resources(ctr: &Value, path: &str, errs: &mut Errs) {
    let lim_path = child(path, "limits");
    let req_path = child(path, "requests");
    let limits = v::obj(ctr, &["resources", "limits"]);
    let mut lim_cpu_mem = false;
    let mut req_cpu_mem = false;
    let mut lim_huge = false;
    let mut req_huge = false;
    if let Some(limits) = limits {
        for (name, q) in limits {
            let p = key(&lim_path, name);
            container_resource_name(name, &p, errs);
            if let Ok(q) = Quantity::from_json(q) {
                quantity_value(name, &q, &p, errs);
            }
            lim_huge |= is_hugepages(name);
            lim_cpu_mem |= name == "cpu" || name == "memory";
        }
    }
    if let Some(requests) = v::obj(ctr, &["resources", "requests"]) {
        for (name, q) in requests {
            let p = key(&req_path, name);
            container_resource_name(name, &p, errs);
            let Ok(q) = Quantity::from_json(q) else {
                continue;
            };
            quantity_value(name, &q, &p, errs);
            match limits.and_then(|l| l.get(name)).map(Quantity::from_json) {
                Some(Ok(lim)) => {
                    if q != lim && !overcommit_allowed(name) {
                        errs.push(invalid(
                            &req_path,
                            Bad::Str(q.canonical()),
                            &format!("must be equal to {name} limit of {}", lim.canonical()),
                        ));
                    } else if q > lim {
                        errs.push(invalid(
                            &req_path,
                            Bad::Str(q.canonical()),
                            &format!(
                                "must be less than or equal to {name} limit of {}",
                                lim.canonical()
                            ),
                        ));
                    }
                }
                Some(Err(_)) => {}
                None => {
                    if !overcommit_allowed(name) {
                        errs.push(required(
                            &lim_path,
                            "Limit must be set for non overcommitable resources",
                        ));
                    }
                }
            }
            req_huge |= is_hugepages(name);
            req_cpu_mem |= name == "cpu" || name == "memory";
        }
    }
    if !lim_cpu_mem && !req_cpu_mem && (req_huge || lim_huge) {
        errs.push(forbidden(path, "HugePages require cpu or memory"));
    }
}

fn port_num_or_name(port: Option<&Value>, path: &str, errs: &mut Errs) {
    match port {
        Some(Value::String(s)) => {
            for m in names::port_name(s) {
                errs.push(invalid(path, Bad::str(s), &m));
            }
        }
        Some(Value::Number(n)) => {
            let p = n.as_i64().unwrap_or(0);
            for m in names::port_num(p) {
                errs.push(invalid(path, Bad::Int(p), &m));
            }
        }
        _ => {
            for m in names::port_num(0) {
                errs.push(invalid(path, Bad::Int(0), &m));
            }
        }
    }
}

/// `validateHandler` for probes and lifecycle hooks.
fn handler(h: &Value, grace: Option<i64>, lifecycle: bool, path: &str, errs: &mut Errs) {
    let mut kinds = vec!["exec", "httpGet", "tcpSocket"];
    kinds.push(if lifecycle { "sleep" } else { "grpc" });
    let mut n = 0;
    for k in kinds {
        let Some(x) = h.get(k).filter(|x| !x.is_null()) else {
            continue;
        };
        let p = child(path, k);
        if n > 0 {
            errs.push(forbidden(&p, "may not specify more than 1 handler type"));
            continue;
        }
        n += 1;
        match k {
            "exec" if v::arr(x, &["command"]).is_empty() => {
                errs.push(required(&child(&p, "command"), ""));
            }
            "httpGet" => {
                if v::s(x, &["path"]).is_empty() {
                    errs.push(required(&child(&p, "path"), ""));
                }
                port_num_or_name(x.get("port"), &child(&p, "port"), errs);
                let scheme = v::s(x, &["scheme"]);
                if scheme != "HTTP" && scheme != "HTTPS" {
                    errs.push(not_supported(
                        &child(&p, "scheme"),
                        Bad::str(scheme),
                        &["HTTP", "HTTPS"],
                    ));
                }
                for hdr in v::arr(x, &["httpHeaders"]) {
                    let hn = v::s(hdr, &["name"]);
                    for m in names::http_header_name(hn) {
                        errs.push(invalid(&child(&p, "httpHeaders"), Bad::str(hn), &m));
                    }
                }
            }
            "tcpSocket" => port_num_or_name(x.get("port"), &child(&p, "port"), errs),
            "grpc" => {
                let port = v::int(x, &["port"]).unwrap_or(0);
                for m in names::port_num(port) {
                    errs.push(invalid(&child(&p, "port"), Bad::Int(port), &m));
                }
            }
            "sleep" => {
                let secs = v::int(x, &["seconds"]).unwrap_or(0);
                if let Some(g) = grace {
                    if secs < 0 || secs > g {
                        errs.push(invalid(
                            &p,
                            Bad::Int(secs),
                            &format!("must be non-negative and less than terminationGracePeriodSeconds ({g})"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    if n == 0 {
        errs.push(required(path, "must specify a handler type"));
    }
}

fn probe(ctr: &Value, name: &str, grace: Option<i64>, path: &str, errs: &mut Errs) {
    let Some(pr) = ctr.get(name).filter(|p| p.is_object()) else {
        return;
    };
    let p = child(path, name);
    handler(pr, grace, false, &p, errs);
    for f in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        nonnegative(v::int(pr, &[f]), &child(&p, f), errs);
    }
    if let Some(t) = v::int(pr, &["terminationGracePeriodSeconds"]) {
        if name == "readinessProbe" {
            errs.push(invalid(
                &child(&p, "terminationGracePeriodSeconds"),
                Bad::Int(t),
                "must not be set for readinessProbes",
            ));
        } else if t <= 0 {
            errs.push(invalid(
                &child(&p, "terminationGracePeriodSeconds"),
                Bad::Int(t),
                "must be greater than 0",
            ));
        }
    }
    if name != "readinessProbe" {
        let st = v::int(pr, &["successThreshold"]).unwrap_or(0);
        if st != 1 {
            errs.push(invalid(
                &child(&p, "successThreshold"),
                Bad::Int(st),
                "must be 1",
            ));
        }
    }
}

fn id_range(val: Option<i64>, path: &str, errs: &mut Errs) {
    if let Some(x) = val {
        if !(0..=MAX_INT32).contains(&x) {
            errs.push(invalid(
                path,
                Bad::Int(x),
                &names::inclusive_range_error(0, MAX_INT32),
            ));
        }
    }
}

fn container_security_context(ctr: &Value, path: &str, errs: &mut Errs) {
    let Some(sc) = ctr.get("securityContext").filter(|x| x.is_object()) else {
        return;
    };
    id_range(v::int(sc, &["runAsUser"]), &child(path, "runAsUser"), errs);
    id_range(
        v::int(sc, &["runAsGroup"]),
        &child(path, "runAsGroup"),
        errs,
    );
    if let Some(pm) = v::opt_s(sc, &["procMount"]) {
        if pm != "Default" && pm != "Unmasked" {
            errs.push(not_supported(
                &child(path, "procMount"),
                Bad::str(pm),
                &["Default", "Unmasked"],
            ));
        }
    }
    if v::boolean(sc, &["allowPrivilegeEscalation"]) == Some(false)
        && v::boolean(sc, &["privileged"]) == Some(true)
    {
        errs.push(invalid(
            path,
            Bad::Go(crate::admission::field::go_struct(
                "core.SecurityContext",
                Some(sc),
            )),
            "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
        ));
    }
}

/// `validateContainerCommon`.
fn container_common(ctr: &Value, vols: &[(String, bool)], path: &str, errs: &mut Errs) {
    let name = v::s(ctr, &["name"]);
    if name.is_empty() {
        errs.push(required(&child(path, "name"), ""));
    } else {
        dns_label(name, &child(path, "name"), errs);
    }
    if v::s(ctr, &["image"]).is_empty() {
        errs.push(required(&child(path, "image"), ""));
    }
    let tmp = v::s(ctr, &["terminationMessagePolicy"]);
    match tmp {
        "File" | "FallbackToLogsOnError" => {}
        "" => errs.push(required(&child(path, "terminationMessagePolicy"), "")),
        other => errs.push(not_supported(
            &child(path, "terminationMessagePolicy"),
            Bad::str(other),
            &["File", "FallbackToLogsOnError"],
        )),
    }
    container_ports(ctr, &child(path, "ports"), errs);
    env(ctr, &child(path, "env"), errs);
    volume_mounts(ctr, vols, &child(path, "volumeMounts"), errs);
    let pull = v::s(ctr, &["imagePullPolicy"]);
    match pull {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => errs.push(required(&child(path, "imagePullPolicy"), "")),
        other => errs.push(not_supported(
            &child(path, "imagePullPolicy"),
            Bad::str(other),
            &["Always", "IfNotPresent", "Never"],
        )),
    }
    resources(ctr, &child(path, "resources"), errs);
    container_security_context(ctr, &child(path, "securityContext"), errs);
}

fn host_port_conflicts(ctrs: &[&Value], path: &str, errs: &mut Errs) {
    let mut seen = BTreeSet::new();
    for (ci, ctr) in ctrs.iter().enumerate() {
        for (pi, port) in v::arr(ctr, &["ports"]).iter().enumerate() {
            let hp = v::int(port, &["hostPort"]).unwrap_or(0);
            if hp == 0 {
                continue;
            }
            let key = format!(
                "{}/{}/{}",
                v::s(port, &["protocol"]),
                v::s(port, &["hostIP"]),
                hp
            );
            if !seen.insert(key.clone()) {
                let p = child(&index(&child(&index(path, ci), "ports"), pi), "hostPort");
                errs.push(duplicate(&p, Bad::Str(key)));
            }
        }
    }
}

fn containers(
    spec: &Value,
    vols: &[(String, bool)],
    grace: Option<i64>,
    path: &str,
    errs: &mut Errs,
) {
    let list = v::arr(spec, &["containers"]);
    let p = child(path, "containers");
    if list.is_empty() {
        errs.push(required(&p, ""));
        return;
    }
    let mut seen = BTreeSet::new();
    for (i, ctr) in list.iter().enumerate() {
        let cp = index(&p, i);
        container_common(ctr, vols, &cp, errs);
        let name = v::s(ctr, &["name"]);
        if !seen.insert(name.to_string()) {
            errs.push(duplicate(&child(&cp, "name"), Bad::str(name)));
        }
        if let Some(lc) = ctr.get("lifecycle").filter(|x| x.is_object()) {
            for hook in ["postStart", "preStop"] {
                if let Some(h) = lc.get(hook).filter(|x| x.is_object()) {
                    handler(h, grace, true, &child(&child(&cp, "lifecycle"), hook), errs);
                }
            }
        }
        for pr in ["livenessProbe", "readinessProbe", "startupProbe"] {
            probe(ctr, pr, grace, &cp, errs);
        }
        if v::present(ctr, &["restartPolicy"]) {
            errs.push(forbidden(
                &child(&cp, "restartPolicy"),
                "may not be set for non-init containers",
            ));
        }
    }
    let refs: Vec<&Value> = list.iter().collect();
    host_port_conflicts(&refs, &p, errs);
}

fn init_containers(
    spec: &Value,
    vols: &[(String, bool)],
    grace: Option<i64>,
    path: &str,
    errs: &mut Errs,
) {
    let p = child(path, "initContainers");
    let mut all: BTreeSet<String> = v::arr(spec, &["containers"])
        .iter()
        .map(|c| v::s(c, &["name"]).to_string())
        .collect();
    for (i, ctr) in v::arr(spec, &["initContainers"]).iter().enumerate() {
        let cp = index(&p, i);
        container_common(ctr, vols, &cp, errs);
        let mut always = false;
        if let Some(rp) = v::opt_s(ctr, &["restartPolicy"]) {
            if rp != "Always" {
                errs.push(not_supported(
                    &child(&cp, "restartPolicy"),
                    Bad::str(rp),
                    &["Always"],
                ));
            }
            always = rp == "Always";
        }
        let name = v::s(ctr, &["name"]);
        if all.contains(name) {
            errs.push(duplicate(&child(&cp, "name"), Bad::str(name)));
        } else if !name.is_empty() {
            all.insert(name.to_string());
        }
        host_port_conflicts(&[ctr], &p, errs);
        if always {
            for pr in ["livenessProbe", "readinessProbe", "startupProbe"] {
                probe(ctr, pr, grace, &cp, errs);
            }
        } else {
            for f in [
                "lifecycle",
                "livenessProbe",
                "readinessProbe",
                "startupProbe",
            ] {
                if v::present(ctr, &[f]) {
                    errs.push(forbidden(
                        &child(&cp, f),
                        "may not be set for init containers without restartPolicy=Always",
                    ));
                }
            }
        }
    }
}

/// `ValidateTolerations`.
pub(crate) fn tolerations(list: &[Value], path: &str, errs: &mut Errs) {
    for (i, t) in list.iter().enumerate() {
        let p = index(path, i);
        let k = v::s(t, &["key"]);
        if !k.is_empty() {
            meta::label_name(k, &child(&p, "key"), errs);
        }
        let op = v::s(t, &["operator"]);
        let effect = v::s(t, &["effect"]);
        if k.is_empty() && op != "Exists" {
            errs.push(invalid(
                &child(&p, "operator"),
                Bad::str(op),
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if v::present(t, &["tolerationSeconds"]) && effect != "NoExecute" {
            errs.push(invalid(
                &child(&p, "effect"),
                Bad::str(effect),
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        let value = v::s(t, &["value"]);
        match op {
            "Equal" | "" => {
                let msgs = names::label_value(value);
                if !msgs.is_empty() {
                    errs.push(invalid(
                        &child(&p, "operator"),
                        Bad::str(value),
                        &msgs.join(";"),
                    ));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    errs.push(invalid(
                        &child(&p, "operator"),
                        Bad::str(value),
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            other => errs.push(not_supported(
                &child(&p, "operator"),
                Bad::str(other),
                &["Equal", "Exists"],
            )),
        }
        if !effect.is_empty() {
            taint_effect(effect, &child(&p, "effect"), errs);
        }
    }
}

/// `validateTaintEffect` of a non-empty effect.
pub(crate) fn taint_effect(effect: &str, path: &str, errs: &mut Errs) {
    const EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];
    if !EFFECTS.contains(&effect) {
        errs.push(not_supported(path, Bad::str(effect), EFFECTS));
    }
}

fn node_selector_requirement(rq: &Value, path: &str, errs: &mut Errs) {
    let values = v::strings(rq, &["values"]);
    let op = v::s(rq, &["operator"]);
    match op {
        "In" | "NotIn" => {
            if values.is_empty() {
                errs.push(required(
                    &child(path, "values"),
                    "must be specified when `operator` is 'In' or 'NotIn'",
                ));
            }
        }
        "Exists" | "DoesNotExist" => {
            if !values.is_empty() {
                errs.push(forbidden(
                    &child(path, "values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                ));
            }
        }
        "Gt" | "Lt" => {
            if values.len() != 1 {
                errs.push(required(
                    &child(path, "values"),
                    "must be specified single value when `operator` is 'Lt' or 'Gt'",
                ));
            }
        }
        other => errs.push(invalid(
            &child(path, "operator"),
            Bad::str(other),
            "not a valid selector operator",
        )),
    }
    meta::label_name(v::s(rq, &["key"]), &child(path, "key"), errs);
}

fn affinity(spec: &Value, path: &str, errs: &mut Errs) {
    let Some(aff) = spec.get("affinity").filter(|x| x.is_object()) else {
        return;
    };
    if let Some(req) = v::at(
        aff,
        &[
            "nodeAffinity",
            "requiredDuringSchedulingIgnoredDuringExecution",
        ],
    )
    .filter(|x| x.is_object())
    {
        let tp = format!(
            "{path}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
        );
        let terms = v::arr(req, &["nodeSelectorTerms"]);
        if terms.is_empty() {
            errs.push(required(&tp, "must have at least one node selector term"));
        }
        for (i, term) in terms.iter().enumerate() {
            for (j, rq) in v::arr(term, &["matchExpressions"]).iter().enumerate() {
                node_selector_requirement(
                    rq,
                    &index(&child(&index(&tp, i), "matchExpressions"), j),
                    errs,
                );
            }
        }
    }
    for kind in ["podAffinity", "podAntiAffinity"] {
        let kp = child(path, kind);
        for (i, term) in v::arr(
            aff,
            &[kind, "requiredDuringSchedulingIgnoredDuringExecution"],
        )
        .iter()
        .enumerate()
        {
            pod_affinity_term(
                term,
                &index(
                    &child(&kp, "requiredDuringSchedulingIgnoredDuringExecution"),
                    i,
                ),
                errs,
            );
        }
        for (i, w) in v::arr(
            aff,
            &[kind, "preferredDuringSchedulingIgnoredDuringExecution"],
        )
        .iter()
        .enumerate()
        {
            let wp = index(
                &child(&kp, "preferredDuringSchedulingIgnoredDuringExecution"),
                i,
            );
            let weight = v::int(w, &["weight"]).unwrap_or(0);
            if !(1..=100).contains(&weight) {
                errs.push(invalid(
                    &child(&wp, "weight"),
                    Bad::Int(weight),
                    "must be in the range 1-100",
                ));
            }
            if let Some(t) = w.get("podAffinityTerm") {
                pod_affinity_term(t, &child(&wp, "podAffinityTerm"), errs);
            }
        }
    }
}

fn pod_affinity_term(term: &Value, path: &str, errs: &mut Errs) {
    meta::label_selector(
        term.get("labelSelector"),
        &child(path, "labelSelector"),
        errs,
    );
    meta::label_selector(
        term.get("namespaceSelector"),
        &child(path, "namespaceSelector"),
        errs,
    );
    for ns in v::strings(term, &["namespaces"]) {
        for m in NameRule::Label.check(&ns, false) {
            errs.push(invalid(&child(path, "namespace"), Bad::Str(ns.clone()), &m));
        }
    }
    let tk = v::s(term, &["topologyKey"]);
    if tk.is_empty() {
        errs.push(required(&child(path, "topologyKey"), "can not be empty"));
    }
    meta::label_name(tk, &child(path, "topologyKey"), errs);
}

fn topology_spread(spec: &Value, path: &str, errs: &mut Errs) {
    let mut seen = BTreeSet::new();
    for (i, c) in v::arr(spec, &["topologySpreadConstraints"])
        .iter()
        .enumerate()
    {
        let p = index(path, i);
        let skew = v::int(c, &["maxSkew"]).unwrap_or(0);
        if skew <= 0 {
            errs.push(invalid(
                &child(&p, "maxSkew"),
                Bad::Int(skew),
                "must be greater than zero",
            ));
        }
        let tk = v::s(c, &["topologyKey"]);
        if tk.is_empty() {
            errs.push(required(&child(&p, "topologyKey"), "can not be empty"));
        } else {
            meta::label_name(tk, &child(&p, "topologyKey"), errs);
        }
        let wu = v::s(c, &["whenUnsatisfiable"]);
        if !["DoNotSchedule", "ScheduleAnyway"].contains(&wu) {
            errs.push(not_supported(
                &child(&p, "whenUnsatisfiable"),
                Bad::str(wu),
                &["DoNotSchedule", "ScheduleAnyway"],
            ));
        }
        if !seen.insert((tk.to_string(), wu.to_string())) {
            errs.push(duplicate(
                &child(&p, "{topologyKey, whenUnsatisfiable}"),
                Bad::Go(format!("{{{tk}, {wu}}}")),
            ));
        }
        meta::label_selector(c.get("labelSelector"), &child(&p, "labelSelector"), errs);
    }
}

/// `ValidatePodSpec` (and the pod-only checks when `is_pod`).
pub(crate) fn pod_spec(spec: &Value, path: &str, is_pod: bool, errs: &mut Errs) {
    let grace = v::int(spec, &["terminationGracePeriodSeconds"]);
    if grace.is_none() {
        errs.push(required(&child(path, "terminationGracePeriodSeconds"), ""));
    }
    let vols = volumes(spec, &child(path, "volumes"), errs);
    containers(spec, &vols, grace, path, errs);
    init_containers(spec, &vols, grace, path, errs);
    if v::boolean(spec, &["hostNetwork"]) == Some(true) {
        for (i, c) in v::arr(spec, &["containers"]).iter().enumerate() {
            for (j, port) in v::arr(c, &["ports"]).iter().enumerate() {
                let hp = v::int(port, &["hostPort"]).unwrap_or(0);
                let cp = v::int(port, &["containerPort"]).unwrap_or(0);
                if (is_pod || hp != 0) && hp != cp {
                    let p = format!("{path}.containers[{i}].ports[{j}].hostPort");
                    errs.push(invalid(
                        &p,
                        Bad::Int(hp),
                        "must match `containerPort` when `hostNetwork` is true",
                    ));
                }
            }
        }
    }
    match v::s(spec, &["restartPolicy"]) {
        "Always" | "OnFailure" | "Never" => {}
        "" => errs.push(required(&child(path, "restartPolicy"), "")),
        other => errs.push(not_supported(
            &child(path, "restartPolicy"),
            Bad::str(other),
            &["Always", "OnFailure", "Never"],
        )),
    }
    let dns = v::s(spec, &["dnsPolicy"]);
    match dns {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => errs.push(required(&child(path, "dnsPolicy"), "")),
        other => errs.push(not_supported(
            &child(path, "dnsPolicy"),
            Bad::str(other),
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        )),
    }
    meta::labels(spec.get("nodeSelector"), &child(path, "nodeSelector"), errs);
    if let Some(sc) = spec.get("securityContext").filter(|x| x.is_object()) {
        let sp = child(path, "securityContext");
        id_range(v::int(sc, &["fsGroup"]), &child(&sp, "fsGroup"), errs);
        id_range(v::int(sc, &["runAsUser"]), &child(&sp, "runAsUser"), errs);
        id_range(v::int(sc, &["runAsGroup"]), &child(&sp, "runAsGroup"), errs);
        for (i, g) in v::arr(sc, &["supplementalGroups"]).iter().enumerate() {
            id_range(
                g.as_i64(),
                &index(&child(&sp, "supplementalGroups"), i),
                errs,
            );
        }
        if let Some(p) = v::opt_s(sc, &["fsGroupChangePolicy"]) {
            if p != "Always" && p != "OnRootMismatch" {
                errs.push(not_supported(
                    &child(&sp, "fsGroupChangePolicy"),
                    Bad::str(p),
                    &["Always", "OnRootMismatch"],
                ));
            }
        }
    }
    for (i, s) in v::arr(spec, &["imagePullSecrets"]).iter().enumerate() {
        if s.as_object().is_some_and(|m| m.keys().any(|k| k != "name")) {
            errs.push(invalid(
                &index(&child(path, "imagePullSecrets"), i),
                Bad::Go(crate::admission::field::go_struct(
                    "core.LocalObjectReference",
                    Some(s),
                )),
                "only name may be set",
            ));
        }
    }
    affinity(spec, &child(path, "affinity"), errs);
    if dns == "None" {
        match spec.get("dnsConfig").filter(|x| x.is_object()) {
            None => errs.push(required(
                &child(path, "dnsConfig"),
                "must provide `dnsConfig` when `dnsPolicy` is None",
            )),
            Some(c) if v::arr(c, &["nameservers"]).is_empty() => errs.push(required(
                &child(&child(path, "dnsConfig"), "nameservers"),
                "must provide at least one DNS nameserver when `dnsPolicy` is None",
            )),
            _ => {}
        }
    }
    if let Some(c) = spec.get("dnsConfig").filter(|x| x.is_object()) {
        let cp = child(path, "dnsConfig");
        let ns = v::strings(c, &["nameservers"]);
        if ns.len() > 3 {
            errs.push(invalid(
                &child(&cp, "nameservers"),
                Bad::Go(crate::admission::field::go_string_slice(
                    c.get("nameservers"),
                )),
                "must not have more than 3 nameservers",
            ));
        }
        for (i, n) in ns.iter().enumerate() {
            if !names::is_ip(n) {
                errs.push(invalid(
                    &index(&child(&cp, "nameservers"), i),
                    Bad::str(n),
                    names::INVALID_IP,
                ));
            }
        }
        for (i, s) in v::strings(c, &["searches"]).iter().enumerate() {
            if s != "." {
                dns_subdomain(
                    s.trim_end_matches('.'),
                    &index(&child(&cp, "searches"), i),
                    errs,
                );
            }
        }
        for (i, o) in v::arr(c, &["options"]).iter().enumerate() {
            if v::s(o, &["name"]).is_empty() {
                errs.push(required(
                    &index(&child(&cp, "options"), i),
                    "must not be empty",
                ));
            }
        }
    }
    for (i, g) in v::arr(spec, &["readinessGates"]).iter().enumerate() {
        qualified(
            v::s(g, &["conditionType"]),
            &child(&index(&child(path, "readinessGates"), i), "conditionType"),
            errs,
        );
    }
    let mut gates = BTreeSet::new();
    for (i, g) in v::arr(spec, &["schedulingGates"]).iter().enumerate() {
        let n = v::s(g, &["name"]);
        let p = index(&child(path, "schedulingGates"), i);
        qualified(n, &p, errs);
        if !gates.insert(n.to_string()) {
            errs.push(duplicate(&p, Bad::str(n)));
        }
    }
    topology_spread(spec, &child(path, "topologySpreadConstraints"), errs);
    let sa = v::s(spec, &["serviceAccountName"]);
    if !sa.is_empty() {
        for m in NameRule::Subdomain.check(sa, false) {
            errs.push(invalid(
                &child(path, "serviceAccountName"),
                Bad::str(sa),
                &m,
            ));
        }
    }
    let node = v::s(spec, &["nodeName"]);
    if !node.is_empty() {
        for m in NameRule::Subdomain.check(node, false) {
            errs.push(invalid(&child(path, "nodeName"), Bad::str(node), &m));
        }
    }
    if let Some(ads) = v::int(spec, &["activeDeadlineSeconds"]) {
        if !(1..=MAX_INT32).contains(&ads) {
            errs.push(invalid(
                &child(path, "activeDeadlineSeconds"),
                Bad::Int(ads),
                &names::inclusive_range_error(1, MAX_INT32),
            ));
        }
    }
    for f in ["hostname", "subdomain"] {
        let x = v::s(spec, &[f]);
        if !x.is_empty() {
            dns_label(x, &child(path, f), errs);
        }
    }
    tolerations(
        v::arr(spec, &["tolerations"]),
        &child(path, "tolerations"),
        errs,
    );
    for (i, ha) in v::arr(spec, &["hostAliases"]).iter().enumerate() {
        let hp = index(&child(path, "hostAliases"), i);
        let ip = v::s(ha, &["ip"]);
        if !names::is_ip(ip) {
            errs.push(invalid(&child(&hp, "ip"), Bad::str(ip), names::INVALID_IP));
        }
        for (j, h) in v::strings(ha, &["hostnames"]).iter().enumerate() {
            dns_subdomain(h, &index(&child(&hp, "hostnames"), j), errs);
        }
    }
    let pc = v::s(spec, &["priorityClassName"]);
    if !pc.is_empty() {
        for m in NameRule::Subdomain.check(pc, false) {
            errs.push(invalid(&child(path, "priorityClassName"), Bad::str(pc), &m));
        }
    }
    if let Some(rc) = v::opt_s(spec, &["runtimeClassName"]) {
        for m in NameRule::Subdomain.check(rc, false) {
            errs.push(invalid(&child(path, "runtimeClassName"), Bad::str(rc), &m));
        }
    }
    if let Some(pp) = v::opt_s(spec, &["preemptionPolicy"]) {
        match pp {
            "PreemptLowerPriority" | "Never" => {}
            "" => errs.push(required(&child(path, "preemptionPolicy"), "")),
            other => errs.push(not_supported(
                &child(path, "preemptionPolicy"),
                Bad::str(other),
                &["PreemptLowerPriority", "Never"],
            )),
        }
    }
    if let Some(os) = spec.get("os").filter(|x| x.is_object()) {
        let n = v::s(os, &["name"]);
        if n.is_empty() {
            errs.push(required(&child(&child(path, "os"), "name"), ""));
        } else if n != "linux" && n != "windows" {
            errs.push(not_supported(
                &child(&child(path, "os"), "name"),
                Bad::str(n),
                &["linux", "windows"],
            ));
        }
    }
}

fn container_image_whitespace(spec: &Value, path: &str, errs: &mut Errs) {
    for list in ["containers", "initContainers"] {
        for (i, c) in v::arr(spec, &[list]).iter().enumerate() {
            let image = v::s(c, &["image"]);
            if image.len() != image.trim().len() {
                errs.push(invalid(
                    &format!("{path}.{list}[{i}].image"),
                    Bad::str(image),
                    "must not have leading or trailing whitespace",
                ));
            }
        }
    }
}

/// `validatePodMetadataAndSpec`.
fn pod_metadata_and_spec(pod: &Value, errs: &mut Errs) {
    meta::object_meta(pod, true, NameRule::Subdomain, errs);
    let empty = Value::Null;
    let spec = pod.get("spec").unwrap_or(&empty);
    pod_spec(spec, "spec", true, errs);
    if v::s(spec, &["serviceAccountName"]).is_empty() {
        for (vi, vol) in v::arr(spec, &["volumes"]).iter().enumerate() {
            for (si, src) in v::arr(vol, &["projected", "sources"]).iter().enumerate() {
                if v::present(src, &["serviceAccountToken"]) {
                    errs.push(forbidden(
                        &format!("spec.volumes[{vi}].projected.sources[{si}].serviceAccountToken"),
                        "must not be specified when serviceAccountName is not set",
                    ));
                }
            }
        }
    }
    container_image_whitespace(spec, "spec", errs);
}

/// `ValidatePodCreate`.
pub(crate) fn pod_create(pod: &Value, errs: &mut Errs) {
    pod_metadata_and_spec(pod, errs);
    let empty = Value::Null;
    let spec = pod.get("spec").unwrap_or(&empty);
    if !v::arr(spec, &["ephemeralContainers"]).is_empty() {
        errs.push(forbidden(
            "spec.ephemeralContainers",
            "cannot be set on create",
        ));
    }
    if !v::s(spec, &["nodeName"]).is_empty() && !v::arr(spec, &["schedulingGates"]).is_empty() {
        errs.push(forbidden(
            "spec.nodeName",
            "cannot be set until all schedulingGates have been cleared",
        ));
    }
}

/// `ValidatePodTemplateSpec` (a template inside a workload): labels, annotations, spec.
pub(crate) fn pod_template_spec(tpl: &Value, path: &str, errs: &mut Errs) {
    meta::labels(
        v::at(tpl, &["metadata", "labels"]),
        &child(path, "labels"),
        errs,
    );
    meta::annotations(
        v::at(tpl, &["metadata", "annotations"]),
        &child(path, "annotations"),
        errs,
    );
    let empty = Value::Null;
    let spec = tpl.get("spec").unwrap_or(&empty);
    pod_spec(spec, &child(path, "spec"), false, errs);
    if !v::arr(spec, &["ephemeralContainers"]).is_empty() {
        errs.push(forbidden(
            &format!("{path}.spec.ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
}

const UPDATABLE_POD_SPEC_FIELDS: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

fn container_updates(new: &[Value], old: &[Value], path: &str, errs: &mut Errs) -> bool {
    if new.len() != old.len() {
        errs.push(forbidden(
            path,
            "pod updates may not add or remove containers",
        ));
        return true;
    }
    for (i, c) in new.iter().enumerate() {
        let image = v::s(c, &["image"]);
        if image.is_empty() {
            errs.push(required(&child(&index(path, i), "image"), ""));
        }
        if image.trim().len() != image.len() {
            errs.push(invalid(
                &child(&index(path, i), "image"),
                Bad::str(image),
                "must not have leading or trailing whitespace",
            ));
        }
    }
    false
}

fn only_added_tolerations(new: &[Value], old: &[Value], errs: &mut Errs) {
    let strip = |t: &Value| {
        let mut t = t.clone();
        if let Some(m) = t.as_object_mut() {
            m.remove("tolerationSeconds");
        }
        t
    };
    for o in old {
        let o = strip(o);
        if !new
            .iter()
            .any(|n| v::semantic_eq(Some(&strip(n)), Some(&o)))
        {
            errs.push(forbidden(
                "spec.tolerations",
                "existing toleration can not be modified except its tolerationSeconds",
            ));
            return;
        }
    }
    tolerations(new, "spec.tolerations", errs);
}

/// A short description of what differs between two specs, in place of upstream's
/// `cmp.Diff` output (which only a Go program can reproduce byte for byte).
pub(crate) fn spec_diff(old: &Value, new: &Value) -> String {
    let mut out = Vec::new();
    diff_into("spec", Some(old), Some(new), &mut out);
    out.join("\n")
}

fn diff_into(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<String>) {
    if v::semantic_eq(a, b) || out.len() > 20 {
        return;
    }
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                diff_into(&format!("{path}.{k}"), x.get(k), y.get(k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff_into(&format!("{path}[{i}]"), Some(p), Some(q), out);
            }
        }
        _ => {
            let show = |x: Option<&Value>| x.map_or("<unset>".to_string(), |x| x.to_string());
            out.push(format!("- {path}: {}", show(a)));
            out.push(format!("+ {path}: {}", show(b)));
        }
    }
}

/// `ValidatePodUpdate`.
pub(crate) fn pod_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    pod_metadata_and_spec(new, errs);
    let empty = Value::Null;
    let ns = new.get("spec").unwrap_or(&empty);
    let os = old.get("spec").unwrap_or(&empty);
    if container_updates(
        v::arr(ns, &["containers"]),
        v::arr(os, &["containers"]),
        "spec.containers",
        errs,
    ) {
        return;
    }
    if container_updates(
        v::arr(ns, &["initContainers"]),
        v::arr(os, &["initContainers"]),
        "spec.initContainers",
        errs,
    ) {
        return;
    }
    let new_ads = v::int(ns, &["activeDeadlineSeconds"]);
    let old_ads = v::int(os, &["activeDeadlineSeconds"]);
    match (new_ads, old_ads) {
        (Some(n), _) if !(0..=MAX_INT32).contains(&n) => {
            errs.push(invalid(
                "spec.activeDeadlineSeconds",
                Bad::Int(n),
                &names::inclusive_range_error(0, MAX_INT32),
            ));
            return;
        }
        (Some(n), Some(o)) if o < n => {
            errs.push(invalid(
                "spec.activeDeadlineSeconds",
                Bad::Int(n),
                "must be less than or equal to previous value",
            ));
            return;
        }
        (None, Some(_)) => errs.push(invalid(
            "spec.activeDeadlineSeconds",
            Bad::Null,
            "must not update from a positive integer to nil value",
        )),
        _ => {}
    }
    only_added_tolerations(
        v::arr(ns, &["tolerations"]),
        v::arr(os, &["tolerations"]),
        errs,
    );
    let old_gates: Vec<&str> = v::arr(os, &["schedulingGates"])
        .iter()
        .map(|g| v::s(g, &["name"]))
        .collect();
    for (i, g) in v::arr(ns, &["schedulingGates"]).iter().enumerate() {
        let n = v::s(g, &["name"]);
        if !old_gates.contains(&n) {
            errs.push(forbidden(
                &format!("spec.schedulingGates[{i}].name"),
                &format!("only deletion is allowed, but found new scheduling gate '{n}'"),
            ));
        }
    }
    if v::semantic_eq(Some(ns), Some(os)) {
        return;
    }
    let mut munged = ns.clone();
    for list in ["containers", "initContainers"] {
        let old_list = v::arr(os, &[list]).to_vec();
        if let Some(Value::Array(items)) = munged.get_mut(list) {
            for (c, o) in items.iter_mut().zip(&old_list) {
                if let Some(m) = c.as_object_mut() {
                    match o.get("image") {
                        Some(img) => m.insert("image".into(), img.clone()),
                        None => m.remove("image"),
                    };
                }
            }
        }
    }
    if let Some(m) = munged.as_object_mut() {
        for f in ["activeDeadlineSeconds", "schedulingGates", "tolerations"] {
            match os.get(f) {
                Some(x) => m.insert(f.into(), x.clone()),
                None => m.remove(f),
            };
        }
        if v::int(os, &["terminationGracePeriodSeconds"]).is_some_and(|g| g < 0)
            && v::int(ns, &["terminationGracePeriodSeconds"]) == Some(1)
        {
            if let Some(g) = os.get("terminationGracePeriodSeconds") {
                m.insert("terminationGracePeriodSeconds".into(), g.clone());
            }
        }
        if !v::arr(os, &["schedulingGates"]).is_empty() {
            // gated pods may add node selectors (only additions)
            let old_sel = v::string_map(os, &["nodeSelector"]);
            let new_sel = v::string_map(ns, &["nodeSelector"]);
            if old_sel.iter().all(|kv| new_sel.contains(kv)) {
                match os.get("nodeSelector") {
                    Some(x) => m.insert("nodeSelector".into(), x.clone()),
                    None => m.remove("nodeSelector"),
                };
            } else {
                errs.push(invalid(
                    "spec.nodeSelector",
                    Bad::Go(crate::admission::field::go_string_map(
                        ns.get("nodeSelector"),
                    )),
                    "only additions to spec.nodeSelector are allowed (no mutations or deletions)",
                ));
            }
        }
    }
    if !v::semantic_eq(Some(&munged), Some(os)) {
        let diff = spec_diff(os, &munged);
        errs.push(forbidden(
            "spec",
            &format!(
                "pod updates may not change fields other than {UPDATABLE_POD_SPEC_FIELDS}\n{diff}"
            ),
        ));
    }
}

/// `ValidatePodStatusUpdate` (the parts that concern what a client can send).
pub(crate) fn pod_status_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    for (i, c) in v::arr(new, &["status", "conditions"]).iter().enumerate() {
        let t = v::s(c, &["type"]);
        if !["PodScheduled", "Ready", "Initialized"].contains(&t) {
            qualified(t, &format!("metadata.conditions[{i}].Type"), errs);
        }
    }
    if v::s(new, &["spec", "nodeName"]) != v::s(old, &["spec", "nodeName"]) {
        errs.push(forbidden("status.nodeName", "may not be changed directly"));
    }
    let nq = v::s(new, &["status", "qosClass"]);
    if nq != v::s(old, &["status", "qosClass"]) {
        errs.push(invalid(
            "status.qosClass",
            Bad::str(nq),
            "field is immutable",
        ));
    }
    for (i, ip) in v::arr(new, &["status", "podIPs"]).iter().enumerate() {
        let ip = v::s(ip, &["ip"]);
        if !names::is_ip(ip) {
            errs.push(invalid(
                &format!("status.podIPs[{i}]"),
                Bad::str(ip),
                names::INVALID_IP,
            ));
        }
    }
}
