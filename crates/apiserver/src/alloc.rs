//! Service ClusterIP and NodePort allocation. Each allocated IP or port is a claim key in
//! the store (`/skiff/alloc/clusterip/<ip>`, `/skiff/alloc/nodeport/<port>`) created with
//! create-if-absent, so two API servers on one etcd never hand out the same address (the
//! role upstream's IPAddress objects and allocation bitmaps play). A claim's value is the key
//! of the Service holding it; [`Allocators::repair`] drops claims whose Service is gone or
//! no longer uses them (a crash between claim and Service write leaks nothing for long).

use std::net::Ipv4Addr;
use std::sync::Arc;

use bytes::Bytes;
use rand::Rng;
use serde_json::{json, Value};
use skiff_store::{RangeRequest, Store};

use crate::status::{ApiError, Cause};

const CLUSTER_IP_PREFIX: &str = "/skiff/alloc/clusterip/";
const NODE_PORT_PREFIX: &str = "/skiff/alloc/nodeport/";

/// The default NodePort range (upstream's `--service-node-port-range`).
pub const NODE_PORTS: (u16, u16) = (30000, 32767);

/// An IPv4 CIDR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub base: Ipv4Addr,
    pub bits: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (ip, bits) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not a CIDR (a.b.c.d/n)"))?;
        let ip: Ipv4Addr = ip.parse().map_err(|_| format!("{s:?}: bad IPv4 address"))?;
        let bits: u8 = bits
            .parse()
            .map_err(|_| format!("{s:?}: bad prefix length"))?;
        if !(8..=30).contains(&bits) {
            return Err(format!("{s:?}: prefix length must be between 8 and 30"));
        }
        let mask = u32::MAX << (32 - bits);
        Ok(Cidr {
            base: Ipv4Addr::from(u32::from(ip) & mask),
            bits,
        })
    }

    pub fn size(&self) -> u32 {
        1u32 << (32 - self.bits)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX << (32 - self.bits);
        u32::from(ip) & mask == u32::from(self.base)
    }

    /// The n-th address of the range (1 = the first usable one).
    pub fn nth(&self, n: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.base) + n)
    }

    /// Whether the address may be handed out (not the network or broadcast address).
    pub fn usable(&self, ip: Ipv4Addr) -> bool {
        let off = u32::from(ip).wrapping_sub(u32::from(self.base));
        self.contains(ip) && off != 0 && off != self.size() - 1
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.base, self.bits)
    }
}

/// The allocators of one cluster.
pub struct Allocators {
    store: Arc<dyn Store>,
    pub service_cidr: Cidr,
}

fn invalid(field: String, message: String) -> Cause {
    Cause {
        reason: "FieldValueInvalid".into(),
        field,
        message,
    }
}

impl Allocators {
    pub fn new(store: Arc<dyn Store>, service_cidr: Cidr) -> Self {
        Allocators {
            store,
            service_cidr,
        }
    }

    /// Claims `key` for `owner`; Ok(false) if someone else holds it.
    async fn claim(&self, key: &str, owner: &str) -> Result<bool, ApiError> {
        match self.store.create(key, Bytes::from(owner.to_string())).await {
            Ok(_) => Ok(true),
            Err(skiff_store::Error::AlreadyExists(_)) => {
                let held = self
                    .store
                    .get(key)
                    .await
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                Ok(held.map(|kv| kv.value == owner.as_bytes()).unwrap_or(false))
            }
            Err(e) => Err(ApiError::ServiceUnavailable(format!("storage: {e}"))),
        }
    }

    /// Releases claim keys (best effort; repair collects what is missed).
    pub async fn release(&self, keys: &[String]) {
        for k in keys {
            if let Err(e) = self.store.delete(k, None).await {
                if !matches!(e, skiff_store::Error::NotFound(_)) {
                    tracing::warn!(key = %k, error = %e, "releasing allocation failed");
                }
            }
        }
    }

