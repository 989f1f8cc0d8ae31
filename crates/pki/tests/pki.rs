//! Tests of skiff-pki through its public API: create / reload / reissue on disk, file modes,
//! the kubeconfig, client certificates verified by rustls' webpki verifier, corrupt files,
//! and real TLS handshakes (tokio-rustls) with and without a client certificate; plus, when
//! `kubectl` is installed, the real kubectl reading the written kubeconfig.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore};
use skiff_pki::{
    identity_from_client_cert, ClientIdentity, ClusterPki, Error, ServerNames,
    DEFAULT_SERVER_DNS_NAMES,
};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::parse_x509_certificate;

fn der_of(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// (DNS names, IPs as strings) of a PEM certificate.
fn sans_of(pem: &str) -> (Vec<String>, Vec<String>) {
    let der = der_of(pem);
    let (_, cert) = parse_x509_certificate(&der).unwrap();
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    for name in &cert
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names
    {
        match name {
            GeneralName::DNSName(d) => dns.push(d.to_string()),
            GeneralName::IPAddress(b) if b.len() == 4 => {
                ips.push(std::net::IpAddr::from(<[u8; 4]>::try_from(*b).unwrap()).to_string())
            }
            GeneralName::IPAddress(b) => {
                ips.push(std::net::IpAddr::from(<[u8; 16]>::try_from(*b).unwrap()).to_string())
            }
            _ => {}
        }
    }
    (dns, ips)
}

fn client_verifier(pki: &ClusterPki) -> Arc<dyn ClientCertVerifier> {
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca_der().clone()).unwrap();
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), skiff_pki::crypto_provider())
        .build()
        .unwrap()
}

#[test]
fn pki_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<ClusterPki>();
}

#[test]
fn create_then_reload_keeps_ca_token_and_certs() {
    let dir = tempfile::tempdir().unwrap();
    let names = ServerNames::new();
    let first = ClusterPki::load_or_create(dir.path(), &names).unwrap();
    let changes = first.changes();
    assert!(changes.ca_created && changes.token_created);
    assert!(changes.server_cert_issued.is_some() && changes.admin_cert_issued.is_some());

    let token = first.token().to_string();
    assert_eq!(token.len(), 64, "32 random bytes, hex");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        fs::read_to_string(dir.path().join("token")).unwrap(),
        format!("{token}\n")
    );

    let second = ClusterPki::load_or_create(dir.path(), &names).unwrap();
    assert_eq!(
        second.changes(),
        &Default::default(),
        "nothing changes on reload"
    );
    assert_eq!(second.ca_pem(), first.ca_pem());
    assert_eq!(second.token(), token);
    assert_eq!(second.server_cert_pem(), first.server_cert_pem());

    // A second cluster gets another CA and token.
    let other_dir = tempfile::tempdir().unwrap();
    let other = ClusterPki::load_or_create(other_dir.path(), &names).unwrap();
    assert_ne!(other.ca_pem(), first.ca_pem());
    assert_ne!(other.token(), token);
}

#[test]
fn files_have_private_modes() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ClusterPki::load_or_create(dir.path(), &ServerNames::new()).unwrap();
    let tls = dir.path().join("tls");
    for key in ["ca.key", "server.key", "admin.key"] {
        assert_eq!(mode(&tls.join(key)), 0o600, "{key}");
    }
    assert_eq!(mode(&dir.path().join("token")), 0o600);
    assert_eq!(mode(&tls), 0o700);
    for crt in ["ca.crt", "server.crt", "admin.crt"] {
        assert_eq!(mode(&tls.join(crt)), 0o644, "{crt}");
    }
    let kubeconfig = dir.path().join("sub/admin.kubeconfig");
    pki.write_kubeconfig(&kubeconfig, "https://127.0.0.1:6443")
        .unwrap();
    assert_eq!(mode(&kubeconfig), 0o600);

    // A key made world-readable by hand is tightened on the next load.
    fs::set_permissions(tls.join("ca.key"), fs::Permissions::from_mode(0o644)).unwrap();
    ClusterPki::load_or_create(dir.path(), &ServerNames::new()).unwrap();
    assert_eq!(mode(&tls.join("ca.key")), 0o600);
}

