//! Server-side apply and `metadata.managedFields`, as upstream's field manager
//! (k8s.io/apimachinery/pkg/util/managedfields) and structured-merge-diff do them, on JSON
//! objects. Pure: time is a parameter, schema facts come from a [`ListKeys`].
//!
//! Two entry points for the HTTP layer:
//!
//! - [`apply`] for `PATCH` with `application/apply-patch+yaml` (and create-by-apply): merges
//!   the applied configuration into the live object, removes what the manager applied before
//!   and no longer applies (unless another manager owns it), and answers 409 with upstream's
//!   message when another manager owns a field the configuration changes (unless forced,
//!   which takes the field over).
//! - [`update_managed_fields`] for every other write (create, update, patch, on the resource
//!   or a subresource): records what the writer changed under its name (operation Update)
//!   and takes those fields away from other managers. Call it on the final object (after
//!   defaulting), before storing.
//!
//! As upstream: an object that never had managedFields gets none from an update (a create
//! does), and a first apply to it first attributes its current fields to
//! `before-first-apply`; a client may clear managedFields by sending `[]` or `[{}]`; the
//! manager `kubectl` gets the bridge with client-side apply (see [`lastapplied`]); at most
//! ten Update managers are kept.
//!
//! Layout: [`path`], [`set`] and [`fieldsv1`] are field paths, sets of them and their
//! `fieldsV1` encoding; [`schema`] the schema trait and built-in rules; [`typed`], [`toset`],
//! [`compare`], [`merge`] and [`remove`] walk objects; [`managed`] reads and writes
//! `managedFields`; [`updater`] holds the ownership rules and [`fieldmanager`] the stages
//! around them; [`lastapplied`] the bridge with client-side apply; [`error`] the failures;
//! [`body`] the request body.

pub mod body;
pub mod compare;
pub mod error;
pub mod fieldmanager;
pub mod fieldsv1;
pub mod lastapplied;
pub mod managed;
pub mod merge;
pub mod path;
pub mod remove;
pub mod schema;
pub mod set;
pub mod toset;
pub mod typed;
pub mod updater;
pub mod value;

use serde_json::Value;

pub use body::{check_kind, check_name, parse_apply_body};
pub use error::{ApplyError, ConflictEntry};
pub use fieldmanager::{FieldManager, BEFORE_FIRST_APPLY};
pub use managed::{default_manager, ManagerId, Operation};
pub use path::{Path, PathElement};
pub use schema::{schema_name_for, BuiltinListKeys, ListKeys, ListType};
pub use set::FieldSet;

/// Server-side apply (see [`FieldManager::apply`]) on the main resource of `schema_name`.
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    now: &str,
    keys: &dyn ListKeys,
    schema_name: &str,
) -> Result<Value, ApplyError> {
    FieldManager::new(keys, schema_name).apply(live, applied, manager, force, now)
}

/// Records a non-apply write in `new`'s managedFields (see [`FieldManager::update`]); the
/// schema name is derived from `new`'s apiVersion and kind.
pub fn update_managed_fields(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    operation: Operation,
    subresource: Option<&str>,
    now: &str,
    keys: &dyn ListKeys,
) {
    let field = |name: &str| {
        new.get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let schema_name = schema_name_for(&field("apiVersion"), &field("kind"));
    let fm = FieldManager {
        keys,
        schema_name: &schema_name,
        subresource,
        reset_fields: &[],
    };
    fm.update(old, new, manager, operation, now);
}

/// The field set of an object (every leaf, every set or keyed-list item), as an applied
/// configuration owns it; duplicate list items are an error, reported as upstream words it.
pub fn field_set(obj: &Value, keys: &dyn ListKeys, schema_name: &str) -> Result<FieldSet, String> {
    toset::to_field_set(
        typed::Schema {
            keys,
            name: schema_name,
        },
        obj,
        true,
    )
    .map_err(|e| e.to_string())
}
