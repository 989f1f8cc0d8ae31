//! Subresources: `status` (read and write the status only), `scale` (an autoscaling/v1
//! Scale view of replicas), `pods/binding` (the scheduler's bind), `pods/eviction` (delete
//! honouring PodDisruptionBudgets: 429 when one allows no disruption), and the node-facing
//! `log`, `exec`, `attach`, `portforward`, which answer 503 until a kubelet serves them.

use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use serde_json::{json, Value};

use crate::handlers::write::{body_bytes, decode_body};
use crate::handlers::{delete, render, Ctx};
use crate::http::{self as h, Resp};
use crate::objects::ResourceScope;
use crate::path::Verb;
use crate::query::{DeleteOptions, WriteOptions};
use crate::status::ApiError;

pub async fn handle<B>(ctx: Ctx, sub: &str, body: B) -> Result<Resp, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(s) = ctx.resource.subresource(sub) else {
        return Err(ApiError::PathNotFound);
    };
    let verb = ctx.req.verb;
    if !s.verbs.contains(&crate::handlers::to_api_verb(verb)) {
        return Err(ApiError::MethodNotAllowed(
            "the server does not allow this method on the requested resource".into(),
        ));
    }
    match (sub, verb) {
        ("status", Verb::Get) => crate::handlers::read::get(&ctx).await,
        ("status", Verb::Update) => {
            let opts = WriteOptions::parse(&ctx.query)?;
            let bytes = body_bytes(body).await?;
            let obj = decode_body(ctx.content_type.as_deref(), &bytes)?;
            let new = write_status(&ctx, &opts, |_old| Ok(obj.clone())).await?;
            respond(&ctx, StatusCode::OK, &new)
        }
        ("status", Verb::Patch) => {
            let bytes = body_bytes(body).await?;
            let opts = WriteOptions::parse(&ctx.query)?;
            let ct = ctx.content_type.clone().unwrap_or_default();
            let schema = crate::handlers::write::schema_name(ctx.resource);
            let new = write_status(&ctx, &opts, |old| {
                crate::handlers::write::apply_patch(
                    &ct,
                    schema.as_deref(),
                    old,
                    &bytes,
                    opts.field_validation,
                )
                .map(|(v, _)| v)
            })
            .await?;
            respond(&ctx, StatusCode::OK, &new)
        }
        ("scale", Verb::Get) => {
            let (obj, _) = ctx
                .app
                .objects
                .current(
                    &ResourceScope::new(ctx.resource),
                    ctx.namespace(),
                    ctx.name(),
                )
                .await?;
            Ok(h::json(StatusCode::OK, &scale_of(&obj)))
        }
        ("scale", Verb::Update | Verb::Patch) => {
            let opts = WriteOptions::parse(&ctx.query)?;
            let bytes = body_bytes(body).await?;
            let ct = ctx.content_type.clone().unwrap_or_default();
            let is_patch = verb == Verb::Patch;
            let new = crate::handlers::write::update_object(&ctx, &opts, |old| {
                let current = scale_of(old);
                let scale = if is_patch {
                    crate::handlers::write::apply_patch(
                        &ct,
                        Some("io.k8s.api.autoscaling.v1.Scale"),
                        &current,
                        &bytes,
                        opts.field_validation,
                    )?
                    .0
                } else {
                    decode_body(Some(&ct), &bytes)?
                };
                let replicas = scale["spec"]["replicas"].as_i64().unwrap_or(0);
                if replicas < 0 {
                    return Err(ApiError::Invalid {
                        kind: "Scale.autoscaling".into(),
                        group: "autoscaling".into(),
                        name: ctx.name().into(),
                        causes: vec![crate::status::Cause {
                            reason: "FieldValueInvalid".into(),
                            field: "spec.replicas".into(),
                            message: format!(
                                "Invalid value: {replicas}: must be greater than or equal to 0"
                            ),
                        }],
                    });
                }
                let mut new = old.clone();
                if let Some(rv) = scale["metadata"]["resourceVersion"].as_str() {
                    new["metadata"]["resourceVersion"] = json!(rv);
                }
                new["spec"]["replicas"] = json!(replicas);
                Ok(new)
            })
            .await?;
            Ok(h::json(StatusCode::OK, &scale_of(&new)))
        }
        ("binding", Verb::Create) => bind(&ctx, body).await,
        ("eviction", Verb::Create) => evict(&ctx, body).await,
        ("finalize", Verb::Update) => {
            let opts = WriteOptions::parse(&ctx.query)?;
            let bytes = body_bytes(body).await?;
            let obj = decode_body(ctx.content_type.as_deref(), &bytes)?;
            let (new, _) = ctx
                .app
                .objects
                .update_with(&ResourceScope::new(ctx.resource), None, ctx.name(), |old| {
                    let mut n = old.clone();
                    n["spec"]["finalizers"] = obj["spec"]["finalizers"].clone();
                    Ok(n)
                })
                .await?;
            let _ = opts;
            respond(&ctx, StatusCode::OK, &new)
        }
        ("log" | "exec" | "attach" | "portforward" | "proxy", _) => {
            let (obj, _) = ctx
                .app
                .objects
                .current(
                    &ResourceScope::new(ctx.resource),
                    ctx.namespace(),
                    ctx.name(),
                )
                .await?;
            let node = obj["spec"]["nodeName"].as_str().unwrap_or("");
            Err(ApiError::ServiceUnavailable(if node.is_empty() {
                format!("pod {} is not scheduled to a node yet", ctx.name())
            } else {
                format!("no kubelet for node {node}: the node agent is not connected")
            }))
        }
        _ => Err(ApiError::MethodNotAllowed(
            "the server does not allow this method on the requested resource".into(),
        )),
    }
}

