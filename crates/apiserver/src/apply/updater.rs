//! The ownership rules of structured-merge-diff's updater, on JSON objects:
//!
//! - every write compares the object before and after; fields another manager owns that the
//!   write modified or added are conflicts (taken away from that manager when forced, as an
//!   Update always is), removed fields leave every manager;
//! - an Update then gives its manager every modified or added field;
//! - an Apply merges the configuration into the live object, makes the configuration's field
//!   set the applier's, and prunes what the applier owned before, no longer applies and
//!   nobody else owns.
//!
//! Fields under the endpoint's reset paths (upstream's ResetFields, such as `status` on the
//! main resource) are ignored for ownership and conflicts.

use std::collections::BTreeMap;

use serde_json::Value;

use super::compare::{compare, Comparison, Nulls};
use super::managed::{ManagerId, VersionedSet};
use super::merge::merge;
use super::remove::{drop_nulls_at, remove_items};
use super::set::FieldSet;
use super::toset::to_field_set;
use super::typed::{Schema, ValidationErrors};
use super::value;

/// Managers and their fields.
pub type Managers = BTreeMap<ManagerId, VersionedSet>;

/// Why an update of ownership stopped.
#[derive(Debug)]
pub enum Failure {
    /// Fields of other managers the write would change, by manager.
    Conflicts(BTreeMap<ManagerId, FieldSet>),
    /// The live object could not be walked (`what` failed: `errs`).
    Invalid(String),
    /// The applied configuration is not a valid object of its type.
    InvalidConfig(ValidationErrors),
}

/// The updater for one object type.
pub struct Updater<'a> {
    pub schema: Schema<'a>,
    /// Paths (and everything under them) ignored for ownership.
    pub ignored: FieldSet,
}

impl Updater<'_> {
    fn filter(&self, set: FieldSet) -> FieldSet {
        if self.ignored.is_empty() {
            set
        } else {
            set.recursive_difference(&self.ignored)
        }
    }

    fn field_set(&self, v: &Value, what: &str) -> Result<FieldSet, Failure> {
        to_field_set(self.schema, v, false)
            .map_err(|e| Failure::Invalid(format!("failed to create field set from {what}: {e}")))
    }

    /// Moves ownership for a write from `old` to `new` by `workflow`: conflicts for the other
    /// managers (an error unless `force`), removed fields for everybody.
    pub fn update(
        &self,
        old: &Value,
        new: &Value,
        managers: &mut Managers,
        workflow: &ManagerId,
        force: bool,
        nulls: Nulls,
    ) -> Result<Comparison, Failure> {
        let cmp = compare(self.schema, Some(old), Some(new), nulls)
            .map_err(|e| Failure::Invalid(format!("failed to compare objects: {e}")))?
            .exclude(&self.ignored);
        let changed = cmp.modified.union(&cmp.added);
        let mut conflicts = BTreeMap::new();
        for (id, vs) in managers.iter() {
            if id == workflow {
                continue;
            }
            let c = vs.set.intersection(&changed);
            if !c.is_empty() {
                conflicts.insert(id.clone(), c);
            }
        }
        if !force && !conflicts.is_empty() {
            return Err(Failure::Conflicts(conflicts));
        }
        for (id, vs) in managers.iter_mut() {
            if id == workflow {
                continue;
            }
            if let Some(c) = conflicts.get(id) {
                vs.set = vs.set.difference(c);
            }
            if !cmp.removed.is_empty() {
                vs.set = vs.set.difference(&cmp.removed);
            }
        }
        managers.retain(|_, vs| !vs.set.is_empty());
        Ok(cmp)
    }

    /// An Update by `manager` (a manager seen for the first time: upstream runs every update
    /// as a fresh "current-operation" and unions it into the real manager afterwards).
    pub fn update_op(
        &self,
        old: &Value,
        new: &Value,
        api_version: &str,
        managers: &mut Managers,
        manager: &ManagerId,
    ) -> Result<(), Failure> {
        let cmp = self.update(old, new, managers, manager, true, Nulls::AsAbsent)?;
        let previous = managers
            .get(manager)
            .map(|vs| vs.set.clone())
            .unwrap_or_default();
        let set = previous
            .difference(&cmp.removed)
            .union(&cmp.modified)
            .union(&cmp.added);
        let set = self.filter(set);
        if set.is_empty() {
            managers.remove(manager);
        } else {
            managers.insert(
                manager.clone(),
                VersionedSet {
                    set,
                    api_version: api_version.to_string(),
                    applied: false,
                },
            );
        }
        Ok(())
    }

    /// An Apply of `config` onto `live` by `manager`: the new object (before the caller strips
    /// nulls the configuration set).
    pub fn apply_op(
        &self,
        live: &Value,
        config: &Value,
        api_version: &str,
        managers: &mut Managers,
        manager: &ManagerId,
        force: bool,
    ) -> Result<Value, Failure> {
        let set = to_field_set(self.schema, config, true).map_err(Failure::InvalidConfig)?;
        let merged = merge(self.schema, live, config)
            .map_err(|e| Failure::Invalid(format!("failed to merge config: {e}")))?;
        let last = managers.get(manager).map(|vs| vs.set.clone());
        managers.insert(
            manager.clone(),
            VersionedSet {
                set: self.filter(set),
                api_version: api_version.to_string(),
                applied: true,
            },
        );
        let (mut pruned, emptied) = self.prune(merged, managers, last)?;
        self.update(live, &pruned, managers, manager, force, Nulls::AsValues)?;
        drop_nulls_at(self.schema, &mut pruned, &emptied);
        Ok(pruned)
    }

    /// Removes from `merged` what the applier owned before (`last`) and nobody owns now;
    /// also returns the fields that removal left null.
    fn prune(
        &self,
        merged: Value,
        managers: &Managers,
        last: Option<FieldSet>,
    ) -> Result<(Value, FieldSet), Failure> {
        let Some(last) = last.filter(|s| !s.is_empty()) else {
            return Ok((merged, FieldSet::new()));
        };
        let last = last.ensure_named_fields_are_members();
        let owned = managers
            .values()
            .fold(FieldSet::new(), |acc, vs| acc.union(&vs.set))
            .ensure_named_fields_are_members();
        // Everything the applier owned goes...
        let (pruned, _) = remove_items(self.schema, &merged, &last);
        let merged_set = self
            .field_set(&merged, "merged object")?
            .ensure_named_fields_are_members();
        let pruned_set = self
            .field_set(&pruned, "pruned object")?
            .ensure_named_fields_are_members();
        // ...what somebody owns comes back...
        let unowned = merged_set.difference(&pruned_set.union(&owned));
        let (owned_back, _) = remove_items(self.schema, &merged, &unowned);
        let owned_back_set = self
            .field_set(&owned_back, "pruned object")?
            .ensure_named_fields_are_members();
        // ...and what the applier never owned stays.
        let gone = merged_set.difference(&owned_back_set).intersection(&last);
        Ok(remove_items(self.schema, &merged, &gone))
    }
}

