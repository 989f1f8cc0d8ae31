//! Create, update (PUT) and patch of whole objects: decode the body, check it names this
//! resource, admit it (namespace lifecycle, defaults, validation), allocate Service
//! addresses, then write through [`Objects`](crate::objects::Objects) (compare-and-swap) or
//! stop short of the store for `dryRun=All`.

use bytes::Bytes;
use http::StatusCode;
use serde_json::{json, Value};

use crate::admission;
use crate::handlers::admit::{self, invalid};
use crate::handlers::render;
use crate::handlers::Ctx;
use crate::http::{self as h, Resp};
use crate::objects::{prepare_update, ResourceScope};
use crate::query::{FieldValidation, WriteOptions};
use crate::status::ApiError;

/// Parses a request body as JSON, YAML or Kubernetes protobuf, as the content type says
/// (subresource bodies: status, scale, binding, eviction).
pub fn decode_body(content_type: Option<&str>, body: &[u8]) -> Result<Value, ApiError> {
    let ct = content_type
        .unwrap_or("application/json")
        .to_ascii_lowercase();
    let v: Value = if ct.starts_with(crate::protobuf::CONTENT_TYPE) {
        crate::protobuf::decode_object(body).map_err(ApiError::BadRequest)?
    } else if ct.starts_with("application/yaml") || ct.contains("yaml") {
        serde_yaml::from_slice(body)
            .map_err(|e| ApiError::BadRequest(format!("error decoding YAML: {e}")))?
    } else if ct.starts_with("application/json") || ct.starts_with("*/*") || ct.is_empty() {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::BadRequest(format!(
                "Object 'Kind' is missing in '{}': {e}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ))
        })?
    } else {
        return Err(ApiError::UnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf".to_string(),
        ));
    };
    if !v.is_object() {
        return Err(ApiError::BadRequest(
            "the body of the request must be a JSON object".into(),
        ));
    }
    Ok(v)
}

/// Checks the body's apiVersion and kind against the resource (both may be omitted).
pub fn check_type(ctx: &Ctx, obj: &Value, kind: &str, api_version: &str) -> Result<(), ApiError> {
    if let Some(av) = obj.get("apiVersion").and_then(Value::as_str) {
        if !av.is_empty() && av != api_version {
            return Err(ApiError::BadRequest(format!(
                "the API version in the data ({av}) does not match the expected API version ({api_version})"
            )));
        }
    }
    if let Some(k) = obj.get("kind").and_then(Value::as_str) {
        if !k.is_empty() && k != kind {
            return Err(ApiError::BadRequest(format!(
                "the kind in the data ({k}) does not match the expected kind ({kind}) of {}",
                ctx.group_resource()
            )));
        }
    }
    Ok(())
}

pub async fn body_bytes<B>(body: B) -> Result<Bytes, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    h::read_body(body).await
}

pub async fn create<B>(ctx: &Ctx, body: B) -> Result<Resp, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let opts = WriteOptions::parse(&ctx.query)?;
    let repr = h::negotiate(ctx.accept.as_deref())?;
    let bytes = body_bytes(body).await?;
    let (mut obj, warnings) = decode_object(ctx, &bytes, &opts)?;
    check_type(ctx, &obj, ctx.resource.kind, &ctx.resource.api_version())?;
    let created = create_object(ctx, &mut obj, &opts).await?;
    Ok(with_warnings(
        render::object(
            ctx.resource,
            StatusCode::CREATED,
            &created,
            repr,
            &ctx.query,
            ctx.app.clock.now(),
        ),
        &warnings,
    ))
}

/// The create path shared by POST and server-side apply of a new object.
pub async fn create_object(
    ctx: &Ctx,
    obj: &mut Value,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let resource = ctx.resource;
    let scope = ResourceScope::new(resource);
    let ns = ctx.namespace();
    let given_name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
    admit::namespace_lifecycle(ctx, &given_name).await?;
    if let Some(msg) = admission::check_decodable(resource, obj) {
        return Err(ApiError::BadRequest(msg));
    }
    let name = ctx.app.objects.new_metadata(&scope, ns, obj)?;
    admission::default(resource, obj);
    admission::prepare_for_create_with(resource, obj, &ctx.app.config.toleration_defaults());
    if !is_apply(ctx) {
        crate::handlers::apply::record_update(ctx, opts, None, obj);
    }
    let causes = admission::validate_create(resource, obj);
    if !causes.is_empty() {
        return Err(invalid(resource, &name, causes));
    }
    let is_service = resource.group.is_empty() && resource.plural == "services";
    if opts.dry_run {
        // Nothing is stored and no address is allocated in a dry run.
        return Ok(obj.clone());
    }
    let mut taken = Vec::new();
    if is_service {
        let owner = scope.key(ns, &name);
        let (t, _) = ctx
            .app
            .allocators
            .allocate_service(obj, None, &owner)
            .await
            .map_err(|causes| invalid(resource, &name, causes))?;
        taken = t;
    }
    let mut name = name;
    let mut attempts = 0;
    loop {
        match ctx
            .app
            .objects
            .store_new(&scope, ns, &name, obj.clone())
            .await
        {
            Ok(o) => return Ok(o),
            // A name made from generateName that is taken gets another suffix, as
            // upstream's RetryGenerateName (7 retries). Services keep the name their
            // addresses were claimed for.
            Err(e @ ApiError::AlreadyExists { .. })
                if given_name.is_empty() && !is_service && attempts < GENERATE_NAME_RETRIES =>
            {
                attempts += 1;
                let Some(prefix) = obj["metadata"]["generateName"].as_str() else {
                    return Err(e);
                };
                name = format!("{prefix}{}", crate::objects::random_suffix());
                obj["metadata"]["name"] = Value::String(name.clone());
            }
            Err(e) => {
                ctx.app.allocators.release(&taken).await;
                return Err(e);
            }
        }
    }
}