#[test]
fn serving_certificate_has_required_sans() {
    let dir = tempfile::tempdir().unwrap();
    let names = ServerNames::new()
        .with_dns("node-1.example")
        .with_ip("10.96.0.1".parse().unwrap())
        .with_ip("192.0.2.10".parse().unwrap());
    let pki = ClusterPki::load_or_create(dir.path(), &names).unwrap();
    let (dns, ips) = sans_of(pki.server_cert_pem());
    for name in DEFAULT_SERVER_DNS_NAMES.iter().chain(&["node-1.example"]) {
        assert!(dns.iter().any(|d| d == name), "missing DNS {name}: {dns:?}");
    }
    for ip in ["127.0.0.1", "::1", "10.96.0.1", "192.0.2.10"] {
        assert!(ips.iter().any(|i| i == ip), "missing IP {ip}: {ips:?}");
    }
    // The serving certificate chains to the CA and is for server auth.
    let (_, ca) = parse_x509_certificate(pki.ca_der()).unwrap();
    let der = der_of(pki.server_cert_pem());
    let (_, server) = parse_x509_certificate(&der).unwrap();
    server.verify_signature(Some(ca.public_key())).unwrap();
    assert!(
        server
            .extended_key_usage()
            .unwrap()
            .unwrap()
            .value
            .server_auth
    );
    assert!(ca.is_ca());
    let years = (ca.validity().not_after.timestamp() - ca.validity().not_before.timestamp())
        / (365 * 24 * 3600);
    assert!(years >= 9, "CA lives ~10 years, got {years}");
}

#[test]
fn new_san_reissues_only_the_serving_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let first = ClusterPki::load_or_create(dir.path(), &ServerNames::new()).unwrap();
    let admin_before = fs::read(dir.path().join("tls/admin.crt")).unwrap();

    let names = ServerNames::new().with_ip("10.0.0.7".parse().unwrap());
    let second = ClusterPki::load_or_create(dir.path(), &names).unwrap();
    let reason = second.changes().server_cert_issued.clone().unwrap();
    assert!(reason.contains("IP:10.0.0.7"), "{reason}");
    assert!(!second.changes().ca_created);
    assert!(second.changes().admin_cert_issued.is_none());
    assert_eq!(second.ca_pem(), first.ca_pem(), "same CA");
    assert_eq!(second.token(), first.token());
    assert_ne!(second.server_cert_pem(), first.server_cert_pem());
    assert!(sans_of(second.server_cert_pem())
        .1
        .contains(&"10.0.0.7".into()));
    assert_eq!(
        fs::read(dir.path().join("tls/admin.crt")).unwrap(),
        admin_before
    );

    // Asking again for the same names (or fewer) changes nothing.
    let third = ClusterPki::load_or_create(dir.path(), &names).unwrap();
    assert!(third.changes().server_cert_issued.is_none());
    let fourth = ClusterPki::load_or_create(dir.path(), &ServerNames::new()).unwrap();
    assert!(fourth.changes().server_cert_issued.is_none());
}

#[test]
fn expiring_serving_certificate_is_reissued() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ClusterPki::load_or_create(dir.path(), &ServerNames::new()).unwrap();
    // Replace server.crt with one from the same CA, same names, 10 days left.
    let tls = dir.path().join("tls");
    let ca_key =
        rcgen::KeyPair::from_pem(&fs::read_to_string(tls.join("ca.key")).unwrap()).unwrap();
    let issuer = rcgen::Issuer::from_ca_cert_pem(pki.ca_pem(), ca_key).unwrap();
    let mut names: Vec<String> = DEFAULT_SERVER_DNS_NAMES
        .iter()
        .map(|s| s.to_string())
        .collect();
    names.extend(["127.0.0.1".to_string(), "::1".to_string()]);
    let mut params = rcgen::CertificateParams::new(names).unwrap();
    params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(10);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    fs::write(tls.join("server.crt"), cert.pem()).unwrap();
    fs::write(tls.join("server.key"), key.serialize_pem()).unwrap();

    let again = ClusterPki::load_or_create(dir.path(), &ServerNames::new()).unwrap();
    let reason = again.changes().server_cert_issued.clone().unwrap();
    assert!(reason.contains("expires"), "{reason}");
    assert_eq!(again.ca_pem(), pki.ca_pem());
    let der = der_of(again.server_cert_pem());
    let (_, fresh) = parse_x509_certificate(&der).unwrap();
    assert!(fresh.validity().time_to_expiration().unwrap().whole_days() > 300);
}

