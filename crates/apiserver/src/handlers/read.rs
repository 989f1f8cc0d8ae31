//! GET of one object and LIST of a collection. Lists come from the watch cache (after
//! waiting for it to reach the store's revision, so a list never misses an acknowledged
//! write), except continued pages and `resourceVersionMatch=Exact`, which read the store at
//! the list's revision as upstream reads etcd.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};
use skiff_api::resources::storage_prefix;
use skiff_store::RangeRequest;

use crate::handlers::render::{self, ListMeta};
use crate::handlers::Ctx;
use crate::http::{self as h, Resp};
use crate::objects::ResourceScope;
use crate::query::{ListOptions, VersionMatch};
use crate::selection::{check_field_selector, Selection};
use crate::status::ApiError;

/// How long a read waits for the cache to reach a revision (upstream: 3 s).
pub const CACHE_WAIT: Duration = Duration::from_secs(3);

pub async fn get(ctx: &Ctx) -> Result<Resp, ApiError> {
    let repr = h::negotiate(ctx.accept.as_deref())?;
    let scope = ResourceScope::new(ctx.resource);
    let obj = ctx
        .app
        .objects
        .get(&scope, ctx.namespace(), ctx.name())
        .await?;
    let obj = render::as_served(ctx.resource, &Arc::new(obj));
    Ok(render::object(
        ctx.resource,
        http::StatusCode::OK,
        &obj,
        repr,
        &ctx.query,
        ctx.app.clock.now(),
    ))
}

/// The selection a list or watch asked for.
pub fn selection(ctx: &Ctx, opts: &ListOptions) -> Result<Selection, ApiError> {
    check_field_selector(ctx.resource, &opts.field_selector)?;
    Ok(Selection {
        labels: opts.label_selector.clone(),
        fields: opts.field_selector.clone(),
    })
}

pub async fn list(ctx: &Ctx) -> Result<Resp, ApiError> {
    let repr = h::negotiate(ctx.accept.as_deref())?;
    let opts = ListOptions::parse(&ctx.query)?;
    let sel = selection(ctx, &opts)?;
    let prefix = storage_prefix(ctx.resource, ctx.namespace());
    let limit = opts.limit.map(|l| l as usize);
    let (items, meta) = if let Some(token) = &opts.continue_token {
        let (rv, after) = decode_continue(token, &prefix)?;
        store_page(ctx, &prefix, &sel, limit, Some(after), rv).await?
    } else {
        let rv = opts.resource_version_number()?;
        match (rv, opts.version_match) {
            (Some(rv), VersionMatch::Exact) => {
                store_page(ctx, &prefix, &sel, limit, None, rv).await?
            }
            (rv, _) => {
                match rv {
                    None => {
                        ctx.app.cache.sync(CACHE_WAIT).await?;
                    }
                    Some(0) => {}
                    Some(rv) => ctx.app.cache.wait_for(rv, CACHE_WAIT).await?,
                }
                cache_page(ctx, &prefix, &sel, limit)
            }
        }
    };
    Ok(render::list(
        ctx.resource,
        &items,
        &meta,
        repr,
        &ctx.query,
        ctx.app.clock.now(),
    ))
}

fn cache_page(
    ctx: &Ctx,
    prefix: &str,
    sel: &Selection,
    limit: Option<usize>,
) -> (Vec<Arc<Value>>, ListMeta) {
    let resource = ctx.resource;
    let all = sel.is_everything();
    let snap = ctx
        .app
        .cache
        .snapshot(prefix, None, |o| all || sel.matches(resource, o));
    let mut meta = ListMeta {
        resource_version: snap.revision.to_string(),
        ..Default::default()
    };
    let total = snap.items.len();
    let take = limit.unwrap_or(total).min(total);
    let items: Vec<Arc<Value>> = snap.items[..take].iter().map(|(_, o)| o.clone()).collect();
    if take < total && take > 0 {
        let last = &snap.items[take - 1].0;
        meta.continue_token = Some(encode_continue(snap.revision, &items_key(last, prefix)));
        if all {
            meta.remaining_item_count = Some((total - take) as i64);
        }
    }
    (items, meta)
}

fn key_of(ctx: &Ctx, obj: &Value) -> String {
    skiff_api::resources::storage_key(
        ctx.resource,
        obj["metadata"]["namespace"].as_str().unwrap_or(""),
        obj["metadata"]["name"].as_str().unwrap_or(""),
    )
}

fn items_key(key: &str, prefix: &str) -> String {
    key.strip_prefix(prefix).unwrap_or(key).to_string()
}

/// Reads a page from the store at `rv`, filtering, until `limit` objects matched.
async fn store_page(
    ctx: &Ctx,
    prefix: &str,
    sel: &Selection,
    limit: Option<usize>,
    after: Option<String>,
    rv: i64,
) -> Result<(Vec<Arc<Value>>, ListMeta), ApiError> {
    let mut items = Vec::new();
    let mut after = after.map(|a| format!("{prefix}{a}"));
    let mut revision = rv;
    let mut more_left = false;
    'pages: loop {
        let r = ctx
            .app
            .store
            .range(RangeRequest {
                prefix: prefix.into(),
                limit: limit.map(|l| l.max(100)).unwrap_or(0),
                continue_after: after.clone(),
                revision,
            })
            .await
            .map_err(|e| match e {
                skiff_store::Error::Compacted { .. } => ApiError::Expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.".into(),
                ),
                e => ApiError::from_store(e, &ctx.group_resource(), ""),
            })?;
        revision = r.revision;
        let n = r.kvs.len();
        for (i, kv) in r.kvs.iter().enumerate() {
            if let Some(l) = limit {
                if items.len() == l {
                    more_left = true;
                    break 'pages;
                }
            }
            let mut obj: Value = serde_json::from_slice(&kv.value).map_err(|e| {
                ApiError::Internal(format!("stored object {} is not JSON: {e}", kv.key))
            })?;
            obj["metadata"]["resourceVersion"] = json!(kv.mod_revision.to_string());
            after = Some(kv.key.clone());
            if sel.is_everything() || sel.matches(ctx.resource, &obj) {
                items.push(Arc::new(obj));
            }
            if i + 1 == n && !r.more {
                break 'pages;
            }
        }
        if !r.more {
            break;
        }
    }
    let mut meta = ListMeta {
        resource_version: revision.to_string(),
        ..Default::default()
    };
    if more_left {
        if let Some(last) = items.last() {
            let k = key_of(ctx, last);
            meta.continue_token = Some(encode_continue(revision, &items_key(&k, prefix)));
        }
    }
    Ok((items, meta))
}

/// Continue tokens: base64 of `{"v":"meta.k8s.io/v1","rv":N,"start":"<key after prefix>"}`,
/// the shape upstream uses.
pub fn encode_continue(rv: i64, start: &str) -> String {
    let v = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": start});
    base64::engine::general_purpose::URL_SAFE.encode(v.to_string())
}

fn decode_continue(token: &str, prefix: &str) -> Result<(i64, String), ApiError> {
    let bad = || ApiError::BadRequest(format!("continue key is not valid: {token:?}"));
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(token)
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(token))
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    if v["v"] != "meta.k8s.io/v1" {
        return Err(bad());
    }
    let rv = v["rv"].as_i64().filter(|r| *r > 0).ok_or_else(bad)?;
    let start = v["start"].as_str().ok_or_else(bad)?;
    if start.contains("..") || start.starts_with('/') {
        return Err(bad());
    }
    let _ = prefix;
    Ok((rv, start.to_string()))
}
