//! REST handlers: one request on a resource, after authentication and authorization. This
//! file picks the handler from the verb and subresource; each verb family lives in its own
//! file (`read`, `watch`, `write`, `delete`, `subresources`), representation in `render`.

pub mod admit;
pub mod apply;
pub mod delete;
pub mod meta;
pub mod read;
pub mod render;
pub mod subresources;
pub mod watch;
pub mod write;

use std::sync::Arc;

use http::Request;
use skiff_api::resources::by_group_version_resource;
use skiff_api::Resource;

use crate::app::App;
use crate::auth::Identity;
use crate::http::Resp;
use crate::path::{ResourceRequest, Verb};
use crate::query::Query;
use crate::status::{ApiError, GroupResource};

/// Everything a handler needs to know about the request besides the body.
pub struct Ctx {
    pub app: Arc<App>,
    pub resource: &'static Resource,
    pub req: ResourceRequest,
    pub query: Query,
    pub accept: Option<String>,
    pub content_type: Option<String>,
    pub user_agent: String,
    pub identity: Identity,
}

impl Ctx {
    pub fn group_resource(&self) -> GroupResource {
        GroupResource::new(self.resource.group, self.resource.plural)
    }

    pub fn namespace(&self) -> Option<&str> {
        if self.resource.namespaced {
            self.req.namespace.as_deref()
        } else {
            None
        }
    }

    pub fn name(&self) -> &str {
        self.req.name.as_deref().unwrap_or("")
    }

    pub fn key(&self) -> String {
        skiff_api::resources::storage_key(
            self.resource,
            self.namespace().unwrap_or(""),
            self.name(),
        )
    }
}

/// Routes a resource request.
pub async fn resource<B>(
    app: Arc<App>,
    req: Request<B>,
    r: ResourceRequest,
    query: Query,
    accept: Option<String>,
    identity: &Identity,
) -> Result<Resp, ApiError>
where
    B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(resource) = by_group_version_resource(&r.group, &r.version, &r.resource) else {
        return Err(ApiError::PathNotFound);
    };
    if !resource.namespaced && r.namespace.is_some() {
        return Err(ApiError::PathNotFound);
    }
    let header = |h: http::header::HeaderName| {
        req.headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let ctx = Ctx {
        content_type: header(http::header::CONTENT_TYPE),
        user_agent: header(http::header::USER_AGENT).unwrap_or_default(),
        app,
        resource,
        req: r,
        query,
        accept,
        identity: identity.clone(),
    };
    if let Some(sub) = ctx.req.subresource.clone() {
        return subresources::handle(ctx, &sub, req.into_body()).await;
    }
    let verb = ctx.req.verb;
    if resource.group.is_empty() && resource.plural == "bindings" && verb == Verb::Create {
        return subresources::legacy_bindings(ctx, req.into_body()).await;
    }
    if !resource.has_verb(to_api_verb(verb)) {
        return Err(ApiError::MethodNotAllowed(
            "the server does not allow this method on the requested resource".to_string(),
        ));
    }
    match verb {
        Verb::Get => read::get(&ctx).await,
        Verb::List => read::list(&ctx).await,
        Verb::Watch => watch::watch(&ctx).await,
        Verb::Create => write::create(&ctx, req.into_body()).await,
        Verb::Update => write::update(&ctx, req.into_body()).await,
        Verb::Patch => write::patch(&ctx, req.into_body()).await,
        Verb::Delete => delete::delete(&ctx, req.into_body()).await,
        Verb::DeleteCollection => delete::delete_collection(&ctx, req.into_body()).await,
    }
}

/// The registry's verb for a request verb.
pub fn to_api_verb(v: Verb) -> skiff_api::resources::Verb {
    use skiff_api::resources::Verb as A;
    match v {
        Verb::Get => A::Get,
        Verb::List => A::List,
        Verb::Watch => A::Watch,
        Verb::Create => A::Create,
        Verb::Update => A::Update,
        Verb::Patch => A::Patch,
        Verb::Delete => A::Delete,
        Verb::DeleteCollection => A::DeleteCollection,
    }
}
