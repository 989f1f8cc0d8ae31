//! The API server's rustls configuration (ring provider): the serving certificate, a client
//! verifier that trusts only the cluster CA but lets clients without a certificate in (the
//! API server itself answers 401 to them, except on its public paths), ALPN `h2` then
//! `http/1.1`.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use crate::error::{Error, Result};

/// ALPN protocols offered by the API server, most preferred first.
pub const ALPN_PROTOCOLS: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The ring crypto provider every rustls config of this crate uses. Using it explicitly
/// (rather than the process default) keeps working whatever other crates enable.
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A root store holding just the cluster CA.
pub(crate) fn ca_roots(ca_der: &CertificateDer<'static>) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots
        .add(ca_der.clone())
        .map_err(|err| Error::Tls(format!("cluster CA: {err}")))?;
    Ok(roots)
}

pub(crate) fn server_config(
    ca_der: &CertificateDer<'static>,
    server_cert_pem: &str,
    server_key_pem: &str,
) -> Result<ServerConfig> {
    let provider = crypto_provider();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(ca_roots(ca_der)?), provider.clone())
            .allow_unauthenticated()
            .build()
            .map_err(|err| Error::Tls(format!("client verifier: {err}")))?;
    let chain = CertificateDer::pem_slice_iter(server_cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| Error::Tls(format!("serving certificate: {err}")))?;
    let key = PrivateKeyDer::from_pem_slice(server_key_pem.as_bytes())
        .map_err(|err| Error::Tls(format!("serving key: {err}")))?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| Error::Tls(err.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|err| Error::Tls(err.to_string()))?;
    config.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}