fn respond(ctx: &Ctx, code: StatusCode, obj: &Value) -> Result<Resp, ApiError> {
    let repr = h::negotiate(ctx.accept.as_deref())?;
    let obj = render::as_served(ctx.resource, &Arc::new(obj.clone()));
    Ok(render::object(
        ctx.resource,
        code,
        &obj,
        repr,
        &ctx.query,
        ctx.app.clock.now(),
    ))
}

/// Writes only the status of `f`'s result over the current object.
async fn write_status<F>(ctx: &Ctx, opts: &WriteOptions, mut f: F) -> Result<Value, ApiError>
where
    F: FnMut(&Value) -> Result<Value, ApiError>,
{
    let scope = ResourceScope::new(ctx.resource);
    if opts.dry_run {
        let (old, _) = ctx
            .app
            .objects
            .current(&scope, ctx.namespace(), ctx.name())
            .await?;
        let mut new = old.clone();
        new["status"] = f(&old)?["status"].clone();
        return Ok(new);
    }
    let resource = ctx.resource;
    let sub = ctx.req.subresource.clone();
    let manager_opts = opts.clone();
    let (new, _) = ctx
        .app
        .objects
        .update_with(&scope, ctx.namespace(), ctx.name(), |old| {
            let mut new = f(old)?;
            if let Some(msg) = crate::admission::check_decodable(resource, &new) {
                return Err(ApiError::BadRequest(msg));
            }
            crate::admission::default(resource, &mut new);
            crate::admission::prepare_for_update(resource, old, &mut new, sub.as_deref());
            crate::handlers::apply::record_update(ctx, &manager_opts, Some(old), &mut new);
            let causes =
                crate::admission::validate_update_subresource(resource, old, &new, sub.as_deref());
            if !causes.is_empty() {
                return Err(crate::handlers::admit::invalid(
                    resource,
                    ctx.name(),
                    causes,
                ));
            }
            Ok(new)
        })
        .await?;
    Ok(new)
}

/// The autoscaling/v1 Scale of a workload.
pub fn scale_of(obj: &Value) -> Value {
    let meta = &obj["metadata"];
    let selector = label_selector_string(&obj["spec"]["selector"]);
    let mut status = json!({ "replicas": obj["status"]["replicas"].as_i64().unwrap_or(0) });
    if !selector.is_empty() {
        status["selector"] = json!(selector);
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": { "replicas": obj["spec"]["replicas"].as_i64().unwrap_or(1) },
        "status": status,
    })
}

