//! Making keys and certificates (rcgen, ECDSA P-256 with SHA-256): the cluster CA, the API
//! server's serving certificate and client certificates (CN = user, one O per group).

use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber, SigningKey, PKCS_ECDSA_P256_SHA256,
};
use time::OffsetDateTime;

use crate::der;
use crate::error::{Error, Result};
use crate::inspect;
use crate::names::Sans;

/// The shortest validity [`client_cert`] accepts.
const MIN_VALIDITY: Duration = Duration::from_secs(60);
/// Lifetime of the cluster CA.
pub(crate) const CA_VALIDITY: Duration = Duration::from_secs(3650 * 24 * 60 * 60);
/// Lifetime of the serving certificate and of the admin client certificate.
pub(crate) const LEAF_VALIDITY: Duration = Duration::from_secs(365 * 24 * 60 * 60);
/// A certificate with less than this left is renewed at start-up.
pub(crate) const RENEW_BEFORE: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// Certificates start this much in the past, for clocks a little behind ours.
const BACKDATE_BY: time::Duration = time::Duration::minutes(5);
/// Subject CN of the serving certificate.
pub(crate) const SERVER_COMMON_NAME: &str = "kube-apiserver";

/// A PEM certificate and its PEM private key.
pub(crate) struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

fn new_key() -> Result<KeyPair> {
    Ok(KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?)
}

/// A random positive 128-bit serial number.
fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01; // no leading zero byte, so the length is always 16
    SerialNumber::from_slice(&bytes)
}

/// Parameters with a random serial and validity from now (minus [`BACKDATE_BY`]) for `validity`.
fn base_params(validity: Duration) -> Result<CertificateParams> {
    let now = OffsetDateTime::now_utc();
    let not_after = time::Duration::try_from(validity)
        .ok()
        .and_then(|v| now.checked_add(v))
        .filter(|t| t.year() <= 9999)
        .ok_or_else(|| Error::InvalidInput(format!("validity {validity:?} is too long")))?;
    let not_before = now.checked_sub(BACKDATE_BY).unwrap_or(now);
    if validity < MIN_VALIDITY {
        return Err(Error::InvalidInput(format!(
            "validity {validity:?} is too short"
        )));
    }
    let mut params = CertificateParams::default();
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(random_serial());
    params.distinguished_name = DistinguishedName::new();
    Ok(params)
}

/// A new self-signed cluster CA (CN `skiff-ca@<unix time>`, path length 0).
pub(crate) fn new_ca() -> Result<Issued> {
    let key = new_key()?;
    let mut params = base_params(CA_VALIDITY)?;
    params.distinguished_name.push(
        DnType::CommonName,
        format!("skiff-ca@{}", inspect::now_unix()),
    );
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key)?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// A serving certificate for the API server with exactly `sans`.
pub(crate) fn server_cert(issuer: &Issuer<'_, KeyPair>, sans: &Sans) -> Result<Issued> {
    let key = new_key()?;
    let mut params = base_params(LEAF_VALIDITY)?;
    params
        .distinguished_name
        .push(DnType::CommonName, SERVER_COMMON_NAME);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    for name in &sans.dns {
        let ia5 = name
            .as_str()
            .try_into()
            .map_err(|err| Error::InvalidInput(format!("DNS name {name:?}: {err}")))?;
        params.subject_alt_names.push(SanType::DnsName(ia5));
    }
    for ip in &sans.ips {
        params.subject_alt_names.push(SanType::IpAddress(*ip));
    }
    let cert = params.signed_by(&key, issuer)?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// A client certificate: subject `CN=common_name` plus one `O=` per group, client-auth only,
/// valid for `validity`, signed by the CA.
///
/// rcgen builds everything but the subject (its names hold one value per attribute type);
/// the subject is then replaced with one carrying every group and the certificate re-signed
/// with the CA key. The result is parsed and checked against the CA before it is returned.
pub(crate) fn client_cert(
    issuer: &Issuer<'_, KeyPair>,
    ca_der: &[u8],
    common_name: &str,
    groups: &[String],
    validity: Duration,
) -> Result<Issued> {
    if common_name.is_empty() {
        return Err(Error::InvalidInput("empty common name".into()));
    }
    if groups.iter().any(String::is_empty) {
        return Err(Error::InvalidInput("empty group name".into()));
    }
    let key = new_key()?;
    let mut params = base_params(validity)?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    let draft = params.signed_by(&key, issuer)?;

    let subject = der::subject_name(common_name, groups);
    let (tbs, algorithm) = der::replace_subject(draft.der(), &subject)
        .ok_or_else(|| Error::Crypto("cannot re-encode the client certificate".into()))?;
    let signature = issuer.key().sign(&tbs)?;
    let cert_der = der::certificate(&tbs, &algorithm, &signature);

    // Self-check: the patched certificate parses, names the requested identity and verifies
    // against the CA.
    let ca = inspect::parse(ca_der).map_err(Error::Crypto)?;
    let cert = inspect::parse(&cert_der).map_err(Error::Crypto)?;
    let identity = inspect::identity(&cert).map_err(Error::Crypto)?;
    if identity.user != common_name || identity.groups != groups {
        return Err(Error::Crypto(
            "the re-encoded client certificate names another identity".into(),
        ));
    }
    if !inspect::signed_by(&cert, &ca) {
        return Err(Error::Crypto(
            "the re-signed client certificate does not verify against the CA".into(),
        ));
    }
    Ok(Issued {
        cert_pem: pem_encode("CERTIFICATE", &cert_der),
        key_pem: key.serialize_pem(),
    })
}

/// PEM armour with 64-column base64 lines.
fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
