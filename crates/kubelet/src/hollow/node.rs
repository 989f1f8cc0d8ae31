//! The Node a hollow node registers and the status it reports, as upstream's kubelet builds
//! them (`initialNode`, the node status setters): labels, capacity = allocatable, addresses,
//! nodeInfo and the four conditions. Pure: the time comes in as a parameter.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    DaemonEndpoint, Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeStatus,
    NodeSystemInfo,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use super::HollowConfig;

/// The kubelet version hollow nodes report.
pub const KUBELET_VERSION: &str = "v1.33.0+skiff";
/// The container runtime they pretend to run.
pub const RUNTIME_VERSION: &str = "skiff-hollow://0.1";
/// How often a node reports its status when nothing changed (upstream's
/// `nodeStatusReportFrequency`).
pub const STATUS_REPORT_FREQUENCY: Duration = Duration::from_secs(300);
/// The kubelet's port.
pub const KUBELET_PORT: i32 = 10250;

/// The index of node `name` when it is one of ours (`<prefix><i>`, `i < count`).
pub fn node_index(config: &HollowConfig, name: &str) -> Option<usize> {
    let rest = name.strip_prefix(config.name_prefix.as_str())?;
    if rest.is_empty() || (rest.len() > 1 && rest.starts_with('0')) {
        return None;
    }
    let i: usize = rest.parse().ok()?;
    (i < config.count).then_some(i)
}

pub fn node_name(config: &HollowConfig, index: usize) -> String {
    format!("{}{}", config.name_prefix, index)
}

/// The node's (fake) InternalIP: 10.255.x.y, unique for the first 65,534 nodes.
pub fn internal_ip(index: usize) -> String {
    let n = (index % 65_534) + 1;
    format!("10.255.{}.{}", n >> 8, n & 0xff)
}

/// Go's GOARCH for this machine.
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A stable, unique-looking 32-hex-digit id per node and purpose.
fn hex_id(index: usize, salt: u64) -> String {
    let a = splitmix((index as u64) ^ (salt << 32));
    let b = splitmix(a ^ salt);
    format!("{a:016x}{b:016x}")
}

