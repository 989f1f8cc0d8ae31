//! Objects in the store: what the generic REST storage of upstream's apiserver does for every
//! kind before any kind-specific rule. On create it fills `metadata.uid`,
//! `creationTimestamp` and a name from `generateName`; it stores the object as
//! JSON under `/registry/<resource>/[<namespace>/]<name>` without `resourceVersion`, and sets
//! `resourceVersion` from the store revision on the way out; updates are compare-and-swap on
//! that revision (409 Conflict when stale, unconditional when the client sent none).

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use rand::Rng;
use serde_json::{json, Value};
use skiff_store::{KeyValue, RangeRequest, Store};

use skiff_api::resources::{storage_key, storage_prefix};
use skiff_api::Resource;

use crate::status::{ApiError, Cause, GroupResource};

/// Where time comes from (a fixed clock in tests).
pub trait Clock: Send + Sync {
    fn now(&self) -> SystemTime;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The resource an operation is on: its entry in the registry ([`skiff_api::resources`]),
/// which also owns the store key layout.
#[derive(Debug, Clone, Copy)]
pub struct ResourceScope {
    pub resource: &'static Resource,
}

impl ResourceScope {
    pub fn new(resource: &'static Resource) -> Self {
        ResourceScope { resource }
    }

    /// The store key of one object.
    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        storage_key(self.resource, namespace.unwrap_or(""), name)
    }

    /// The store prefix of a collection (all namespaces when `namespace` is None). As
    /// upstream, the group is not part of the key: a resource served by two groups (events in
    /// core and events.k8s.io, HPAs in autoscaling v1 and v2) is one set of objects.
    pub fn prefix(&self, namespace: Option<&str>) -> String {
        storage_prefix(self.resource, namespace)
    }

    pub fn group_resource(&self) -> GroupResource {
        GroupResource::new(self.resource.group, self.resource.plural)
    }

    fn qualified_kind(&self) -> String {
        if self.resource.group.is_empty() {
            self.resource.kind.to_string()
        } else {
            format!("{}.{}", self.resource.kind, self.resource.group)
        }
    }

    pub fn invalid(&self, name: &str, field: &str, reason: &str, message: String) -> ApiError {
        ApiError::Invalid {
            kind: self.qualified_kind(),
            group: self.resource.group.to_string(),
            name: name.into(),
            causes: vec![Cause {
                reason: reason.into(),
                field: field.into(),
                message,
            }],
        }
    }
}

/// A page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Value>,
    /// The revision the list was read at.
    pub resource_version: i64,
    /// The last key returned, when more follow.
    pub continue_after: Option<String>,
}

/// Generic object storage over a [`Store`].
pub struct Objects {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

/// Characters upstream uses for generated name suffixes (no vowels, no confusable digits).
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

impl Objects {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Objects { store, clock }
    }

    /// Creates `obj` in `namespace` (the path's namespace for namespaced resources).
    pub async fn create(
        &self,
        scope: &ResourceScope,
        namespace: Option<&str>,
        mut obj: Value,
    ) -> Result<Value, ApiError> {
        let name = self.new_metadata(scope, namespace, &mut obj)?;
        self.store_new(scope, namespace, &name, obj).await
    }

    /// What every create gets before admission: the name (from `generateName` when
    /// needed), uid, creationTimestamp, the resource's apiVersion and kind; no
    /// resourceVersion or deletionTimestamp. Returns the name.
    pub fn new_metadata(
        &self,
        scope: &ResourceScope,
        namespace: Option<&str>,
        obj: &mut Value,
    ) -> Result<String, ApiError> {
        let meta = metadata_mut(obj)?;
        check_namespace(scope, namespace, meta)?;
        let name = match meta.get("name").and_then(Value::as_str) {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => match meta.get("generateName").and_then(Value::as_str) {
                Some(g) if !g.is_empty() => format!("{g}{}", random_suffix()),
                _ => {
                    return Err(scope.invalid(
                        "",
                        "metadata.name",
                        "FieldValueRequired",
                        "Required value: name or generateName is required".into(),
                    ))
                }
            },
        };
        meta.insert("name".into(), json!(name));
        meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
        meta.insert("creationTimestamp".into(), json!(rfc3339(self.clock.now())));
        meta.remove("resourceVersion");
        meta.remove("deletionTimestamp");
        meta.remove("deletionGracePeriodSeconds");
        obj["apiVersion"] = json!(scope.resource.api_version());
        obj["kind"] = json!(scope.resource.kind);
        Ok(name)
    }

