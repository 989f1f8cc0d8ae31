//! Non-resource API endpoints that describe the API: discovery (`/api`, `/apis`, per
//! group and group-version, aggregated when asked for) and OpenAPI (`/openapi/v2`,
//! `/openapi/v3[/...]`).

use http::{HeaderMap, HeaderValue, StatusCode};

use crate::app::App;
use crate::discovery;
use crate::http::{self as h, Resp};
use crate::openapi;
use crate::path::Target;
use crate::query::Query;
use crate::status::ApiError;

pub fn discovery(app: &App, target: Target, accept: Option<&str>) -> Result<Resp, ApiError> {
    let aggregated = accept.and_then(discovery::negotiate);
    let doc = match (&target, aggregated) {
        (Target::LegacyVersions, Some(v)) => {
            return Ok(aggregated_resp(discovery::aggregated(true, v), v))
        }
        (Target::Groups, Some(v)) => {
            return Ok(aggregated_resp(discovery::aggregated(false, v), v))
        }
        (Target::LegacyVersions, None) => discovery::core_versions(&format!(
            "{}:{}",
            app.config.advertise_address, app.config.https_port
        )),
        (Target::Groups, None) => discovery::group_list(),
        (Target::Group { group }, _) => discovery::group(group).ok_or(ApiError::PathNotFound)?,
        (Target::Resources { group, version }, _) => {
            discovery::resource_list(group, version).ok_or(ApiError::PathNotFound)?
        }
        (Target::Resource(_), _) => return Err(ApiError::PathNotFound),
    };
    Ok(h::json(StatusCode::OK, &doc))
}

fn aggregated_resp(doc: serde_json::Value, v: discovery::AggregatedVersion) -> Resp {
    let mut r = h::json(StatusCode::OK, &doc);
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(discovery::content_type(v)),
    );
    r
}

pub fn openapi(
    path: &str,
    query: &Query,
    accept: Option<&str>,
    headers: &HeaderMap,
) -> Result<Resp, ApiError> {
    let if_none_match = headers
        .get(http::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    if path == "/openapi/v2" {
        // client-go asks for the protobuf encoding only; this server speaks JSON.
        let json_ok = accept.is_none_or(|a| {
            a.split(',').any(|m| {
                let m = m.split(';').next().unwrap_or("").trim();
                matches!(m, "application/json" | "*/*" | "application/*" | "")
            })
        });
        if !json_ok {
            return Err(ApiError::NotAcceptable(
                "only the following media types are accepted: application/json".into(),
            ));
        }
        return Ok(cached(
            openapi::v2(),
            openapi::v2_etag(),
            if_none_match,
            false,
        ));
    }
    let rest = path.trim_start_matches("/openapi/v3").trim_matches('/');
    if rest.is_empty() {
        return Ok(cached(
            openapi::v3_index(),
            openapi::v3_index_etag(),
            if_none_match,
            false,
        ));
    }
    let Some((doc, hash)) = openapi::v3_group_version(rest) else {
        return Err(ApiError::PathNotFound);
    };
    match query.get("hash") {
        Some(h) if h != hash => {
            let mut r = h::text(StatusCode::MOVED_PERMANENTLY, "");
            if let Ok(v) = HeaderValue::from_str(&format!("/openapi/v3/{rest}?hash={hash}")) {
                r.headers_mut().insert(http::header::LOCATION, v);
            }
            Ok(r)
        }
        Some(_) => Ok(cached(doc, &format!("\"{hash}\""), if_none_match, true)),
        None => Ok(cached(doc, &format!("\"{hash}\""), if_none_match, false)),
    }
}

/// A JSON document with its ETag (304 when the client has it); `immutable` adds the
/// long-lived cache headers upstream sends for hashed OpenAPI v3 URLs.
fn cached(doc: &'static [u8], etag: &str, if_none_match: Option<&str>, immutable: bool) -> Resp {
    let mut r = if if_none_match == Some(etag) {
        let mut r = h::text(StatusCode::NOT_MODIFIED, "");
        r.headers_mut().remove(http::header::CONTENT_TYPE);
        r
    } else {
        h::json_bytes(StatusCode::OK, bytes::Bytes::from_static(doc))
    };
    let hs = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(etag) {
        hs.insert(http::header::ETAG, v);
    }
    hs.insert(http::header::VARY, HeaderValue::from_static("Accept"));
    if immutable {
        hs.insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("public, immutable"),
        );
    }
    r
}
