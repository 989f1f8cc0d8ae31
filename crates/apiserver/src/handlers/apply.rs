//! Server-side apply (PATCH with `application/apply-patch+yaml`): the applied configuration
//! is merged into the live object by [`crate::apply`] under the request's field manager
//! (409 with upstream's message when it changes fields other managers own, unless
//! `force=true`), or creates the object when it does not exist; and the managedFields
//! bookkeeping of every other write.

use http::StatusCode;
use serde_json::Value;

use crate::apply::{self as ssa, ApplyError, BuiltinListKeys, Operation};
use crate::handlers::render;
use crate::handlers::write::{create_object, schema_name, update_object};
use crate::handlers::Ctx;
use crate::http::{self as h, Resp};
use crate::objects::{rfc3339, ResourceScope};
use crate::query::WriteOptions;
use crate::status::{ApiError, Cause};

fn api_error(e: ApplyError) -> ApiError {
    match e {
        ApplyError::BadRequest(m) => ApiError::BadRequest(m),
        e => ApiError::Prebuilt {
            code: e.code(),
            message: e.to_message(),
            status: e.to_status(),
        },
    }
}

/// The manager a write is recorded under: `fieldManager`, else the user agent's prefix.
pub fn manager(ctx: &Ctx, opts: &WriteOptions) -> String {
    opts.field_manager
        .clone()
        .unwrap_or_else(|| ssa::default_manager(&ctx.user_agent))
}

/// Records a non-apply write in `new`'s managedFields.
pub fn record_update(ctx: &Ctx, opts: &WriteOptions, old: Option<&Value>, new: &mut Value) {
    let now = rfc3339(ctx.app.clock.now());
    ssa::update_managed_fields(
        old,
        new,
        &manager(ctx, opts),
        Operation::Update,
        ctx.req.subresource.as_deref(),
        &now,
        &BuiltinListKeys,
    );
}

pub async fn apply(ctx: &Ctx, opts: &WriteOptions, bytes: &[u8]) -> Result<Resp, ApiError> {
    let repr = h::negotiate(ctx.accept.as_deref())?;
    let Some(manager) = opts.field_manager.clone() else {
        return Err(ApiError::Invalid {
            kind: "PatchOptions.meta.k8s.io".into(),
            group: "meta.k8s.io".into(),
            name: String::new(),
            causes: vec![Cause {
                reason: "FieldValueRequired".into(),
                field: "fieldManager".into(),
                message: "Required value: is required for apply patch".into(),
            }],
        });
    };
    let applied = ssa::parse_apply_body(bytes).map_err(api_error)?;
    let r = ctx.resource;
    ssa::check_kind(&applied, &r.api_version(), r.kind).map_err(api_error)?;
    ssa::check_name(&applied, ctx.name(), ctx.namespace().unwrap_or("")).map_err(api_error)?;
    let schema = schema_name(r).unwrap_or_default();
    let now = rfc3339(ctx.app.clock.now());
    let scope = ResourceScope::new(r);
    let exists = match ctx
        .app
        .objects
        .current(&scope, ctx.namespace(), ctx.name())
        .await
    {
        Ok(_) => true,
        Err(ApiError::NotFound { .. }) => false,
        Err(e) => return Err(e),
    };
    let (obj, code) = if exists {
        let new = update_object(ctx, opts, |old| {
            let mut new = ssa::apply(
                Some(old),
                &applied,
                &manager,
                opts.force,
                &now,
                &BuiltinListKeys,
                &schema,
            )
            .map_err(api_error)?;
            if let Some(m) = new["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
            Ok(new)
        })
        .await?;
        (new, StatusCode::OK)
    } else {
        let mut new = ssa::apply(
            None,
            &applied,
            &manager,
            opts.force,
            &now,
            &BuiltinListKeys,
            &schema,
        )
        .map_err(api_error)?;
        (
            create_object(ctx, &mut new, opts).await?,
            StatusCode::CREATED,
        )
    };
    Ok(render::object(
        r,
        code,
        &obj,
        repr,
        &ctx.query,
        ctx.app.clock.now(),
    ))
}
