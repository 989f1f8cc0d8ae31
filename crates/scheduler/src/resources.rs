//! Resource arithmetic as the scheduler needs it: quantities parsed to integers (cpu in
//! millicores, everything else in whole units, rounded up), a pod's effective requests
//! (the larger of its containers' sum and its largest init container, plus overhead) and a
//! node's allocatable resources.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use skiff_api::quantity::parse_quantity;

/// Amounts of resources: `cpu` in millicores, the rest in units (bytes, pods, ...). The
/// common ones have fields of their own (the scheduler reads them for every node it
/// looks at); extended resources sit in a map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    pub cpu: i64,
    pub memory: i64,
    pub pods: i64,
    pub ephemeral_storage: i64,
    pub other: BTreeMap<String, i64>,
}

impl Resources {
    pub fn get(&self, name: &str) -> i64 {
        match name {
            "cpu" => self.cpu,
            "memory" => self.memory,
            "pods" => self.pods,
            "ephemeral-storage" => self.ephemeral_storage,
            _ => self.other.get(name).copied().unwrap_or(0),
        }
    }

    pub fn set(&mut self, name: &str, v: i64) {
        match name {
            "cpu" => self.cpu = v,
            "memory" => self.memory = v,
            "pods" => self.pods = v,
            "ephemeral-storage" => self.ephemeral_storage = v,
            _ => {
                self.other.insert(name.to_string(), v);
            }
        }
    }

    /// Every (name, amount) that is set, the common ones first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i64)> {
        [
            ("cpu", self.cpu),
            ("memory", self.memory),
            ("pods", self.pods),
            ("ephemeral-storage", self.ephemeral_storage),
        ]
        .into_iter()
        .chain(self.other.iter().map(|(k, v)| (k.as_str(), *v)))
    }

    fn combine(&mut self, other: &Resources, f: impl Fn(i64, i64) -> i64) {
        self.cpu = f(self.cpu, other.cpu);
        self.memory = f(self.memory, other.memory);
        self.pods = f(self.pods, other.pods);
        self.ephemeral_storage = f(self.ephemeral_storage, other.ephemeral_storage);
        for (k, v) in &other.other {
            let e = self.other.entry(k.clone()).or_insert(0);
            *e = f(*e, *v);
        }
    }

    pub fn add(&mut self, other: &Resources) {
        self.combine(other, |a, b| a + b);
    }

    pub fn sub(&mut self, other: &Resources) {
        self.combine(other, |a, b| a - b);
    }

    fn max_with(&mut self, other: &Resources) {
        self.combine(other, i64::max);
    }
}

fn amounts(list: Option<&BTreeMap<String, Quantity>>) -> Resources {
    let mut r = Resources::default();
    for (k, v) in list.into_iter().flatten() {
        if let Some(n) = parse_quantity(&v.0, k == "cpu") {
            r.set(k, n);
        }
    }
    r
}

fn requests(res: Option<&ResourceRequirements>) -> Resources {
    amounts(res.and_then(|r| r.requests.as_ref()))
}

/// What a pod asks of its node: max(sum of containers, each init container) + overhead,
/// and one pod.
pub fn pod_requests(pod: &Pod) -> Resources {
    let mut total = Resources::default();
    let Some(spec) = pod.spec.as_ref() else {
        return total;
    };
    for c in &spec.containers {
        total.add(&requests(c.resources.as_ref()));
    }
    for c in spec.init_containers.iter().flatten() {
        total.max_with(&requests(c.resources.as_ref()));
    }
    total.add(&amounts(spec.overhead.as_ref()));
    total.pods = 1;
    total
}

/// The node's allocatable resources (its capacity when allocatable is not reported).
pub fn allocatable(node: &Node) -> Resources {
    let st = node.status.as_ref();
    amounts(
        st.and_then(|s| s.allocatable.as_ref())
            .or_else(|| st.and_then(|s| s.capacity.as_ref())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn init_containers_and_overhead() {
        let pod: Pod = serde_json::from_value(json!({"spec": {
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "1Mi"}}},
                {"name": "b", "resources": {"requests": {"cpu": "200m"}}}],
            "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "500m"}}}],
            "overhead": {"cpu": "10m"}
        }}))
        .unwrap();
        let r = pod_requests(&pod);
        assert_eq!(r.get("cpu"), 510);
        assert_eq!(r.get("memory"), 1 << 20);
        assert_eq!(r.get("pods"), 1);
    }
}
