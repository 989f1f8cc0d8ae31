//! Kubernetes' protobuf encoding of request bodies (`Content-Type:
//! application/vnd.kubernetes.protobuf`, what kubectl's typed commands and client-go send for
//! built-in types), decoded into the JSON object the API server works with.
//!
//! A body is the magic `k8s\0` followed by a `runtime.Unknown` message: `typeMeta`
//! (apiVersion, kind), `raw` (the object's own message, without type meta),
//! `contentEncoding` and `contentType` (both empty for protobuf). [`decode_object`] reads the
//! envelope, finds the message of the kind (the OpenAPI definition of the group-version-kind,
//! or a meta type such as `DeleteOptions`) and turns it into JSON ([`json`]) from descriptors
//! generated at build time from the `k8s-pb` crate ([`descriptors`]), without per-type code.
//!
//! Submodules: [`wire`] (the schemaless wire format), [`descriptors`] (the message table and
//! JSON names), [`json`] (a message to JSON, special types), [`omitempty`] (which zero
//! numbers and booleans mean "unset").

pub mod descriptors;
pub mod json;
pub mod omitempty;
pub mod wire;

use serde_json::{Map, Value};

/// The media type of Kubernetes' protobuf encoding.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The four bytes every protobuf-encoded object starts with.
pub const MAGIC: &[u8] = b"k8s\x00";

/// Whether `body` starts with the protobuf magic.
pub fn is_protobuf(body: &[u8]) -> bool {
    body.starts_with(MAGIC)
}

/// Decodes a Kubernetes protobuf request body (with the k8s\0 envelope) into the JSON object upstream's JSON encoding of the same object would be (apiVersion and kind from the envelope, every field under its JSON name, only fields that are set).
///
/// "Set" follows Go: messages present on the wire are kept (`{}` when empty); scalars equal to
/// their zero value are left out unless the field is required (see [`json`] for the one
/// ambiguity of the encoding). Errors are worded for the 400 answer
/// (`<Kind> in version "v1" cannot be handled as a <Kind>: <error>`).
pub fn decode_object(body: &[u8]) -> Result<Value, String> {
    decode_object_at(body, 0)
}

/// [`decode_object`] at a nesting depth (objects embedded in a `RawExtension`).
fn decode_object_at(body: &[u8], depth: usize) -> Result<Value, String> {
    if depth > 8 {
        return Err("embedded objects nested too deeply".into());
    }
    let Some(rest) = body.strip_prefix(MAGIC) else {
        return Err(format!(
            "provided data does not appear to be a protobuf message, expected prefix {:?}",
            MAGIC
        ));
    };
    let unknown = envelope(rest)?;
    if unknown.api_version.is_empty() {
        return Err(format!(
            "Object 'apiVersion' is missing in '{}'",
            unknown.type_meta_go()
        ));
    }
    if unknown.kind.is_empty() {
        return Err(format!(
            "Object 'Kind' is missing in '{}'",
            unknown.type_meta_go()
        ));
    }
    if !unknown.content_encoding.is_empty() {
        return Err(format!(
            "unsupported content encoding {:?}",
            unknown.content_encoding
        ));
    }
    let mut out = Map::new();
    out.insert(
        "apiVersion".into(),
        Value::String(unknown.api_version.clone()),
    );
    out.insert("kind".into(), Value::String(unknown.kind.clone()));
    let ct = unknown.content_type.to_ascii_lowercase();
    let body = if ct.is_empty() || ct.starts_with(CONTENT_TYPE) {
        let name = message_name(&unknown.api_version, &unknown.kind)?;
        json::message(&name, unknown.raw)?
    } else if ct.starts_with("application/json") {
        serde_json::from_slice(unknown.raw).map_err(|e| e.to_string())?
    } else {
        return Err(format!(
            "unsupported content type {:?}",
            unknown.content_type
        ));
    };
    if let Value::Object(fields) = body {
        for (k, v) in fields {
            if k != "apiVersion" && k != "kind" {
                out.insert(k, v);
            }
        }
    }
    Ok(Value::Object(out))
}

/// `runtime.Unknown`: typeMeta = 1 (apiVersion = 1, kind = 2), raw = 2, contentEncoding = 3,
/// contentType = 4.
struct Unknown<'a> {
    api_version: String,
    kind: String,
    raw: &'a [u8],
    content_encoding: String,
    content_type: String,
}

impl Unknown<'_> {
    /// As upstream prints the type meta in its missing-kind errors.
    fn type_meta_go(&self) -> String {
        format!(
            "runtime.TypeMeta{{APIVersion:{:?}, Kind:{:?}}}",
            self.api_version, self.kind
        )
    }
}

fn envelope(buf: &[u8]) -> Result<Unknown<'_>, String> {
    let mut u = Unknown {
        api_version: String::new(),
        kind: String::new(),
        raw: &[],
        content_encoding: String::new(),
        content_type: String::new(),
    };
    for f in wire::Fields::new(buf) {
        let (tag, value) = f?;
        let wire::Value::Bytes(b) = value else {
            continue;
        };
        match tag {
            1 => {
                for g in wire::Fields::new(b) {
                    match g? {
                        (1, wire::Value::Bytes(s)) => u.api_version = utf8(s)?,
                        (2, wire::Value::Bytes(s)) => u.kind = utf8(s)?,
                        _ => {}
                    }
                }
            }
            2 => u.raw = b,
            3 => u.content_encoding = utf8(b)?,
            4 => u.content_type = utf8(b)?,
            _ => {}
        }
    }
    Ok(u)
}

fn utf8(b: &[u8]) -> Result<String, String> {
    std::str::from_utf8(b)
        .map(str::to_string)
        .map_err(|_| "invalid UTF-8 in a string field".to_string())
}

/// The message of a group-version-kind: a served kind, its list, a subresource kind, a meta
/// kind of a served group-version (`crate::openapi::schema_name_for`), or a meta kind
/// (`DeleteOptions`...) under any version.
fn message_name(api_version: &str, kind: &str) -> Result<String, String> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    if let Some(name) = crate::openapi::schema_name_for(group, version, kind) {
        return Ok(name.to_string());
    }
    let meta = format!("io.k8s.apimachinery.pkg.apis.meta.v1.{kind}");
    if descriptors::message(&meta).is_some() && crate::openapi::schema(&meta).is_some() {
        return Ok(meta);
    }
    Err(format!(
        "no kind {kind:?} is registered for version {api_version:?} in scheme \"pkg/api/legacyscheme/scheme.go:30\""
    ))
}