/// Whether an apply changed the object.
pub fn changed(live: &Value, new: &Value) -> bool {
    !value::equal(live, new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::managed::Operation;
    use crate::apply::schema::BuiltinListKeys;
    use serde_json::json;

    fn updater() -> Updater<'static> {
        Updater {
            schema: Schema {
                keys: &BuiltinListKeys,
                name: "io.k8s.api.apps.v1.Deployment",
            },
            ignored: FieldSet::new(),
        }
    }

    #[test]
    fn apply_prunes_what_it_stopped_applying() {
        let u = updater();
        let a = ManagerId::new("a", Operation::Apply, "", "");
        let mut managers = Managers::new();
        let c1 = json!({"spec": {"replicas": 2, "paused": true}});
        let o1 = u
            .apply_op(&json!({}), &c1, "apps/v1", &mut managers, &a, false)
            .unwrap();
        assert_eq!(o1, c1);
        let c2 = json!({"spec": {"replicas": 2}});
        let o2 = u
            .apply_op(&o1, &c2, "apps/v1", &mut managers, &a, false)
            .unwrap();
        assert_eq!(o2, json!({"spec": {"replicas": 2}}));
    }

    #[test]
    fn shared_fields_survive_one_applier_leaving() {
        let u = updater();
        let a = ManagerId::new("a", Operation::Apply, "", "");
        let b = ManagerId::new("b", Operation::Apply, "", "");
        let mut managers = Managers::new();
        let c = json!({"spec": {"replicas": 2}});
        let o = u
            .apply_op(&json!({}), &c, "v", &mut managers, &a, false)
            .unwrap();
        let o = u.apply_op(&o, &c, "v", &mut managers, &b, false).unwrap();
        let o = u
            .apply_op(&o, &json!({"spec": {}}), "v", &mut managers, &a, false)
            .unwrap();
        assert_eq!(o, json!({"spec": {"replicas": 2}}));
    }
}
