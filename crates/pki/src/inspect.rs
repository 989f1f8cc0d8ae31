//! Reading certificates (x509-parser): PEM to DER, subject names, subject alternative names,
//! validity, "was this signed by the CA", "does this key belong to this certificate", and the
//! Kubernetes identity of a client certificate.

use std::path::Path;

use rcgen::KeyPair;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{parse_x509_certificate, X509Certificate};

use crate::error::{Error, Result};
use crate::names::Sans;

/// Who a client certificate says its holder is, the Kubernetes way: user = subject CN,
/// groups = every subject O, in certificate order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// The subject common name.
    pub user: String,
    /// Every subject organization.
    pub groups: Vec<String>,
}

/// Reads the identity of a client certificate (DER), as the API server does for x509
/// authentication: user = the subject's common name, groups = all its organizations.
///
/// This only reads the certificate. Whether it chains to the cluster CA is the TLS layer's
/// job: call this on the peer certificate of a connection accepted with
/// [`ClusterPki::server_tls_config`](crate::ClusterPki::server_tls_config), which has
/// verified it already.
pub fn identity_from_client_cert(der: &[u8]) -> Result<ClientIdentity> {
    let cert = parse(der).map_err(Error::Certificate)?;
    identity(&cert).map_err(Error::Certificate)
}

pub(crate) fn identity(cert: &X509Certificate<'_>) -> Result<ClientIdentity, String> {
    let subject = cert.subject();
    let user = subject
        .iter_common_name()
        .next()
        .ok_or("the subject has no common name")?
        .as_str()
        .map_err(|err| format!("the subject common name is not a string: {err}"))?
        .to_string();
    if user.is_empty() {
        return Err("the subject common name is empty".into());
    }
    let groups = subject
        .iter_organization()
        .map(|attr| {
            attr.as_str()
                .map(str::to_string)
                .map_err(|err| format!("a subject organization is not a string: {err}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ClientIdentity { user, groups })
}

/// Parses one DER certificate, refusing trailing bytes.
pub(crate) fn parse(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    match parse_x509_certificate(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err("trailing bytes after the certificate".into()),
        Err(err) => Err(format!("not an X.509 certificate: {err}")),
    }
}

/// The first certificate of a PEM file, as DER; the error names the file.
pub(crate) fn pem_to_der(path: &Path, pem: &str) -> Result<CertificateDer<'static>> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|err| Error::corrupt(path, format!("no PEM certificate: {err}")))
}

/// A PEM private key; the error names the file.
pub(crate) fn pem_to_key(path: &Path, pem: &str) -> Result<KeyPair> {
    KeyPair::from_pem(pem)
        .map_err(|err| Error::corrupt(path, format!("no usable private key: {err}")))
}

/// The subject alternative names of a certificate (DNS names lower-cased).
pub(crate) fn sans(cert: &X509Certificate<'_>) -> Result<Sans, String> {
    let mut sans = Sans::default();
    let Some(ext) = cert
        .subject_alternative_name()
        .map_err(|err| format!("bad subjectAltName extension: {err}"))?
    else {
        return Ok(sans);
    };
    for name in &ext.value.general_names {
        match name {
            GeneralName::DNSName(dns) => {
                sans.dns.insert(dns.to_ascii_lowercase());
            }
            GeneralName::IPAddress(bytes) => {
                if let Ok(v4) = <[u8; 4]>::try_from(*bytes) {
                    sans.ips.insert(v4.into());
                } else if let Ok(v6) = <[u8; 16]>::try_from(*bytes) {
                    sans.ips.insert(v6.into());
                }
            }
            _ => {}
        }
    }
    Ok(sans)
}

/// Seconds since the Unix epoch when the certificate stops being valid.
pub(crate) fn not_after(cert: &X509Certificate<'_>) -> i64 {
    cert.validity().not_after.timestamp()
}

/// Whether `cert` names `ca` as its issuer and carries a valid signature by `ca`'s key.
pub(crate) fn signed_by(cert: &X509Certificate<'_>, ca: &X509Certificate<'_>) -> bool {
    cert.issuer().as_raw() == ca.subject().as_raw()
        && cert.verify_signature(Some(ca.public_key())).is_ok()
}

/// Whether `key` is the private half of the certificate's public key.
pub(crate) fn key_matches(cert: &X509Certificate<'_>, key: &KeyPair) -> bool {
    cert.public_key().subject_public_key.data.as_ref() == key.public_key_raw()
}

/// Seconds since the Unix epoch, now.
pub(crate) fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
