//! The three classic patch types of `PATCH` requests (server-side apply lives elsewhere):
//! JSON patch ([`json_patch`]), JSON merge patch ([`merge_patch`]) and strategic merge patch
//! ([`strategic`]), applied to an object as `serde_json::Value`, with upstream's errors and
//! HTTP codes (apiserver `endpoints/handlers/patch.go`):
//!
//! | failure | code | message |
//! |---|---|---|
//! | malformed patch body, bad directive format | 400 BadRequest | the decoder's / library's text |
//! | JSON patch operation fails (test, missing path, bad index) | 422 Invalid | `the server rejected our request due to an error in our request` (details `{}`) |
//! | strategic: lists of lists, content not in `$retainKeys` | 422, same generic message | |
//! | patched object does not decode (type error), or strict errors under `Strict` | 422 Invalid | ` "" is invalid: patch: Invalid value: "...": <error>` |
//! | more than 10,000 JSON patch operations | 413 | `Request entity too large: ...` |
//! | strategic patch on a kind without schema | 415 | `the body of the request was in an unknown format - accepted media types include: ...` |
//! | other strategic errors (missing merge key, ...) | 500, empty reason | the raw error |
//!
//! [`apply`] only patches; [`apply_validated`] also checks the result against the schema
//! (as upstream's decoding into the Go type does) and handles `fieldValidation`.

pub mod json_patch;
pub mod merge_patch;
pub mod strategic;

use serde_json::{json, Value};

use crate::decode;
use crate::status::ApiError;

pub use crate::openapi::kinds::schema_name_for;

