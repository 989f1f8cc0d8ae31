//! Non-resource API endpoints that describe the API: discovery (`/api`, `/apis`, per
//! group and group-version, aggregated when asked for) and OpenAPI (`/openapi/v2`,
//! `/openapi/v3[/...]`).

use http::{HeaderMap, StatusCode};

use crate::app::App;
use crate::http::{self as h, Resp};
use crate::path::Target;
use crate::query::Query;
use crate::status::ApiError;

pub fn discovery(app: &App, target: Target, accept: Option<&str>) -> Result<Resp, ApiError> {
    let _ = (app, target, accept);
    Err(ApiError::PathNotFound)
}

pub fn openapi(
    path: &str,
    query: &Query,
    accept: Option<&str>,
    headers: &HeaderMap,
) -> Result<Resp, ApiError> {
    let _ = (path, query, accept, headers);
    let _ = h::text(StatusCode::OK, "");
    Err(ApiError::PathNotFound)
}
