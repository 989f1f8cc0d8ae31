//! Kubeconfig files in the `v1` `Config` format that kubectl and client-go read (field names
//! as in client-go's `tools/clientcmd/api/v1/types.go`), with the CA and the client
//! certificate and key embedded as base64 PEM (`*-data` fields), so the file works alone.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::files;

/// Name of the cluster entry and of the context in kubeconfigs written here.
pub const KUBECONFIG_CLUSTER: &str = "skiff";

/// What goes into a kubeconfig: one cluster, one user, one context (the current one).
#[derive(Debug, Clone)]
pub struct KubeconfigSpec<'a> {
    /// `https://host:port` of the API server.
    pub server_url: &'a str,
    /// PEM of the cluster CA.
    pub ca_pem: &'a str,
    /// Name of the user entry (`admin`, `node-1`, ...).
    pub user_name: &'a str,
    /// PEM client certificate.
    pub client_cert_pem: &'a str,
    /// PEM private key of the client certificate.
    pub client_key_pem: &'a str,
}

#[derive(Debug, Serialize, Deserialize)]
struct Config {
    #[serde(rename = "apiVersion")]
    api_version: String,
    kind: String,
    clusters: Vec<NamedCluster>,
    users: Vec<NamedUser>,
    contexts: Vec<NamedContext>,
    #[serde(rename = "current-context")]
    current_context: String,
    preferences: Preferences,
}

#[derive(Debug, Serialize, Deserialize)]
struct Preferences {}

#[derive(Debug, Serialize, Deserialize)]
struct NamedCluster {
    name: String,
    cluster: Cluster,
}

#[derive(Debug, Serialize, Deserialize)]
struct Cluster {
    server: String,
    #[serde(rename = "certificate-authority-data")]
    certificate_authority_data: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct NamedUser {
    name: String,
    user: User,
}

#[derive(Debug, Serialize, Deserialize)]
struct User {
    #[serde(rename = "client-certificate-data")]
    client_certificate_data: String,
    #[serde(rename = "client-key-data")]
    client_key_data: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct NamedContext {
    name: String,
    context: Context,
}

#[derive(Debug, Serialize, Deserialize)]
struct Context {
    cluster: String,
    user: String,
}

/// The kubeconfig YAML for `spec`: cluster `skiff`, the given user, context `skiff` current.
pub fn render_kubeconfig(spec: &KubeconfigSpec<'_>) -> Result<String> {
    if !spec.server_url.starts_with("https://") {
        return Err(Error::InvalidInput(format!(
            "server URL {:?} must start with https://",
            spec.server_url
        )));
    }
    if spec.user_name.is_empty() {
        return Err(Error::InvalidInput("empty kubeconfig user name".into()));
    }
    let config = Config {
        api_version: "v1".into(),
        kind: "Config".into(),
        clusters: vec![NamedCluster {
            name: KUBECONFIG_CLUSTER.into(),
            cluster: Cluster {
                server: spec.server_url.into(),
                certificate_authority_data: BASE64.encode(spec.ca_pem),
            },
        }],
        users: vec![NamedUser {
            name: spec.user_name.into(),
            user: User {
                client_certificate_data: BASE64.encode(spec.client_cert_pem),
                client_key_data: BASE64.encode(spec.client_key_pem),
            },
        }],
        contexts: vec![NamedContext {
            name: KUBECONFIG_CLUSTER.into(),
            context: Context {
                cluster: KUBECONFIG_CLUSTER.into(),
                user: spec.user_name.into(),
            },
        }],
        current_context: KUBECONFIG_CLUSTER.into(),
        preferences: Preferences {},
    };
    serde_yaml::to_string(&config).map_err(|err| Error::Kubeconfig(err.to_string()))
}

/// Renders `spec` and writes it to `path` (mode 0600, atomically), creating the parent
/// directory if needed.
pub fn write_kubeconfig_file(path: &Path, spec: &KubeconfigSpec<'_>) -> Result<()> {
    let yaml = render_kubeconfig(spec)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|err| Error::io(parent, err))?;
    }
    files::write_atomic(path, yaml.as_bytes(), files::PRIVATE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_plain_http() {
        let spec = KubeconfigSpec {
            server_url: "http://127.0.0.1:6443",
            ca_pem: "ca",
            user_name: "admin",
            client_cert_pem: "cert",
            client_key_pem: "key",
        };
        assert!(matches!(
            render_kubeconfig(&spec),
            Err(Error::InvalidInput(_))
        ));
    }

    #[test]
    fn round_trips_through_the_types() {
        let spec = KubeconfigSpec {
            server_url: "https://127.0.0.1:6443",
            ca_pem: "ca",
            user_name: "admin",
            client_cert_pem: "cert",
            client_key_pem: "key",
        };
        let yaml = render_kubeconfig(&spec).unwrap();
        let back: Config = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(back.users[0].user.client_key_data, BASE64.encode("key"));
        assert_eq!(back.current_context, "skiff");
    }
}
