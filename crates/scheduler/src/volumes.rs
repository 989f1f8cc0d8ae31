//! What a pod's PersistentVolumeClaims require of its node (upstream's VolumeBinding
//! plugin, pure): a missing claim or an unbound claim of an Immediate class makes the pod
//! unschedulable; a bound claim restricts the pod to its volume's node affinity; an unbound
//! claim of a WaitForFirstConsumer class is to be given the chosen node
//! (`volume.kubernetes.io/selected-node`) so its volume is provisioned there.

use k8s_openapi::api::core::v1::{NodeSelectorTerm, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;

/// The claims' verdict.
#[derive(Debug, Default, PartialEq)]
pub struct VolumeNeeds {
    /// Why the pod cannot be scheduled at all.
    pub blocked: Option<String>,
    /// Per bound volume, its required node selector terms.
    pub node_terms: Vec<Vec<NodeSelectorTerm>>,
    /// Claims (namespace, name) to annotate with the chosen node.
    pub select_node: Vec<(String, String)>,
}

/// Looks up what the pod's claims need; the lookups are the informers' caches.
pub fn needs(
    pod: &Pod,
    claim: impl Fn(&str, &str) -> Option<PersistentVolumeClaim>,
    volume: impl Fn(&str) -> Option<PersistentVolume>,
    class: impl Fn(&str) -> Option<StorageClass>,
    default_class: Option<String>,
) -> VolumeNeeds {
    let mut out = VolumeNeeds::default();
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let claims = pod
        .spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| {
            v.persistent_volume_claim
                .as_ref()
                .map(|c| c.claim_name.clone())
        });
    for name in claims {
        let Some(pvc) = claim(&ns, &name) else {
            out.blocked = Some(format!("persistentvolumeclaim {name:?} not found"));
            return out;
        };
        if pvc.metadata.deletion_timestamp.is_some() {
            out.blocked = Some(format!("persistentvolumeclaim {name:?} is being deleted"));
            return out;
        }
        let bound_to = pvc.spec.as_ref().and_then(|s| s.volume_name.clone());
        match bound_to {
            Some(v) if !v.is_empty() => {
                if let Some(terms) = volume(&v)
                    .and_then(|pv| pv.spec)
                    .and_then(|s| s.node_affinity)
                    .and_then(|a| a.required)
                    .map(|r| r.node_selector_terms)
                {
                    out.node_terms.push(terms);
                }
            }
            _ => {
                // A claim without a class gets the default one (the PV controller writes it
                // soon; decide as if it had).
                let class_name = match pvc.spec.as_ref().and_then(|s| s.storage_class_name.clone())
                {
                    Some(c) => c,
                    None => default_class.clone().unwrap_or_default(),
                };
                let wait = class(&class_name).is_some_and(|c| {
                    c.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer")
                });
                if !wait {
                    out.blocked = Some("pod has unbound immediate PersistentVolumeClaims".into());
                    return out;
                }
                let selected = pvc
                    .metadata
                    .annotations
                    .as_ref()
                    .is_some_and(|a| a.contains_key("volume.kubernetes.io/selected-node"));
                if !selected {
                    out.select_node.push((ns.clone(), name));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": {
            "containers": [], "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}}))
        .unwrap()
    }

    fn pvc(v: serde_json::Value) -> PersistentVolumeClaim {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn claims_decide_where_the_pod_may_go() {
        let none = |_: &str| None;
        let missing = needs(&pod(), |_, _| None, none, |_| None, None);
        assert_eq!(
            missing.blocked.as_deref(),
            Some("persistentvolumeclaim \"data\" not found")
        );

        let wffc: StorageClass = serde_json::from_value(json!({"metadata": {"name": "local-path"},
            "provisioner": "x", "volumeBindingMode": "WaitForFirstConsumer"}))
        .unwrap();
        let unbound =
            pvc(json!({"metadata": {"name": "data"}, "spec": {"storageClassName": "local-path"}}));
        let n = needs(
            &pod(),
            |_, _| Some(unbound.clone()),
            none,
            |_| Some(wffc.clone()),
            None,
        );
        assert_eq!(n.select_node, vec![("ns".to_string(), "data".to_string())]);
        assert!(n.blocked.is_none());

        let immediate = needs(&pod(), |_, _| Some(unbound.clone()), none, |_| None, None);
        let classless = pvc(json!({"metadata": {"name": "data"}, "spec": {}}));
        let n = needs(
            &pod(),
            |_, _| Some(classless.clone()),
            none,
            |_| Some(wffc.clone()),
            Some("local-path".into()),
        );
        assert!(n.blocked.is_none() && n.select_node.len() == 1, "{n:?}");
        assert_eq!(
            immediate.blocked.as_deref(),
            Some("pod has unbound immediate PersistentVolumeClaims")
        );

        let bound = pvc(json!({"metadata": {"name": "data"}, "spec": {"volumeName": "pv1"}}));
        let pv: PersistentVolume =
            serde_json::from_value(json!({"metadata": {"name": "pv1"}, "spec": {
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": ["sim-1"]}]}]}}}}))
            .unwrap();
        let n = needs(
            &pod(),
            |_, _| Some(bound.clone()),
            |_| Some(pv.clone()),
            |_| None,
            None,
        );
        assert_eq!(n.node_terms.len(), 1);
    }
}
