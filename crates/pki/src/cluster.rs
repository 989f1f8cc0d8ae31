//! [`ClusterPki`]: the cluster's certificate material on disk under `DIR/tls/` plus the node
//! join token in `DIR/token`, created on first start and reused afterwards.
//!
//! ```text
//! DIR/tls/ca.crt  ca.key          cluster CA, ECDSA P-256, 10 years
//! DIR/tls/server.crt  server.key  API server serving certificate, 1 year
//! DIR/tls/admin.crt  admin.key    CN=system:admin, O=system:masters, 1 year
//! DIR/token                       node join token, 64 hex characters (256 random bits)
//! ```
//!
//! Keys and the token are mode 0600, certificates 0644, `DIR/tls` 0700 when created here.
//! On a later start the CA is never replaced: a CA file that is unreadable, corrupt, expired,
//! half-present or whose key does not match is an error naming the file. The serving
//! certificate is reissued (same CA) when it is missing, lacks a subject alternative name now
//! required, expires within 30 days, is not signed by the CA or does not match its key; the
//! admin certificate likewise on the same grounds (except names). A present but unparsable
//! certificate or key file is an error naming it, never silently replaced.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rcgen::{Issuer, KeyPair};
use rustls::pki_types::CertificateDer;
use rustls::ServerConfig;
use x509_parser::prelude::X509Certificate;

use crate::error::{Error, Result};
use crate::files;
use crate::inspect;
use crate::issue::{self, Issued};
use crate::kubeconfig::{self, KubeconfigSpec};
use crate::names::ServerNames;
use crate::tls;

/// User (CN) of the admin client certificate.
pub const ADMIN_USER: &str = "system:admin";
/// Group (O) of the admin client certificate: Kubernetes' superuser group.
pub const ADMIN_GROUP: &str = "system:masters";
/// Name of the user entry in the admin kubeconfig.
pub const KUBECONFIG_ADMIN_USER: &str = "admin";

/// What [`ClusterPki::load_or_create`] changed on disk, for the caller to log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Changes {
    /// A new cluster CA was generated (first start).
    pub ca_created: bool,
    /// A new join token was generated.
    pub token_created: bool,
    /// The serving certificate was (re)issued, and why.
    pub server_cert_issued: Option<String>,
    /// The admin client certificate was (re)issued, and why.
    pub admin_cert_issued: Option<String>,
}

/// The files of one PKI directory.
struct Paths {
    tls: PathBuf,
    ca_crt: PathBuf,
    ca_key: PathBuf,
    server_crt: PathBuf,
    server_key: PathBuf,
    admin_crt: PathBuf,
    admin_key: PathBuf,
    token: PathBuf,
}

impl Paths {
    fn new(dir: &Path) -> Self {
        let tls = dir.join("tls");
        Paths {
            ca_crt: tls.join("ca.crt"),
            ca_key: tls.join("ca.key"),
            server_crt: tls.join("server.crt"),
            server_key: tls.join("server.key"),
            admin_crt: tls.join("admin.crt"),
            admin_key: tls.join("admin.key"),
            token: dir.join("token"),
            tls,
        }
    }
}

/// The cluster's certificate authority and the credentials derived from it. Cheap to share
/// behind an `Arc`; it never touches the disk after [`load_or_create`](Self::load_or_create)
/// except in [`write_kubeconfig`](Self::write_kubeconfig).
pub struct ClusterPki {
    tls_dir: PathBuf,
    issuer: Issuer<'static, KeyPair>,
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    server: Issued,
    admin: Issued,
    token: String,
    changes: Changes,
}

impl fmt::Debug for ClusterPki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print keys or the token.
        f.debug_struct("ClusterPki")
            .field("tls_dir", &self.tls_dir)
            .field("changes", &self.changes)
            .finish_non_exhaustive()
    }
}