    /// Allocates what a new (or updated: `old`) Service needs, writing the results into
    /// `svc`. Returns the claims taken (to release if the write fails) and the claims of
    /// `old` no longer needed (to release after it succeeds). Errors are field causes (422).
    pub async fn allocate_service(
        &self,
        svc: &mut Value,
        old: Option<&Value>,
        owner: &str,
    ) -> Result<(Vec<String>, Vec<String>), Vec<Cause>> {
        let old_claims = old.map(claims_of).unwrap_or_default();
        let svc_type = svc["spec"]["type"]
            .as_str()
            .unwrap_or("ClusterIP")
            .to_string();
        let mut taken = Vec::new();
        let mut causes = Vec::new();
        // Cluster IP.
        if svc_type != "ExternalName" {
            let requested = svc["spec"]["clusterIP"].as_str().unwrap_or("").to_string();
            if requested == "None" {
                svc["spec"]["clusterIPs"] = json!(["None"]);
            } else if requested.is_empty() {
                match self.pick_ip(owner).await {
                    Ok(Some((ip, key))) => {
                        taken.push(key);
                        svc["spec"]["clusterIP"] = json!(ip.to_string());
                        svc["spec"]["clusterIPs"] = json!([ip.to_string()]);
                    }
                    Ok(None) => causes.push(invalid(
                        "spec.clusterIPs".into(),
                        format!("Internal error: failed to allocate a serviceIP: range is full"),
                    )),
                    Err(e) => causes.push(invalid("spec.clusterIPs".into(), e.to_string())),
                }
            } else {
                match requested.parse::<Ipv4Addr>() {
                    Ok(ip) if self.service_cidr.usable(ip) => {
                        let key = format!("{CLUSTER_IP_PREFIX}{ip}");
                        if old_claims.contains(&key) {
                            // Kept from before.
                        } else {
                            match self.claim(&key, owner).await {
                                Ok(true) => taken.push(key),
                                Ok(false) => causes.push(invalid(
                                    "spec.clusterIPs[0]".into(),
                                    format!("Invalid value: {requested:?}: provided IP is already allocated"),
                                )),
                                Err(e) => causes.push(invalid("spec.clusterIPs[0]".into(), e.to_string())),
                            }
                        }
                        svc["spec"]["clusterIPs"] = json!([ip.to_string()]);
                    }
                    Ok(_) => causes.push(invalid(
                        "spec.clusterIPs[0]".into(),
                        format!(
                            "Invalid value: {requested:?}: provided IP is not in the valid range. The range of valid IPs is {}",
                            self.service_cidr
                        ),
                    )),
                    Err(_) => causes.push(invalid(
                        "spec.clusterIPs[0]".into(),
                        format!("Invalid value: {requested:?}: must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"),
                    )),
                }
            }
        }
        // Node ports.
        if svc_type == "NodePort" || svc_type == "LoadBalancer" {
            let n = svc["spec"]["ports"].as_array().map(Vec::len).unwrap_or(0);
            for i in 0..n {
                let requested = svc["spec"]["ports"][i]["nodePort"]
                    .as_u64()
                    .filter(|p| *p != 0);
                match requested {
                    Some(p) => {
                        let field = format!("spec.ports[{i}].nodePort");
                        if p < u64::from(NODE_PORTS.0) || p > u64::from(NODE_PORTS.1) {
                            causes.push(invalid(field, format!(
                                "Invalid value: {p}: provided port is not in the valid range. The range of valid ports is {}-{}",
                                NODE_PORTS.0, NODE_PORTS.1
                            )));
                            continue;
                        }
                        let key = format!("{NODE_PORT_PREFIX}{p}");
                        if old_claims.contains(&key) || taken.contains(&key) {
                            continue;
                        }
                        match self.claim(&key, owner).await {
                            Ok(true) => taken.push(key),
                            Ok(false) => causes.push(invalid(
                                field,
                                format!("Invalid value: {p}: provided port is already allocated"),
                            )),
                            Err(e) => causes.push(invalid(field, e.to_string())),
                        }
                    }
                    None => match self.pick_port(owner).await {
                        Ok(Some((p, key))) => {
                            taken.push(key);
                            svc["spec"]["ports"][i]["nodePort"] = json!(p);
                        }
                        Ok(None) => causes.push(invalid(
                            format!("spec.ports[{i}].nodePort"),
                            "Internal error: failed to allocate a nodePort: range is full".into(),
                        )),
                        Err(e) => {
                            causes.push(invalid(format!("spec.ports[{i}].nodePort"), e.to_string()))
                        }
                    },
                }
            }
        } else if let Some(ports) = svc["spec"]["ports"].as_array_mut() {
            // A ClusterIP service has no node ports (upstream clears them on type change).
            for p in ports {
                if let Some(m) = p.as_object_mut() {
                    m.remove("nodePort");
                }
            }
        }
        if !causes.is_empty() {
            self.release(&taken).await;
            return Err(causes);
        }
        let now = claims_of(svc);
        let obsolete = old_claims
            .into_iter()
            .filter(|k| !now.contains(k))
            .collect();
        Ok((taken, obsolete))
    }

    async fn pick_ip(&self, owner: &str) -> Result<Option<(Ipv4Addr, String)>, ApiError> {
        let size = self.service_cidr.size();
        // Random probes, then a scan; the first ten addresses are left to those who ask for
        // them by name (the kubernetes Service takes .1, cluster DNS .10).
        let lo = 11.min(size - 2);
        let random = (0..64).map(|_| rand::rng().random_range(lo..size - 1));
        for off in random.chain(lo..size - 1) {
            let ip = self.service_cidr.nth(off);
            let key = format!("{CLUSTER_IP_PREFIX}{ip}");
            if self.claim(&key, owner).await? {
                return Ok(Some((ip, key)));
            }
        }
        Ok(None)
    }