#[test]
fn client_certificates_chain_to_the_ca_and_carry_the_identity() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ClusterPki::load_or_create(dir.path(), &ServerNames::new()).unwrap();
    let verifier = client_verifier(&pki);

    let groups = vec!["system:nodes".to_string(), "skiff:workers".to_string()];
    let (cert_pem, key_pem) = pki
        .issue_client_cert("system:node:n1", &groups, Duration::from_secs(3600))
        .unwrap();
    let der = der_of(&cert_pem);
    verifier
        .verify_client_cert(&der, &[], UnixTime::now())
        .expect("issued client certificate verifies against the CA");
    assert_eq!(
        identity_from_client_cert(&der).unwrap(),
        ClientIdentity {
            user: "system:node:n1".into(),
            groups: groups.clone()
        }
    );
    PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();

    // No groups at all is fine too.
    let (cert_pem, _) = pki
        .issue_client_cert("jane", &[], Duration::from_secs(3600))
        .unwrap();
    let der = der_of(&cert_pem);
    verifier
        .verify_client_cert(&der, &[], UnixTime::now())
        .unwrap();
    let identity = identity_from_client_cert(&der).unwrap();
    assert_eq!((identity.user.as_str(), identity.groups.len()), ("jane", 0));

    // The admin certificate on disk is system:admin / system:masters and verifies.
    let admin_der = der_of(&fs::read_to_string(dir.path().join("tls/admin.crt")).unwrap());
    verifier
        .verify_client_cert(&admin_der, &[], UnixTime::now())
        .unwrap();
    let admin = identity_from_client_cert(&admin_der).unwrap();
    assert_eq!(admin.user, "system:admin");
    assert_eq!(admin.groups, ["system:masters"]);

    // A certificate from another cluster's CA is refused; the serving certificate is no
    // client certificate.
    let other_dir = tempfile::tempdir().unwrap();
    let other = ClusterPki::load_or_create(other_dir.path(), &ServerNames::new()).unwrap();
    let (foreign, _) = other
        .issue_client_cert(
            "system:admin",
            &["system:masters".into()],
            Duration::from_secs(3600),
        )
        .unwrap();
    assert!(verifier
        .verify_client_cert(&der_of(&foreign), &[], UnixTime::now())
        .is_err());
    assert!(verifier
        .verify_client_cert(&der_of(pki.server_cert_pem()), &[], UnixTime::now())
        .is_err());

    // Bad input is an error, not a panic.
    assert!(pki
        .issue_client_cert("", &[], Duration::from_secs(3600))
        .is_err());
    assert!(pki
        .issue_client_cert("u", &[String::new()], Duration::from_secs(3600))
        .is_err());
    assert!(pki.issue_client_cert("u", &[], Duration::MAX).is_err());
    assert!(identity_from_client_cert(b"not a certificate").is_err());
}

#[test]
fn kubeconfig_has_the_expected_structure() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ClusterPki::load_or_create(dir.path(), &ServerNames::new()).unwrap();
    let path = dir.path().join("admin.kubeconfig");
    pki.write_kubeconfig(&path, "https://127.0.0.1:6443")
        .unwrap();
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let b64 = |v: &serde_yaml::Value| {
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(v.as_str().unwrap())
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(yaml["apiVersion"].as_str(), Some("v1"));
    assert_eq!(yaml["kind"].as_str(), Some("Config"));
    assert_eq!(yaml["current-context"].as_str(), Some("skiff"));
    let cluster = &yaml["clusters"][0];
    assert_eq!(cluster["name"].as_str(), Some("skiff"));
    assert_eq!(
        cluster["cluster"]["server"].as_str(),
        Some("https://127.0.0.1:6443")
    );
    assert_eq!(
        b64(&cluster["cluster"]["certificate-authority-data"]),
        pki.ca_pem()
    );
    let user = &yaml["users"][0];
    assert_eq!(user["name"].as_str(), Some("admin"));
    let cert_pem = b64(&user["user"]["client-certificate-data"]);
    let key_pem = b64(&user["user"]["client-key-data"]);
    assert_eq!(
        identity_from_client_cert(&der_of(&cert_pem)).unwrap().user,
        "system:admin"
    );
    PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let context = &yaml["contexts"][0];
    assert_eq!(context["name"].as_str(), Some("skiff"));
    assert_eq!(context["context"]["cluster"].as_str(), Some("skiff"));
    assert_eq!(context["context"]["user"].as_str(), Some("admin"));

    assert!(matches!(
        pki.write_kubeconfig(&path, "http://127.0.0.1:6443"),
        Err(Error::InvalidInput(_))
    ));
}

