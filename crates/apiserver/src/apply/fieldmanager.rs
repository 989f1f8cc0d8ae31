//! The field manager of one endpoint, the stages upstream chains around the ownership rules
//! of [`updater`]: which managedFields a write starts from (the stored ones,
//! the request's, or none after a reset), `before-first-apply` for objects without
//! managedFields, the client-side apply bridge, manager identities and write times, the
//! fields never recorded (`apiVersion`, `kind`, `metadata.name`, `uid`, ...) and the cap on
//! Update managers.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::{self, ApplyError};
use super::lastapplied;
use super::managed::{self, Managed, ManagerId, Operation, UNKNOWN_MANAGER};
use super::path::Path;
use super::schema::ListKeys;
use super::set::FieldSet;
use super::typed::Schema;
use super::updater::{self, Failure, Updater};

/// Fields upstream never records as owned.
const STRIPPED: &[&[&str]] = &[
    &["apiVersion"],
    &["kind"],
    &["metadata"],
    &["metadata", "name"],
    &["metadata", "namespace"],
    &["metadata", "creationTimestamp"],
    &["metadata", "selfLink"],
    &["metadata", "uid"],
    &["metadata", "clusterName"],
    &["metadata", "generation"],
    &["metadata", "managedFields"],
    &["metadata", "resourceVersion"],
];

/// The manager name upstream uses internally for the write in progress.
const CURRENT_OPERATION: &str = "current-operation";

/// The manager existing fields are attributed to on the first apply to an object that has
/// no managedFields.
pub const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// The field manager of one endpoint: an object type, optionally a subresource, and the paths
/// that endpoint resets.
#[derive(Clone, Copy)]
pub struct FieldManager<'a> {
    pub keys: &'a dyn ListKeys,
    /// The OpenAPI name of the type, e.g. `io.k8s.api.apps.v1.Deployment`.
    pub schema_name: &'a str,
    /// `Some("status")` for writes to the status subresource.
    pub subresource: Option<&'a str>,
    /// Upstream's ResetFields of the endpoint: paths whose changes the strategy discards, so
    /// nobody owns them through this endpoint (e.g. `[["status"]]` for the main resource of
    /// a type with a status subresource, `[["spec"], ["metadata"]]` for its status).
    pub reset_fields: &'a [&'a [&'a str]],
}

fn paths_to_set(paths: &[&[&str]]) -> FieldSet {
    FieldSet::from_paths(&paths.iter().map(|p| Path::fields(p)).collect::<Vec<_>>())
}

/// Takes managedFields out of `obj` (and a metadata left empty by that).
fn take_managed_fields(obj: &mut Value) -> Option<Value> {
    let o = obj.as_object_mut()?;
    let meta = o.get_mut("metadata")?.as_object_mut()?;
    let taken = meta.remove("managedFields");
    if taken.is_some() && meta.is_empty() {
        o.remove("metadata");
    }
    taken
}

fn set_managed_fields(obj: &mut Value, managed: &Managed) {
    match managed::encode(managed) {
        Some(encoded) => put_managed_fields(obj, encoded),
        None => {
            if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("managedFields");
            }
        }
    }
}

fn put_managed_fields(obj: &mut Value, entries: Value) {
    let Some(o) = obj.as_object_mut() else {
        return;
    };
    let meta = o
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    if let Some(meta) = meta.as_object_mut() {
        meta.insert("managedFields".into(), entries);
    }
}

fn str_at<'v>(v: &'v Value, pointer: &str) -> &'v str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// Normalises a time to upstream's form (`2024-05-01T10:00:00Z`); keeps it when unparsable.
fn normalize_time(now: &str) -> String {
    match now.parse::<jiff::Timestamp>() {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => now.to_string(),
    }
}

/// Removes from `obj` the map entries the configuration set to null (Go drops them when it
/// decodes the merged object).
fn drop_applied_nulls(obj: &mut Value, config: &Value) {
    let (Some(o), Some(c)) = (obj.as_object_mut(), config.as_object()) else {
        return;
    };
    for (k, cv) in c {
        if cv.is_null() {
            if o.get(k).is_some_and(Value::is_null) {
                o.remove(k);
            }
        } else if cv.is_object() {
            if let Some(ov) = o.get_mut(k) {
                drop_applied_nulls(ov, cv);
            }
        }
    }
}

impl<'a> FieldManager<'a> {
    /// The field manager of the main resource of `schema_name`, resetting nothing.
    pub fn new(keys: &'a dyn ListKeys, schema_name: &'a str) -> Self {
        FieldManager {
            keys,
            schema_name,
            subresource: None,
            reset_fields: &[],
        }
    }

