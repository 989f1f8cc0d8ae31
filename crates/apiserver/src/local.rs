//! The API server as an in-process tower service: components inside `skiff server`
//! (scheduler, controllers, simulated nodes) reach the API through it with kube-rs, without
//! a socket or TLS, under an identity fixed when the service is made. Every request still
//! goes through authorization, admission and the watch cache like a remote one.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Request;
use http_body_util::{BodyExt, Full};

use crate::app::App;
use crate::auth::Identity;
use crate::http::Resp;

/// A tower service answering requests with [`App::handle`] as `identity`.
#[derive(Clone)]
pub struct LocalService {
    app: Arc<App>,
    identity: Identity,
}

impl LocalService {
    pub fn new(app: Arc<App>, user: &str, groups: &[&str]) -> Self {
        LocalService {
            app,
            identity: Identity {
                user: user.to_string(),
                groups: groups.iter().map(|g| g.to_string()).collect(),
            },
        }
    }
}

impl<B> tower_service::Service<Request<B>> for LocalService
where
    B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Resp;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Resp, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let app = self.app.clone();
        let identity = self.identity.clone();
        Box::pin(async move {
            // Client bodies are whole documents: read them here, so the handlers see the
            // same kind of body a socket gives them.
            let (parts, body) = req.into_parts();
            let body = match body.collect().await {
                Ok(b) => Full::new(b.to_bytes()),
                Err(e) => {
                    let e: Box<dyn std::error::Error + Send + Sync> = e.into();
                    return Ok(crate::http::error(&crate::status::ApiError::BadRequest(
                        format!("reading the request body: {e}"),
                    )));
                }
            };
            Ok(app
                .handle(Request::from_parts(parts, body), Some(identity))
                .await)
        })
    }
}