#[test]
fn corrupt_or_partial_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    ClusterPki::load_or_create(dir.path(), &ServerNames::new()).unwrap();
    let tls = dir.path().join("tls");
    let load = || ClusterPki::load_or_create(dir.path(), &ServerNames::new());
    let expect_corrupt = |result: skiff_pki::Result<ClusterPki>, file: &Path| match result {
        Err(err @ Error::Corrupt { .. }) => {
            let Error::Corrupt { path, .. } = &err else {
                unreachable!()
            };
            assert_eq!(path, file);
            assert!(
                err.to_string().contains(&file.display().to_string()),
                "{err}"
            );
        }
        other => panic!(
            "expected a corrupt-file error for {}, got {other:?}",
            file.display()
        ),
    };

    // ca.crt with garbage.
    let ca_crt = tls.join("ca.crt");
    let saved = fs::read(&ca_crt).unwrap();
    fs::write(&ca_crt, "garbage\n").unwrap();
    expect_corrupt(load(), &ca_crt);
    // ca.crt with a PEM block that is not a certificate.
    fs::write(
        &ca_crt,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    expect_corrupt(load(), &ca_crt);
    fs::write(&ca_crt, &saved).unwrap();

    // ca.key garbage, ca.key of another CA, ca.key missing.
    let ca_key = tls.join("ca.key");
    let saved_key = fs::read(&ca_key).unwrap();
    fs::write(&ca_key, "nope").unwrap();
    expect_corrupt(load(), &ca_key);
    fs::write(&ca_key, rcgen::KeyPair::generate().unwrap().serialize_pem()).unwrap();
    expect_corrupt(load(), &ca_key);
    fs::remove_file(&ca_key).unwrap();
    expect_corrupt(load(), &ca_key);
    fs::write(&ca_key, &saved_key).unwrap();

    // ca.crt missing while ca.key exists.
    fs::remove_file(&ca_crt).unwrap();
    expect_corrupt(load(), &ca_crt);
    fs::write(&ca_crt, &saved).unwrap();

    // A corrupt serving certificate is reported, not silently replaced.
    let server_crt = tls.join("server.crt");
    let saved_server = fs::read(&server_crt).unwrap();
    fs::write(&server_crt, "junk").unwrap();
    expect_corrupt(load(), &server_crt);
    fs::write(&server_crt, &saved_server).unwrap();

    // A bad token.
    let token = dir.path().join("token");
    fs::write(&token, "short\n").unwrap();
    expect_corrupt(load(), &token);
    fs::remove_file(&token).unwrap();

    // Unreadable (a directory where a file should be) is an IO error naming it.
    let admin_key = tls.join("admin.key");
    fs::remove_file(&admin_key).unwrap();
    fs::create_dir(&admin_key).unwrap();
    match load() {
        Err(Error::Io { path, .. }) => assert_eq!(path, admin_key),
        other => panic!("expected an IO error, got {other:?}"),
    }
    fs::remove_dir(&admin_key).unwrap();

    // A missing leaf key or deleted token is simply recreated; the CA stays.
    let pki = load().unwrap();
    assert!(pki.changes().admin_cert_issued.is_some());
    assert!(pki.changes().token_created);
    assert!(!pki.changes().ca_created);
}

// ---- real TLS ------------------------------------------------------------------------------

mod tls {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_rustls::{TlsAcceptor, TlsConnector};

    /// What the server saw of one connection.
    #[derive(Debug)]
    pub enum Seen {
        Identity(ClientIdentity),
        Anonymous,
        HandshakeFailed(String),
    }

    /// Accepts `count` connections one after another; answers each with a line naming the
    /// identity it saw, then closes it.
    pub async fn serve(listener: TcpListener, acceptor: TlsAcceptor, count: usize) -> Vec<Seen> {
        let mut seen = Vec::new();
        for _ in 0..count {
            let (tcp, _) = listener.accept().await.unwrap();
            match acceptor.accept(tcp).await {
                Err(err) => seen.push(Seen::HandshakeFailed(err.to_string())),
                Ok(mut tls) => {
                    let peer = tls.get_ref().1.peer_certificates().map(|c| c[0].clone());
                    let (line, item) = match peer {
                        Some(der) => {
                            let id = identity_from_client_cert(&der).unwrap();
                            (format!("user={}", id.user), Seen::Identity(id))
                        }
                        None => ("anonymous".to_string(), Seen::Anonymous),
                    };
                    let _ = tls.write_all(line.as_bytes()).await;
                    let _ = tls.shutdown().await;
                    seen.push(item);
                }
            }
        }
        seen
    }

