//! The API server application: the state every request shares ([`App`]) and the request
//! pipeline, in upstream's order: authentication, public paths, authorization, then routing
//! to health, version, discovery, OpenAPI and the REST handlers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use http::{header, Method, Request, StatusCode};
use serde_json::json;
use skiff_store::Store;

use crate::alloc::Allocators;
use crate::auth::{self, Attributes, Authorizer, Decision, Identity, TokenAuthenticator};
use crate::cache::WatchCache;
use crate::http::{self as h, Resp};
use crate::objects::{Clock, Objects};
use crate::path::{self, PathError, Target};
use crate::query::Query;
use crate::status::ApiError;

/// The Kubernetes version this server reports (the k8s-openapi feature it is built with).
pub const KUBE_MAJOR: &str = "1";
pub const KUBE_MINOR: &str = "33";
pub const KUBE_GIT_VERSION: &str = "v1.33.0+skiff";

/// Settings of one API server.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The address clients reach this server at (for `/api`'s serverAddressByClientCIDRs).
    pub advertise_address: String,
    pub https_port: u16,
    /// DefaultTolerationSeconds: how long new pods tolerate `node.kubernetes.io/not-ready`
    /// (`--default-not-ready-toleration-seconds`, 300).
    pub default_not_ready_toleration_seconds: i64,
    /// ... and `node.kubernetes.io/unreachable` (`--default-unreachable-toleration-seconds`).
    pub default_unreachable_toleration_seconds: i64,
}

impl AppConfig {
    /// The DefaultTolerationSeconds admission plugin's settings.
    pub fn toleration_defaults(&self) -> crate::admission::TolerationDefaults {
        crate::admission::TolerationDefaults {
            not_ready_seconds: self.default_not_ready_toleration_seconds,
            unreachable_seconds: self.default_unreachable_toleration_seconds,
        }
    }
}

/// What every request handler shares.
pub struct App {
    pub store: Arc<dyn Store>,
    pub cache: Arc<WatchCache>,
    pub objects: Objects,
    pub clock: Arc<dyn Clock>,
    pub tokens: TokenAuthenticator,
    pub authorizer: Box<dyn Authorizer>,
    pub allocators: Allocators,
    pub config: AppConfig,
    ready: AtomicBool,
}

impl App {
    pub fn new(
        store: Arc<dyn Store>,
        cache: Arc<WatchCache>,
        clock: Arc<dyn Clock>,
        tokens: TokenAuthenticator,
        allocators: Allocators,
        config: AppConfig,
    ) -> App {
        App {
            objects: Objects::new(store.clone(), clock.clone()),
            store,
            cache,
            clock,
            tokens,
            authorizer: Box::new(auth::AllowAuthenticated),
            allocators,
            config,
            ready: AtomicBool::new(false),
        }
    }

    /// Marks the server ready (after bootstrap): /readyz answers ok from then on.
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    /// Handles one request from a connection whose client certificate (if any) gave
    /// `cert_identity`.
    pub async fn handle<B>(
        self: Arc<Self>,
        req: Request<B>,
        cert_identity: Option<Identity>,
    ) -> Resp
    where
        B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = req.uri().path().to_string();
        let authz = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let identity = match auth::authenticate(cert_identity.as_ref(), authz, &self.tokens) {
            Ok(id) => id,
            Err(_) => return h::error(&ApiError::Unauthorized),
        };
        if auth::is_public_path(&path) {
            return self.public(&path, req.method());
        }
        let Some(identity) = identity else {
            return h::error(&ApiError::Unauthorized);
        };
        match self.route(req, &path, &identity).await {
            Ok(r) => r,
            Err(e) => h::error(&e),
        }
    }

    fn public(&self, path: &str, method: &Method) -> Resp {
        if method != Method::GET && method != Method::HEAD {
            return h::error(&ApiError::MethodNotAllowed(format!(
                "the server does not allow this method on the requested resource ({path})"
            )));
        }
        match path {
            "/version" => h::json(StatusCode::OK, &version_info()),
            "/readyz" if !self.ready.load(Ordering::SeqCst) => h::text(
                StatusCode::SERVICE_UNAVAILABLE,
                "[-]bootstrap failed: not finished\nreadyz check failed\n",
            ),
            _ => h::text(StatusCode::OK, "ok"),
        }
    }

    async fn route<B>(
        self: Arc<Self>,
        req: Request<B>,
        path: &str,
        identity: &Identity,
    ) -> Result<Resp, ApiError>
    where
        B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let query = Query::parse(req.uri().query());
        let accept = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if path == "/openapi/v2" || path.starts_with("/openapi/v3") {
            self.authorize(identity, None, path)?;
            return crate::handlers::meta::openapi(path, &query, accept.as_deref(), req.headers());
        }
        let watch = query.flag("watch")?;
        let target = match path::resolve(req.method(), path, watch) {
            Ok(t) => t,
            Err(PathError::NotFound) => return Err(ApiError::PathNotFound),
            Err(PathError::MethodNotAllowed) => {
                return Err(ApiError::MethodNotAllowed(
                    "the server does not allow this method on the requested resource".to_string(),
                ))
            }
        };
        match target {
            Target::Resource(r) => {
                self.authorize(identity, Some(&r), path)?;
                crate::handlers::resource(self.clone(), req, r, query, accept, identity).await
            }
            discovery => {
                self.authorize(identity, None, path)?;
                crate::handlers::meta::discovery(&self, discovery, accept.as_deref())
            }
        }
    }

    fn authorize(
        &self,
        identity: &Identity,
        r: Option<&path::ResourceRequest>,
        path: &str,
    ) -> Result<(), ApiError> {
        let attrs = Attributes {
            identity,
            verb: r.map(|r| r.verb),
            group: r.map(|r| r.group.as_str()).unwrap_or(""),
            resource: r.map(|r| r.resource.as_str()).unwrap_or(""),
            subresource: r.and_then(|r| r.subresource.as_deref()),
            namespace: r.and_then(|r| r.namespace.as_deref()),
            name: r.and_then(|r| r.name.as_deref()),
            path,
        };
        match self.authorizer.authorize(&attrs) {
            Decision::Allow => Ok(()),
            Decision::Deny(why) => Err(ApiError::Forbidden(why)),
        }
    }
}

/// `/version`, as upstream's `version.Info`.
pub fn version_info() -> serde_json::Value {
    json!({
        "major": KUBE_MAJOR,
        "minor": KUBE_MINOR,
        "gitVersion": KUBE_GIT_VERSION,
        "gitCommit": "skiff",
        "gitTreeState": "clean",
        "buildDate": "2026-11-23T00:00:00Z",
        "goVersion": "rust",
        "compiler": "rustc",
        "platform": format!("linux/{}", goarch()),
    })
}

/// Go's name for this machine's architecture (used in node labels and /version).
pub fn goarch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}
