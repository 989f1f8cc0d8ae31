//! The PersistentVolume binder's decisions, pure: which Available volume a claim binds to
//! (storage class, access modes, volume mode, label selector, enough capacity; the smallest
//! that fits), what a claim waits for, what becomes of a volume whose claim is gone, and the
//! hostPath volume the `local-path` provisioner makes for a claim on a chosen node.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use serde_json::{json, Value};
use skiff_api::quantity::parse_quantity;

/// The StorageClass skiff provides, as k3s does.
pub const LOCAL_PATH: &str = "local-path";
pub const LOCAL_PATH_PROVISIONER: &str = "rancher.io/local-path";
pub const DEFAULT_CLASS_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";
pub const SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// Where local-path volumes live on their node.
pub const STORAGE_DIR: &str = "/var/lib/skiff/storage";

fn request(pvc: &PersistentVolumeClaim) -> i64 {
    pvc.spec
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .and_then(|q| parse_quantity(&q.0, false))
        .unwrap_or(0)
}

fn capacity(pv: &PersistentVolume) -> i64 {
    pv.spec
        .as_ref()
        .and_then(|s| s.capacity.as_ref())
        .and_then(|c| c.get("storage"))
        .and_then(|q| parse_quantity(&q.0, false))
        .unwrap_or(0)
}

/// The claim's class ("" when it asks for none).
pub fn claim_class(pvc: &PersistentVolumeClaim) -> &str {
    pvc.spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or("")
}

fn volume_class(pv: &PersistentVolume) -> &str {
    pv.spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or("")
}

/// Whether `pv` can serve `pvc`.
pub fn fits(pv: &PersistentVolume, pvc: &PersistentVolumeClaim) -> bool {
    let (Some(vs), Some(cs)) = (pv.spec.as_ref(), pvc.spec.as_ref()) else {
        return false;
    };
    let available = pv.metadata.deletion_timestamp.is_none()
        && match vs.claim_ref.as_ref() {
            // A new volume is Pending until this controller marks it Available.
            None => matches!(
                pv.status.as_ref().and_then(|s| s.phase.as_deref()),
                None | Some("Pending" | "Available")
            ),
            Some(r) => r.uid.is_some() && r.uid == pvc.metadata.uid,
        };
    let modes_ok = cs
        .access_modes
        .iter()
        .flatten()
        .all(|m| vs.access_modes.iter().flatten().any(|v| v == m));
    let mode = |m: Option<&String>| m.map(String::as_str).unwrap_or("Filesystem").to_string();
    let selector_ok = cs
        .selector
        .as_ref()
        .and_then(|s| s.match_labels.as_ref())
        .is_none_or(|want| {
            let have = pv.metadata.labels.clone().unwrap_or_default();
            want.iter().all(|(k, v)| have.get(k) == Some(v))
        });
    available
        && volume_class(pv) == claim_class(pvc)
        && modes_ok
        && mode(vs.volume_mode.as_ref()) == mode(cs.volume_mode.as_ref())
        && selector_ok
        && capacity(pv) >= request(pvc)
}

/// The smallest volume that fits the claim (a volume already reserved for it first).
pub fn best_match<'a>(
    pvc: &PersistentVolumeClaim,
    pvs: &'a [std::sync::Arc<PersistentVolume>],
) -> Option<&'a PersistentVolume> {
    pvs.iter()
        .map(|p| p.as_ref())
        .filter(|pv| fits(pv, pvc))
        .min_by_key(|pv| {
            let reserved = pv
                .spec
                .as_ref()
                .and_then(|s| s.claim_ref.as_ref())
                .is_some();
            (!reserved, capacity(pv))
        })
}

/// The volume local-path provisions for `pvc` on `node`.
pub fn local_path_volume(pvc: &PersistentVolumeClaim, node: &str) -> Value {
    let uid = pvc.metadata.uid.clone().unwrap_or_default();
    let ns = pvc.metadata.namespace.clone().unwrap_or_default();
    let name = pvc.metadata.name.clone().unwrap_or_default();
    let spec = pvc.spec.clone().unwrap_or_default();
    let storage = spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .map(|q| q.0.clone())
        .unwrap_or_else(|| "1Gi".into());
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": format!("pvc-{uid}"),
            "annotations": {"pv.kubernetes.io/provisioned-by": LOCAL_PATH_PROVISIONER},
        },
        "spec": {
            "capacity": {"storage": storage},
            "accessModes": spec.access_modes.unwrap_or_else(|| vec!["ReadWriteOnce".into()]),
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": LOCAL_PATH,
            "volumeMode": spec.volume_mode.unwrap_or_else(|| "Filesystem".into()),
            "hostPath": {"path": format!("{STORAGE_DIR}/pvc-{uid}_{ns}_{name}"), "type": "DirectoryOrCreate"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}
            ]}]}},
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": ns, "name": name, "uid": uid},
        }
    })
}

