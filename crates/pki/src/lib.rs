//! skiff's cluster certificates, for the API server's HTTPS-only listener and its x509
//! client authentication (user = subject CN, groups = subject O's, as in Kubernetes).
//!
//! [`ClusterPki::load_or_create`] keeps, under a data directory, a cluster CA, the API
//! server's serving certificate, an admin client certificate (`system:admin` /
//! `system:masters`) and the node join token; it creates them on first start and reuses
//! them afterwards, reissuing only what must change. From it come the admin kubeconfig
//! ([`ClusterPki::write_kubeconfig`]), client certificates for nodes and users
//! ([`ClusterPki::issue_client_cert`]) and the server's rustls config
//! ([`ClusterPki::server_tls_config`]); [`identity_from_client_cert`] turns a verified peer
//! certificate into a [`ClientIdentity`].
//!
//! Crypto is ECDSA P-256 / SHA-256 throughout, with the `ring` provider (no aws-lc / cmake).

mod cluster;
mod der;
mod error;
mod files;
mod inspect;
mod issue;
mod kubeconfig;
mod names;
mod tls;

pub use cluster::{Changes, ClusterPki, ADMIN_GROUP, ADMIN_USER, KUBECONFIG_ADMIN_USER};
pub use error::{Error, Result};
pub use inspect::{identity_from_client_cert, ClientIdentity};
pub use kubeconfig::{
    render_kubeconfig, write_kubeconfig_file, KubeconfigSpec, KUBECONFIG_CLUSTER,
};
pub use names::{ServerNames, DEFAULT_SERVER_DNS_NAMES, DEFAULT_SERVER_IPS};
pub use tls::{crypto_provider, ALPN_PROTOCOLS};
