//! Validation of the remaining groups: networking.k8s.io (Ingress, IngressClass,
//! NetworkPolicy), policy (PodDisruptionBudget), rbac.authorization.k8s.io (roles and
//! bindings), scheduling.k8s.io (PriorityClass), storage.k8s.io (StorageClass),
//! coordination.k8s.io (Lease), discovery.k8s.io (EndpointSlice), autoscaling
//! (HorizontalPodAutoscaler v2 and v1) and events.k8s.io (Event).

use std::collections::BTreeSet;

use serde_json::Value;

use super::meta;
use super::names::{self, NameRule};
use super::pod::{dns_label, nonnegative, protocol, qualified};
use crate::admission::field::{
    child, duplicate, forbidden, go_int_or_string, go_string_slice, go_struct, index, invalid,
    not_supported, required, Bad, Errs,
};
use crate::admission::value as v;

// ---------------------------------------------------------------------------------------------
// networking.k8s.io

fn ingress_backend(b: &Value, path: &str, errs: &mut Errs) {
    let has_svc = v::present(b, &["service"]);
    let has_res = v::present(b, &["resource"]);
    if has_svc && has_res {
        errs.push(invalid(
            path,
            Bad::Go(go_struct("networking.IngressBackend", Some(b))),
            "cannot set both resource and service backends",
        ));
        return;
    }
    if has_res {
        let r = b.get("resource").unwrap_or(&Value::Null);
        if v::s(r, &["kind"]).is_empty() {
            errs.push(required(&format!("{path}.resource.kind"), ""));
        }
        if v::s(r, &["name"]).is_empty() {
            errs.push(required(&format!("{path}.resource.name"), ""));
        }
        return;
    }
    if !has_svc {
        errs.push(invalid(
            path,
            Bad::Go(go_struct("networking.IngressBackend", Some(b))),
            "one backend type must be specified",
        ));
        return;
    }
    let sp = child(path, "service");
    let name = v::s(b, &["service", "name"]);
    if name.is_empty() {
        errs.push(required(&child(&sp, "name"), ""));
    } else {
        for m in NameRule::Dns1035.check(name, false) {
            errs.push(invalid(&child(&sp, "name"), Bad::str(name), &m));
        }
    }
    let pp = child(&sp, "port");
    let pname = v::s(b, &["service", "port", "name"]);
    let pnum = v::int(b, &["service", "port", "number"]).unwrap_or(0);
    match (pname.is_empty(), pnum) {
        (false, n) if n != 0 => errs.push(invalid(
            &pp,
            Bad::str(pname),
            "cannot set both port name & port number",
        )),
        (false, _) => {
            for m in names::port_name(pname) {
                errs.push(invalid(&child(&pp, "name"), Bad::str(pname), &m));
            }
        }
        (true, 0) => errs.push(required(&pp, "port name or number is required")),
        (true, n) => {
            for m in names::port_num(n) {
                errs.push(invalid(&child(&pp, "number"), Bad::Int(n), &m));
            }
        }
    }
}

const PATH_TYPES: &[&str] = &["Exact", "ImplementationSpecific", "Prefix"];