impl ClusterPki {
    /// Loads the PKI under `dir` (see the module docs for the layout), creating whatever is
    /// missing, and reissues the serving certificate if it no longer covers `server_names`
    /// (plus the defaults) or expires within 30 days.
    pub fn load_or_create(dir: &Path, server_names: &ServerNames) -> Result<ClusterPki> {
        let required = server_names.required()?;
        let paths = Paths::new(dir);
        files::create_private_dir(&paths.tls)?;
        let mut changes = Changes::default();

        let (ca_pem, ca_key) = load_or_create_ca(&paths, &mut changes)?;
        let ca_der = inspect::pem_to_der(&paths.ca_crt, &ca_pem)?;
        let ca_cert = inspect::parse(&ca_der).map_err(|r| Error::corrupt(&paths.ca_crt, r))?;
        let issuer = Issuer::from_ca_cert_der(&ca_der, ca_key).map_err(|err| {
            Error::corrupt(&paths.ca_crt, format!("cannot sign with this CA: {err}"))
        })?;

        let server = match check_leaf(&paths.server_crt, &paths.server_key, &ca_cert, |cert| {
            let have = inspect::sans(cert)?;
            let missing = required.missing_from(&have);
            Ok((!missing.is_empty()).then(|| format!("it lacks {}", missing.join(", "))))
        })? {
            Ok(found) => found,
            Err(reason) => {
                let issued = issue::server_cert(&issuer, &required)?;
                write_leaf(&paths.server_crt, &paths.server_key, &issued)?;
                changes.server_cert_issued = Some(reason);
                issued
            }
        };

        let admin = match check_leaf(&paths.admin_crt, &paths.admin_key, &ca_cert, |cert| {
            let identity = inspect::identity(cert)?;
            let ok = identity.user == ADMIN_USER && identity.groups == [ADMIN_GROUP];
            Ok((!ok).then(|| format!("it names {identity:?}")))
        })? {
            Ok(found) => found,
            Err(reason) => {
                let issued = issue::client_cert(
                    &issuer,
                    &ca_der,
                    ADMIN_USER,
                    &[ADMIN_GROUP.to_string()],
                    issue::LEAF_VALIDITY,
                )?;
                write_leaf(&paths.admin_crt, &paths.admin_key, &issued)?;
                changes.admin_cert_issued = Some(reason);
                issued
            }
        };

        let token = load_or_create_token(&paths.token, &mut changes)?;

        Ok(ClusterPki {
            tls_dir: paths.tls,
            issuer,
            ca_pem,
            ca_der,
            server,
            admin,
            token,
            changes,
        })
    }

    /// What this load created or reissued.
    pub fn changes(&self) -> &Changes {
        &self.changes
    }

    /// `DIR/tls`, where the certificates and keys live.
    pub fn tls_dir(&self) -> &Path {
        &self.tls_dir
    }

    /// The node join token (one line, no newline).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The cluster CA certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The cluster CA certificate, DER (for a rustls `RootCertStore`).
    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.ca_der
    }

    /// The serving certificate, PEM.
    pub fn server_cert_pem(&self) -> &str {
        &self.server.cert_pem
    }

    /// Issues a client certificate signed by the cluster CA: subject `CN=common_name` (the
    /// Kubernetes user) and one `O=` per group, client authentication only, valid from now
    /// (minus a few minutes for clock skew) for `validity` (at least one minute). Returns the
    /// PEM certificate and the PEM private key (PKCS#8). Nothing is written to disk.
    pub fn issue_client_cert(
        &self,
        common_name: &str,
        groups: &[String],
        validity: Duration,
    ) -> Result<(String, String)> {
        let issued = issue::client_cert(&self.issuer, &self.ca_der, common_name, groups, validity)?;
        Ok((issued.cert_pem, issued.key_pem))
    }

    /// Writes the admin kubeconfig to `path` (mode 0600): cluster `skiff` at `server_url`
    /// with the CA embedded, user `admin` with the admin certificate and key embedded,
    /// context `skiff` as current context. Usable as is: `kubectl --kubeconfig PATH get ns`.
    pub fn write_kubeconfig(&self, path: &Path, server_url: &str) -> Result<()> {
        kubeconfig::write_kubeconfig_file(
            path,
            &KubeconfigSpec {
                server_url,
                ca_pem: &self.ca_pem,
                user_name: KUBECONFIG_ADMIN_USER,
                client_cert_pem: &self.admin.cert_pem,
                client_key_pem: &self.admin.key_pem,
            },
        )
    }

    /// The API server's rustls config: the serving certificate and key; client certificates
    /// are verified against the cluster CA but optional (unauthenticated clients get through
    /// the handshake; the API server decides what they may see); ALPN `h2`, `http/1.1`.
    /// Read the identity of an authenticated client with
    /// [`identity_from_client_cert`](crate::identity_from_client_cert) on its first peer
    /// certificate.
    pub fn server_tls_config(&self) -> Result<ServerConfig> {
        tls::server_config(&self.ca_der, &self.server.cert_pem, &self.server.key_pem)
    }
}

