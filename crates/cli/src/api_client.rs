//! A minimal HTTPS client for the Kubernetes API of a `skiff server`, used by `skiff bench
//! api` and by the tests that drive a real server: the admin client certificate and the
//! cluster CA from the server's data directory, rustls with the ring provider, and hyper's
//! connection-level client so the caller decides exactly how requests map onto connections
//! (one HTTP/1.1 or HTTP/2 connection per client, or many HTTP/2 streams on one connection).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, Context};
use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::TlsConnector;

/// The HTTP version a connection speaks (negotiated with ALPN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Http1,
    Http2,
}

/// HTTP/2 receive windows of this client: those of Go's HTTP/2 transport (client-go's), 4 MiB
/// per stream and 1 GiB per connection, so flow control never throttles a large list.
const H2_STREAM_WINDOW: u32 = 4 << 20;
const H2_CONNECTION_WINDOW: u32 = 1 << 30;

/// Where a server is and how to authenticate to it: everything needed to open connections.
#[derive(Clone)]
pub struct ApiClient {
    addr: SocketAddr,
    h1: Arc<rustls::ClientConfig>,
    h2: Arc<rustls::ClientConfig>,
}

impl ApiClient {
    /// A client of the server at `addr` whose data directory is `data_dir`: it trusts
    /// `DIR/tls/ca.crt` and presents `DIR/tls/admin.crt` / `admin.key`.
    pub fn from_data_dir(data_dir: &Path, addr: SocketAddr) -> anyhow::Result<ApiClient> {
        let tls = data_dir.join("tls");
        let read = |name: &str| {
            let path = tls.join(name);
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
        };
        let ca = read("ca.crt")?;
        let cert = read("admin.crt")?;
        let key = read("admin.key")?;
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(&ca) {
            roots
                .add(c.context("cluster CA certificate")?)
                .context("cluster CA certificate")?;
        }
        let chain = CertificateDer::pem_slice_iter(&cert)
            .collect::<Result<Vec<_>, _>>()
            .context("admin client certificate")?;
        let key = PrivateKeyDer::from_pem_slice(&key).context("admin client key")?;
        let base = rustls::ClientConfig::builder_with_provider(skiff_pki::crypto_provider())
            .with_safe_default_protocol_versions()
            .context("TLS versions")?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .context("admin client certificate")?;
        let with_alpn = |alpn: &[u8]| {
            let mut c = base.clone();
            c.alpn_protocols = vec![alpn.to_vec()];
            Arc::new(c)
        };
        Ok(ApiClient {
            addr,
            h1: with_alpn(b"http/1.1"),
            h2: with_alpn(b"h2"),
        })
    }

    /// Opens one TLS connection speaking `proto`. The connection lives until every handle
    /// to it is dropped.
    pub async fn connect(&self, proto: Proto) -> anyhow::Result<Conn> {
        let tcp = tokio::net::TcpStream::connect(self.addr)
            .await
            .with_context(|| format!("cannot connect to {}", self.addr))?;
        tcp.set_nodelay(true)?;
        let config = match proto {
            Proto::Http1 => self.h1.clone(),
            Proto::Http2 => self.h2.clone(),
        };
        let name = ServerName::IpAddress(self.addr.ip().into());
        let tls = TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .with_context(|| format!("TLS handshake with {}", self.addr))?;
        let io = TokioIo::new(tls);
        let sender = match proto {
            Proto::Http1 => {
                let (send, conn) = hyper::client::conn::http1::handshake(io)
                    .await
                    .context("HTTP/1.1 handshake")?;
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                Sender::H1(send)
            }
            Proto::Http2 => {
                let (send, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
                    .initial_stream_window_size(H2_STREAM_WINDOW)
                    .initial_connection_window_size(H2_CONNECTION_WINDOW)
                    .handshake(io)
                    .await
                    .context("HTTP/2 handshake")?;
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                Sender::H2(send)
            }
        };
        Ok(Conn {
            authority: self.addr.to_string(),
            sender,
        })
    }
}

enum Sender {
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

/// One connection. An HTTP/2 connection is cheap to clone: each clone sends its requests as
/// new streams of the same connection; an HTTP/1.1 connection cannot be cloned.
pub struct Conn {
    authority: String,
    sender: Sender,
}

impl Conn {
    /// Another handle to the same HTTP/2 connection (None for HTTP/1.1).
    pub fn stream_handle(&self) -> Option<Conn> {
        match &self.sender {
            Sender::H2(s) => Some(Conn {
                authority: self.authority.clone(),
                sender: Sender::H2(s.clone()),
            }),
            Sender::H1(_) => None,
        }
    }

