//! Every error the API server returns, as upstream's `metav1.Status`: the same `reason`, HTTP
//! code, message wording and `details` as `k8s.io/apimachinery/pkg/api/errors`, so clients
//! (kubectl, client-go, the Python client) react exactly as they do against Kubernetes.

use http::StatusCode;
use serde_json::{json, Value};

/// A resource with its API group, as errors name it (`configmaps`, `deployments.apps`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupResource {
    pub group: String,
    pub resource: String,
}

impl GroupResource {
    pub fn new(group: &str, resource: &str) -> Self {
        GroupResource {
            group: group.into(),
            resource: resource.into(),
        }
    }
}

impl std::fmt::Display for GroupResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.resource)
        } else {
            write!(f, "{}.{}", self.resource, self.group)
        }
    }
}

/// One field-level reason a write is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// Upstream's cause type, e.g. `FieldValueRequired`, `FieldValueInvalid`.
    pub reason: String,
    pub field: String,
    pub message: String,
}

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("Unauthorized")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{resource} {name:?} not found")]
    NotFound {
        resource: GroupResource,
        name: String,
    },
    #[error("the server could not find the requested resource")]
    PathNotFound,
    #[error("{resource} {name:?} already exists")]
    AlreadyExists {
        resource: GroupResource,
        name: String,
    },
    #[error("Operation cannot be fulfilled on {resource} {name:?}: {message}")]
    Conflict {
        resource: GroupResource,
        name: String,
        message: String,
    },
    #[error("{0}")]
    Expired(String),
    /// `kind` is the qualified kind, e.g. `Deployment.apps`.
    #[error("{kind} {name:?} is invalid: {}", causes_text(.causes))]
    Invalid {
        kind: String,
        group: String,
        name: String,
        causes: Vec<Cause>,
    },
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    NotAcceptable(String),
    #[error("Request entity too large: {0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    ServiceUnavailable(String),
    /// A read or watch at a revision the server has not reached yet (504, retry after 1s).
    #[error("Too large resource version: {requested}, current: {current}")]
    TooLargeResourceVersion { requested: i64, current: i64 },
    #[error("Internal error occurred: {0}")]
    Internal(String),
    /// A Status built elsewhere with its own code and reason (patch errors upstream words
    /// in ways no other variant does); `message` mirrors the Status's message.
    #[error("{message}")]
    Prebuilt {
        code: u16,
        message: String,
        status: Value,
    },
}

fn causes_text(causes: &[Cause]) -> String {
    let parts: Vec<String> = causes
        .iter()
        .map(|c| {
            if c.field.is_empty() {
                c.message.clone()
            } else {
                format!("{}: {}", c.field, c.message)
            }
        })
        .collect();
    if parts.len() == 1 {
        parts[0].clone()
    } else {
        format!("[{}]", parts.join(", "))
    }
}