/// The StorageClass `local-path`, the default.
pub fn local_path_class() -> Value {
    json!({
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": LOCAL_PATH, "annotations": {DEFAULT_CLASS_ANNOTATION: "true"}},
        "provisioner": LOCAL_PATH_PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    })
}

/// What happens to a bound volume whose claim is gone.
#[derive(Debug, PartialEq, Eq)]
pub enum Reclaim {
    Delete,
    Release,
}

pub fn reclaim(pv: &PersistentVolume) -> Reclaim {
    match pv
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_reclaim_policy.as_deref())
    {
        Some("Delete") => Reclaim::Delete,
        _ => Reclaim::Release,
    }
}

/// The annotations of a claim or volume bound by the controller.
pub fn bound_annotations(completed: bool) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    a.insert("pv.kubernetes.io/bound-by-controller".into(), "yes".into());
    if completed {
        a.insert("pv.kubernetes.io/bind-completed".into(), "yes".into());
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn pv(name: &str, size: &str, class: &str, modes: &[&str]) -> Arc<PersistentVolume> {
        Arc::new(
            serde_json::from_value(json!({"metadata": {"name": name},
                "spec": {"capacity": {"storage": size}, "storageClassName": class, "accessModes": modes,
                         "hostPath": {"path": "/x"}},
                "status": {"phase": "Available"}}))
            .unwrap(),
        )
    }

    fn pvc(size: &str, class: Option<&str>, modes: &[&str]) -> PersistentVolumeClaim {
        let mut spec = json!({"accessModes": modes, "resources": {"requests": {"storage": size}}});
        if let Some(c) = class {
            spec["storageClassName"] = json!(c);
        }
        serde_json::from_value(
            json!({"metadata": {"name": "c", "namespace": "ns", "uid": "u"}, "spec": spec}),
        )
        .unwrap()
    }

    #[test]
    fn the_smallest_fitting_volume_wins() {
        let pvs = vec![
            pv("big", "10Gi", "", &["ReadWriteOnce"]),
            pv("small", "2Gi", "", &["ReadWriteOnce", "ReadOnlyMany"]),
            pv("tiny", "500Mi", "", &["ReadWriteOnce"]),
            pv("other-class", "2Gi", "fast", &["ReadWriteOnce"]),
            pv("rox", "2Gi", "", &["ReadOnlyMany"]),
        ];
        let c = pvc("1Gi", Some(""), &["ReadWriteOnce"]);
        assert_eq!(
            best_match(&c, &pvs)
                .and_then(|p| p.metadata.name.clone())
                .as_deref(),
            Some("small")
        );
        let fast = pvc("1Gi", Some("fast"), &["ReadWriteOnce"]);
        assert_eq!(
            best_match(&fast, &pvs)
                .and_then(|p| p.metadata.name.clone())
                .as_deref(),
            Some("other-class")
        );
        let huge = pvc("20Gi", Some(""), &["ReadWriteOnce"]);
        assert!(best_match(&huge, &pvs).is_none());
    }

    #[test]
    fn local_path_volumes_are_pinned_to_their_node() {
        let c = pvc("1Gi", Some(LOCAL_PATH), &["ReadWriteOnce"]);
        let v = local_path_volume(&c, "sim-1");
        assert_eq!(v["metadata"]["name"], "pvc-u");
        assert_eq!(
            v["spec"]["hostPath"]["path"],
            "/var/lib/skiff/storage/pvc-u_ns_c"
        );
        assert_eq!(
            v["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]
                ["values"][0],
            "sim-1"
        );
        let pv: PersistentVolume = serde_json::from_value(v).unwrap();
        assert!(fits(&pv, &c), "the provisioned volume fits its claim");
    }
}