    async fn pick_port(&self, owner: &str) -> Result<Option<(u16, String)>, ApiError> {
        let (lo, hi) = NODE_PORTS;
        let random = (0..64).map(|_| rand::rng().random_range(lo..=hi));
        for p in random.chain(lo..=hi) {
            let key = format!("{NODE_PORT_PREFIX}{p}");
            if self.claim(&key, owner).await? {
                return Ok(Some((p, key)));
            }
        }
        Ok(None)
    }

    /// Drops claims whose Service is gone or does not use them, and re-creates claims a
    /// Service holds but which are missing.
    pub async fn repair(&self) -> Result<(), skiff_store::Error> {
        let claims = self
            .store
            .range(RangeRequest {
                prefix: "/skiff/alloc/".into(),
                ..Default::default()
            })
            .await?;
        for kv in claims.kvs {
            let owner = String::from_utf8_lossy(&kv.value).to_string();
            let keep = match self.store.get(&owner).await? {
                Some(svc) => serde_json::from_slice::<Value>(&svc.value)
                    .map(|v| claims_of(&v).contains(&kv.key))
                    .unwrap_or(false),
                None => false,
            };
            if !keep {
                let _ = self.store.delete(&kv.key, Some(kv.mod_revision)).await;
            }
        }
        let services = self
            .store
            .range(RangeRequest {
                prefix: "/registry/services/".into(),
                ..Default::default()
            })
            .await?;
        for kv in services.kvs {
            if let Ok(v) = serde_json::from_slice::<Value>(&kv.value) {
                for c in claims_of(&v) {
                    let _ = self.store.create(&c, Bytes::from(kv.key.clone())).await;
                }
            }
        }
        Ok(())
    }
}

/// The claim keys a Service's spec uses.
pub fn claims_of(svc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(ip) = svc["spec"]["clusterIP"].as_str() {
        if ip.parse::<Ipv4Addr>().is_ok() {
            out.push(format!("{CLUSTER_IP_PREFIX}{ip}"));
        }
    }
    if let Some(ports) = svc["spec"]["ports"].as_array() {
        for p in ports {
            if let Some(n) = p["nodePort"].as_u64().filter(|n| *n != 0) {
                out.push(format!("{NODE_PORT_PREFIX}{n}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use skiff_store::MemoryStore;

    #[test]
    fn cidr() {
        let c = Cidr::parse("10.43.0.0/16").unwrap();
        assert_eq!(c.nth(1), Ipv4Addr::new(10, 43, 0, 1));
        assert!(c.usable(Ipv4Addr::new(10, 43, 0, 10)));
        assert!(!c.usable(Ipv4Addr::new(10, 43, 0, 0)));
        assert!(!c.usable(Ipv4Addr::new(10, 43, 255, 255)));
        assert!(!c.usable(Ipv4Addr::new(10, 44, 0, 1)));
        assert!(Cidr::parse("10.43.0.0").is_err());
    }

    #[tokio::test]
    async fn allocates_and_rejects_conflicts() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let a = Allocators::new(store.clone(), Cidr::parse("10.43.0.0/24").unwrap());
        let mut s1 = json!({"spec": {"type": "NodePort", "ports": [{"port": 80}]}});
        let (taken, _) = a
            .allocate_service(&mut s1, None, "/registry/services/default/a")
            .await
            .unwrap();
        assert_eq!(taken.len(), 2);
        let ip = s1["spec"]["clusterIP"].as_str().unwrap().to_string();
        let port = s1["spec"]["ports"][0]["nodePort"].as_u64().unwrap();
        let mut s2 = json!({"spec": {"type": "NodePort", "clusterIP": ip, "ports": [{"port": 80, "nodePort": port}]}});
        let causes = a
            .allocate_service(&mut s2, None, "/registry/services/default/b")
            .await
            .unwrap_err();
        assert_eq!(causes.len(), 2);
        assert!(causes[0]
            .message
            .contains("provided IP is already allocated"));
        assert!(causes[1]
            .message
            .contains("provided port is already allocated"));
        let mut s3 = json!({"spec": {"clusterIP": "10.0.0.1", "ports": [{"port": 80}]}});
        let causes = a
            .allocate_service(&mut s3, None, "/registry/services/default/c")
            .await
            .unwrap_err();
        assert!(causes[0]
            .message
            .contains("The range of valid IPs is 10.43.0.0/24"));
        // Type change to ClusterIP releases the node port.
        let mut s1b = s1.clone();
        s1b["spec"]["type"] = json!("ClusterIP");
        let (_, obsolete) = a
            .allocate_service(&mut s1b, Some(&s1), "/registry/services/default/a")
            .await
            .unwrap();
        assert_eq!(obsolete, vec![format!("{NODE_PORT_PREFIX}{port}")]);
        // Repair drops claims of services that do not exist.
        a.repair().await.unwrap();
        let left = store
            .range(RangeRequest {
                prefix: "/skiff/alloc/".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(left.kvs.is_empty());
    }
}
