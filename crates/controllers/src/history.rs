//! ControllerRevisions, as upstream's `pkg/controller/history` and the parts of the DaemonSet
//! and StatefulSet controllers that read and write them: the recorded state (a strategic
//! merge patch replacing `spec.template`), hashes and names, ordering and equality, which
//! revisions a parent owns, and the writes (create with collision probing, renumber, adopt,
//! delete). Also the controller-ref helpers (owner references, claiming by label selector)
//! both controllers use for their revisions and pods.
//!
//! `kubectl rollout history|undo ds/x|sts/x` reads these objects: revisions are listed by the
//! parent's selector and kept if the parent is their controller; undo patches the parent with
//! a revision's `data`.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector as K8sSelector, ObjectMeta, OwnerReference,
};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, Resource};
use serde_json::{json, Map, Value};
use skiff_api::labels::{LabelSelector, MetaLabelSelector};

/// The label upstream's history package puts on StatefulSet revisions: the hash of `data`.
pub const CONTROLLER_REVISION_HASH_LABEL: &str = "controller.kubernetes.io/hash";

/// The characters `rand.SafeEncodeString` maps bytes to (no vowels, no 0/1/3: no words).
const SAFE_ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Upstream's `rand.SafeEncodeString`: every byte becomes one of [`SAFE_ALPHANUMS`].
pub fn safe_encode(s: &str) -> String {
    s.bytes()
        .map(|b| SAFE_ALPHANUMS[b as usize % SAFE_ALPHANUMS.len()] as char)
        .collect()
}

const FNV32_OFFSET: u32 = 2_166_136_261;
const FNV32_PRIME: u32 = 16_777_619;

/// FNV-1 (32 bit), Go's `fnv.New32`.
pub fn fnv32(parts: &[&[u8]]) -> u32 {
    let mut h = FNV32_OFFSET;
    for b in parts.iter().flat_map(|p| p.iter()) {
        h = h.wrapping_mul(FNV32_PRIME);
        h ^= u32::from(*b);
    }
    h
}

/// FNV-1a (32 bit), Go's `fnv.New32a`.
pub fn fnv32a(parts: &[&[u8]]) -> u32 {
    let mut h = FNV32_OFFSET;
    for b in parts.iter().flat_map(|p| p.iter()) {
        h ^= u32::from(*b);
        h = h.wrapping_mul(FNV32_PRIME);
    }
    h
}

/// The compact JSON of `v` with object keys sorted (as Go's `json.Marshal` of a map writes
/// them): the bytes revisions are hashed and compared by.
pub fn canonical_json(v: &Value) -> String {
    // serde_json's map is a BTreeMap in this workspace (no `preserve_order`), so keys come
    // out sorted; sort explicitly anyway so the bytes never depend on that feature.
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(v).to_string()
}

/// The state a revision records for a parent whose JSON is `parent`: a strategic merge patch
/// that replaces `spec.template` (upstream's `getPatch` of both controllers). `None` when the
/// parent has no template.
pub fn template_patch(parent: &Value) -> Option<Value> {
    let mut template = parent.get("spec")?.get("template")?.clone();
    template
        .as_object_mut()?
        .insert("$patch".into(), Value::String("replace".into()));
    Some(json!({ "spec": { "template": template } }))
}

/// The pod template a revision recorded (its patch without the `$patch` directive): what
/// applying the revision to its parent (upstream `ApplyRevision`) puts into `spec.template`.
pub fn revision_template(rev: &ControllerRevision) -> Option<Value> {
    let mut t = rev.data.as_ref()?.0.get("spec")?.get("template")?.clone();
    t.as_object_mut()?.remove("$patch");
    Some(t)
}

/// Upstream's `ControllerRevisionName`: `prefix-hash`, the prefix cut to 223 bytes.
pub fn revision_name(prefix: &str, hash: &str) -> String {
    let mut cut = prefix.len().min(223);
    while !prefix.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}-{}", &prefix[..cut], hash)
}

/// Upstream's `HashControllerRevision`: FNV-1 over the recorded data and, if given, the
/// decimal collision count, safe-encoded.
pub fn hash_revision(data: Option<&Value>, probe: Option<i32>) -> String {
    let raw = data.map(canonical_json).unwrap_or_default();
    let probe = probe.map(|p| p.to_string()).unwrap_or_default();
    let h = fnv32(&[raw.as_bytes(), probe.as_bytes()]);
    safe_encode(&h.to_string())
}