    /// Stores a new object prepared by [`Objects::new_metadata`] (409 if it exists).
    pub async fn store_new(
        &self,
        scope: &ResourceScope,
        namespace: Option<&str>,
        name: &str,
        mut obj: Value,
    ) -> Result<Value, ApiError> {
        let key = scope.key(namespace, name);
        let rev = self
            .store
            .create(&key, encode(&obj)?)
            .await
            .map_err(|e| ApiError::from_store(e, &scope.group_resource(), name))?;
        set_resource_version(&mut obj, rev);
        Ok(obj)
    }

    /// Reads one object.
    pub async fn get(
        &self,
        scope: &ResourceScope,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        let kv = self
            .store
            .get(&scope.key(namespace, name))
            .await
            .map_err(|e| ApiError::from_store(e, &scope.group_resource(), name))?
            .ok_or_else(|| ApiError::NotFound {
                resource: scope.group_resource(),
                name: name.into(),
            })?;
        decode(&kv)
    }

    /// Lists objects (one namespace, or all), a page at a time.
    pub async fn list(
        &self,
        scope: &ResourceScope,
        namespace: Option<&str>,
        limit: usize,
        continue_after: Option<String>,
        resource_version: i64,
    ) -> Result<Page, ApiError> {
        let r = self
            .store
            .range(RangeRequest {
                prefix: scope.prefix(namespace),
                limit,
                continue_after,
                revision: resource_version,
            })
            .await
            .map_err(|e| ApiError::from_store(e, &scope.group_resource(), ""))?;
        let items = r.kvs.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            continue_after: r
                .more
                .then(|| r.kvs.last().map(|kv| kv.key.clone()))
                .flatten(),
            items,
            resource_version: r.revision,
        })
    }

    /// Replaces an object. With `metadata.resourceVersion` set, only if it is still current
    /// (409 Conflict otherwise); without, whatever the current version is. Identity fields
    /// (uid, creationTimestamp) are kept from the stored object.
    pub async fn update(
        &self,
        scope: &ResourceScope,
        namespace: Option<&str>,
        name: &str,
        obj: Value,
    ) -> Result<Value, ApiError> {
        self.update_with(scope, namespace, name, |_old| Ok(obj.clone()))
            .await
            .map(|(new, _)| new)
    }

    /// Upstream's GuaranteedUpdate: reads the current object, asks `f` for the new one, and
    /// writes it if nobody wrote in between (otherwise reads again and asks again). If the
    /// new object carries `metadata.resourceVersion`, that version must be the current one
    /// (409 Conflict otherwise). Returns the stored object and the one it replaced.
    pub async fn update_with<F>(
        &self,
        scope: &ResourceScope,
        namespace: Option<&str>,
        name: &str,
        mut f: F,
    ) -> Result<(Value, Value), ApiError>
    where
        F: FnMut(&Value) -> Result<Value, ApiError>,
    {
        loop {
            let (old, rev) = self.current(scope, namespace, name).await?;
            let new = f(&old)?;
            let (new, preconditioned) = prepare_update(scope, namespace, name, &old, rev, new)?;
            let Some(new) = new else {
                return Ok((old.clone(), old));
            };
            match self.replace_at(scope, namespace, name, new, rev).await {
                Ok(stored) => return Ok((stored, old)),
                Err(ApiError::Conflict { .. }) if !preconditioned => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The current object (resourceVersion set) and its revision; 404 if absent.
    pub async fn current(
        &self,
        scope: &ResourceScope,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(Value, i64), ApiError> {
        let key = scope.key(namespace, name);
        let kv = self
            .store
            .get(&key)
            .await
            .map_err(|e| ApiError::from_store(e, &scope.group_resource(), name))?
            .ok_or_else(|| ApiError::NotFound {
                resource: scope.group_resource(),
                name: name.into(),
            })?;
        let rev = kv.mod_revision;
        Ok((decode(&kv)?, rev))
    }

    /// Writes `obj` (already final) over the current object at `expected` revision.
    pub async fn replace_at(
        &self,
        scope: &ResourceScope,
        namespace: Option<&str>,
        name: &str,
        mut obj: Value,
        expected: i64,
    ) -> Result<Value, ApiError> {
        if let Some(m) = obj["metadata"].as_object_mut() {
            m.remove("resourceVersion");
        }
        let rev = self
            .store
            .update(&scope.key(namespace, name), encode(&obj)?, expected)
            .await
            .map_err(|e| ApiError::from_store(e, &scope.group_resource(), name))?;
        set_resource_version(&mut obj, rev);
        Ok(obj)
    }

    /// Deletes an object (if `precondition` is given, only at that resourceVersion); returns
    /// it as it was.
    pub async fn delete(
        &self,
        scope: &ResourceScope,
        namespace: Option<&str>,
        name: &str,
        precondition: Option<i64>,
    ) -> Result<Value, ApiError> {
        let (kv, _) = self
            .store
            .delete(&scope.key(namespace, name), precondition)
            .await
            .map_err(|e| ApiError::from_store(e, &scope.group_resource(), name))?;
        decode(&kv)
    }
}

/// What generic storage does to an updated object before writing it over `old` (stored at
/// revision `rev`): the name and namespace must match the request, a resourceVersion in the
/// object must be `rev` (409 otherwise), identity fields are kept from `old` (generation is
/// the kind's strategy's business, in admission), apiVersion/kind are the resource's. Returns `None` when
/// nothing changed (upstream then answers the current object without writing) and whether
/// the client sent a resourceVersion precondition.
pub fn prepare_update(
    scope: &ResourceScope,
    namespace: Option<&str>,
    name: &str,
    old: &Value,
    rev: i64,
    mut new: Value,
) -> Result<(Option<Value>, bool), ApiError> {
    let meta = metadata_mut(&mut new)?;
    check_namespace(scope, namespace, meta)?;
    match meta.get("name").and_then(Value::as_str) {
        Some(n) if n == name => {}
        Some(n) if !n.is_empty() => {
            return Err(ApiError::BadRequest(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )))
        }
        _ => {
            meta.insert("name".into(), json!(name));
        }
    }
    let expected = match meta.remove("resourceVersion") {
        Some(Value::String(rv)) if !rv.is_empty() => Some(rv.parse::<i64>().map_err(|_| {
            scope.invalid(
                name,
                "metadata.resourceVersion",
                "FieldValueInvalid",
                format!("Invalid value: {rv:?}: must be a resource version"),
            )
        })?),
        _ => None,
    };
    if let Some(e) = expected {
        if e != rev {
            return Err(ApiError::from_store(
                skiff_store::Error::Conflict {
                    key: scope.key(namespace, name),
                    expected: e,
                    actual: rev,
                },
                &scope.group_resource(),
                name,
            ));
        }
    }
    for field in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        match old["metadata"].get(field) {
            Some(v) => new["metadata"][field] = v.clone(),
            None => {
                if let Some(m) = new["metadata"].as_object_mut() {
                    m.remove(field);
                }
            }
        }
    }
    new["apiVersion"] = json!(scope.resource.api_version());
    new["kind"] = json!(scope.resource.kind);
    let mut old_cmp = old.clone();
    if let Some(m) = old_cmp["metadata"].as_object_mut() {
        m.remove("resourceVersion");
    }
    if old_cmp == new {
        return Ok((None, expected.is_some()));
    }
    Ok((Some(new), expected.is_some()))
}

fn metadata_mut(obj: &mut Value) -> Result<&mut serde_json::Map<String, Value>, ApiError> {
    let Some(o) = obj.as_object_mut() else {
        return Err(ApiError::BadRequest(
            "the body must be a JSON object".into(),
        ));
    };
    let meta = o.entry("metadata").or_insert_with(|| json!({}));
    meta.as_object_mut()
        .ok_or_else(|| ApiError::BadRequest("metadata must be an object".into()))
}

fn check_namespace(
    scope: &ResourceScope,
    namespace: Option<&str>,
    meta: &mut serde_json::Map<String, Value>,
) -> Result<(), ApiError> {
    if !scope.resource.namespaced {
        meta.remove("namespace");
        return Ok(());
    }
    let Some(ns) = namespace else {
        return Err(ApiError::BadRequest(
            "a namespaced object must be written under /namespaces/{namespace}".into(),
        ));
    };
    match meta.get("namespace").and_then(Value::as_str) {
        Some(given) if !given.is_empty() && given != ns => Err(ApiError::BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request"
                .into(),
        )),
        _ => {
            meta.insert("namespace".into(), json!(ns));
            Ok(())
        }
    }
}