/// Loads `ca.crt` + `ca.key`, or creates both if neither exists. Returns the PEM certificate
/// and the key.
fn load_or_create_ca(paths: &Paths, changes: &mut Changes) -> Result<(String, KeyPair)> {
    let crt = files::read_optional_text(&paths.ca_crt)?;
    let key = files::read_optional_text(&paths.ca_key)?;
    match (crt, key) {
        (None, None) => {
            let ca = issue::new_ca()?;
            // Key first: a crash in between leaves a key without certificate, reported below.
            files::write_atomic(&paths.ca_key, ca.key_pem.as_bytes(), files::PRIVATE)?;
            files::write_atomic(&paths.ca_crt, ca.cert_pem.as_bytes(), files::PUBLIC)?;
            changes.ca_created = true;
            let key = inspect::pem_to_key(&paths.ca_key, &ca.key_pem)?;
            Ok((ca.cert_pem, key))
        }
        (Some(_), None) => Err(Error::corrupt(
            &paths.ca_key,
            format!(
                "missing, but {} exists: the CA cannot sign without its key (restore it, or \
                 remove the whole tls directory to start a new cluster CA)",
                paths.ca_crt.display()
            ),
        )),
        (None, Some(_)) => Err(Error::corrupt(
            &paths.ca_crt,
            format!(
                "missing, but {} exists (restore it, or remove the whole tls directory to \
                 start a new cluster CA)",
                paths.ca_key.display()
            ),
        )),
        (Some(crt), Some(key_pem)) => {
            let der = inspect::pem_to_der(&paths.ca_crt, &crt)?;
            let cert = inspect::parse(&der).map_err(|r| Error::corrupt(&paths.ca_crt, r))?;
            if !cert.is_ca() {
                return Err(Error::corrupt(&paths.ca_crt, "not a CA certificate"));
            }
            if inspect::not_after(&cert) <= inspect::now_unix() {
                return Err(Error::corrupt(
                    &paths.ca_crt,
                    format!(
                        "the cluster CA expired on {} (remove the whole tls directory to start \
                         a new one; every node must rejoin)",
                        cert.validity().not_after
                    ),
                ));
            }
            let key = inspect::pem_to_key(&paths.ca_key, &key_pem)?;
            if !inspect::key_matches(&cert, &key) {
                return Err(Error::corrupt(
                    &paths.ca_key,
                    format!("not the key of {}", paths.ca_crt.display()),
                ));
            }
            files::ensure_private(&paths.ca_key)?;
            Ok((crt, key))
        }
    }
}

/// Checks a leaf certificate and its key. `Ok(Ok(found))`: keep it; `Ok(Err(reason))`:
/// reissue it; `Err`: a file is unreadable or unparsable. `extra` adds a check of its own
/// (`Ok(Some(reason))` means reissue).
fn check_leaf(
    crt_path: &Path,
    key_path: &Path,
    ca: &X509Certificate<'_>,
    extra: impl Fn(&X509Certificate<'_>) -> Result<Option<String>, String>,
) -> Result<Result<Issued, String>> {
    let name = |p: &Path| {
        p.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into())
    };
    let crt = files::read_optional_text(crt_path)?;
    let key = files::read_optional_text(key_path)?;
    let (cert_pem, key_pem) = match (crt, key) {
        (Some(crt), Some(key)) => (crt, key),
        (None, _) => return Ok(Err(format!("{} is missing", name(crt_path)))),
        (_, None) => return Ok(Err(format!("{} is missing", name(key_path)))),
    };
    let der = inspect::pem_to_der(crt_path, &cert_pem)?;
    let cert = inspect::parse(&der).map_err(|r| Error::corrupt(crt_path, r))?;
    let key = inspect::pem_to_key(key_path, &key_pem)?;
    files::ensure_private(key_path)?;
    if !inspect::key_matches(&cert, &key) {
        return Ok(Err(format!(
            "{} is not the key of {}",
            name(key_path),
            name(crt_path)
        )));
    }
    if !inspect::signed_by(&cert, ca) {
        return Ok(Err(format!(
            "{} is not signed by the cluster CA",
            name(crt_path)
        )));
    }
    let renew_before = i64::try_from(issue::RENEW_BEFORE.as_secs()).unwrap_or(i64::MAX);
    if inspect::not_after(&cert) - inspect::now_unix() < renew_before {
        return Ok(Err(format!(
            "{} expires on {}",
            name(crt_path),
            cert.validity().not_after
        )));
    }
    if let Some(reason) = extra(&cert).map_err(|r| Error::corrupt(crt_path, r))? {
        return Ok(Err(format!("{}: {reason}", name(crt_path))));
    }
    Ok(Ok(Issued { cert_pem, key_pem }))
}

/// Writes a leaf: key first (a crash in between leaves a mismatch, which is reissued).
fn write_leaf(crt_path: &Path, key_path: &Path, issued: &Issued) -> Result<()> {
    files::write_atomic(key_path, issued.key_pem.as_bytes(), files::PRIVATE)?;
    files::write_atomic(crt_path, issued.cert_pem.as_bytes(), files::PUBLIC)
}

/// Shortest token accepted from disk.
const MIN_TOKEN_LEN: usize = 32;

fn load_or_create_token(path: &Path, changes: &mut Changes) -> Result<String> {
    if let Some(text) = files::read_optional_text(path)? {
        let token = text.trim();
        let ok = token.len() >= MIN_TOKEN_LEN && token.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(Error::corrupt(
                path,
                format!(
                    "the join token must be one line of at least {MIN_TOKEN_LEN} visible ASCII \
                     characters (delete the file to generate a new one)"
                ),
            ));
        }
        files::ensure_private(path)?;
        return Ok(token.to_string());
    }
    let bytes: [u8; 32] = rand::random();
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    files::write_atomic(path, format!("{token}\n").as_bytes(), files::PRIVATE)?;
    changes.token_created = true;
    Ok(token)
}