/// Upstream's `NewControllerRevision`: labels from the template plus the data hash, owned
/// by `owner` (a controller reference), named `<parent>-<hash>`.
pub fn new_revision(
    parent_name: &str,
    namespace: &str,
    owner: OwnerReference,
    template_labels: Option<&BTreeMap<String, String>>,
    data: Value,
    revision: i64,
    collision_count: Option<i32>,
) -> ControllerRevision {
    let hash = hash_revision(Some(&data), collision_count);
    let mut labels = template_labels.cloned().unwrap_or_default();
    labels.insert(CONTROLLER_REVISION_HASH_LABEL.into(), hash.clone());
    ControllerRevision {
        metadata: ObjectMeta {
            name: Some(revision_name(parent_name, &hash)),
            namespace: Some(namespace.to_string()),
            labels: Some(labels),
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        data: Some(RawExtension(data)),
        revision,
    }
}

/// Whether two revisions record the same state (upstream `EqualRevision`): differing hash
/// labels say no at once; otherwise the data decides.
pub fn equal_revision(a: &ControllerRevision, b: &ControllerRevision) -> bool {
    let hash = |r: &ControllerRevision| {
        r.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(CONTROLLER_REVISION_HASH_LABEL))
            .and_then(|h| h.parse::<i64>().ok())
    };
    if let (Some(x), Some(y)) = (hash(a), hash(b)) {
        if x != y {
            return false;
        }
    }
    same_data(a, b.data.as_ref().map(|d| &d.0))
}

/// Whether `rev` records exactly `data`.
pub fn same_data(rev: &ControllerRevision, data: Option<&Value>) -> bool {
    rev.data.as_ref().map(|d| canonical_json(&d.0)) == data.map(canonical_json)
}