fn uuid_like(index: usize, salt: u64) -> String {
    let h = hex_id(index, salt);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The node's labels as the kubelet sets them.
pub fn labels(name: &str) -> BTreeMap<String, String> {
    let arch = go_arch();
    BTreeMap::from([
        ("beta.kubernetes.io/arch".into(), arch.into()),
        ("beta.kubernetes.io/os".into(), "linux".into()),
        ("kubernetes.io/arch".into(), arch.into()),
        ("kubernetes.io/hostname".into(), name.into()),
        ("kubernetes.io/os".into(), "linux".into()),
    ])
}

fn resources(config: &HollowConfig) -> BTreeMap<String, Quantity> {
    BTreeMap::from([
        ("cpu".into(), Quantity(config.cpu.clone())),
        ("ephemeral-storage".into(), Quantity("100Gi".into())),
        ("hugepages-1Gi".into(), Quantity("0".into())),
        ("hugepages-2Mi".into(), Quantity("0".into())),
        ("memory".into(), Quantity(config.memory.clone())),
        ("pods".into(), Quantity(config.pods.to_string())),
    ])
}

/// The four conditions a healthy node reports, in upstream's order, all with `now` as
/// heartbeat; transition times are kept from `previous` when the status did not change.
pub fn conditions(previous: &[NodeCondition], now: Timestamp) -> Vec<NodeCondition> {
    let wanted = [
        (
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        (
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure",
        ),
        (
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
        ),
        (
            "Ready",
            "True",
            "KubeletReady",
            "kubelet is posting ready status",
        ),
    ];
    wanted
        .iter()
        .map(|(ty, status, reason, message)| {
            let transition = previous
                .iter()
                .find(|c| c.type_ == *ty && c.status == *status)
                .and_then(|c| c.last_transition_time.clone())
                .unwrap_or(Time(now));
            NodeCondition {
                type_: (*ty).into(),
                status: (*status).into(),
                reason: Some((*reason).into()),
                message: Some((*message).into()),
                last_heartbeat_time: Some(Time(now)),
                last_transition_time: Some(transition),
            }
        })
        .collect()
}

/// The status the node reports at `now`, keeping transition times from `previous`.
pub fn status(
    config: &HollowConfig,
    index: usize,
    previous: Option<&NodeStatus>,
    now: Timestamp,
) -> NodeStatus {
    let name = node_name(config, index);
    let prev_conditions = previous
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let res = resources(config);
    NodeStatus {
        addresses: Some(vec![
            NodeAddress {
                type_: "InternalIP".into(),
                address: internal_ip(index),
            },
            NodeAddress {
                type_: "Hostname".into(),
                address: name,
            },
        ]),
        allocatable: Some(res.clone()),
        capacity: Some(res),
        conditions: Some(conditions(prev_conditions, now)),
        daemon_endpoints: Some(NodeDaemonEndpoints {
            kubelet_endpoint: Some(DaemonEndpoint { port: KUBELET_PORT }),
        }),
        node_info: Some(NodeSystemInfo {
            architecture: go_arch().into(),
            boot_id: uuid_like(index, 0xb007),
            container_runtime_version: RUNTIME_VERSION.into(),
            kernel_version: "6.1.0-skiff-hollow".into(),
            kube_proxy_version: String::new(),
            kubelet_version: KUBELET_VERSION.into(),
            machine_id: hex_id(index, 0x3ac1),
            operating_system: "linux".into(),
            os_image: "skiff hollow node".into(),
            system_uuid: uuid_like(index, 0x5e5e),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The Node object to register.
pub fn node(config: &HollowConfig, index: usize, now: Timestamp) -> Node {
    let name = node_name(config, index);
    Node {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            labels: Some(labels(&name)),
            annotations: Some(BTreeMap::from([(
                "volumes.kubernetes.io/controller-managed-attach-detach".into(),
                "true".into(),
            )])),
            ..Default::default()
        },
        spec: None,
        status: Some(status(config, index, None, now)),
    }
}

/// A condition without its timestamps, to compare what a node reports.
fn condition_facts(c: &NodeCondition) -> (&str, &str, Option<&str>, Option<&str>) {
    (
        c.type_.as_str(),
        c.status.as_str(),
        c.reason.as_deref(),
        c.message.as_deref(),
    )
}

/// When the node's status must be written next: `None` = now (it differs from what we
/// report, or its heartbeat is older than the report frequency), else after how long.
pub fn status_due(
    config: &HollowConfig,
    index: usize,
    current: &Node,
    now: Timestamp,
) -> Option<Duration> {
    // No status at all: due now.
    let cur = current.status.as_ref()?;
    let want = status(config, index, Some(cur), now);
    let facts = |s: &NodeStatus| -> Vec<(String, String, Option<String>, Option<String>)> {
        s.conditions
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|c| {
                let (a, b, c2, d) = condition_facts(c);
                (
                    a.to_string(),
                    b.to_string(),
                    c2.map(str::to_string),
                    d.map(str::to_string),
                )
            })
            .collect()
    };
    if facts(cur) != facts(&want)
        || cur.capacity != want.capacity
        || cur.allocatable != want.allocatable
        || cur.addresses != want.addresses
        || cur.node_info.as_ref().map(|i| &i.kubelet_version)
            != want.node_info.as_ref().map(|i| &i.kubelet_version)
        || cur.daemon_endpoints != want.daemon_endpoints
    {
        return None;
    }
    let oldest = cur
        .conditions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter_map(|c| c.last_heartbeat_time.as_ref())
        .map(|t| t.0)
        .min()?;
    let age = now.duration_since(oldest);
    let age = Duration::try_from(age).unwrap_or(Duration::ZERO);
    STATUS_REPORT_FREQUENCY
        .checked_sub(age)
        .filter(|d| !d.is_zero())
}

/// A hollow node carrying this annotation with value `"true"` acts like a machine that went
/// silent: no Lease renewals, no node or pod status, no final pod deletions, until the
/// annotation is removed (for tests and demonstrations of node failure).
pub const STOPPED_ANNOTATION: &str = "skiff.io/hollow-stopped";

/// Whether `node` is stopped (see [`STOPPED_ANNOTATION`]).
pub fn stopped(node: &Node) -> bool {
    node.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(STOPPED_ANNOTATION))
        .is_some_and(|v| v == "true")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(count: usize) -> HollowConfig {
        HollowConfig {
            count,
            ..Default::default()
        }
    }

    #[test]
    fn indexes_only_our_nodes() {
        let c = cfg(10);
        assert_eq!(node_index(&c, "sim-0"), Some(0));
        assert_eq!(node_index(&c, "sim-9"), Some(9));
        assert_eq!(node_index(&c, "sim-10"), None);
        assert_eq!(node_index(&c, "sim-01"), None);
        assert_eq!(node_index(&c, "sim-"), None);
        assert_eq!(node_index(&c, "other-1"), None);
        assert_eq!(node_index(&c, "sim--1"), None);
    }

    #[test]
    fn internal_ips_are_unique() {
        let ips: std::collections::HashSet<String> = (0..5000).map(internal_ip).collect();
        assert_eq!(ips.len(), 5000);
        assert_eq!(internal_ip(0), "10.255.0.1");
        assert_eq!(internal_ip(255), "10.255.1.0");
    }

    #[test]
    fn registers_a_ready_node_with_allocatable_equal_to_capacity() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let n = node(&cfg(3), 1, now);
        assert_eq!(n.metadata.name.as_deref(), Some("sim-1"));
        let st = n.status.unwrap();
        assert_eq!(st.allocatable, st.capacity);
        let conds = st.conditions.unwrap();
        let ready = conds.iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!(ready.status, "True");
        assert_eq!(ready.reason.as_deref(), Some("KubeletReady"));
        assert_eq!(conds.len(), 4);
        assert_eq!(
            st.daemon_endpoints.unwrap().kubelet_endpoint.unwrap().port,
            10250
        );
    }

    #[test]
    fn status_is_due_on_change_or_after_the_report_frequency() {
        let c = cfg(3);
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        let n = node(&c, 0, t0);
        let later = Timestamp::from_second(1_700_000_100).unwrap();
        assert_eq!(status_due(&c, 0, &n, later), Some(Duration::from_secs(200)));
        let late = Timestamp::from_second(1_700_000_300).unwrap();
        assert_eq!(status_due(&c, 0, &n, late), None);
        // The node lifecycle controller marked it Unknown: report at once.
        let mut unknown = n.clone();
        for cond in unknown
            .status
            .as_mut()
            .unwrap()
            .conditions
            .as_mut()
            .unwrap()
        {
            cond.status = "Unknown".into();
        }
        assert_eq!(status_due(&c, 0, &unknown, later), None);
    }

    #[test]
    fn transition_times_are_kept_while_the_status_holds() {
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        let t1 = Timestamp::from_second(1_700_000_500).unwrap();
        let first = conditions(&[], t0);
        let second = conditions(&first, t1);
        assert_eq!(second[3].last_transition_time, Some(Time(t0)));
        assert_eq!(second[3].last_heartbeat_time, Some(Time(t1)));
    }
}