fn ingress_spec(spec: &Value, errs: &mut Errs) {
    let rules = v::arr(spec, &["rules"]);
    let default_backend = spec.get("defaultBackend").filter(|b| !b.is_null());
    if rules.is_empty() && default_backend.is_none() {
        errs.push(invalid(
            "spec",
            Bad::Go(go_struct("networking.IngressSpec", Some(spec))),
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if let Some(b) = default_backend {
        ingress_backend(b, "spec.defaultBackend", errs);
    }
    for (i, r) in rules.iter().enumerate() {
        let rp = index("spec.rules", i);
        let host = v::s(r, &["host"]);
        if !host.is_empty() {
            if names::is_ip(host) {
                errs.push(invalid(
                    &child(&rp, "host"),
                    Bad::str(host),
                    "must be a DNS name, not an IP address",
                ));
            }
            let (check, wildcard) = match host.strip_prefix("*.") {
                Some(rest) => (rest, true),
                None => (host, false),
            };
            let msgs = names::dns1123_subdomain(check);
            for m in msgs {
                let msg = if wildcard {
                    names::regex_error(
                        "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
                        "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
                        &["*.example.com"],
                    )
                } else {
                    m
                };
                errs.push(invalid(&child(&rp, "host"), Bad::str(host), &msg));
            }
        }
        let Some(http) = r.get("http").filter(|h| !h.is_null()) else {
            continue;
        };
        let hp = child(&rp, "http");
        let paths = v::arr(http, &["paths"]);
        if paths.is_empty() {
            errs.push(required(&child(&hp, "paths"), ""));
        }
        for (j, p) in paths.iter().enumerate() {
            let pp = index(&child(&hp, "paths"), j);
            let path = v::s(p, &["path"]);
            match v::opt_s(p, &["pathType"]) {
                None => errs.push(required(
                    &child(&pp, "pathType"),
                    "pathType must be specified",
                )),
                Some(t) if !PATH_TYPES.contains(&t) => errs.push(not_supported(
                    &child(&pp, "pathType"),
                    Bad::str(t),
                    PATH_TYPES,
                )),
                Some(t) => {
                    if (t == "Exact" || t == "Prefix") && !path.starts_with('/') {
                        errs.push(invalid(
                            &child(&pp, "path"),
                            Bad::str(path),
                            "must be an absolute path",
                        ));
                    }
                    if t == "ImplementationSpecific" && !path.is_empty() && !path.starts_with('/') {
                        errs.push(invalid(
                            &child(&pp, "path"),
                            Bad::str(path),
                            "must be an absolute path",
                        ));
                    }
                    if t == "Exact" || t == "Prefix" {
                        for bad in ["//", "/./", "/../", "%2f", "%2F"] {
                            if path.contains(bad) {
                                errs.push(invalid(
                                    &child(&pp, "path"),
                                    Bad::str(path),
                                    &format!("must not contain '{bad}'"),
                                ));
                            }
                        }
                        for bad in ["/..", "/."] {
                            if path.ends_with(bad) {
                                errs.push(invalid(
                                    &child(&pp, "path"),
                                    Bad::str(path),
                                    &format!("cannot end with '{bad}'"),
                                ));
                            }
                        }
                    }
                }
            }
            ingress_backend(
                p.get("backend").unwrap_or(&Value::Null),
                &child(&pp, "backend"),
                errs,
            );
        }
    }
    for (i, t) in v::arr(spec, &["tls"]).iter().enumerate() {
        for (j, h) in v::strings(t, &["hosts"]).iter().enumerate() {
            let check = h.strip_prefix("*.").unwrap_or(h);
            for m in names::dns1123_subdomain(check) {
                errs.push(invalid(
                    &format!("spec.tls[{i}].hosts[{j}]"),
                    Bad::Str(h.clone()),
                    &m,
                ));
            }
        }
    }
    if let Some(c) = v::opt_s(spec, &["ingressClassName"]) {
        for m in NameRule::Subdomain.check(c, false) {
            errs.push(invalid("spec.ingressClassName", Bad::str(c), &m));
        }
    }
}

/// `ValidateIngressCreate` / update.
pub(crate) fn ingress(ing: &Value, errs: &mut Errs) {
    meta::object_meta(ing, true, NameRule::Subdomain, errs);
    ingress_spec(ing.get("spec").unwrap_or(&Value::Null), errs);
}

/// `ValidateIngressClass`.
pub(crate) fn ingress_class(ic: &Value, errs: &mut Errs) {
    meta::object_meta(ic, false, NameRule::Subdomain, errs);
    let ctrl = v::s(ic, &["spec", "controller"]);
    if ctrl.is_empty() {
        errs.push(required("spec.controller", ""));
    } else if ctrl.len() > 250 {
        errs.push(crate::admission::field::too_long("spec.controller", 250));
    }
    if let Some(p) = v::at(ic, &["spec", "parameters"]).filter(|p| !p.is_null()) {
        let pp = "spec.parameters";
        if v::s(p, &["kind"]).is_empty() {
            errs.push(required(&child(pp, "kind"), ""));
        }
        if v::s(p, &["name"]).is_empty() {
            errs.push(required(&child(pp, "name"), ""));
        }
        match v::opt_s(p, &["scope"]) {
            Some("Namespace") => {
                if v::s(p, &["namespace"]).is_empty() {
                    errs.push(required(
                        &child(pp, "namespace"),
                        "`parameters.scope` is set to 'Namespace'",
                    ));
                }
            }
            Some("Cluster") => {
                if v::present(p, &["namespace"]) {
                    errs.push(forbidden(
                        &child(pp, "namespace"),
                        "`parameters.scope` is set to 'Cluster'",
                    ));
                }
            }
            Some(other) => errs.push(not_supported(
                &child(pp, "scope"),
                Bad::str(other),
                &["Cluster", "Namespace"],
            )),
            None => errs.push(required(&child(pp, "scope"), "")),
        }
    }
}

/// IngressClass update: `spec.controller` is immutable.
pub(crate) fn ingress_class_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    let c = v::s(new, &["spec", "controller"]);
    if c != v::s(old, &["spec", "controller"]) {
        errs.push(invalid(
            "spec.controller",
            Bad::str(c),
            "field is immutable",
        ));
    }
    ingress_class(new, errs);
}

fn net_policy_ports(rule: &Value, path: &str, errs: &mut Errs) {
    for (i, p) in v::arr(rule, &["ports"]).iter().enumerate() {
        let pp = index(&child(path, "ports"), i);
        if let Some(proto) = v::opt_s(p, &["protocol"]) {
            protocol(proto, &child(&pp, "protocol"), errs);
        }
        match p.get("port") {
            Some(Value::String(s)) => {
                for m in names::port_name(s) {
                    errs.push(invalid(&child(&pp, "port"), Bad::str(s), &m));
                }
            }
            Some(Value::Number(n)) => {
                let n = n.as_i64().unwrap_or(0);
                for m in names::port_num(n) {
                    errs.push(invalid(&child(&pp, "port"), Bad::Int(n), &m));
                }
            }
            _ => {}
        }
    }
}

fn net_policy_peers(rule: &Value, list: &str, path: &str, errs: &mut Errs) {
    for (i, peer) in v::arr(rule, &[list]).iter().enumerate() {
        let pp = index(&child(path, list), i);
        let mut n = 0;
        if let Some(s) = peer.get("podSelector").filter(|s| !s.is_null()) {
            n += 1;
            meta::label_selector(Some(s), &child(&pp, "podSelector"), errs);
        }
        if let Some(s) = peer.get("namespaceSelector").filter(|s| !s.is_null()) {
            n += 1;
            meta::label_selector(Some(s), &child(&pp, "namespaceSelector"), errs);
        }
        if let Some(b) = peer.get("ipBlock").filter(|s| !s.is_null()) {
            n += 1;
            let cidr = v::s(b, &["cidr"]);
            if cidr.is_empty() {
                errs.push(required(&format!("{pp}.ipBlock.cidr"), ""));
            } else if !names::is_cidr(cidr) {
                errs.push(invalid(
                    &format!("{pp}.ipBlock.cidr"),
                    Bad::str(cidr),
                    "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                ));
            }
        }
        if n == 0 {
            errs.push(required(&pp, "must specify a peer"));
        } else if n > 1 && v::present(peer, &["ipBlock"]) {
            errs.push(forbidden(
                &pp,
                "may not specify both ipBlock and another peer",
            ));
        }
    }
}

/// `ValidateNetworkPolicy`.
pub(crate) fn network_policy(np: &Value, errs: &mut Errs) {
    meta::object_meta(np, true, NameRule::Subdomain, errs);
    let spec = np.get("spec").unwrap_or(&Value::Null);
    meta::label_selector(spec.get("podSelector"), "spec.podSelector", errs);
    for (i, r) in v::arr(spec, &["ingress"]).iter().enumerate() {
        let p = index("spec.ingress", i);
        net_policy_ports(r, &p, errs);
        net_policy_peers(r, "from", &p, errs);
    }
    for (i, r) in v::arr(spec, &["egress"]).iter().enumerate() {
        let p = index("spec.egress", i);
        net_policy_ports(r, &p, errs);
        net_policy_peers(r, "to", &p, errs);
    }
    let types = v::strings(spec, &["policyTypes"]);
    for (i, t) in types.iter().enumerate() {
        if t != "Ingress" && t != "Egress" {
            errs.push(not_supported(
                &index("spec.policyTypes", i),
                Bad::Str(t.clone()),
                &["Ingress", "Egress"],
            ));
        }
    }
    if types.len() > 2 {
        errs.push(invalid(
            "spec.policyTypes",
            Bad::Go(
                go_string_slice(spec.get("policyTypes"))
                    .replace("[]string", "[]networking.PolicyType"),
            ),
            "may not have more than two items",
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// policy

/// `ValidatePodDisruptionBudget`.
pub(crate) fn pdb(p: &Value, errs: &mut Errs) {
    meta::object_meta(p, true, NameRule::Subdomain, errs);
    let spec = p.get("spec").unwrap_or(&Value::Null);
    let min = spec.get("minAvailable").filter(|x| !x.is_null());
    let max = spec.get("maxUnavailable").filter(|x| !x.is_null());
    if min.is_some() && max.is_some() {
        errs.push(invalid(
            "spec",
            Bad::Go(go_struct("policy.PodDisruptionBudgetSpec", Some(spec))),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    for (val, name) in [(min, "minAvailable"), (max, "maxUnavailable")] {
        let path = format!("spec.{name}");
        match val {
            Some(Value::String(s)) => {
                let msgs = names::percent(s);
                for m in &msgs {
                    errs.push(invalid(&path, Bad::Go(go_int_or_string(val)), m));
                }
                if msgs.is_empty() && s.trim_end_matches('%').parse::<i64>().unwrap_or(0) > 100 {
                    errs.push(invalid(
                        &path,
                        Bad::Go(go_int_or_string(val)),
                        "must not be greater than 100%",
                    ));
                }
            }
            Some(Value::Number(n)) => nonnegative(n.as_i64(), &path, errs),
            _ => {}
        }
    }
    meta::label_selector(spec.get("selector"), "spec.selector", errs);
    if let Some(pol) = v::opt_s(spec, &["unhealthyPodEvictionPolicy"]) {
        if pol != "AlwaysAllow" && pol != "IfHealthyBudget" {
            errs.push(not_supported(
                "spec.unhealthyPodEvictionPolicy",
                Bad::str(pol),
                &["AlwaysAllow", "IfHealthyBudget"],
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// rbac.authorization.k8s.io

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

fn policy_rule(rule: &Value, namespaced: bool, path: &str, errs: &mut Errs) {
    if v::arr(rule, &["verbs"]).is_empty() {
        errs.push(required(
            &child(path, "verbs"),
            "verbs must contain at least one value",
        ));
    }
    if !v::arr(rule, &["nonResourceURLs"]).is_empty() {
        let bad = || Bad::Go(go_string_slice(rule.get("nonResourceURLs")));
        if namespaced {
            errs.push(invalid(
                &child(path, "nonResourceURLs"),
                bad(),
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        if !v::arr(rule, &["apiGroups"]).is_empty()
            || !v::arr(rule, &["resources"]).is_empty()
            || !v::arr(rule, &["resourceNames"]).is_empty()
        {
            errs.push(invalid(
                &child(path, "nonResourceURLs"),
                bad(),
                "rules cannot apply to both regular resources and non-resource URLs",
            ));
        }
        return;
    }
    if v::arr(rule, &["apiGroups"]).is_empty() {
        errs.push(required(
            &child(path, "apiGroups"),
            "resource rules must supply at least one api group",
        ));
    }
    if v::arr(rule, &["resources"]).is_empty() {
        errs.push(required(
            &child(path, "resources"),
            "resource rules must supply at least one resource",
        ));
    }
}

/// `ValidateRole` / `ValidateClusterRole`.
pub(crate) fn role(r: &Value, namespaced: bool, errs: &mut Errs) {
    meta::object_meta(r, namespaced, NameRule::PathSegment, errs);
    for (i, rule) in v::arr(r, &["rules"]).iter().enumerate() {
        policy_rule(rule, namespaced, &index("rules", i), errs);
    }
    if !namespaced {
        if let Some(ar) = r.get("aggregationRule").filter(|a| !a.is_null()) {
            let sels = v::arr(ar, &["clusterRoleSelectors"]);
            if sels.is_empty() {
                errs.push(required(
                    "aggregationRule.clusterRoleSelectors",
                    "at least one clusterRoleSelector required if aggregationRule is non-nil",
                ));
            }
            for (i, s) in sels.iter().enumerate() {
                meta::label_selector(
                    Some(s),
                    &index("aggregationRule.clusterRoleSelectors", i),
                    errs,
                );
            }
        }
    }
}

fn subject(s: &Value, namespaced: bool, path: &str, errs: &mut Errs) {
    let name = v::s(s, &["name"]);
    if name.is_empty() {
        errs.push(required(&child(path, "name"), ""));
    }
    let group = v::s(s, &["apiGroup"]);
    match v::s(s, &["kind"]) {
        "ServiceAccount" => {
            if !name.is_empty() {
                for m in NameRule::Subdomain.check(name, false) {
                    errs.push(invalid(&child(path, "name"), Bad::str(name), &m));
                }
            }
            if !group.is_empty() {
                errs.push(not_supported(
                    &child(path, "apiGroup"),
                    Bad::str(group),
                    &[""],
                ));
            }
            if !namespaced && v::s(s, &["namespace"]).is_empty() {
                errs.push(required(&child(path, "namespace"), ""));
            }
        }
        "User" | "Group" => {
            if group != RBAC_GROUP {
                errs.push(not_supported(
                    &child(path, "apiGroup"),
                    Bad::str(group),
                    &[RBAC_GROUP],
                ));
            }
        }
        other => errs.push(not_supported(
            &child(path, "kind"),
            Bad::str(other),
            &["ServiceAccount", "User", "Group"],
        )),
    }
}

/// `ValidateRoleBinding` / `ValidateClusterRoleBinding`.
pub(crate) fn role_binding(b: &Value, namespaced: bool, errs: &mut Errs) {
    meta::object_meta(b, namespaced, NameRule::PathSegment, errs);
    let rr = b.get("roleRef").unwrap_or(&Value::Null);
    let g = v::s(rr, &["apiGroup"]);
    if g != RBAC_GROUP {
        errs.push(not_supported(
            "roleRef.apiGroup",
            Bad::str(g),
            &[RBAC_GROUP],
        ));
    }
    let kind = v::s(rr, &["kind"]);
    let kinds: &[&str] = if namespaced {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    if !kinds.contains(&kind) {
        errs.push(not_supported("roleRef.kind", Bad::str(kind), kinds));
    }
    let name = v::s(rr, &["name"]);
    if name.is_empty() {
        errs.push(required("roleRef.name", ""));
    } else {
        for m in NameRule::PathSegment.check(name, false) {
            errs.push(invalid("roleRef.name", Bad::str(name), &m));
        }
    }
    for (i, s) in v::arr(b, &["subjects"]).iter().enumerate() {
        subject(s, namespaced, &index("subjects", i), errs);
    }
}

/// Binding update: `roleRef` may not change.
pub(crate) fn role_binding_update(new: &Value, old: &Value, namespaced: bool, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    if !v::semantic_eq(new.get("roleRef"), old.get("roleRef")) {
        errs.push(invalid(
            "roleRef",
            Bad::Go(go_struct("rbac.RoleRef", new.get("roleRef"))),
            "cannot change roleRef",
        ));
    }
    role_binding(new, namespaced, errs);
}

// ---------------------------------------------------------------------------------------------
// scheduling.k8s.io

const HIGHEST_USER_PRIORITY: i64 = 1_000_000_000;

/// `ValidatePriorityClass`.
pub(crate) fn priority_class(pc: &Value, errs: &mut Errs) {
    meta::object_meta(pc, false, NameRule::Subdomain, errs);
    let name = v::s(pc, &["metadata", "name"]);
    let value = v::int(pc, &["value"]).unwrap_or(0);
    let system = [
        ("system-node-critical", 2_000_001_000),
        ("system-cluster-critical", 2_000_000_000),
    ];
    if let Some((_, want)) = system.iter().find(|(n, _)| *n == name) {
        if value != *want {
            errs.push(forbidden(
                "metadata.name",
                &format!("priority class {name} is a system class and its value must be {want}"),
            ));
        }
    } else {
        if name.starts_with("system-") {
            errs.push(forbidden(
                "metadata.name",
                "priority class names with 'system-' prefix are reserved",
            ));
        }
        if value > HIGHEST_USER_PRIORITY {
            errs.push(forbidden(
                "value",
                &format!(
                    "maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}"
                ),
            ));
        }
    }
    if let Some(p) = v::opt_s(pc, &["preemptionPolicy"]) {
        if p != "PreemptLowerPriority" && p != "Never" {
            errs.push(not_supported(
                "preemptionPolicy",
                Bad::str(p),
                &["PreemptLowerPriority", "Never"],
            ));
        }
    }
}

/// `ValidatePriorityClassUpdate`: value and preemption policy are immutable.
pub(crate) fn priority_class_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    if v::int(new, &["value"]) != v::int(old, &["value"]) {
        errs.push(forbidden("value", "may not be changed in an update."));
    }
    let np = v::at(new, &["preemptionPolicy"]);
    if np != v::at(old, &["preemptionPolicy"]) {
        errs.push(invalid(
            "preemptionPolicy",
            np.and_then(Value::as_str).map_or(Bad::Null, Bad::str),
            "field is immutable",
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// storage.k8s.io

/// `ValidateStorageClass`.
pub(crate) fn storage_class(sc: &Value, errs: &mut Errs) {
    meta::object_meta(sc, false, NameRule::Subdomain, errs);
    let prov = v::s(sc, &["provisioner"]);
    if prov.is_empty() {
        errs.push(required("provisioner", ""));
    } else {
        qualified(&prov.to_lowercase(), "provisioner", errs);
    }
    if let Some(p) = v::obj(sc, &["parameters"]) {
        if p.len() > 512 {
            errs.push(crate::admission::field::too_long("parameters", 512));
        }
        for k in p.keys() {
            if k.is_empty() {
                errs.push(invalid(
                    "parameters",
                    Bad::str(k),
                    "field can not be empty.",
                ));
            }
        }
    }
    let rp = v::s(sc, &["reclaimPolicy"]);
    if !rp.is_empty() && rp != "Delete" && rp != "Retain" {
        errs.push(not_supported(
            "reclaimPolicy",
            Bad::str(rp),
            &["Delete", "Retain"],
        ));
    }
    match v::opt_s(sc, &["volumeBindingMode"]) {
        None => errs.push(required("volumeBindingMode", "")),
        Some(m) if m != "Immediate" && m != "WaitForFirstConsumer" => errs.push(not_supported(
            "volumeBindingMode",
            Bad::str(m),
            &["Immediate", "WaitForFirstConsumer"],
        )),
        _ => {}
    }
}

/// `ValidateStorageClassUpdate`.
pub(crate) fn storage_class_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    if !v::semantic_eq(new.get("parameters"), old.get("parameters")) {
        errs.push(forbidden(
            "parameters",
            "updates to parameters are forbidden.",
        ));
    }
    if v::s(new, &["provisioner"]) != v::s(old, &["provisioner"]) {
        errs.push(forbidden(
            "provisioner",
            "updates to provisioner are forbidden.",
        ));
    }
    if v::s(new, &["reclaimPolicy"]) != v::s(old, &["reclaimPolicy"]) {
        errs.push(forbidden(
            "reclaimPolicy",
            "updates to reclaimPolicy are forbidden.",
        ));
    }
    let nm = v::at(new, &["volumeBindingMode"]);
    if nm != v::at(old, &["volumeBindingMode"]) {
        errs.push(invalid(
            "volumeBindingMode",
            nm.and_then(Value::as_str).map_or(Bad::Null, Bad::str),
            "field is immutable",
        ));
    }
    storage_class(new, errs);
}

// ---------------------------------------------------------------------------------------------
// coordination.k8s.io

/// `ValidateLease`.
pub(crate) fn lease(l: &Value, errs: &mut Errs) {
    meta::object_meta(l, true, NameRule::Subdomain, errs);
    if let Some(d) = v::int(l, &["spec", "leaseDurationSeconds"]) {
        if d <= 0 {
            errs.push(invalid(
                "spec.leaseDurationSeconds",
                Bad::Int(d),
                "must be greater than 0",
            ));
        }
    }
    nonnegative(
        v::int(l, &["spec", "leaseTransitions"]),
        "spec.leaseTransitions",
        errs,
    );
    if let Some(s) = v::opt_s(l, &["spec", "strategy"]) {
        if s != "OldestEmulationVersion" {
            errs.push(not_supported(
                "spec.strategy",
                Bad::str(s),
                &["OldestEmulationVersion"],
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// discovery.k8s.io

/// `ValidateEndpointSlice`.
pub(crate) fn endpoint_slice(es: &Value, errs: &mut Errs) {
    meta::object_meta(es, true, NameRule::Subdomain, errs);
    let at = v::s(es, &["addressType"]);
    const TYPES: &[&str] = &["FQDN", "IPv4", "IPv6"];
    if at.is_empty() {
        errs.push(required("addressType", ""));
    } else if !TYPES.contains(&at) {
        errs.push(not_supported("addressType", Bad::str(at), TYPES));
    }
    let eps = v::arr(es, &["endpoints"]);
    if eps.len() > 1000 {
        errs.push(crate::admission::field::too_many(
            "endpoints",
            eps.len(),
            1000,
        ));
    }
    for (i, ep) in eps.iter().enumerate() {
        let p = index("endpoints", i);
        let addrs = v::strings(ep, &["addresses"]);
        if addrs.is_empty() {
            errs.push(required(
                &child(&p, "addresses"),
                "must contain at least 1 address",
            ));
        } else if addrs.len() > 100 {
            errs.push(crate::admission::field::too_many(
                &child(&p, "addresses"),
                addrs.len(),
                100,
            ));
        }
        for (j, a) in addrs.iter().enumerate() {
            let ap = index(&child(&p, "addresses"), j);
            match at {
                "IPv4" | "IPv6" => match names::parse_ip_sloppy(a) {
                    Some(ip) if ip.is_ipv4() == (at == "IPv4") => {
                        super::core_misc::special_ip(ip, a, &ap, errs)
                    }
                    Some(_) | None => {
                        let want = if at == "IPv4" { "IPv4" } else { "IPv6" };
                        errs.push(invalid(
                            &ap,
                            Bad::Str(a.clone()),
                            &format!("must be a valid {want} address"),
                        ));
                    }
                },
                "FQDN" => {
                    for m in names::dns1123_subdomain(a) {
                        errs.push(invalid(&ap, Bad::Str(a.clone()), &m));
                    }
                }
                _ => {}
            }
        }
        if let Some(h) = v::opt_s(ep, &["hostname"]) {
            dns_label(h, &child(&p, "hostname"), errs);
        }
    }
    let ports = v::arr(es, &["ports"]);
    let mut seen = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = index("ports", i);
        let name = v::s(port, &["name"]);
        if !name.is_empty() {
            dns_label(name, &child(&p, "name"), errs);
        }
        if !seen.insert(name.to_string()) {
            errs.push(duplicate(&child(&p, "name"), Bad::str(name)));
        }
        if let Some(proto) = v::opt_s(port, &["protocol"]) {
            protocol(proto, &child(&p, "protocol"), errs);
        } else {
            errs.push(required(&child(&p, "protocol"), ""));
        }
        if let Some(ap) = v::opt_s(port, &["appProtocol"]) {
            qualified(ap, &child(&p, "appProtocol"), errs);
        }
    }
}

/// EndpointSlice update: `addressType` is immutable.
pub(crate) fn endpoint_slice_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    endpoint_slice(new, errs);
    let n = v::s(new, &["addressType"]);
    if n != v::s(old, &["addressType"]) {
        errs.push(invalid("addressType", Bad::str(n), "field is immutable"));
    }
}

// ---------------------------------------------------------------------------------------------
// autoscaling

fn scale_target_ref(r: Option<&Value>, path: &str, errs: &mut Errs) {
    let r = r.unwrap_or(&Value::Null);
    let kind = v::s(r, &["kind"]);
    if kind.is_empty() {
        errs.push(required(&child(path, "kind"), ""));
    } else {
        for m in NameRule::PathSegment.check(kind, false) {
            errs.push(invalid(&child(path, "kind"), Bad::str(kind), &m));
        }
    }
    let name = v::s(r, &["name"]);
    if name.is_empty() {
        errs.push(required(&child(path, "name"), ""));
    } else {
        for m in NameRule::PathSegment.check(name, false) {
            errs.push(invalid(&child(path, "name"), Bad::str(name), &m));
        }
    }
}

/// `ValidateHorizontalPodAutoscaler` (v2 and v1 objects).
pub(crate) fn hpa(h: &Value, errs: &mut Errs) {
    meta::object_meta(h, true, NameRule::PathSegment, errs);
    let spec = h.get("spec").unwrap_or(&Value::Null);
    scale_target_ref(spec.get("scaleTargetRef"), "spec.scaleTargetRef", errs);
    let min = v::int(spec, &["minReplicas"]);
    if let Some(m) = min {
        if m < 1 {
            errs.push(invalid(
                "spec.minReplicas",
                Bad::Int(m),
                "must be greater than or equal to 1",
            ));
        }
    }
    let max = v::int(spec, &["maxReplicas"]).unwrap_or(0);
    if max < 1 {
        errs.push(invalid(
            "spec.maxReplicas",
            Bad::Int(max),
            "must be greater than 0",
        ));
    }
    if let Some(m) = min {
        if max < m {
            errs.push(invalid(
                "spec.maxReplicas",
                Bad::Int(max),
                "must be greater than or equal to `minReplicas`",
            ));
        }
    }
    if let Some(t) = v::int(spec, &["targetCPUUtilizationPercentage"]) {
        if t < 1 {
            errs.push(invalid(
                "spec.targetCPUUtilizationPercentage",
                Bad::Int(t),
                "must be greater than 0",
            ));
        }
    }
    const TYPES: &[&str] = &[
        "ContainerResource",
        "External",
        "Object",
        "Pods",
        "Resource",
    ];
    for (i, m) in v::arr(spec, &["metrics"]).iter().enumerate() {
        let p = index("spec.metrics", i);
        let t = v::s(m, &["type"]);
        if t.is_empty() {
            errs.push(required(
                &child(&p, "type"),
                "must specify a metric source type",
            ));
            continue;
        }
        if !TYPES.contains(&t) {
            errs.push(not_supported(&child(&p, "type"), Bad::str(t), TYPES));
            continue;
        }
        let field = match t {
            "ContainerResource" => "containerResource",
            "External" => "external",
            "Object" => "object",
            "Pods" => "pods",
            _ => "resource",
        };
        if !v::present(m, &[field]) {
            errs.push(required(&child(&p, field), &format!("must populate information for the given metric source (only allowed when type is {t})")));
        }
        if t == "Resource" {
            let target_type = v::s(m, &["resource", "target", "type"]);
            if !["Utilization", "Value", "AverageValue"].contains(&target_type) {
                errs.push(not_supported(
                    &format!("{p}.resource.target.type"),
                    Bad::str(target_type),
                    &["Utilization", "Value", "AverageValue"],
                ));
            }
            if let Some(u) = v::int(m, &["resource", "target", "averageUtilization"]) {
                if u < 1 {
                    errs.push(invalid(
                        &format!("{p}.resource.target.averageUtilization"),
                        Bad::Int(u),
                        "must be greater than 0",
                    ));
                }
            }
        }
    }
    for dir in ["scaleUp", "scaleDown"] {
        if let Some(r) = v::at(spec, &["behavior", dir]).filter(|x| !x.is_null()) {
            let p = format!("spec.behavior.{dir}");
            if let Some(w) = v::int(r, &["stabilizationWindowSeconds"]) {
                if !(0..=3600).contains(&w) {
                    errs.push(invalid(
                        &child(&p, "stabilizationWindowSeconds"),
                        Bad::Int(w),
                        if w < 0 {
                            "must be greater than or equal to zero"
                        } else {
                            "must be less than or equal to 3600"
                        },
                    ));
                }
            }
            if let Some(sp) = v::opt_s(r, &["selectPolicy"]) {
                if !["Disabled", "Max", "Min"].contains(&sp) {
                    errs.push(not_supported(
                        &child(&p, "selectPolicy"),
                        Bad::str(sp),
                        &["Disabled", "Max", "Min"],
                    ));
                }
            }
            for (i, pol) in v::arr(r, &["policies"]).iter().enumerate() {
                let pp = index(&child(&p, "policies"), i);
                let t = v::s(pol, &["type"]);
                if t != "Pods" && t != "Percent" {
                    errs.push(not_supported(
                        &child(&pp, "type"),
                        Bad::str(t),
                        &["Percent", "Pods"],
                    ));
                }
                let val = v::int(pol, &["value"]).unwrap_or(0);
                if val <= 0 {
                    errs.push(invalid(
                        &child(&pp, "value"),
                        Bad::Int(val),
                        "must be greater than zero",
                    ));
                }
                let per = v::int(pol, &["periodSeconds"]).unwrap_or(0);
                if per <= 0 {
                    errs.push(invalid(
                        &child(&pp, "periodSeconds"),
                        Bad::Int(per),
                        "must be greater than zero",
                    ));
                } else if per > 1800 {
                    errs.push(invalid(
                        &child(&pp, "periodSeconds"),
                        Bad::Int(per),
                        "must be less than or equal to 1800",
                    ));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// events.k8s.io

/// `ValidateEventCreate` for events.k8s.io/v1.
pub(crate) fn events_v1(ev: &Value, errs: &mut Errs) {
    meta::object_meta(ev, true, NameRule::Subdomain, errs);
    if !v::present(ev, &["eventTime"]) {
        errs.push(required("eventTime", ""));
    }
    let t = v::s(ev, &["type"]);
    if t != "Normal" && t != "Warning" {
        errs.push(invalid(
            "type",
            Bad::str(""),
            &format!("has invalid value: {t}"),
        ));
    }
    for (f, max) in [
        ("reportingController", 0usize),
        ("action", 128),
        ("reason", 128),
        ("note", 1024),
    ] {
        let x = v::s(ev, &[f]);
        if f == "reportingController" {
            if x.is_empty() {
                errs.push(required(f, ""));
            } else {
                qualified(x, f, errs);
            }
            continue;
        }
        if f != "note" && x.is_empty() {
            errs.push(required(f, ""));
        }
        if x.len() > max {
            errs.push(invalid(
                f,
                Bad::str(""),
                &format!("can have at most {max} characters"),
            ));
        }
    }
    let ri = v::s(ev, &["reportingInstance"]);
    if ri.is_empty() {
        errs.push(required("reportingInstance", ""));
    } else if ri.len() > 128 {
        errs.push(invalid(
            "reportingInstance",
            Bad::str(""),
            "can have at most 128 characters",
        ));
    }
}