/// Upstream's ordering of revisions: by `revision`, then creation time, then name.
pub fn revision_order(a: &ControllerRevision, b: &ControllerRevision) -> Ordering {
    a.revision
        .cmp(&b.revision)
        .then_with(|| {
            let ts = |r: &ControllerRevision| r.metadata.creation_timestamp.as_ref().map(|t| t.0);
            ts(a).cmp(&ts(b))
        })
        .then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

/// Sorts revisions oldest first (stable, as `SortControllerRevisions`).
pub fn sort_revisions<R: Borrow<ControllerRevision>>(revs: &mut [R]) {
    revs.sort_by(|a, b| revision_order(a.borrow(), b.borrow()));
}

/// The revision number after the newest of `sorted` (1 for none).
pub fn next_revision<R: Borrow<ControllerRevision>>(sorted: &[R]) -> i64 {
    sorted.last().map(|r| r.borrow().revision + 1).unwrap_or(1)
}

/// The highest revision number among `revs` (0 for none).
pub fn max_revision<R: Borrow<ControllerRevision>>(revs: &[R]) -> i64 {
    revs.iter().map(|r| r.borrow().revision).max().unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Ownership: controller references and claiming by label selector.

/// A controller reference to `owner` (`controller` and `blockOwnerDeletion` true), as
/// upstream's `metav1.NewControllerRef`.
pub fn controller_ref<K: Resource<DynamicType = ()>>(owner: &K) -> OwnerReference {
    OwnerReference {
        api_version: K::api_version(&()).into_owned(),
        kind: K::kind(&()).into_owned(),
        name: owner.meta().name.clone().unwrap_or_default(),
        uid: owner.meta().uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// The object's controller reference, if any.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|r| r.controller == Some(true))
}

/// A `metav1.LabelSelector` as a matcher; `None` when it does not parse (upstream treats
/// that as a non-transient error and does nothing).
pub fn selector_of(s: &K8sSelector) -> Option<LabelSelector> {
    let meta: MetaLabelSelector = serde_json::to_value(s)
        .ok()
        .and_then(|v| serde_json::from_value(v).ok())?;
    LabelSelector::from_meta(&meta).ok()
}

/// Whether `selector` matches the object's labels.
pub fn selects(selector: &LabelSelector, meta: &ObjectMeta) -> bool {
    let empty = BTreeMap::new();
    selector.matches(meta.labels.as_ref().unwrap_or(&empty))
}

/// What the controller-ref manager (upstream `ClaimObject`) does with one object, seen from
/// a live (not being deleted) parent with UID `parent_uid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Ours: keep it.
    Owned,
    /// Ours but the selector no longer matches: release it.
    Release,
    /// An orphan the selector matches: adopt it (then it is ours).
    Adopt,
    /// Not ours.
    Ignore,
}

/// Upstream's claiming rule. `parent_deleting`: a parent being deleted adopts and releases
/// nothing. Objects being deleted are never adopted.
pub fn claim(meta: &ObjectMeta, parent_uid: &str, parent_deleting: bool, matches: bool) -> Claim {
    match controller_of(meta) {
        Some(r) if r.uid == parent_uid => {
            if matches {
                Claim::Owned
            } else if parent_deleting {
                Claim::Ignore
            } else {
                Claim::Release
            }
        }
        Some(_) => Claim::Ignore,
        None => {
            if matches && !parent_deleting && meta.deletion_timestamp.is_none() {
                Claim::Adopt
            } else {
                Claim::Ignore
            }
        }
    }
}

/// The strategic merge patch that adopts an object (upstream's `AdoptX`).
pub fn adopt_patch(owner: &OwnerReference, obj_uid: &str) -> Value {
    json!({"metadata": {"ownerReferences": [{
        "apiVersion": owner.api_version, "kind": owner.kind, "name": owner.name,
        "uid": owner.uid, "controller": true, "blockOwnerDeletion": true,
    }], "uid": obj_uid}})
}

/// The strategic merge patch that releases an object (upstream's `ReleaseX`).
pub fn release_patch(owner_uid: &str, obj_uid: &str) -> Value {
    json!({"metadata": {"ownerReferences": [{"$patch": "delete", "uid": owner_uid}], "uid": obj_uid}})
}

/// Applies a strategic merge patch to `name` in `api`; 404 (gone) and 422 (the owner
/// reference is already gone) count as done, as upstream's release.
pub async fn patch_owner<K>(
    api: &Api<K>,
    name: &str,
    patch: &Value,
) -> Result<Option<K>, kube::Error>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match api
        .patch(name, &PatchParams::default(), &Patch::Strategic(patch))
        .await
    {
        Ok(o) => Ok(Some(o)),
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 422 => Ok(None),
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Writes.

/// Upstream's `CreateControllerRevision`: creates `rev` named by its data hash and
/// `collision_count`; when another revision already has that name, an equal one is returned
/// as is, otherwise the count is bumped and the name probed again. Returns the revision and
/// the count that named it.
pub async fn create_revision(
    client: &Client,
    parent_name: &str,
    namespace: &str,
    rev: &ControllerRevision,
    mut collision_count: i32,
) -> Result<(ControllerRevision, i32), kube::Error> {
    let api: Api<ControllerRevision> = Api::namespaced(client.clone(), namespace);
    let data = rev.data.as_ref().map(|d| &d.0);
    // A bound on probing, in case the store answers AlreadyExists forever.
    for _ in 0..64 {
        let hash = hash_revision(data, Some(collision_count));
        let mut clone = rev.clone();
        clone.metadata.name = Some(revision_name(parent_name, &hash));
        clone.metadata.namespace = Some(namespace.to_string());
        match api.create(&PostParams::default(), &clone).await {
            Ok(created) => return Ok((created, collision_count)),
            Err(kube::Error::Api(e)) if e.code == 409 => {
                let name = clone.metadata.name.clone().unwrap_or_default();
                let existing = api.get(&name).await?;
                if same_data(&existing, data) {
                    return Ok((existing, collision_count));
                }
                collision_count = collision_count.saturating_add(1);
            }
            Err(e) => return Err(e),
        }
    }
    Err(kube::Error::Api(
        kube::core::Status::failure(
            &format!("too many name collisions creating a revision of {parent_name}"),
            "AlreadyExists",
        )
        .with_code(409)
        .boxed(),
    ))
}

/// Sets a revision's number (upstream `UpdateControllerRevision`), with its resourceVersion
/// as precondition.
pub async fn renumber_revision(
    client: &Client,
    rev: &ControllerRevision,
    revision: i64,
) -> Result<ControllerRevision, kube::Error> {
    let ns = rev.metadata.namespace.clone().unwrap_or_default();
    let api: Api<ControllerRevision> = Api::namespaced(client.clone(), &ns);
    let mut clone = rev.clone();
    clone.revision = revision;
    api.replace(
        clone.metadata.name.as_deref().unwrap_or_default(),
        &PostParams::default(),
        &clone,
    )
    .await
}

/// Deletes a revision; gone already counts as done.
pub async fn delete_revision(client: &Client, rev: &ControllerRevision) -> Result<(), kube::Error> {
    let ns = rev.metadata.namespace.clone().unwrap_or_default();
    let api: Api<ControllerRevision> = Api::namespaced(client.clone(), &ns);
    match api
        .delete(
            rev.metadata.name.as_deref().unwrap_or_default(),
            &Default::default(),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_go() {
        // Go: fnv.New32() / fnv.New32a() over "hello".
        assert_eq!(fnv32(&[b"hello"]), 0xb6fa_7167);
        assert_eq!(fnv32a(&[b"hello"]), 0x4f9f_2cab);
        assert_eq!(fnv32(&[b"hel", b"lo"]), fnv32(&[b"hello"]));
    }

    #[test]
    fn safe_encoding_avoids_vowels() {
        // '0' = 48 -> 48 % 27 = 21 -> '4'; '9' = 57 -> 3 -> 'f'.
        assert_eq!(safe_encode("09"), "4f");
        assert!(safe_encode("1234567890")
            .chars()
            .all(|c| !"aeiou013".contains(c)));
    }

    #[test]
    fn names_are_cut_to_fit() {
        assert_eq!(revision_name("web", "abc"), "web-abc");
        let long = "x".repeat(300);
        assert_eq!(revision_name(&long, "h").len(), 223 + 2);
    }

    #[test]
    fn template_patch_replaces_the_template() {
        let ds = json!({"metadata": {"name": "x"}, "spec": {"template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": []}}, "selector": {}}});
        let p = template_patch(&ds).unwrap();
        assert_eq!(
            canonical_json(&p),
            r#"{"spec":{"template":{"$patch":"replace","metadata":{"labels":{"a":"b"}},"spec":{"containers":[]}}}}"#
        );
        let rev = ControllerRevision {
            data: Some(RawExtension(p)),
            ..Default::default()
        };
        assert_eq!(
            revision_template(&rev).unwrap(),
            json!({"metadata": {"labels": {"a": "b"}}, "spec": {"containers": []}})
        );
        assert_eq!(template_patch(&json!({"spec": {}})), None);
    }

    fn rev(n: i64, name: &str, data: Value) -> ControllerRevision {
        ControllerRevision {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            data: Some(RawExtension(data)),
            revision: n,
        }
    }

    #[test]
    fn ordering_equality_and_numbers() {
        let mut revs = vec![
            rev(3, "c", json!({"a": 1})),
            rev(1, "b", json!({"a": 2})),
            rev(1, "a", json!({"a": 3})),
        ];
        sort_revisions(&mut revs);
        let names: Vec<_> = revs
            .iter()
            .map(|r| r.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(next_revision(&revs), 4);
        assert_eq!(next_revision::<ControllerRevision>(&[]), 1);
        assert!(equal_revision(&revs[0], &rev(9, "z", json!({"a": 3}))));
        assert!(!equal_revision(&revs[0], &revs[1]));
    }

    #[test]
    fn new_revisions_are_named_by_hash_and_probe() {
        let owner = OwnerReference {
            uid: "u".into(),
            name: "web".into(),
            ..Default::default()
        };
        let labels = BTreeMap::from([("app".to_string(), "web".to_string())]);
        let data = json!({"spec": {"template": {"$patch": "replace"}}});
        let a = new_revision(
            "web",
            "ns",
            owner.clone(),
            Some(&labels),
            data.clone(),
            1,
            None,
        );
        let b = new_revision("web", "ns", owner, Some(&labels), data.clone(), 1, Some(1));
        assert_ne!(a.metadata.name, b.metadata.name);
        let hash = hash_revision(Some(&data), None);
        assert_eq!(
            a.metadata.name.as_deref(),
            Some(format!("web-{hash}").as_str())
        );
        let l = a.metadata.labels.unwrap();
        assert_eq!(l["app"], "web");
        assert_eq!(l[CONTROLLER_REVISION_HASH_LABEL], hash);
    }

    #[test]
    fn claiming_follows_the_controller_ref_manager() {
        let mut m = ObjectMeta::default();
        assert_eq!(claim(&m, "p", false, true), Claim::Adopt);
        assert_eq!(claim(&m, "p", true, true), Claim::Ignore);
        assert_eq!(claim(&m, "p", false, false), Claim::Ignore);
        m.owner_references = Some(vec![OwnerReference {
            uid: "p".into(),
            controller: Some(true),
            ..Default::default()
        }]);
        assert_eq!(claim(&m, "p", false, true), Claim::Owned);
        assert_eq!(claim(&m, "p", false, false), Claim::Release);
        assert_eq!(claim(&m, "p", true, false), Claim::Ignore);
        assert_eq!(claim(&m, "q", false, true), Claim::Ignore);
    }
}