/// Upstream retries a taken generated name this many times.
const GENERATE_NAME_RETRIES: u32 = 7;

pub async fn update<B>(ctx: &Ctx, body: B) -> Result<Resp, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let opts = WriteOptions::parse(&ctx.query)?;
    let repr = h::negotiate(ctx.accept.as_deref())?;
    let bytes = body_bytes(body).await?;
    let (obj, warnings) = decode_object(ctx, &bytes, &opts)?;
    check_type(ctx, &obj, ctx.resource.kind, &ctx.resource.api_version())?;
    let updated = update_object(ctx, &opts, move |_old| Ok(obj.clone())).await?;
    Ok(with_warnings(
        render::object(
            ctx.resource,
            StatusCode::OK,
            &updated,
            repr,
            &ctx.query,
            ctx.app.clock.now(),
        ),
        &warnings,
    ))
}

/// The update path shared by PUT and PATCH: `f` turns the current object into the new one;
/// the main resource keeps its status (status is written through `/status`). Services get
/// their addresses allocated before the compare-and-swap write; a lost race releases them
/// and starts over.
pub async fn update_object<F>(ctx: &Ctx, opts: &WriteOptions, mut f: F) -> Result<Value, ApiError>
where
    F: FnMut(&Value) -> Result<Value, ApiError>,
{
    let resource = ctx.resource;
    let scope = ResourceScope::new(resource);
    let ns = ctx.namespace();
    let name = ctx.name().to_string();
    let is_service = resource.group.is_empty() && resource.plural == "services";
    let allocators = &ctx.app.allocators;
    loop {
        let (mut old, rev) = ctx.app.objects.current(&scope, ns, &name).await?;
        crate::convert::to_version(resource, &mut old);
        let mut new = f(&old)?;
        if let Some(msg) = admission::check_decodable(resource, &new) {
            return Err(ApiError::BadRequest(msg));
        }
        admission::default(resource, &mut new);
        admission::prepare_for_update(resource, &old, &mut new, None);
        if !is_apply(ctx) {
            crate::handlers::apply::record_update(ctx, opts, Some(&old), &mut new);
        }
        if is_service && new["spec"]["clusterIP"].as_str().unwrap_or("").is_empty() {
            // Kept when the client left it out (it is immutable once set).
            if let Some(ip) = old["spec"]["clusterIP"].as_str() {
                new["spec"]["clusterIP"] = json!(ip);
                new["spec"]["clusterIPs"] = old["spec"]["clusterIPs"].clone();
            }
        }
        let (new, preconditioned) = prepare_update(&scope, ns, &name, &old, rev, new)?;
        let Some(mut new) = new else {
            return Ok(old);
        };
        let causes = admission::validate_update(resource, &old, &new);
        if !causes.is_empty() {
            return Err(invalid(resource, &name, causes));
        }
        if opts.dry_run {
            return Ok(new);
        }
        if crate::handlers::delete::should_delete_during_update(&old, &new) {
            match crate::handlers::delete::remove(ctx, ns, &name, &old, rev).await {
                Ok(()) => return Ok(new),
                Err(ApiError::Conflict { .. }) if !preconditioned => continue,
                Err(e) => return Err(e),
            }
        }
        let (taken, obsolete) = if is_service {
            allocators
                .allocate_service(&mut new, Some(&old), &scope.key(ns, &name))
                .await
                .map_err(|causes| invalid(resource, &name, causes))?
        } else {
            (Vec::new(), Vec::new())
        };
        match ctx
            .app
            .objects
            .replace_at(&scope, ns, &name, new, rev)
            .await
        {
            Ok(stored) => {
                allocators.release(&obsolete).await;
                return Ok(stored);
            }
            Err(e) => {
                allocators.release(&taken).await;
                match e {
                    ApiError::Conflict { .. } if !preconditioned => continue,
                    e => return Err(e),
                }
            }
        }
    }
}

