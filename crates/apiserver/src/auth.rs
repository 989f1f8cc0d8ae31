//! Who is asking, and may they: authentication of a request from its TLS client certificate
//! (user = CN, groups = O, as Kubernetes' x509 authenticator) or its bearer token, and the
//! authorizer seam. Until RBAC exists the authorizer allows any authenticated identity.
//! Pure apart from reading the peer certificate handed in by the TLS layer.

use std::collections::HashMap;

use crate::path::Verb;

/// The authenticated caller, as upstream's `user.Info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user: String,
    pub groups: Vec<String>,
}

/// The identity the node join token maps to (k3s and kubeadm give bootstrap tokens a
/// `system:bootstrappers` identity; nodes use it to obtain their own certificate).
pub const BOOTSTRAP_USER: &str = "system:bootstrap:skiff-node";
/// The group of that identity.
pub const BOOTSTRAP_GROUP: &str = "system:bootstrappers";

/// Groups every authenticated identity carries, as upstream adds them.
const AUTHENTICATED_GROUP: &str = "system:authenticated";

/// Bearer tokens the server accepts.
#[derive(Debug, Default, Clone)]
pub struct TokenAuthenticator {
    tokens: HashMap<String, Identity>,
}

impl TokenAuthenticator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `token` as `identity`.
    pub fn insert(&mut self, token: impl Into<String>, identity: Identity) {
        self.tokens.insert(token.into(), identity);
    }

    /// The identity of a bearer token, if known. Comparison is constant-time per candidate
    /// so the token cannot be guessed byte by byte from response times.
    pub fn lookup(&self, token: &str) -> Option<&Identity> {
        self.tokens
            .iter()
            .find(|(known, _)| constant_time_eq(known.as_bytes(), token.as_bytes()))
            .map(|(_, id)| id)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Authenticates a request: a verified client certificate's identity wins, then an
/// `Authorization: Bearer` token. `None` means anonymous.
pub fn authenticate(
    cert_identity: Option<&Identity>,
    authorization: Option<&str>,
    tokens: &TokenAuthenticator,
) -> Result<Option<Identity>, String> {
    if let Some(id) = cert_identity {
        return Ok(Some(with_authenticated_group(id.clone())));
    }
    let Some(header) = authorization else {
        return Ok(None);
    };
    let Some(token) = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
    else {
        // Basic auth and other schemes are not supported: anonymous, as upstream without
        // an authenticator for them.
        return Ok(None);
    };
    match tokens.lookup(token.trim()) {
        Some(id) => Ok(Some(with_authenticated_group(id.clone()))),
        None => Err("invalid bearer token".into()),
    }
}

fn with_authenticated_group(mut id: Identity) -> Identity {
    if !id.groups.iter().any(|g| g == AUTHENTICATED_GROUP) {
        id.groups.push(AUTHENTICATED_GROUP.into());
    }
    id
}

/// Paths anyone may read without credentials (upstream's `system:public-info-viewer`).
pub fn is_public_path(path: &str) -> bool {
    matches!(path, "/healthz" | "/livez" | "/readyz" | "/version")
        || path.starts_with("/healthz/")
        || path.starts_with("/livez/")
        || path.starts_with("/readyz/")
}

/// What a request wants to do, for the authorizer.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    pub identity: &'a Identity,
    pub verb: Option<Verb>,
    pub group: &'a str,
    pub resource: &'a str,
    pub subresource: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
    pub path: &'a str,
}

/// The decision on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(String),
}

/// The authorizer seam (RBAC plugs in here).
pub trait Authorizer: Send + Sync {
    fn authorize(&self, attrs: &Attributes<'_>) -> Decision;
}

/// Allows every authenticated identity.
pub struct AllowAuthenticated;

impl Authorizer for AllowAuthenticated {
    fn authorize(&self, _attrs: &Attributes<'_>) -> Decision {
        Decision::Allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> Identity {
        Identity {
            user: "system:admin".into(),
            groups: vec!["system:masters".into()],
        }
    }

    #[test]
    fn certificate_wins_and_gets_authenticated_group() {
        let tokens = TokenAuthenticator::new();
        let id = authenticate(Some(&admin()), Some("Bearer nope"), &tokens)
            .unwrap()
            .unwrap();
        assert_eq!(id.user, "system:admin");
        assert_eq!(id.groups, vec!["system:masters", "system:authenticated"]);
    }

    #[test]
    fn bearer_tokens() {
        let mut tokens = TokenAuthenticator::new();
        tokens.insert(
            "abc",
            Identity {
                user: BOOTSTRAP_USER.into(),
                groups: vec![BOOTSTRAP_GROUP.into()],
            },
        );
        let id = authenticate(None, Some("Bearer abc"), &tokens)
            .unwrap()
            .unwrap();
        assert_eq!(id.user, BOOTSTRAP_USER);
        assert!(authenticate(None, Some("Bearer abd"), &tokens).is_err());
        assert!(authenticate(None, Some("Bearer ab"), &tokens).is_err());
        assert_eq!(authenticate(None, None, &tokens), Ok(None));
        assert_eq!(authenticate(None, Some("Basic eDp5"), &tokens), Ok(None));
    }

    #[test]
    fn public_paths() {
        for p in ["/healthz", "/livez", "/readyz", "/version", "/readyz/ping"] {
            assert!(is_public_path(p), "{p}");
        }
        for p in [
            "/api",
            "/apis",
            "/api/v1/namespaces",
            "/openapi/v2",
            "/versionx",
        ] {
            assert!(!is_public_path(p), "{p}");
        }
    }
}