/// A selector in string form: a LabelSelector (matchLabels / matchExpressions) or a plain
/// map (ReplicationController).
fn label_selector_string(sel: &Value) -> String {
    let Some(m) = sel.as_object() else {
        return String::new();
    };
    let mut parts = Vec::new();
    let labels = if m.contains_key("matchLabels") || m.contains_key("matchExpressions") {
        sel["matchLabels"].as_object()
    } else {
        Some(m)
    };
    if let Some(l) = labels {
        for (k, v) in l {
            parts.push(format!("{k}={}", v.as_str().unwrap_or("")));
        }
    }
    if let Some(exprs) = sel["matchExpressions"].as_array() {
        for e in exprs {
            let key = e["key"].as_str().unwrap_or("");
            let values: Vec<&str> = e["values"]
                .as_array()
                .map(|v| v.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match e["operator"].as_str().unwrap_or("") {
                "In" => parts.push(format!("{key} in ({})", values.join(","))),
                "NotIn" => parts.push(format!("{key} notin ({})", values.join(","))),
                "Exists" => parts.push(key.to_string()),
                "DoesNotExist" => parts.push(format!("!{key}")),
                _ => {}
            }
        }
    }
    parts.join(",")
}

async fn bind<B>(ctx: &Ctx, body: B) -> Result<Resp, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let bytes = body_bytes(body).await?;
    let binding = decode_body(ctx.content_type.as_deref(), &bytes)?;
    bind_decoded(ctx, &binding).await
}

/// `POST /api/v1/namespaces/{ns}/bindings` (the legacy form clients such as the Python
/// client's `create_namespaced_binding` use): binds the pod the Binding names, exactly as
/// `pods/{name}/binding`.
pub async fn legacy_bindings<B>(ctx: Ctx, body: B) -> Result<Resp, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let bytes = body_bytes(body).await?;
    let binding = decode_body(ctx.content_type.as_deref(), &bytes)?;
    let pod = binding["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    if pod.is_empty() {
        return Err(ApiError::Invalid {
            kind: "Binding".into(),
            group: String::new(),
            name: String::new(),
            causes: vec![crate::status::Cause {
                reason: "FieldValueRequired".into(),
                field: "metadata.name".into(),
                message: "Required value: name or generateName is required".into(),
            }],
        });
    }
    let pods = skiff_api::resources::by_group_version_resource("", "v1", "pods")
        .ok_or(ApiError::PathNotFound)?;
    let mut req = ctx.req.clone();
    req.resource = "pods".into();
    req.name = Some(pod);
    req.subresource = Some("binding".into());
    let ctx = Ctx {
        resource: pods,
        req,
        ..ctx
    };
    bind_decoded(&ctx, &binding).await
}

async fn bind_decoded(ctx: &Ctx, binding: &Value) -> Result<Resp, ApiError> {
    let node = binding["target"]["name"].as_str().unwrap_or("").to_string();
    if node.is_empty() {
        return Err(ApiError::Invalid {
            kind: "Binding".into(),
            group: String::new(),
            name: ctx.name().into(),
            causes: vec![crate::status::Cause {
                reason: "FieldValueRequired".into(),
                field: "target.name".into(),
                message: "Required value".into(),
            }],
        });
    }
    let now = crate::objects::rfc3339(ctx.app.clock.now());
    let scope = ResourceScope::new(ctx.resource);
    let name = ctx.name().to_string();
    ctx.app
        .objects
        .update_with(&scope, ctx.namespace(), &name, |old| {
            if old["metadata"]["deletionTimestamp"].is_string() {
                return Err(ApiError::Conflict {
                    resource: scope.group_resource(),
                    name: name.clone(),
                    message: "pod is being deleted, cannot be assigned to a host".into(),
                });
            }
            if let Some(n) = old["spec"]["nodeName"].as_str().filter(|n| !n.is_empty()) {
                return Err(ApiError::Conflict {
                    resource: scope.group_resource(),
                    name: name.clone(),
                    message: format!("pod {name} is already assigned to node {n:?}"),
                });
            }
            let mut new = old.clone();
            new["spec"]["nodeName"] = json!(node);
            let mut conds: Vec<Value> = old["status"]["conditions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            conds.retain(|c| c["type"] != "PodScheduled");
            conds.push(json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now}));
            new["status"]["conditions"] = json!(conds);
            if let Some(m) = new["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
            Ok(new)
        })
        .await?;
    Ok(h::json(
        StatusCode::CREATED,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
    ))
}

