//! WATCH: a chunked stream of `{"type": ..., "object": ...}` lines from the watch cache.
//! Resumes from a resourceVersion within the cache's window (410 Expired when older);
//! without one (or with `0`) it first sends the current objects as ADDED; with
//! `sendInitialEvents=true` it ends them with a BOOKMARK annotated
//! `k8s.io/initial-events-end` (the WatchList protocol kubectl 1.37 uses). Label and field
//! selectors apply to every change: an object leaving the selection arrives as DELETED, one
//! entering it as ADDED. Bookmarks every minute when allowed; the stream ends after
//! `timeoutSeconds` (default: a random time between 30 and 60 minutes, as upstream).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use rand::Rng;
use serde_json::{json, Value};
use skiff_api::resources::{storage_key, storage_prefix};
use skiff_api::Resource;
use tokio::sync::{broadcast, mpsc};

use crate::cache::{Change, ChangeType, Subscription};
use crate::handlers::read::{selection, CACHE_WAIT};
use crate::handlers::render::as_served;
use crate::handlers::Ctx;
use crate::http::Resp;
use crate::query::ListOptions;
use crate::selection::Selection;
use crate::status::ApiError;

const BOOKMARK_EVERY: Duration = Duration::from_secs(60);

/// What one watcher delivers.
struct Filter {
    resource: &'static Resource,
    prefix: String,
    exact_key: Option<String>,
    sel: Selection,
}

impl Filter {
    fn covers(&self, key: &str) -> bool {
        match &self.exact_key {
            Some(k) => key == k,
            None => key.starts_with(&self.prefix),
        }
    }

    fn matches(&self, obj: &Value) -> bool {
        self.sel.is_everything() || self.sel.matches(self.resource, obj)
    }

    /// The event a change becomes for this watcher, if any.
    fn event(&self, c: &Change) -> Option<&'static str> {
        if !self.covers(&c.key) {
            return None;
        }
        let now = self.matches(&c.object);
        let before = c.prev.as_ref().map(|p| self.matches(p)).unwrap_or(false);
        let t = match c.kind {
            ChangeType::Added => now.then_some("ADDED"),
            ChangeType::Modified => match (before, now) {
                (true, true) => Some("MODIFIED"),
                (false, true) => Some("ADDED"),
                (true, false) => Some("DELETED"),
                (false, false) => None,
            },
            ChangeType::Deleted => before.then_some("DELETED"),
        }?;
        Some(t)
    }
}

/// How event objects are written: as themselves, or (`kubectl get -w`) as one-row Tables,
/// the column definitions only in the first.
struct Encoder {
    resource: &'static Resource,
    table: Option<crate::table::IncludeObject>,
    clock: Arc<dyn crate::objects::Clock>,
    headers_sent: bool,
}

impl Encoder {
    /// The event line of a cache change: its shared encoding when the object goes out as
    /// stored (same version, no Table).
    fn change(&mut self, t: &str, c: &Change) -> Bytes {
        let same_version = c.object["apiVersion"].as_str() == Some(&self.resource.api_version())
            && c.object["kind"].as_str() == Some(self.resource.kind);
        if self.table.is_none() && same_version && t != "BOOKMARK" {
            let json = c.json();
            let mut v = Vec::with_capacity(json.len() + 32);
            v.extend_from_slice(b"{\"type\":\"");
            v.extend_from_slice(t.as_bytes());
            v.extend_from_slice(b"\",\"object\":");
            v.extend_from_slice(json);
            v.extend_from_slice(b"}\n");
            return Bytes::from(v);
        }
        self.event(t, &c.object)
    }

