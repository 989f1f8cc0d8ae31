//! HTTP plumbing shared by the handlers: the response body type, JSON and Status responses,
//! reading a request body under the size limit, and Accept negotiation (JSON, Table, the
//! protobuf clients ask for first).

use std::convert::Infallible;

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use serde_json::Value;

use crate::status::ApiError;

/// Every response body.
pub type Body = BoxBody<Bytes, Infallible>;
/// Every response.
pub type Resp = Response<Body>;

/// Requests bodies above this are refused with 413 (upstream's limit is 3 MiB for writes).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

/// A response with a body of already serialised JSON.
pub fn json_bytes(code: StatusCode, bytes: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(full(bytes));
    *r.status_mut() = code;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub fn json(code: StatusCode, v: &Value) -> Resp {
    json_bytes(code, serde_json::to_vec(v).unwrap_or_default())
}

pub fn text(code: StatusCode, s: &str) -> Resp {
    let mut r = Response::new(full(s.to_string()));
    *r.status_mut() = code;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// An error as a `metav1.Status` response.
pub fn error(e: &ApiError) -> Resp {
    let (code, _) = e.code_and_reason();
    let mut r = json(code, &e.to_status());
    if matches!(e, ApiError::TooLargeResourceVersion { .. }) {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

/// The `Status` a successful delete of a non-returned object answers.
pub fn success_status(name: &str, group: &str, kind: &str, uid: Option<&str>) -> Value {
    let mut details = serde_json::json!({ "name": name, "kind": kind });
    if !group.is_empty() {
        details["group"] = Value::String(group.into());
    }
    if let Some(u) = uid {
        details["uid"] = Value::String(u.into());
    }
    serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

/// Reads a whole request body, 413 past [`MAX_BODY_BYTES`].
pub async fn read_body<B>(body: B) -> Result<Bytes, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::TooLarge(format!("limit is {MAX_BODY_BYTES}")))
        }
        Err(e) => Err(ApiError::BadRequest(format!(
            "error reading request body: {e}"
        ))),
    }
}

/// What representation the client accepts for an object or list response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    Json,
    /// `as=Table` in meta.k8s.io v1 (or v1beta1: same shape).
    Table,
    /// `as=PartialObjectMetadata[List]` (metadata-only clients).
    PartialMetadata,
}

/// Picks the first media type in `Accept` this server can produce: JSON (also for `*/*`
/// and absent Accept), a Table, or partial metadata. Protobuf and other types are skipped;
/// if nothing acceptable remains, 406 as upstream.
pub fn negotiate(accept: Option<&str>) -> Result<Representation, ApiError> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Ok(Representation::Json);
    };
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let params: Vec<(String, String)> = parts
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let param = |k: &str| {
            params
                .iter()
                .find(|(pk, _)| pk == k)
                .map(|(_, v)| v.as_str())
        };
        if !matches!(
            media.as_str(),
            "application/json" | "*/*" | "application/*" | "application/yaml"
        ) {
            continue;
        }
        match param("as") {
            None => return Ok(Representation::Json),
            Some("Table") if param("g") == Some("meta.k8s.io") => return Ok(Representation::Table),
            Some("PartialObjectMetadata" | "PartialObjectMetadataList")
                if param("g") == Some("meta.k8s.io") =>
            {
                return Ok(Representation::PartialMetadata)
            }
            Some(_) => continue,
        }
    }
    Err(ApiError::NotAcceptable(
        "only the following media types are accepted: application/json, application/yaml".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation() {
        assert_eq!(negotiate(None).unwrap(), Representation::Json);
        assert_eq!(
            negotiate(Some("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")).unwrap(),
            Representation::Table
        );
        assert_eq!(
            negotiate(Some("application/vnd.kubernetes.protobuf,application/json")).unwrap(),
            Representation::Json
        );
        assert!(negotiate(Some("application/vnd.kubernetes.protobuf")).is_err());
        assert_eq!(negotiate(Some("*/*")).unwrap(), Representation::Json);
    }
}
