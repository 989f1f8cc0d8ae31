//! Service validation (`ValidateService`, `ValidateServiceUpdate`): ports, types, cluster IPs
//! and families, session affinity, traffic policies, and the cluster IP that may not change
//! once set. NodePort range checks belong to the allocator, not here.

use std::collections::BTreeSet;

use serde_json::Value;

use super::meta;
use super::names::{self, NameRule};
use super::pod::{dns_label, dns_subdomain, protocol, qualified};
use crate::admission::field::{
    child, duplicate, forbidden, go_string_slice, index, invalid, not_supported, required, Bad,
    Errs,
};
use crate::admission::value as v;

fn is_headless(svc: &Value) -> bool {
    let ips = v::strings(svc, &["spec", "clusterIPs"]);
    ips.len() == 1 && ips[0] == "None"
}

/// `apiservice.ExternallyAccessible`.
pub(crate) fn externally_accessible(svc: &Value) -> bool {
    match v::s(svc, &["spec", "type"]) {
        "LoadBalancer" | "NodePort" => true,
        "ClusterIP" => !v::arr(svc, &["spec", "externalIPs"]).is_empty(),
        _ => false,
    }
}

fn service_port(
    sp: &Value,
    require_name: bool,
    seen: &mut BTreeSet<String>,
    path: &str,
    errs: &mut Errs,
) {
    let name = v::s(sp, &["name"]);
    if require_name && name.is_empty() {
        errs.push(required(&child(path, "name"), ""));
    } else if !name.is_empty() {
        dns_label(name, &child(path, "name"), errs);
        if !seen.insert(name.to_string()) {
            errs.push(duplicate(&child(path, "name"), Bad::str(name)));
        }
    }
    let port = v::int(sp, &["port"]).unwrap_or(0);
    for m in names::port_num(port) {
        errs.push(invalid(&child(path, "port"), Bad::Int(port), &m));
    }
    protocol(v::s(sp, &["protocol"]), &child(path, "protocol"), errs);
    let tp = child(path, "targetPort");
    match sp.get("targetPort") {
        Some(Value::String(s)) => {
            for m in names::port_name(s) {
                errs.push(invalid(&tp, Bad::str(s), &m));
            }
        }
        other => {
            let n = other.and_then(Value::as_i64).unwrap_or(0);
            for m in names::port_num(n) {
                errs.push(invalid(&tp, Bad::Int(n), &m));
            }
        }
    }
    if let Some(ap) = v::opt_s(sp, &["appProtocol"]) {
        qualified(ap, &child(path, "appProtocol"), errs);
    }
}