impl ApiError {
    /// The HTTP status code and upstream reason.
    pub fn code_and_reason(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "BadRequest"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "Unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "Forbidden"),
            ApiError::NotFound { .. } | ApiError::PathNotFound => {
                (StatusCode::NOT_FOUND, "NotFound")
            }
            ApiError::AlreadyExists { .. } => (StatusCode::CONFLICT, "AlreadyExists"),
            ApiError::Conflict { .. } => (StatusCode::CONFLICT, "Conflict"),
            ApiError::Expired(_) => (StatusCode::GONE, "Expired"),
            ApiError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "Invalid"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"),
            ApiError::NotAcceptable(_) => (StatusCode::NOT_ACCEPTABLE, "NotAcceptable"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLarge"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType")
            }
            ApiError::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "TooManyRequests"),
            ApiError::ServiceUnavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable")
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError"),
            ApiError::TooLargeResourceVersion { .. } => (StatusCode::GATEWAY_TIMEOUT, "Timeout"),
            ApiError::Prebuilt { code, .. } => (
                StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "",
            ),
        }
    }

    /// The `metav1.Status` object for this error.
    pub fn to_status(&self) -> Value {
        if let ApiError::Prebuilt { status, .. } = self {
            return status.clone();
        }
        let (code, reason) = self.code_and_reason();
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": reason,
            "code": code.as_u16(),
        });
        let details = match self {
            ApiError::NotFound { resource, name }
            | ApiError::AlreadyExists { resource, name }
            | ApiError::Conflict { resource, name, .. } => Some(named(resource, name)),
            ApiError::Invalid {
                kind,
                group,
                name,
                causes,
            } => {
                let mut d = json!({ "name": name, "kind": kind.split('.').next().unwrap_or(kind) });
                if !group.is_empty() {
                    d["group"] = json!(group);
                }
                d["causes"] = causes
                    .iter()
                    .map(|c| json!({ "reason": c.reason, "message": c.message, "field": c.field }))
                    .collect();
                Some(d)
            }
            ApiError::TooLargeResourceVersion { .. } => Some(json!({
                "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                "retryAfterSeconds": 1,
            })),
            _ => None,
        };
        if let Some(d) = details {
            status["details"] = d;
        }
        status
    }

    /// Maps a store error on `name` of `resource`.
    pub fn from_store(e: skiff_store::Error, resource: &GroupResource, name: &str) -> ApiError {
        use skiff_store::Error as S;
        match e {
            S::NotFound(_) => ApiError::NotFound {
                resource: resource.clone(),
                name: name.into(),
            },
            S::AlreadyExists(_) => ApiError::AlreadyExists {
                resource: resource.clone(),
                name: name.into(),
            },
            S::Conflict { .. } => ApiError::Conflict {
                resource: resource.clone(),
                name: name.into(),
                message: "the object has been modified; please apply your changes to the latest version and try again".into(),
            },
            S::Compacted {
                requested,
                compacted,
            } => ApiError::Expired(format!(
                "too old resource version: {requested} ({compacted})"
            )),
            S::FutureRevision { requested, current } => ApiError::Internal(format!(
                "resource version {requested} is newer than the store's {current}"
            )),
            S::Invalid(m) => ApiError::BadRequest(m),
            S::Unavailable(m) => ApiError::ServiceUnavailable(m),
            S::Corrupt(m) => ApiError::Internal(m),
        }
    }
}

fn named(resource: &GroupResource, name: &str) -> Value {
    let mut d = json!({ "name": name, "kind": resource.resource });
    if !resource.group.is_empty() {
        d["group"] = json!(resource.group);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_matches_upstream() {
        let e = ApiError::NotFound {
            resource: GroupResource::new("apps", "deployments"),
            name: "web".into(),
        };
        assert_eq!(
            e.to_status(),
            json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "deployments.apps \"web\" not found", "reason": "NotFound",
                "details": { "name": "web", "group": "apps", "kind": "deployments" },
                "code": 404
            })
        );
    }

    #[test]
    fn conflict_and_already_exists_wording() {
        let cm = GroupResource::new("", "configmaps");
        let e = ApiError::from_store(
            skiff_store::Error::Conflict {
                key: "/registry/configmaps/default/x".into(),
                expected: 1,
                actual: 2,
            },
            &cm,
            "x",
        );
        assert_eq!(e.to_string(), "Operation cannot be fulfilled on configmaps \"x\": the object has been modified; please apply your changes to the latest version and try again");
        assert_eq!(e.code_and_reason(), (StatusCode::CONFLICT, "Conflict"));
        let e = ApiError::from_store(skiff_store::Error::AlreadyExists("k".into()), &cm, "x");
        assert_eq!(e.to_string(), "configmaps \"x\" already exists");
        assert_eq!(e.to_status()["reason"], "AlreadyExists");
    }

    #[test]
    fn invalid_lists_every_cause() {
        let e = ApiError::Invalid {
            kind: "Deployment.apps".into(),
            group: "apps".into(),
            name: "web".into(),
            causes: vec![
                Cause {
                    reason: "FieldValueRequired".into(),
                    field: "spec.selector".into(),
                    message: "Required value".into(),
                },
                Cause {
                    reason: "FieldValueInvalid".into(),
                    field: "metadata.name".into(),
                    message: "Invalid value: \"Web\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters".into(),
                },
            ],
        };
        let s = e.to_status();
        assert_eq!(s["code"], 422);
        assert_eq!(s["details"]["kind"], "Deployment");
        assert_eq!(s["details"]["causes"].as_array().unwrap().len(), 2);
        assert!(e.to_string().starts_with(
            "Deployment.apps \"web\" is invalid: [spec.selector: Required value, metadata.name: "
        ));
    }

    #[test]
    fn compacted_is_410_expired() {
        let e = ApiError::from_store(
            skiff_store::Error::Compacted {
                requested: 5,
                compacted: 10,
            },
            &GroupResource::new("", "pods"),
            "",
        );
        assert_eq!(e.code_and_reason(), (StatusCode::GONE, "Expired"));
        assert_eq!(e.to_string(), "too old resource version: 5 (10)");
    }
}
