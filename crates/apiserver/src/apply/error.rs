//! Why an apply failed, in upstream's words: 409 conflicts (`Apply failed with 1 conflict:
//! conflict with "kubectl-create" using apps/v1: .spec.replicas`, one `FieldManagerConflict`
//! cause per field), 400 for a body that is not an apply configuration, and the bare 500 that
//! upstream answers for an object it cannot process.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::managed::{ManagerId, Operation};
use super::set::FieldSet;

/// One field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictEntry {
    /// The other manager's name.
    pub manager: String,
    pub operation: Operation,
    /// The API version of an Update manager (empty for Apply).
    pub api_version: String,
    /// Empty for the main resource.
    pub subresource: String,
    /// The field, as upstream prints it: `.spec.replicas`,
    /// `.spec.template.spec.containers[name="nginx"].image`.
    pub field_path: String,
}

impl ConflictEntry {
    fn id(&self) -> ManagerId {
        ManagerId {
            manager: self.manager.clone(),
            operation: self.operation,
            api_version: self.api_version.clone(),
            subresource: self.subresource.clone(),
        }
    }

    /// `"kubectl-create" using apps/v1`, as the messages name the manager.
    pub fn manager_description(&self) -> String {
        self.id().describe()
    }
}

/// Lists the conflicts of each manager, managers ordered as upstream's messages order them.
pub fn conflicts_from(sets: &BTreeMap<ManagerId, FieldSet>) -> Vec<ConflictEntry> {
    let mut ids: Vec<&ManagerId> = sets.keys().collect();
    ids.sort_by_key(|id| id.identifier());
    let mut out = Vec::new();
    for id in ids {
        for p in sets[id].paths() {
            out.push(ConflictEntry {
                manager: id.manager.clone(),
                operation: id.operation,
                api_version: id.api_version.clone(),
                subresource: id.subresource.clone(),
                field_path: p.to_string(),
            });
        }
    }
    out
}

/// An apply or managedFields failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyError {
    /// 400 Bad Request.
    BadRequest(String),
    /// 409 Conflict: fields owned by other managers with other values.
    Conflict(Vec<ConflictEntry>),
    /// 500, as upstream answers errors that are not API statuses (reason left empty).
    Internal(String),
}

impl ApplyError {
    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            ApplyError::BadRequest(_) => 400,
            ApplyError::Conflict(_) => 409,
            ApplyError::Internal(_) => 500,
        }
    }

    /// The message of the `metav1.Status`.
    pub fn to_message(&self) -> String {
        match self {
            ApplyError::BadRequest(m) | ApplyError::Internal(m) => m.clone(),
            ApplyError::Conflict(conflicts) => conflict_message(conflicts),
        }
    }

    /// The full `metav1.Status` answered for this error.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_message(),
            "code": self.code(),
        });
        match self {
            ApplyError::BadRequest(_) => status["reason"] = json!("BadRequest"),
            ApplyError::Conflict(conflicts) => {
                status["reason"] = json!("Conflict");
                let causes: Vec<Value> = conflicts
                    .iter()
                    .map(|c| {
                        json!({
                            "reason": "FieldManagerConflict",
                            "message": format!("conflict with {}", c.manager_description()),
                            "field": c.field_path,
                        })
                    })
                    .collect();
                status["details"] = json!({ "causes": causes });
            }
            ApplyError::Internal(_) => {}
        }
        status
    }
}

fn conflict_message(conflicts: &[ConflictEntry]) -> String {
    if let [only] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            only.manager_description(),
            only.field_path
        );
    }
    // Grouped by manager, in the order of their identifiers; fields in set order.
    let mut groups: Vec<(String, String, Vec<&str>)> = Vec::new();
    for c in conflicts {
        let ident = c.id().identifier();
        match groups.iter_mut().find(|g| g.0 == ident) {
            Some(g) => g.2.push(&c.field_path),
            None => groups.push((ident, c.manager_description(), vec![&c.field_path])),
        }
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    let mut lines = Vec::new();
    for (_, who, paths) in groups {
        lines.push(format!("conflicts with {who}:"));
        lines.extend(paths.into_iter().map(|p| format!("- {p}")));
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_message())
    }
}

impl std::error::Error for ApplyError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(manager: &str, op: Operation, v: &str, path: &str) -> ConflictEntry {
        ConflictEntry {
            manager: manager.into(),
            operation: op,
            api_version: v.into(),
            subresource: String::new(),
            field_path: path.into(),
        }
    }

    #[test]
    fn single_conflict_wording() {
        let e = ApplyError::Conflict(vec![c(
            "kubectl-client-side-apply",
            Operation::Update,
            "apps/v1",
            ".spec.replicas",
        )]);
        assert_eq!(
            e.to_message(),
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
        );
        assert_eq!(
            e.to_status(),
            json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": e.to_message(), "reason": "Conflict", "code": 409,
                "details": {"causes": [{"reason": "FieldManagerConflict",
                    "message": "conflict with \"kubectl-client-side-apply\" using apps/v1",
                    "field": ".spec.replicas"}]}
            })
        );
    }

    #[test]
    fn multi_conflict_wording() {
        let e = ApplyError::Conflict(vec![
            c(
                "kubectl-edit",
                Operation::Update,
                "apps/v1",
                ".spec.replicas",
            ),
            c(
                "kubectl-create",
                Operation::Update,
                "apps/v1",
                ".metadata.labels.app",
            ),
            c(
                "kubectl-create",
                Operation::Update,
                "apps/v1",
                ".spec.paused",
            ),
            c("other", Operation::Apply, "", ".spec.minReadySeconds"),
        ]);
        assert_eq!(
            e.to_message(),
            "Apply failed with 4 conflicts: conflicts with \"kubectl-create\" using apps/v1:\n\
             - .metadata.labels.app\n\
             - .spec.paused\n\
             conflicts with \"kubectl-edit\" using apps/v1:\n\
             - .spec.replicas\n\
             conflicts with \"other\":\n\
             - .spec.minReadySeconds"
        );
    }

    #[test]
    fn internal_has_no_reason() {
        let s = ApplyError::Internal("boom".into()).to_status();
        assert_eq!(s["code"], 500);
        assert!(s.get("reason").is_none());
        assert_eq!(
            ApplyError::BadRequest("x".into()).to_status()["reason"],
            "BadRequest"
        );
    }
}
