//! The API server's OpenAPI documents, generated from k8s-openapi's types (no vendored spec):
//! swagger 2.0 at `/openapi/v2` ([`v2`]) and OpenAPI 3.0 at `/openapi/v3` ([`v3_index`],
//! [`v3_group_version`]). Both are built once, on first use, and kept as bytes.
//!
//! What the HTTP layer should send (as kube-apiserver does, see kube-openapi's handler3):
//! - `/openapi/v3`: `Content-Type: application/json`, `ETag: "<sha512 of the body>"`
//!   ([`v3_index_etag`]); answer `304` to a matching `If-None-Match`.
//! - `/openapi/v3/<key>?hash=<H>`: `Content-Type: application/json`, `Vary: Accept`,
//!   `ETag: "<hash>"`; when `hash` equals the document's hash also
//!   `Cache-Control: public, immutable` and `Expires` one year ahead; when it differs,
//!   `301` to the current `serverRelativeURL`. Without `hash`, no cache headers.
//! - `/openapi/v2`: JSON ([`v2`]) for `application/json` (or no / `*/*` Accept), protobuf
//!   ([`v2_protobuf`]) for `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`,
//!   406 otherwise; `ETag` ([`v2_etag`]) and `304` on `If-None-Match`.
//!
//! Submodules: [`kinds`] (kind -> type table), [`definitions`] (the schemas with upstream's
//! extensions), [`patch_meta`] (patch strategies and list types per field), `paths` (the
//! operations), `v2` / `v3` (the two renderings).

pub mod definitions;
pub mod kinds;
pub mod patch_meta;
mod paths;
mod proto_v2;
mod render_v2;
mod render_v3;

pub use definitions::{definitions, schema};
pub use kinds::schema_name_for;
pub use patch_meta::{patch_meta, PatchMeta};
pub use render_v3::{v3_group_version, v3_index, v3_index_etag};

/// The Kubernetes version the documents' `info.version` names.
pub const INFO_VERSION: &str = "v1.33.0";

/// The swagger 2.0 document (JSON), as `GET /openapi/v2` with `Accept: application/json`
/// returns it.
///
/// client-go's `OpenAPISchema()` asks for protobuf
/// (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`) only; JSON is for other
/// clients. See [`v2_etag`] for the headers.
pub fn v2() -> &'static [u8] {
    render_v2::document()
}

/// The swagger 2.0 document in gnostic's protobuf encoding, for
/// `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf` (what client-go's
/// `OpenAPISchema()` and so kubectl send); answer with that `Content-Type`. Holds the
/// definitions (not the paths). kubectl 1.27 and 1.28 need it: their `apply` / `create`
/// fail when it cannot be fetched or parsed; later versions only use it as a fallback.
pub fn v2_protobuf() -> &'static [u8] {
    proto_v2::document()
}

/// The ETag (quoted SHA-512) of [`v2_protobuf`].
pub fn v2_protobuf_etag() -> &'static str {
    static ETAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ETAG.get_or_init(|| format!("\"{}\"", sha512_hex(v2_protobuf())))
}

/// The ETag (quoted) of the v2 document: upstream sends `ETag: "<sha512 hex>"` and answers
/// `304` to a matching `If-None-Match`.
pub fn v2_etag() -> &'static str {
    render_v2::etag()
}

/// Uppercase hex SHA-512 of `data`, the hash upstream puts in `serverRelativeURL` and ETags.
pub(crate) fn sha512_hex(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA512, data);
    let mut out = String::with_capacity(128);
    for b in digest.as_ref() {
        out.push_str(&format!("{b:02X}"));
    }
    out
}