pub(crate) fn random_suffix() -> String {
    let mut rng = rand::rng();
    (0..5)
        .map(|_| SUFFIX_ALPHABET[rng.random_range(0..SUFFIX_ALPHABET.len())] as char)
        .collect()
}

/// RFC 3339 in UTC with seconds, as Kubernetes writes `metav1.Time`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    jiff::Timestamp::from_second(secs)
        .map(|ts| ts.to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

fn encode(obj: &Value) -> Result<Bytes, ApiError> {
    serde_json::to_vec(obj)
        .map(Bytes::from)
        .map_err(|e| ApiError::Internal(format!("cannot encode object: {e}")))
}

fn decode(kv: &KeyValue) -> Result<Value, ApiError> {
    let mut obj: Value = serde_json::from_slice(&kv.value)
        .map_err(|e| ApiError::Internal(format!("stored object {} is not JSON: {e}", kv.key)))?;
    set_resource_version(&mut obj, kv.mod_revision);
    Ok(obj)
}

fn set_resource_version(obj: &mut Value, rev: i64) {
    obj["metadata"]["resourceVersion"] = json!(rev.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use skiff_store::MemoryStore;
    use std::time::Duration;

    struct Fixed;
    impl Clock for Fixed {
        fn now(&self) -> SystemTime {
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000)
        }
    }

    fn scope(group: &str, plural: &str) -> ResourceScope {
        ResourceScope::new(
            skiff_api::resources::by_group_version_resource(group, "v1", plural)
                .expect("in the registry"),
        )
    }

    fn configmaps() -> ResourceScope {
        scope("", "configmaps")
    }

    fn deployments() -> ResourceScope {
        scope("apps", "deployments")
    }

    fn objects() -> Objects {
        Objects::new(Arc::new(MemoryStore::new()), Arc::new(Fixed))
    }

    #[test]
    fn keys_follow_upstream_layout() {
        assert_eq!(
            configmaps().key(Some("default"), "x"),
            "/registry/configmaps/default/x"
        );
        assert_eq!(
            deployments().prefix(Some("ns")),
            "/registry/deployments/ns/"
        );
        let ns = scope("", "namespaces");
        assert_eq!(ns.key(None, "default"), "/registry/namespaces/default");
    }

    #[tokio::test]
    async fn create_fills_metadata_and_get_sets_resource_version() {
        let o = objects();
        let created = o
            .create(
                &configmaps(),
                Some("default"),
                json!({"metadata": {"name": "cfg", "resourceVersion": "99"}, "data": {"a": "1"}}),
            )
            .await
            .unwrap();
        assert_eq!(created["kind"], "ConfigMap");
        assert_eq!(created["apiVersion"], "v1");
        assert_eq!(created["metadata"]["namespace"], "default");
        assert_eq!(
            created["metadata"]["creationTimestamp"],
            "2026-11-18T11:06:40Z"
        );
        assert_eq!(created["metadata"]["uid"].as_str().unwrap().len(), 36);
        assert_eq!(created["metadata"]["resourceVersion"], "1");
        let got = o.get(&configmaps(), Some("default"), "cfg").await.unwrap();
        assert_eq!(got, created);
        let err = o
            .create(
                &configmaps(),
                Some("default"),
                json!({"metadata": {"name": "cfg"}}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "configmaps \"cfg\" already exists");
    }

    #[tokio::test]
    async fn generate_name_and_missing_name() {
        let o = objects();
        let c = o
            .create(
                &configmaps(),
                Some("ns"),
                json!({"metadata": {"generateName": "web-"}}),
            )
            .await
            .unwrap();
        let name = c["metadata"]["name"].as_str().unwrap();
        assert!(name.starts_with("web-") && name.len() == 9, "{name}");
        let err = o
            .create(&configmaps(), Some("ns"), json!({"metadata": {}}))
            .await
            .unwrap_err();
        assert_eq!(err.code_and_reason().0.as_u16(), 422);
        let err = o
            .create(
                &configmaps(),
                Some("ns"),
                json!({"metadata": {"name": "a", "namespace": "other"}}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code_and_reason().0.as_u16(), 400);
    }

    #[tokio::test]
    async fn update_is_compare_and_swap_and_keeps_identity() {
        let o = objects();
        let d = deployments();
        let c = o
            .create(
                &d,
                Some("ns"),
                json!({"metadata": {"name": "web"}, "spec": {"replicas": 1}}),
            )
            .await
            .unwrap();
        let mut change = c.clone();
        change["metadata"]["labels"] = json!({"a": "b"});
        change["metadata"]["uid"] = json!("forged");
        let u1 = o.update(&d, Some("ns"), "web", change).await.unwrap();
        assert_eq!(u1["metadata"]["uid"], c["metadata"]["uid"]);
        assert_eq!(u1["metadata"]["labels"]["a"], "b");
        let mut spec = u1.clone();
        spec["spec"]["replicas"] = json!(3);
        o.update(&d, Some("ns"), "web", spec).await.unwrap();
        // A stale resourceVersion is a conflict.
        let err = o
            .update(&d, Some("ns"), "web", u1.clone())
            .await
            .unwrap_err();
        assert_eq!(err.code_and_reason().1, "Conflict");
        // None at all: unconditional.
        let mut blind = u1;
        blind["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("resourceVersion");
        o.update(&d, Some("ns"), "web", blind).await.unwrap();
        let err = o
            .update(&d, Some("ns"), "nope", json!({"metadata": {}}))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "deployments.apps \"nope\" not found");
    }

    #[tokio::test]
    async fn list_pages_and_delete() {
        let o = objects();
        for i in 0..5 {
            o.create(
                &configmaps(),
                Some("a"),
                json!({"metadata": {"name": format!("c{i}")}}),
            )
            .await
            .unwrap();
        }
        o.create(
            &configmaps(),
            Some("b"),
            json!({"metadata": {"name": "other"}}),
        )
        .await
        .unwrap();
        let p1 = o.list(&configmaps(), Some("a"), 3, None, 0).await.unwrap();
        assert_eq!(p1.items.len(), 3);
        let p2 = o
            .list(
                &configmaps(),
                Some("a"),
                3,
                p1.continue_after.clone(),
                p1.resource_version,
            )
            .await
            .unwrap();
        assert_eq!(p2.items.len(), 2);
        assert_eq!(p2.continue_after, None);
        let all = o.list(&configmaps(), None, 0, None, 0).await.unwrap();
        assert_eq!(all.items.len(), 6);
        let gone = o
            .delete(&configmaps(), Some("a"), "c0", None)
            .await
            .unwrap();
        assert_eq!(gone["metadata"]["name"], "c0");
        let err = o
            .delete(&configmaps(), Some("a"), "c0", None)
            .await
            .unwrap_err();
        assert_eq!(err.code_and_reason().1, "NotFound");
    }
}