    fn event(&mut self, t: &str, obj: &Arc<Value>) -> Bytes {
        let obj = as_served(self.resource, obj);
        match self.table {
            None => line(t, &obj),
            Some(include) => {
                let opts = crate::table::TableOptions {
                    now: self.clock.now(),
                    include_object: include,
                    resource_version: obj["metadata"]["resourceVersion"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    continue_token: None,
                    remaining_item_count: None,
                };
                let mut table = crate::table::to_table(self.resource, &[obj], &opts);
                if self.headers_sent {
                    crate::table::omit_headers(&mut table);
                }
                self.headers_sent = true;
                line(t, &table)
            }
        }
    }
}

fn line(t: &str, obj: &Value) -> Bytes {
    let mut v = serde_json::to_vec(&json!({ "type": t, "object": obj })).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

fn bookmark(resource: &Resource, rv: i64, initial_end: bool) -> Bytes {
    let mut meta = json!({ "resourceVersion": rv.to_string() });
    if initial_end {
        meta["annotations"] = json!({ "k8s.io/initial-events-end": "true" });
    }
    line(
        "BOOKMARK",
        &json!({ "kind": resource.kind, "apiVersion": resource.api_version(), "metadata": meta }),
    )
}

pub async fn watch(ctx: &Ctx) -> Result<Resp, ApiError> {
    let opts = ListOptions::parse(&ctx.query)?;
    let sel = selection(ctx, &opts)?;
    let mut enc = Encoder {
        resource: ctx.resource,
        table: match crate::http::negotiate(ctx.accept.as_deref())? {
            crate::http::Representation::Table => Some(crate::table::parse_include_object(
                ctx.query.get("includeObject"),
            )),
            _ => None,
        },
        clock: ctx.app.clock.clone(),
        headers_sent: false,
    };
    let namespace = ctx.namespace();
    let filter = Filter {
        resource: ctx.resource,
        prefix: storage_prefix(ctx.resource, namespace),
        exact_key: ctx
            .req
            .name
            .as_deref()
            .map(|n| storage_key(ctx.resource, namespace.unwrap_or(""), n)),
        sel,
    };
    let cache = &ctx.app.cache;
    let rv = opts.resource_version_number()?;
    let send_initial = opts.send_initial_events == Some(true);
    let mut initial: Vec<Bytes> = Vec::new();
    let sub: Subscription;
    let mut last_rv;
    if send_initial || matches!(rv, None | Some(0)) {
        match rv {
            None if send_initial => {
                cache.sync(CACHE_WAIT).await?;
            }
            Some(n) if n > 0 => cache.wait_for(n, CACHE_WAIT).await?,
            _ => {}
        }
        let (snap, s) = cache.snapshot_and_subscribe(&filter.prefix);
        for (key, obj) in &snap.items {
            if filter.covers(key) && filter.matches(obj) {
                initial.push(enc.event("ADDED", obj));
            }
        }
        last_rv = snap.revision;
        if send_initial {
            initial.push(bookmark(ctx.resource, snap.revision, true));
        }
        sub = s;
    } else {
        let n = rv.unwrap_or(0);
        cache.wait_for(n, CACHE_WAIT).await?;
        sub = cache.subscribe_after(&filter.prefix, n)?;
        last_rv = n;
    }
    let timeout = match opts.timeout_seconds {
        Some(t) if t > 0 => Duration::from_secs(t as u64),
        _ => Duration::from_secs(rand::rng().random_range(1800..3600)),
    };
    let bookmarks = opts.allow_bookmarks;
    let resource = ctx.resource;
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        for b in initial {
            if tx.send(b).await.is_err() {
                return;
            }
        }
        let Subscription {
            backlog, mut live, ..
        } = sub;
        for c in backlog {
            last_rv = last_rv.max(c.revision);
            if let Some(t) = filter.event(&c) {
                if tx.send(enc.change(t, &c)).await.is_err() {
                    return;
                }
            }
        }
        let mut ticker = tokio::time::interval(BOOKMARK_EVERY);
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = tx.closed() => return,
                _ = ticker.tick(), if bookmarks => {
                    if tx.send(bookmark(resource, last_rv, false)).await.is_err() {
                        return;
                    }
                }
                r = live.recv() => match r {
                    Ok(c) => {
                        if c.revision <= last_rv {
                            continue;
                        }
                        last_rv = c.revision;
                        if let Some(t) = filter.event(&c) {
                            if tx.send(enc.change(t, &c)).await.is_err() {
                                return;
                            }
                        }
                    }
                    // Fell too far behind, or the cache reloaded: end; the client resumes.
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx)
        .map(|b| Ok::<_, std::convert::Infallible>(Frame::data(b)));
    let mut resp = Response::new(BodyExt::boxed(StreamBody::new(stream)));
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}