    fn updater(&self) -> Updater<'a> {
        Updater {
            schema: Schema {
                keys: self.keys,
                name: self.schema_name,
            },
            ignored: paths_to_set(self.reset_fields),
        }
    }

    fn subresource(&self) -> &str {
        self.subresource.unwrap_or("")
    }

    /// Removes the fields upstream never records from `id`'s set (and `id` when empty).
    fn strip(&self, managed: &mut Managed, id: &ManagerId) {
        if let Some(vs) = managed.fields.get_mut(id) {
            vs.set = vs.set.difference(&paths_to_set(STRIPPED));
            if vs.set.is_empty() {
                managed.fields.remove(id);
            }
        }
    }

    /// Runs an Update by `id` from `old` to `new` through upstream's stages: the write as
    /// "current-operation", stripped, then unioned into `id` with time `now`, then capped.
    fn record_update(
        &self,
        managed: &mut Managed,
        old: &Value,
        new: &Value,
        id: &ManagerId,
        api_version: &str,
        now: &str,
    ) -> Result<(), Failure> {
        let current = ManagerId::new(
            CURRENT_OPERATION,
            Operation::Update,
            api_version,
            self.subresource(),
        );
        self.updater()
            .update_op(old, new, api_version, &mut managed.fields, &current)?;
        self.strip(managed, &current);
        if let Some(mut vs) = managed.fields.remove(&current) {
            if let Some(previous) = managed.fields.get(id) {
                vs.set = vs.set.union(&previous.set);
            }
            managed.fields.insert(id.clone(), vs);
            managed.times.insert(id.clone(), normalize_time(now));
        }
        managed::cap_update_managers(managed, managed::MAX_UPDATE_MANAGERS);
        Ok(())
    }

    /// Server-side apply of `applied` (a decoded body, see
    /// [`parse_apply_body`](super::parse_apply_body)) by `manager` onto `live` (None: the
    /// object does not exist yet). Returns the new object with its managedFields; the caller
    /// then checks its name ([`check_name`](super::check_name)), defaults, validates and
    /// stores it.
    pub fn apply(
        &self,
        live: Option<&Value>,
        applied: &Value,
        manager: &str,
        force: bool,
        now: &str,
    ) -> Result<Value, ApplyError> {
        if !applied.is_object() {
            return Err(ApplyError::BadRequest(
                "error decoding patch: json: cannot unmarshal non-object into Go value of type map[string]interface {}".into(),
            ));
        }
        if applied
            .pointer("/metadata/managedFields")
            .is_some_and(|m| !m.is_null())
        {
            return Err(ApplyError::BadRequest(
                "metadata.managedFields must be nil".into(),
            ));
        }
        super::body::require_kind(applied)?;
        let api_version = str_at(applied, "/apiVersion").to_string();
        let manager = if manager.is_empty() {
            UNKNOWN_MANAGER
        } else {
            manager
        };
        let mut live_obj = match live {
            Some(v) if v.is_object() => v.clone(),
            _ => Value::Object(Map::new()),
        };
        let raw = take_managed_fields(&mut live_obj);
        let mut managed = managed::decode(raw.as_ref())
            .map_err(|e| ApplyError::Internal(format!("failed to decode managed fields: {e}")))?;

        if managed.fields.is_empty() {
            let id = ManagerId::new(
                BEFORE_FIRST_APPLY,
                Operation::Update,
                &api_version,
                self.subresource(),
            );
            let empty = Value::Object(Map::new());
            self.record_update(&mut managed, &empty, &live_obj, &id, &api_version, now)
                .map_err(|f| {
                    ApplyError::Internal(format!(
                        "failed to create manager for existing fields: {}",
                        self.failure_text(&f, applied)
                    ))
                })?;
        }

        let applier = ManagerId::new(manager, Operation::Apply, "", self.subresource());
        let mut result =
            self.apply_once(&live_obj, applied, &api_version, &managed, &applier, force);
        if manager == lastapplied::KUBECTL_MANAGER {
            if let Err(Failure::Conflicts(conflicts)) = &result {
                let schema = self.updater().schema;
                if let Some(allowed) =
                    lastapplied::allowed_conflicts(schema, &live_obj, &api_version)
                {
                    let remaining: BTreeMap<ManagerId, FieldSet> = conflicts
                        .iter()
                        .map(|(id, set)| (id.clone(), set.difference(&allowed)))
                        .filter(|(_, set)| !set.is_empty())
                        .collect();
                    result = if remaining.is_empty() {
                        self.apply_once(&live_obj, applied, &api_version, &managed, &applier, true)
                    } else {
                        Err(Failure::Conflicts(remaining))
                    };
                }
            }
        }
        let (mut new_obj, mut managed) = result.map_err(|f| match f {
            Failure::Conflicts(c) => ApplyError::Conflict(error::conflicts_from(&c)),
            other => ApplyError::Internal(self.failure_text(&other, applied)),
        })?;

        // Nulls the configuration set are gone once Go decodes the object; an apply that
        // only sets absent fields to null changes nothing.
        drop_applied_nulls(&mut new_obj, applied);
        let mut obj = if updater::changed(&live_obj, &new_obj) {
            managed.times.insert(applier.clone(), normalize_time(now));
            new_obj
        } else {
            live_obj
        };
        if manager == lastapplied::KUBECTL_MANAGER {
            lastapplied::update_annotation(&mut obj, applied);
        }
        set_managed_fields(&mut obj, &managed);
        Ok(obj)
    }

    fn apply_once(
        &self,
        live: &Value,
        applied: &Value,
        api_version: &str,
        managed: &Managed,
        applier: &ManagerId,
        force: bool,
    ) -> Result<(Value, Managed), Failure> {
        let mut managed = managed.clone();
        let new_obj = self.updater().apply_op(
            live,
            applied,
            api_version,
            &mut managed.fields,
            applier,
            force,
        )?;
        self.strip(&mut managed, applier);
        Ok((new_obj, managed))
    }

    fn failure_text(&self, f: &Failure, applied: &Value) -> String {
        match f {
            Failure::Invalid(m) => m.clone(),
            Failure::InvalidConfig(errs) => {
                let ns = str_at(applied, "/metadata/namespace");
                let name = str_at(applied, "/metadata/name");
                let api_version = str_at(applied, "/apiVersion");
                let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
                let kind = str_at(applied, "/kind");
                format!(
                    "failed to create typed patch object ({ns}/{name}; {group}/{version}, Kind={kind}): {errs}"
                )
            }
            Failure::Conflicts(c) => ApplyError::Conflict(error::conflicts_from(c)).to_message(),
        }
    }

    /// Records a non-apply write of `new` (over `old`, None for a create) by `manager` in
    /// `new`'s managedFields. Never fails: on an object it cannot walk it keeps the stored
    /// managedFields, as upstream does.
    pub fn update(
        &self,
        old: Option<&Value>,
        new: &mut Value,
        manager: &str,
        operation: Operation,
        now: &str,
    ) {
        if !new.is_object() {
            return;
        }
        let old_raw = old
            .and_then(|o| o.pointer("/metadata/managedFields"))
            .cloned();
        let new_raw = take_managed_fields(new);
        let from_old = || managed::decode(old_raw.as_ref()).unwrap_or_default();
        let mut managed = if self.subresource.is_some() {
            from_old()
        } else if managed::is_reset(new_raw.as_ref()) {
            Managed::default()
        } else {
            match managed::decode(new_raw.as_ref()) {
                Ok(m) if !m.fields.is_empty() => m,
                _ => from_old(),
            }
        };
        let exists = old.is_some_and(|o| !str_at(o, "/metadata/uid").is_empty());
        if managed.fields.is_empty() && exists {
            // Upstream does not start tracking objects that exist without managedFields.
            return;
        }
        let mut old_obj = match old {
            Some(o) if o.is_object() => o.clone(),
            _ => Value::Object(Map::new()),
        };
        take_managed_fields(&mut old_obj);
        let api_version = match str_at(new, "/apiVersion") {
            "" => str_at(&old_obj, "/apiVersion").to_string(),
            v => v.to_string(),
        };
        let manager = if manager.is_empty() {
            UNKNOWN_MANAGER
        } else {
            manager
        };
        let id = ManagerId::new(manager, operation, &api_version, self.subresource());
        let snapshot = new.clone();
        match self.record_update(&mut managed, &old_obj, &snapshot, &id, &api_version, now) {
            Ok(()) => set_managed_fields(new, &managed),
            Err(_) => {
                if let Some(raw) = old_raw {
                    put_managed_fields(new, raw);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_normalised_to_utc_seconds() {
        assert_eq!(
            normalize_time("2025-01-01T01:00:00.123+01:00"),
            "2025-01-01T00:00:00Z"
        );
        assert_eq!(
            normalize_time("2025-01-01T00:00:00Z"),
            "2025-01-01T00:00:00Z"
        );
        assert_eq!(normalize_time("garbage"), "garbage");
    }
}