    /// Sends a request and returns the response with its body still streaming.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> anyhow::Result<Response<Incoming>> {
        let mut builder = Request::builder()
            .method(method)
            .header(header::ACCEPT, "application/json");
        let req = match &mut self.sender {
            Sender::H1(_) => {
                builder = builder.uri(path).header(header::HOST, &self.authority);
                builder
            }
            Sender::H2(_) => builder.uri(format!("https://{}{path}", self.authority)),
        };
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::new(b)),
            None => req.body(Full::new(Bytes::new())),
        }
        .context("building the request")?;
        let resp = match &mut self.sender {
            Sender::H1(s) => {
                s.ready().await.context("connection closed")?;
                s.send_request(req).await
            }
            Sender::H2(s) => {
                s.ready().await.context("connection closed")?;
                s.send_request(req).await
            }
        };
        resp.map_err(|e| anyhow!("request failed: {e}"))
    }

    /// Sends a request and reads the whole response body.
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let resp = self.send(method, path, body).await?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| anyhow!("reading the response body: {e}"))?
            .to_bytes();
        Ok((status, body))
    }

    /// GET `path`, which must answer 200 with a JSON body.
    pub async fn get_json(&mut self, path: &str) -> anyhow::Result<serde_json::Value> {
        let (status, body) = self.request(Method::GET, path, None).await?;
        if status != StatusCode::OK {
            return Err(anyhow!(
                "GET {path}: {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        serde_json::from_slice(&body).with_context(|| format!("GET {path}: not JSON"))
    }

    /// POST `body` to `path`, which must answer 201; returns the created object.
    pub async fn create(
        &mut self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let bytes = Bytes::from(serde_json::to_vec(body)?);
        let (status, resp) = self.request(Method::POST, path, Some(bytes)).await?;
        if status != StatusCode::CREATED {
            return Err(anyhow!(
                "POST {path}: {status}: {}",
                String::from_utf8_lossy(&resp)
            ));
        }
        serde_json::from_slice(&resp).with_context(|| format!("POST {path}: not JSON"))
    }
}

/// Splits complete lines off the front of a stream buffer: appends `chunk` to `buf` and
/// returns every line ended by `\n` (without it), leaving a partial last line in `buf`.
pub fn take_lines(buf: &mut Vec<u8>, chunk: &[u8]) -> Vec<Vec<u8>> {
    buf.extend_from_slice(chunk);
    let mut lines = Vec::new();
    let mut start = 0;
    while let Some(i) = buf[start..].iter().position(|&b| b == b'\n') {
        lines.push(buf[start..start + i].to_vec());
        start += i + 1;
    }
    buf.drain(..start);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_chunks() {
        let mut buf = Vec::new();
        assert!(take_lines(&mut buf, b"{\"a\"").is_empty());
        assert_eq!(
            take_lines(&mut buf, b":1}\n{\"b\":2}\n{"),
            vec![b"{\"a\":1}".to_vec(), b"{\"b\":2}".to_vec()]
        );
        assert_eq!(buf, b"{");
        assert_eq!(take_lines(&mut buf, b"}\n"), vec![b"{}".to_vec()]);
        assert!(buf.is_empty());
    }
}