/// Whether budget `pdb` selects a pod with `labels` (an empty or bad selector selects none).
fn pdb_selects(pdb: &Value, labels: &std::collections::BTreeMap<String, String>) -> bool {
    let Ok(meta) = serde_json::from_value::<skiff_api::labels::MetaLabelSelector>(
        pdb["spec"]["selector"].clone(),
    ) else {
        return false;
    };
    match skiff_api::labels::LabelSelector::from_meta(&meta) {
        Ok(sel) => {
            pdb["spec"]["selector"].is_object() && !sel.is_everything() && sel.matches(labels)
        }
        Err(_) => false,
    }
}

/// Takes one disruption from budget `name` for `pod` (compare-and-swap on the budget, as
/// upstream: `disruptionsAllowed` goes down by one and the pod is listed in
/// `disruptedPods` until the disruption controller sees it gone), or refuses with 429.
async fn spend_disruption(ctx: &Ctx, ns: &str, name: &str, pod: &str) -> Result<(), ApiError> {
    let pdbs =
        skiff_api::resources::by_group_version_resource("policy", "v1", "poddisruptionbudgets")
            .ok_or(ApiError::PathNotFound)?;
    let now = crate::objects::rfc3339(ctx.app.clock.now());
    ctx.app
        .objects
        .update_with(&ResourceScope::new(pdbs), Some(ns), name, |pdb| {
            let refuse = |why: String| {
                Err(ApiError::TooManyRequests(format!(
                    "Cannot evict pod as it would violate the pod's disruption budget.{why}"
                )))
            };
            let generation = pdb["metadata"]["generation"].as_i64().unwrap_or(0);
            let observed = pdb["status"]["observedGeneration"].as_i64().unwrap_or(0);
            if observed < generation {
                return refuse(String::new());
            }
            let allowed = pdb["status"]["disruptionsAllowed"].as_i64().unwrap_or(0);
            if allowed <= 0 {
                return refuse(format!(
                    " The disruption budget {name} needs {} healthy pods and has {} currently",
                    pdb["status"]["desiredHealthy"].as_i64().unwrap_or(0),
                    pdb["status"]["currentHealthy"].as_i64().unwrap_or(0)
                ));
            }
            let mut new = pdb.clone();
            new["status"]["disruptionsAllowed"] = json!(allowed - 1);
            if !new["status"]["disruptedPods"].is_object() {
                new["status"]["disruptedPods"] = json!({});
            }
            new["status"]["disruptedPods"][pod] = json!(now);
            // Compare-and-swap against what was just read (a concurrent change re-reads).
            if let Some(m) = new["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
            Ok(new)
        })
        .await?;
    Ok(())
}

async fn evict<B>(ctx: &Ctx, body: B) -> Result<Resp, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let bytes = body_bytes(body).await?;
    let eviction = decode_body(ctx.content_type.as_deref(), &bytes)?;
    let scope = ResourceScope::new(ctx.resource);
    let ns = ctx.namespace().unwrap_or("default").to_string();
    let (pod, _) = ctx
        .app
        .objects
        .current(&scope, Some(&ns), ctx.name())
        .await?;
    let labels = crate::selection::labels_of(&pod);
    let phase = pod["status"]["phase"].as_str().unwrap_or("");
    // Pods that are done or already going do not count against budgets.
    let counts = !matches!(phase, "Succeeded" | "Failed")
        && !pod["metadata"]["deletionTimestamp"].is_string();
    if counts {
        ctx.app
            .cache
            .sync(crate::handlers::read::CACHE_WAIT)
            .await?;
        let snap = ctx.app.cache.snapshot(
            &format!("/registry/poddisruptionbudgets/{ns}/"),
            None,
            |_| true,
        );
        let budgets: Vec<String> = snap
            .items
            .iter()
            .filter(|(_, pdb)| pdb_selects(pdb, &labels))
            .filter_map(|(_, pdb)| pdb["metadata"]["name"].as_str().map(str::to_string))
            .collect();
        if budgets.len() > 1 {
            return Err(ApiError::Internal(
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.".into(),
            ));
        }
        if let Some(budget) = budgets.first() {
            spend_disruption(ctx, &ns, budget, ctx.name()).await?;
        }
    }
    let mut opts = DeleteOptions::default();
    if let Some(d) = eviction.get("deleteOptions") {
        opts = DeleteOptions::parse(&crate::query::Query::default(), d.to_string().as_bytes())?;
    }
    delete::delete_object(ctx, Some(&ns), ctx.name(), &opts).await?;
    Ok(h::json(
        StatusCode::CREATED,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
    ))
}