fn cluster_ips(svc: &Value, errs: &mut Errs) {
    let spec = svc.get("spec").unwrap_or(&Value::Null);
    if v::s(spec, &["type"]) == "ExternalName" {
        return;
    }
    let ips = v::strings(spec, &["clusterIPs"]);
    let ips_bad = || Bad::Go(go_string_slice(spec.get("clusterIPs")));
    let cip = v::s(spec, &["clusterIP"]);
    if !cip.is_empty() {
        if ips.is_empty() {
            errs.push(required("spec.clusterIPs", ""));
        } else if ips[0] != cip {
            errs.push(invalid(
                "spec.clusterIPs",
                ips_bad(),
                "first value must match `clusterIP`",
            ));
        }
    } else if !ips.is_empty() {
        errs.push(invalid(
            "spec.clusterIPs",
            ips_bad(),
            "must be empty when `clusterIP` is not specified",
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, f) in v::strings(spec, &["ipFamilies"]).iter().enumerate() {
        let p = index("spec.ipFamilies", i);
        if f != "IPv4" && f != "IPv6" {
            errs.push(not_supported(&p, Bad::Str(f.clone()), &["IPv4", "IPv6"]));
        }
        if !seen.insert(f.clone()) {
            errs.push(duplicate(&p, Bad::Str(f.clone())));
        }
    }
    if let Some(pol) = v::opt_s(spec, &["ipFamilyPolicy"]) {
        const POLICIES: &[&str] = &["PreferDualStack", "RequireDualStack", "SingleStack"];
        if !POLICIES.contains(&pol) {
            errs.push(not_supported(
                "spec.ipFamilyPolicy",
                Bad::str(pol),
                POLICIES,
            ));
        }
    }
    let mut bad_ips = false;
    for (i, ip) in ips.iter().enumerate() {
        if i == 0 && ip == "None" {
            if ips.len() > 1 {
                bad_ips = true;
                errs.push(invalid(
                    "spec.clusterIPs",
                    ips_bad(),
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        if !names::is_ip(ip) {
            bad_ips = true;
            errs.push(invalid(
                &index("spec.clusterIPs", i),
                Bad::Str(ip.clone()),
                names::INVALID_IP,
            ));
        }
    }
    if ips.len() > 2 {
        errs.push(invalid(
            "spec.clusterIPs",
            ips_bad(),
            "may only hold up to 2 values",
        ));
    }
    if bad_ips {
        return;
    }
    if ips.len() > 1 {
        let v6: Vec<bool> = ips.iter().map(|ip| ip.contains(':')).collect();
        if v6.len() != 2 || v6[0] == v6[1] {
            errs.push(invalid(
                "spec.clusterIPs",
                ips_bad(),
                "may specify no more than one IP for each IP family",
            ));
        }
    }
    let families = v::strings(spec, &["ipFamilies"]);
    if !is_headless(svc) {
        for (i, ip) in ips.iter().enumerate() {
            let Some(f) = families.get(i) else { break };
            if f == "IPv4" && ip.contains(':') {
                errs.push(invalid(
                    &index("spec.clusterIPs", i),
                    Bad::Str(ip.clone()),
                    &format!("expected an IPv4 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
            if f == "IPv6" && !ip.contains(':') {
                errs.push(invalid(
                    &index("spec.clusterIPs", i),
                    Bad::Str(ip.clone()),
                    &format!("expected an IPv6 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
        }
    }
}

/// `ValidateService`.
pub(crate) fn service(svc: &Value, errs: &mut Errs) {
    meta::object_meta(svc, true, NameRule::Dns1035, errs);
    let spec = svc.get("spec").unwrap_or(&Value::Null);
    let typ = v::s(spec, &["type"]);
    let ports = v::arr(spec, &["ports"]);
    if ports.is_empty() && !is_headless(svc) && typ != "ExternalName" {
        errs.push(required("spec.ports", ""));
    }
    let first_ip = || {
        Bad::Str(
            v::strings(spec, &["clusterIPs"])
                .first()
                .cloned()
                .unwrap_or_default(),
        )
    };
    match typ {
        "LoadBalancer" if is_headless(svc) => errs.push(invalid(
            "spec.clusterIPs[0]",
            first_ip(),
            "may not be set to 'None' for LoadBalancer services",
        )),
        "NodePort" if is_headless(svc) => errs.push(invalid(
            "spec.clusterIPs[0]",
            first_ip(),
            "may not be set to 'None' for NodePort services",
        )),
        "ExternalName" => {
            if !v::arr(spec, &["clusterIPs"]).is_empty() {
                errs.push(forbidden(
                    "spec.clusterIPs",
                    "may not be set for ExternalName services",
                ));
            }
            if !v::arr(spec, &["ipFamilies"]).is_empty() {
                errs.push(forbidden(
                    "spec.ipFamilies",
                    "may not be set for ExternalName services",
                ));
            }
            if v::present(spec, &["ipFamilyPolicy"]) {
                errs.push(forbidden(
                    "spec.ipFamilyPolicy",
                    "may not be set for ExternalName services",
                ));
            }
            let cname = v::s(spec, &["externalName"]);
            let cname = cname.strip_suffix('.').unwrap_or(cname);
            if cname.is_empty() {
                errs.push(required("spec.externalName", ""));
            } else {
                dns_subdomain(cname, "spec.externalName", errs);
            }
        }
        _ => {}
    }
    let mut seen = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        service_port(p, ports.len() > 1, &mut seen, &index("spec.ports", i), errs);
    }
    if spec.get("selector").is_some_and(Value::is_object) {
        meta::labels(spec.get("selector"), "spec.selector", errs);
    }
    let affinity = v::s(spec, &["sessionAffinity"]);
    match affinity {
        "" => errs.push(required("spec.sessionAffinity", "")),
        "ClientIP" | "None" => {}
        other => errs.push(not_supported(
            "spec.sessionAffinity",
            Bad::str(other),
            &["ClientIP", "None"],
        )),
    }
    if affinity == "ClientIP" {
        let cfg = "spec.sessionAffinityConfig";
        let detail = "when session affinity type is ClientIP";
        match v::int(
            spec,
            &["sessionAffinityConfig", "clientIP", "timeoutSeconds"],
        ) {
            _ if !v::present(spec, &["sessionAffinityConfig"]) => errs.push(required(cfg, detail)),
            _ if !v::present(spec, &["sessionAffinityConfig", "clientIP"]) => {
                errs.push(required(&child(cfg, "clientIP"), detail))
            }
            None => errs.push(required(&format!("{cfg}.clientIP.timeoutSeconds"), detail)),
            Some(t) if t <= 0 || t > 86400 => errs.push(invalid(
                &format!("{cfg}.clientIP.timeoutSeconds"),
                Bad::Int(t),
                "must be greater than 0 and less than 86400",
            )),
            _ => {}
        }
    } else if affinity == "None" && v::present(spec, &["sessionAffinityConfig"]) {
        errs.push(forbidden(
            "spec.sessionAffinityConfig",
            "must not be set when session affinity is None",
        ));
    }
    cluster_ips(svc, errs);
    for (i, ip) in v::strings(spec, &["externalIPs"]).iter().enumerate() {
        if !names::is_ip(ip) {
            errs.push(invalid(
                &index("spec.externalIPs", i),
                Bad::Str(ip.clone()),
                names::INVALID_IP,
            ));
        }
    }
    const TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    if typ.is_empty() {
        errs.push(required("spec.type", ""));
    } else if !TYPES.contains(&typ) {
        errs.push(not_supported("spec.type", Bad::str(typ), TYPES));
    }
    if typ == "ClusterIP" {
        for (i, p) in ports.iter().enumerate() {
            if v::int(p, &["nodePort"]).unwrap_or(0) != 0 {
                errs.push(forbidden(
                    &format!("spec.ports[{i}].nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            }
        }
    }
    let mut node_ports = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let np = v::int(p, &["nodePort"]).unwrap_or(0);
        if np != 0 && !node_ports.insert((v::s(p, &["protocol"]).to_string(), np)) {
            errs.push(duplicate(
                &format!("spec.ports[{i}].nodePort"),
                Bad::Int(np),
            ));
        }
    }
    let mut port_keys = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let proto = v::s(p, &["protocol"]);
        let port = v::int(p, &["port"]).unwrap_or(0);
        if !port_keys.insert((proto.to_string(), port)) {
            errs.push(duplicate(
                &index("spec.ports", i),
                Bad::Go(format!(
                    "core.ServicePort{{Name:\"\", Protocol:\"{proto}\", AppProtocol:(*string)(nil), Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}"
                )),
            ));
        }
    }
    let ranges = v::strings(spec, &["loadBalancerSourceRanges"]);
    if !ranges.is_empty() {
        if typ != "LoadBalancer" {
            errs.push(forbidden(
                "spec.LoadBalancerSourceRanges",
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
        for (i, r) in ranges.iter().enumerate() {
            let r = r.trim();
            if !names::is_cidr(r) {
                errs.push(invalid(
                    &index("spec.LoadBalancerSourceRanges", i),
                    Bad::str(r),
                    "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                ));
            }
        }
    }
    if v::present(spec, &["allocateLoadBalancerNodePorts"]) && typ != "LoadBalancer" {
        errs.push(forbidden(
            "spec.allocateLoadBalancerNodePorts",
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
    if typ == "LoadBalancer" && !v::present(spec, &["allocateLoadBalancerNodePorts"]) {
        errs.push(required("allocateLoadBalancerNodePorts", ""));
    }
    if let Some(lbc) = v::opt_s(spec, &["loadBalancerClass"]) {
        if typ == "LoadBalancer" {
            qualified(lbc, "spec.loadBalancerClass", errs);
        } else {
            errs.push(forbidden(
                "spec.loadBalancerClass",
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
    }
    let etp = v::s(spec, &["externalTrafficPolicy"]);
    if !externally_accessible(svc) {
        if !etp.is_empty() {
            errs.push(invalid(
                "spec.externalTrafficPolicy",
                Bad::str(etp),
                "may only be set for externally-accessible services",
            ));
        }
    } else if etp.is_empty() {
        errs.push(required("spec.externalTrafficPolicy", ""));
    } else if etp != "Cluster" && etp != "Local" {
        errs.push(not_supported(
            "spec.externalTrafficPolicy",
            Bad::str(etp),
            &["Cluster", "Local"],
        ));
    }
    let hc = v::int(spec, &["healthCheckNodePort"]).unwrap_or(0);
    let needs_hc = typ == "LoadBalancer" && etp == "Local";
    if !needs_hc && hc != 0 {
        errs.push(invalid(
            "spec.healthCheckNodePort",
            Bad::Int(hc),
            "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ));
    }
    match v::opt_s(spec, &["internalTrafficPolicy"]) {
        None => {
            if matches!(typ, "NodePort" | "LoadBalancer" | "ClusterIP") {
                errs.push(required("spec.internalTrafficPolicy", ""));
            }
        }
        Some(p) if p != "Cluster" && p != "Local" => errs.push(not_supported(
            "spec.internalTrafficPolicy",
            Bad::str(p),
            &["Cluster", "Local"],
        )),
        _ => {}
    }
    if let Some(td) = v::opt_s(spec, &["trafficDistribution"]) {
        if td != "PreferClose" {
            errs.push(not_supported(
                "spec.trafficDistribution",
                Bad::str(td),
                &["PreferClose"],
            ));
        }
    }
}

/// `ValidateServiceUpdate`: cluster IPs and IP families may not change once set (except
/// adding or releasing a secondary), then the full create-time validation.
pub(crate) fn service_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    let nt = v::s(new, &["spec", "type"]);
    let ot = v::s(old, &["spec", "type"]);
    if nt != "ExternalName" && ot != "ExternalName" && !(is_headless(new) && is_headless(old)) {
        let n = v::strings(new, &["spec", "clusterIPs"]);
        let o = v::strings(old, &["spec", "clusterIPs"]);
        let bad = || Bad::Go(go_string_slice(v::at(new, &["spec", "clusterIPs"])));
        if n.len() == o.len() {
            for (i, ip) in o.iter().enumerate() {
                if ip != &n[i] {
                    errs.push(invalid(
                        &index("spec.clusterIPs", i),
                        bad(),
                        "may not change once set",
                    ));
                }
            }
        } else if o.len() > n.len() {
            if n.is_empty() {
                errs.push(invalid(
                    "spec.clusterIPs[0]",
                    bad(),
                    "primary clusterIP can not be unset",
                ));
            }
            if !o.is_empty() && !n.is_empty() && n[0] != o[0] {
                errs.push(invalid(
                    "spec.clusterIPs[0]",
                    bad(),
                    "may not change once set",
                ));
            }
            if n.len() == 1 && v::s(new, &["spec", "ipFamilyPolicy"]) != "SingleStack" {
                errs.push(invalid(
                    "spec.ipFamilyPolicy",
                    match v::opt_s(new, &["spec", "ipFamilyPolicy"]) {
                        Some(p) => Bad::str(p),
                        None => Bad::Null,
                    },
                    "must be set to 'SingleStack' when releasing the secondary clusterIP",
                ));
            }
        } else if !o.is_empty() && n[0] != o[0] {
            errs.push(invalid(
                "spec.clusterIPs[0]",
                bad(),
                "may not change once set",
            ));
        }
    }
    if nt != "ExternalName" && ot != "ExternalName" && !is_headless(new) && !is_headless(old) {
        let n = v::strings(new, &["spec", "ipFamilies"]);
        let o = v::strings(old, &["spec", "ipFamilies"]);
        let bad = Bad::Go(
            go_string_slice(v::at(new, &["spec", "ipFamilies"]))
                .replace("[]string", "[]core.IPFamily"),
        );
        let changed = if n.len() == o.len() {
            n != o
        } else {
            !n.is_empty() && !o.is_empty() && n[0] != o[0]
        };
        if changed {
            errs.push(invalid(
                "spec.ipFamilies[0]",
                bad,
                "may not change once set",
            ));
        }
    }
    if nt == "LoadBalancer" && ot == "LoadBalancer" {
        let nc = v::at(new, &["spec", "loadBalancerClass"]);
        if nc != v::at(old, &["spec", "loadBalancerClass"]) {
            errs.push(invalid(
                "spec.loadBalancerClass",
                nc.and_then(Value::as_str).map_or(Bad::Null, Bad::str),
                "may not change once set",
            ));
        }
    }
    let needs_hc = |s: &Value| {
        v::s(s, &["spec", "type"]) == "LoadBalancer"
            && v::s(s, &["spec", "externalTrafficPolicy"]) == "Local"
    };
    if needs_hc(new)
        && needs_hc(old)
        && v::int(new, &["spec", "healthCheckNodePort"])
            != v::int(old, &["spec", "healthCheckNodePort"])
    {
        errs.push(forbidden("spec.healthCheckNodePort", "field is immutable"));
    }
    service(new, errs);
}
