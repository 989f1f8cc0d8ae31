//! The HTTPS listener: accepts TCP connections, completes the TLS handshake (rustls, client
//! certificates verified against the cluster CA when presented), reads the client's
//! identity from its certificate once per connection, and serves HTTP/1.1 or HTTP/2 on it
//! with [`App::handle`] for every request.

use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::app::App;
use crate::auth::Identity;

/// Serves until the listener fails. Each connection runs in its own task.
pub async fn serve(
    listener: TcpListener,
    tls: rustls::ServerConfig,
    app: Arc<App>,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: keep serving.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
            };
            let identity = peer_identity(&tls);
            let svc = service_fn(move |req| {
                let app = app.clone();
                let identity = identity.clone();
                async move { Ok::<_, std::convert::Infallible>(app.handle(req, identity).await) }
            });
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder
                .http2()
                .max_concurrent_streams(Some(4096))
                .initial_stream_window_size(Some(1 << 20))
                .initial_connection_window_size(Some(4 << 20));
            if let Err(e) = builder
                .serve_connection_with_upgrades(TokioIo::new(tls), svc)
                .await
            {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

fn peer_identity(tls: &tokio_rustls::server::TlsStream<tokio::net::TcpStream>) -> Option<Identity> {
    let (_, conn) = tls.get_ref();
    let cert = conn.peer_certificates()?.first()?;
    let id = skiff_pki::identity_from_client_cert(cert.as_ref()).ok()?;
    Some(Identity {
        user: id.user,
        groups: id.groups,
    })
}