    pub fn client_config(pki: &ClusterPki, cert: Option<(&str, &str)>) -> ClientConfig {
        let mut roots = RootCertStore::empty();
        roots.add(pki.ca_der().clone()).unwrap();
        let builder = ClientConfig::builder_with_provider(skiff_pki::crypto_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let mut config = match cert {
            None => builder.with_no_client_auth(),
            Some((cert_pem, key_pem)) => builder
                .with_client_auth_cert(
                    vec![der_of(cert_pem)],
                    PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap(),
                )
                .unwrap(),
        };
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        config
    }

    /// Connects to 127.0.0.1 (verifying the IP SAN), reads everything the server says.
    pub async fn talk(
        port: u16,
        config: ClientConfig,
    ) -> std::io::Result<(String, Option<Vec<u8>>)> {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
        let name = ServerName::IpAddress("127.0.0.1".parse::<std::net::IpAddr>().unwrap().into());
        let mut tls = TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await?;
        let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        let mut reply = String::new();
        tls.read_to_string(&mut reply).await?;
        Ok((reply, alpn))
    }
}

#[tokio::test]
async fn tls_end_to_end_with_and_without_client_certificates() {
    use tls::Seen;
    let dir = tempfile::tempdir().unwrap();
    let pki = ClusterPki::load_or_create(dir.path(), &ServerNames::new()).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(pki.server_tls_config().unwrap()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(tls::serve(listener, acceptor, 3));

    let run = async {
        // 1. The admin certificate.
        let admin_cert = fs::read_to_string(dir.path().join("tls/admin.crt")).unwrap();
        let admin_key = fs::read_to_string(dir.path().join("tls/admin.key")).unwrap();
        let (reply, alpn) = tls::talk(
            port,
            tls::client_config(&pki, Some((&admin_cert, &admin_key))),
        )
        .await
        .unwrap();
        assert_eq!(reply, "user=system:admin");
        assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));

        // 2. No certificate: still let in.
        let (reply, _) = tls::talk(port, tls::client_config(&pki, None))
            .await
            .unwrap();
        assert_eq!(reply, "anonymous");

        // 3. A certificate from another cluster's CA: refused by the server.
        let other_dir = tempfile::tempdir().unwrap();
        let other = ClusterPki::load_or_create(other_dir.path(), &ServerNames::new()).unwrap();
        let (cert, key) = other
            .issue_client_cert(
                "system:admin",
                &["system:masters".into()],
                Duration::from_secs(600),
            )
            .unwrap();
        let result = tls::talk(port, tls::client_config(&pki, Some((&cert, &key)))).await;
        assert!(
            result.is_err(),
            "foreign client certificate accepted: {result:?}"
        );
    };
    tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("TLS test timed out");

    let seen = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap();
    match &seen[..] {
        [Seen::Identity(admin), Seen::Anonymous, Seen::HandshakeFailed(why)] => {
            assert!(!why.is_empty());
            assert_eq!(admin.user, "system:admin");
            assert_eq!(admin.groups, ["system:masters"]);
        }
        other => panic!("unexpected server view: {other:?}"),
    }
}

/// The real kubectl reads the written kubeconfig, trusts the serving certificate through the
/// embedded CA and presents the admin certificate. The stand-in server answers 401 to every
/// request, so kubectl must report "You must be logged in to the server", its message for a 401
/// (a TLS or kubeconfig problem would give a different error).
#[tokio::test]
async fn real_kubectl_uses_the_kubeconfig() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // scripts/test.sh installs kubectl when it is missing: never skip.
    std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .expect("kubectl must be installed (scripts/test.sh installs it)");
    let dir = tempfile::tempdir().unwrap();
    let pki = ClusterPki::load_or_create(dir.path(), &ServerNames::new()).unwrap();
    let mut config = pki.server_tls_config().unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()]; // the stand-in speaks HTTP/1.1 only
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let kubeconfig = dir.path().join("admin.kubeconfig");
    pki.write_kubeconfig(&kubeconfig, &format!("https://127.0.0.1:{port}"))
        .unwrap();

    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let seen_tx = seen_tx.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let user = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| identity_from_client_cert(&c[0]).ok());
                let _ = seen_tx.send(user);
                let mut buf = vec![0u8; 16 * 1024];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let body = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#;
                let response = format!(
                    "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });

    let cache = dir.path().join("kube-cache");
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--cache-dir")
            .arg(&cache)
            .args(["--request-timeout=10s", "get", "ns"])
            .output(),
    )
    .await
    .expect("kubectl timed out")
    .unwrap();
    server.abort();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("You must be logged in to the server"),
        "kubectl did not get through TLS to the server: {stderr}"
    );
    let first = seen_rx.recv().await.expect("kubectl connected");
    let identity = first.expect("kubectl presented a client certificate");
    assert_eq!(identity.user, "system:admin");
    assert_eq!(identity.groups, ["system:masters"]);
}