pub async fn patch<B>(ctx: &Ctx, body: B) -> Result<Resp, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let opts = WriteOptions::parse(&ctx.query)?;
    let repr = h::negotiate(ctx.accept.as_deref())?;
    let bytes = body_bytes(body).await?;
    let ct = ctx.content_type.clone().unwrap_or_default();
    let schema = schema_name(ctx.resource);
    if ct.starts_with("application/apply-patch") {
        return crate::handlers::apply::apply(ctx, &opts, &bytes).await;
    }
    let mut warnings = Vec::new();
    let updated = update_object(ctx, &opts, |old| {
        let (mut new, w) = apply_patch(&ct, schema.as_deref(), old, &bytes, opts.field_validation)?;
        warnings = w;
        // A patch that does not name a resourceVersion is not a precondition.
        if new["metadata"]["resourceVersion"] == old["metadata"]["resourceVersion"] {
            if let Some(m) = new["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
        }
        Ok(new)
    })
    .await?;
    Ok(with_warnings(
        render::object(
            ctx.resource,
            StatusCode::OK,
            &updated,
            repr,
            &ctx.query,
            ctx.app.clock.now(),
        ),
        &warnings,
    ))
}

fn is_apply(ctx: &Ctx) -> bool {
    ctx.content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("application/apply-patch"))
}

/// The OpenAPI schema name of a resource's kind (e.g. `io.k8s.api.apps.v1.Deployment`).
pub fn schema_name(r: &skiff_api::Resource) -> Option<String> {
    crate::openapi::schema_name_for(r.group, r.version, r.kind).map(str::to_string)
}

/// Decodes a create or update body against the kind's schema, applying `fieldValidation`:
/// Strict refuses unknown and duplicate fields (400), Warn returns them as warnings,
/// Ignore drops them. Type errors are always 400, worded as upstream.
pub fn decode_object(
    ctx: &Ctx,
    bytes: &[u8],
    opts: &WriteOptions,
) -> Result<(Value, Vec<String>), ApiError> {
    let r = ctx.resource;
    let schema = schema_name(r).unwrap_or_default();
    let ct = ctx
        .content_type
        .as_deref()
        .unwrap_or("application/json")
        .to_ascii_lowercase();
    let cannot = |msg: String| {
        ApiError::BadRequest(format!(
            "{} in version {:?} cannot be handled as a {}: {msg}",
            r.kind, r.version, r.kind
        ))
    };
    if ct.starts_with(crate::protobuf::CONTENT_TYPE) {
        // Protobuf has no unknown or duplicate fields to report: fieldValidation does not
        // apply (as upstream).
        let obj = crate::protobuf::decode_object(bytes).map_err(cannot)?;
        return Ok((obj, Vec::new()));
    }
    let decoded = if ct.contains("yaml") {
        crate::decode::decode_yaml(bytes, &schema)
    } else if ct.starts_with("application/json") || ct.starts_with("*/*") || ct.is_empty() {
        crate::decode::decode(bytes, &schema)
    } else {
        return Err(ApiError::UnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf".into(),
        ));
    }
    .map_err(|e| cannot(e.message()))?;
    if !decoded.value.is_object() {
        return Err(cannot("the body must be a JSON object".into()));
    }
    let warnings = match opts.field_validation {
        FieldValidation::Strict => {
            if let Some(e) = decoded.strict_error() {
                return Err(cannot(e));
            }
            Vec::new()
        }
        FieldValidation::Warn => decoded.strict_errors.clone(),
        FieldValidation::Ignore => Vec::new(),
    };
    Ok((decoded.value, warnings))
}

/// Adds `Warning: 299 - "..."` headers, as upstream sends field validation warnings.
pub fn with_warnings(mut r: Resp, warnings: &[String]) -> Resp {
    for w in warnings {
        let text = format!("299 - {}", serde_json::Value::String(w.clone()));
        if let Ok(v) = http::HeaderValue::from_str(&text) {
            r.headers_mut().append(http::header::WARNING, v);
        }
    }
    r
}

/// Applies a patch of the type named by `content_type` to `old`, validating the result
/// against the schema as upstream does; returns the new object and field warnings.
pub fn apply_patch(
    content_type: &str,
    schema: Option<&str>,
    old: &Value,
    patch: &[u8],
    validation: FieldValidation,
) -> Result<(Value, Vec<String>), ApiError> {
    let ct = content_type.split(';').next().unwrap_or("").trim();
    let Some(kind) = crate::patch::PatchType::from_content_type(ct) else {
        return Err(ApiError::UnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json".to_string(),
        ));
    };
    let v = match validation {
        FieldValidation::Strict => crate::patch::FieldValidation::Strict,
        FieldValidation::Warn => crate::patch::FieldValidation::Warn,
        FieldValidation::Ignore => crate::patch::FieldValidation::Ignore,
    };
    let patched = crate::patch::apply_validated(kind, schema.unwrap_or(""), old, patch, v)
        .map_err(|e| e.into_api_error())?;
    Ok((patched.value, patched.warnings))
}