/// The patch types upstream accepts for built-in kinds besides apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchType {
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json`.
    StrategicMerge,
}

impl PatchType {
    /// The patch type of a request's `Content-Type` (parameters such as `; charset=utf-8`
    /// are ignored, case-insensitive).
    pub fn from_content_type(ct: &str) -> Option<PatchType> {
        let media = ct
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::StrategicMerge),
            _ => None,
        }
    }

    /// The media type.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::StrategicMerge => "application/strategic-merge-patch+json",
        }
    }
}

/// A patch that cannot be applied, with upstream's code, reason and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchError {
    /// 400: the message as is.
    BadRequest(String),
    /// 422 with upstream's generic message; the detail is for logs only.
    Unprocessable(String),
    /// 422 Invalid on the field `patch` (the patched object does not decode).
    Invalid {
        /// The value upstream shows: the patched JSON (JSON and merge patches) or the patch
        /// map printed Go-style (strategic merge).
        value: String,
        detail: String,
    },
    /// 413: `Request entity too large: <message>`.
    TooLarge(String),
    /// 415: the message as is.
    UnsupportedMediaType(String),
    /// 500 with an empty reason: upstream passes the raw error through.
    Internal(String),
}

const GENERIC_422: &str = "the server rejected our request due to an error in our request";

impl PatchError {
    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            PatchError::BadRequest(_) => 400,
            PatchError::Unprocessable(_) | PatchError::Invalid { .. } => 422,
            PatchError::TooLarge(_) => 413,
            PatchError::UnsupportedMediaType(_) => 415,
            PatchError::Internal(_) => 500,
        }
    }

    /// The `metav1.Status` reason (`""` for raw internal errors).
    pub fn reason(&self) -> &'static str {
        match self {
            PatchError::BadRequest(_) => "BadRequest",
            PatchError::Unprocessable(_) | PatchError::Invalid { .. } => "Invalid",
            PatchError::TooLarge(_) => "RequestEntityTooLarge",
            PatchError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            PatchError::Internal(_) => "",
        }
    }

    /// The `metav1.Status` message.
    pub fn message(&self) -> String {
        match self {
            PatchError::BadRequest(m)
            | PatchError::UnsupportedMediaType(m)
            | PatchError::Internal(m) => m.clone(),
            PatchError::Unprocessable(_) => GENERIC_422.into(),
            PatchError::Invalid { .. } => {
                format!(" \"\" is invalid: patch: {}", self.cause_message())
            }
            PatchError::TooLarge(m) => format!("Request entity too large: {m}"),
        }
    }

    /// The underlying error text (what upstream logs; equals the message for most variants).
    pub fn detail(&self) -> String {
        match self {
            PatchError::Unprocessable(d) | PatchError::Invalid { detail: d, .. } => d.clone(),
            _ => self.message(),
        }
    }

    fn cause_message(&self) -> String {
        match self {
            PatchError::Invalid { value, detail } => {
                format!("Invalid value: {}: {detail}", go_quote(value))
            }
            _ => String::new(),
        }
    }

    /// The full `metav1.Status` body upstream answers.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message(),
            "code": self.code(),
        });
        if !self.reason().is_empty() {
            status["reason"] = self.reason().into();
        }
        match self {
            PatchError::Unprocessable(_) => status["details"] = json!({}),
            PatchError::Invalid { .. } => {
                status["details"] = json!({ "causes": [{
                    "reason": "FieldValueInvalid",
                    "message": self.cause_message(),
                    "field": "patch",
                }] });
            }
            _ => {}
        }
        status
    }

    /// The same error as the crate's [`ApiError`] where one matches it exactly (400, 413,
    /// 415); the 422s and raw 500s have no exact `ApiError` and must use [`Self::to_status`].
    /// This error as the crate's [`ApiError`] (a prebuilt Status where no variant matches).
    pub fn into_api_error(self) -> ApiError {
        self.api_error().unwrap_or_else(|| ApiError::Prebuilt {
            code: self.code(),
            message: self.message(),
            status: self.to_status(),
        })
    }

    pub fn api_error(&self) -> Option<ApiError> {
        match self {
            PatchError::BadRequest(m) => Some(ApiError::BadRequest(m.clone())),
            PatchError::TooLarge(m) => Some(ApiError::TooLarge(m.clone())),
            PatchError::UnsupportedMediaType(m) => Some(ApiError::UnsupportedMediaType(m.clone())),
            _ => None,
        }
    }
}

impl std::fmt::Display for PatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for PatchError {}

/// Go's `%q` (strconv.Quote), shared with the selector messages.
use skiff_api::go_quote;

impl From<strategic::SmpError> for PatchError {
    fn from(e: strategic::SmpError) -> Self {
        match e {
            strategic::SmpError::BadRequest(m) => PatchError::BadRequest(m),
            strategic::SmpError::Unprocessable(m) => PatchError::Unprocessable(m),
            strategic::SmpError::Other(m) => PatchError::Internal(m),
        }
    }
}

/// Go's `encoding/json` wording of a syntax error in a patch body.
pub(crate) fn syntax_message(e: &serde_json::Error, body: &[u8]) -> String {
    match decode::parse_json(body) {
        Err(d) => d.message(),
        Ok(_) => e.to_string(),
    }
}

/// Go's name for a JSON value kind in `cannot unmarshal <kind>` messages.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Applies a patch of `kind` to `original` (an object of the definition `schema_name`, e.g.
/// `io.k8s.api.apps.v1.Deployment`, `io.k8s.api.autoscaling.v1.Scale` for `/scale`).
/// The result is not checked against the schema: see [`apply_validated`].
pub fn apply(
    kind: PatchType,
    schema_name: &str,
    original: &Value,
    patch: &[u8],
) -> Result<Value, PatchError> {
    Ok(apply_inner(kind, schema_name, original, patch)?.0)
}

/// The patched value and the strict errors found in the patch body itself.
fn apply_inner(
    kind: PatchType,
    schema_name: &str,
    original: &Value,
    patch: &[u8],
) -> Result<(Value, Vec<String>), PatchError> {
    match kind {
        PatchType::Json => {
            let ops = json_patch::decode_operations(patch)?;
            let mut strict = Vec::new();
            if let Ok(parsed) = decode::parse_json(patch) {
                strict.extend(
                    parsed
                        .strict_errors
                        .iter()
                        .map(|e| format!("json patch {e}")),
                );
            }
            for (i, op) in ops.iter().enumerate() {
                for key in op.keys() {
                    if !matches!(key.as_str(), "op" | "path" | "from" | "value") {
                        strict.push(format!("json patch unknown field \"[{i}].{key}\""));
                    }
                }
            }
            Ok((json_patch::apply(original, &ops)?, strict))
        }
        PatchType::Merge => {
            let parsed = decode::parse_json(patch).map_err(|e| match e {
                decode::DecodeError::Syntax(_) => {
                    PatchError::BadRequest("Invalid JSON Patch".into())
                }
                other => PatchError::BadRequest(other.message()),
            })?;
            Ok((
                merge_patch::apply(original, parsed.value)?,
                parsed.strict_errors,
            ))
        }
        PatchType::StrategicMerge => {
            let ty = strategic::Ty::root(schema_name);
            if matches!(ty, strategic::Ty::Unknown) {
                return Err(PatchError::UnsupportedMediaType(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml".into(),
                ));
            }
            let parsed =
                decode::parse_json(patch).map_err(|e| PatchError::BadRequest(e.message()))?;
            let patch_map = match parsed.value {
                Value::Object(m) => m,
                Value::Null => serde_json::Map::new(),
                other => {
                    return Err(PatchError::BadRequest(format!(
                        "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                        json_kind(&other)
                    )))
                }
            };
            let Value::Object(orig) = original.clone() else {
                return Err(PatchError::BadRequest("invalid JSON document".into()));
            };
            let merged = strategic::apply(orig, patch_map, ty)?;
            Ok((Value::Object(merged), parsed.strict_errors))
        }
    }
}

/// With `Warn` / `Strict`, upstream first decodes JSON and merge patch bodies strictly into
/// Go types and answers 400 `error decoding patch: <error>` when that fails.
fn strict_decode_check(kind: PatchType, patch: &[u8]) -> Result<(), PatchError> {
    let fail = |m: String| Err(PatchError::BadRequest(format!("error decoding patch: {m}")));
    if kind == PatchType::StrategicMerge {
        return Ok(());
    }
    let value = match decode::parse_json(patch) {
        Ok(d) => d.value,
        Err(e) => return fail(e.message()),
    };
    match (kind, &value) {
        (_, Value::Null) => Ok(()),
        (PatchType::Merge, Value::Object(_)) => Ok(()),
        (PatchType::Merge, other) => fail(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(other)
        )),
        (_, Value::Array(ops)) => {
            for op in ops {
                let Value::Object(op) = op else {
                    if op.is_null() {
                        continue;
                    }
                    return fail(format!(
                        "json: cannot unmarshal {} into Go value of type handlers.jsonPatchOp",
                        json_kind(op)
                    ));
                };
                for field in ["op", "path", "from"] {
                    match op.get(field) {
                        None | Some(Value::Null) | Some(Value::String(_)) => {}
                        Some(other) => {
                            return fail(format!(
                                "json: cannot unmarshal {} into Go struct field jsonPatchOp.{field} of type string",
                                json_kind(other)
                            ))
                        }
                    }
                }
            }
            Ok(())
        }
        (_, other) => fail(format!(
            "json: cannot unmarshal {} into Go value of type []handlers.jsonPatchOp",
            json_kind(other)
        )),
    }
}

/// `fieldValidation` of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    Ignore,
    Warn,
    #[default]
    Strict,
}

/// A validated patch result.
#[derive(Debug, Clone, PartialEq)]
pub struct Patched {
    /// The patched object as the Go type keeps it (unknown fields dropped, null struct
    /// fields left out).
    pub value: Value,
    /// With `Warn`: one `Warning` header text per entry (`unknown field "spec.foo"`).
    pub warnings: Vec<String>,
}

/// Applies the patch, then decodes the result against the schema as upstream does: a type
/// error is 422 Invalid on `patch`; unknown / duplicate fields (in the patch body and in
/// the result) are a 422 under `Strict`, warnings under `Warn`, ignored under `Ignore`.
pub fn apply_validated(
    kind: PatchType,
    schema_name: &str,
    original: &Value,
    patch: &[u8],
    validation: FieldValidation,
) -> Result<Patched, PatchError> {
    if validation != FieldValidation::Ignore {
        strict_decode_check(kind, patch)?;
    }
    let (patched, patch_strict) = apply_inner(kind, schema_name, original, patch)?;
    let shown = || match kind {
        PatchType::StrategicMerge => match decode::parse_json(patch) {
            Ok(p) => strategic::go_format(&p.value),
            Err(_) => String::from_utf8_lossy(patch).into_owned(),
        },
        _ => serde_json::to_string(&patched).unwrap_or_default(),
    };
    let checked = decode::check(&patched, schema_name).map_err(|e| PatchError::Invalid {
        value: shown(),
        detail: e.message(),
    })?;
    let mut strict = if validation == FieldValidation::Ignore {
        Vec::new()
    } else {
        patch_strict
    };
    if validation != FieldValidation::Ignore {
        strict.extend(checked.strict_errors.iter().cloned());
    }
    match validation {
        FieldValidation::Strict if !strict.is_empty() => Err(PatchError::Invalid {
            value: shown(),
            detail: decode::strict_error_message(&strict).unwrap_or_default(),
        }),
        FieldValidation::Warn => Ok(Patched {
            value: checked.value,
            warnings: strict,
        }),
        _ => Ok(Patched {
            value: checked.value,
            warnings: Vec::new(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(
            PatchType::from_content_type("application/strategic-merge-patch+json"),
            Some(PatchType::StrategicMerge)
        );
        assert_eq!(
            PatchType::from_content_type("application/merge-patch+json; charset=utf-8"),
            Some(PatchType::Merge)
        );
        assert_eq!(
            PatchType::from_content_type("Application/JSON-Patch+JSON"),
            Some(PatchType::Json)
        );
        assert_eq!(PatchType::from_content_type("application/json"), None);
        assert_eq!(
            PatchType::from_content_type("application/apply-patch+yaml"),
            None
        );
        for t in [PatchType::Json, PatchType::Merge, PatchType::StrategicMerge] {
            assert_eq!(PatchType::from_content_type(t.content_type()), Some(t));
        }
    }

    #[test]
    fn statuses() {
        let e = PatchError::Unprocessable("testing value /a failed".into());
        assert_eq!(
            e.to_status(),
            json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": GENERIC_422, "reason": "Invalid", "details": {}, "code": 422 })
        );
        let e = PatchError::Invalid {
            value: "{\"a\":1}".into(),
            detail: "strict decoding error: unknown field \"spec.foo\"".into(),
        };
        assert_eq!(
            e.message(),
            " \"\" is invalid: patch: Invalid value: \"{\\\"a\\\":1}\": strict decoding error: unknown field \"spec.foo\""
        );
        assert_eq!(e.to_status()["details"]["causes"][0]["field"], "patch");
        let e =
            PatchError::Internal("map: map[a:1] does not contain declared merge key: name".into());
        assert_eq!(e.code(), 500);
        assert!(e.to_status().get("reason").is_none());
        assert_eq!(
            PatchError::BadRequest("x".into()).api_error(),
            Some(ApiError::BadRequest("x".into()))
        );
    }

    #[test]
    fn schema_names_for_gvks() {
        assert_eq!(
            schema_name_for("apps", "v1", "Deployment"),
            Some("io.k8s.api.apps.v1.Deployment")
        );
        assert_eq!(
            schema_name_for("autoscaling", "v1", "Scale"),
            Some("io.k8s.api.autoscaling.v1.Scale")
        );
    }
}
