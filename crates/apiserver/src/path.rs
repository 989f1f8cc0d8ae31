//! Request paths and verbs, as upstream's RequestInfo resolves them: which API group and
//! version, namespace, resource, name and subresource a request addresses, and which verb
//! (get, list, watch, create, update, patch, delete, deletecollection) it performs. Pure.

use http::Method;

/// What a request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/api`: the legacy group's versions.
    LegacyVersions,
    /// `/apis`: every group.
    Groups,
    /// `/apis/{group}`: one group's versions.
    Group { group: String },
    /// `/api/v1`, `/apis/{group}/{version}`: the resources of a group-version.
    Resources { group: String, version: String },
    /// A resource, a collection or a subresource.
    Resource(ResourceRequest),
}

/// A request on objects of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRequest {
    pub verb: Verb,
    /// "" for the core (legacy) group.
    pub group: String,
    pub version: String,
    /// The namespace in the path, if any (a namespaced resource listed across all namespaces
    /// has none).
    pub namespace: Option<String>,
    /// The resource's plural name (`pods`, `deployments`).
    pub resource: String,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// The Kubernetes verb of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    DeleteCollection,
}

impl Verb {
    /// The verb as RBAC and discovery spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::DeleteCollection => "deletecollection",
        }
    }
}

/// Why a path is not an API path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// Not under /api or /apis, or not of a shape the API has.
    NotFound,
    /// A method the addressed thing does not support.
    MethodNotAllowed,
}

/// Subresources of a namespace, which `/api/v1/namespaces/{name}/{x}` may name instead of a
/// namespaced resource.
const NAMESPACE_SUBRESOURCES: [&str; 2] = ["status", "finalize"];

/// Resolves `method` on `path` (without the query); `watch` is true when the query asks for
/// a watch (`watch=true` or `watch=1`).
pub fn resolve(method: &Method, path: &str, watch: bool) -> Result<Target, PathError> {
    let parts: Vec<&str> = path
        .trim_start_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api"] => return discovery(method, Target::LegacyVersions),
        ["api", v] => {
            return discovery(
                method,
                Target::Resources {
                    group: String::new(),
                    version: v.to_string(),
                },
            )
        }
        ["apis"] => return discovery(method, Target::Groups),
        ["apis", g] => {
            return discovery(
                method,
                Target::Group {
                    group: g.to_string(),
                },
            )
        }
        ["apis", g, v] => {
            return discovery(
                method,
                Target::Resources {
                    group: g.to_string(),
                    version: v.to_string(),
                },
            )
        }
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(PathError::NotFound),
    };
    // The deprecated `/watch/` prefix means a watch of what follows.
    let (watch, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        _ => (watch, rest),
    };
    // `namespaces/{ns}/{resource}...` addresses a namespaced resource, unless what follows the
    // namespace is one of the namespace's own subresources.
    let (namespace, rest) = match rest {
        ["namespaces", ns, sub, ..] if !NAMESPACE_SUBRESOURCES.contains(sub) => {
            (Some(ns.to_string()), &rest[2..])
        }
        _ => (None, rest),
    };
    let (resource, name, subresource) = match rest {
        [r] => (r.to_string(), None, None),
        [r, n] => (r.to_string(), Some(n.to_string()), None),
        [r, n, s] => (r.to_string(), Some(n.to_string()), Some(s.to_string())),
        _ => return Err(PathError::NotFound),
    };
    let verb = verb(method, name.is_some(), watch)?;
    Ok(Target::Resource(ResourceRequest {
        verb,
        group: group.to_string(),
        version: version.to_string(),
        namespace,
        resource,
        name,
        subresource,
    }))
}

fn discovery(method: &Method, target: Target) -> Result<Target, PathError> {
    if method == Method::GET || method == Method::HEAD {
        Ok(target)
    } else {
        Err(PathError::MethodNotAllowed)
    }
}

fn verb(method: &Method, named: bool, watch: bool) -> Result<Verb, PathError> {
    Ok(match *method {
        Method::GET | Method::HEAD if watch => Verb::Watch,
        Method::GET | Method::HEAD if named => Verb::Get,
        Method::GET | Method::HEAD => Verb::List,
        Method::POST => Verb::Create,
        Method::PUT => Verb::Update,
        Method::PATCH => Verb::Patch,
        Method::DELETE if named => Verb::Delete,
        Method::DELETE => Verb::DeleteCollection,
        _ => return Err(PathError::MethodNotAllowed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(method: Method, path: &str) -> ResourceRequest {
        match resolve(&method, path, false) {
            Ok(Target::Resource(r)) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    fn rr(
        verb: Verb,
        group: &str,
        ns: Option<&str>,
        resource: &str,
        name: Option<&str>,
        sub: Option<&str>,
    ) -> ResourceRequest {
        ResourceRequest {
            verb,
            group: group.into(),
            version: "v1".into(),
            namespace: ns.map(Into::into),
            resource: resource.into(),
            name: name.map(Into::into),
            subresource: sub.map(Into::into),
        }
    }

    #[test]
    fn resource_paths_resolve_as_upstream() {
        use Verb::*;
        let cases = [
            (
                Method::GET,
                "/api/v1/pods",
                rr(List, "", None, "pods", None, None),
            ),
            (
                Method::GET,
                "/api/v1/namespaces/default/pods",
                rr(List, "", Some("default"), "pods", None, None),
            ),
            (
                Method::POST,
                "/api/v1/namespaces/default/pods",
                rr(Create, "", Some("default"), "pods", None, None),
            ),
            (
                Method::GET,
                "/api/v1/namespaces/default/pods/web",
                rr(Get, "", Some("default"), "pods", Some("web"), None),
            ),
            (
                Method::PUT,
                "/api/v1/namespaces/default/pods/web/status",
                rr(
                    Update,
                    "",
                    Some("default"),
                    "pods",
                    Some("web"),
                    Some("status"),
                ),
            ),
            (
                Method::DELETE,
                "/api/v1/namespaces/default/configmaps",
                rr(
                    DeleteCollection,
                    "",
                    Some("default"),
                    "configmaps",
                    None,
                    None,
                ),
            ),
            (
                Method::PATCH,
                "/apis/apps/v1/namespaces/ns1/deployments/d/scale",
                rr(
                    Patch,
                    "apps",
                    Some("ns1"),
                    "deployments",
                    Some("d"),
                    Some("scale"),
                ),
            ),
            (
                Method::GET,
                "/api/v1/nodes/n1",
                rr(Get, "", None, "nodes", Some("n1"), None),
            ),
            // Namespaces themselves, and their own subresources.
            (
                Method::GET,
                "/api/v1/namespaces",
                rr(List, "", None, "namespaces", None, None),
            ),
            (
                Method::GET,
                "/api/v1/namespaces/kube-system",
                rr(Get, "", None, "namespaces", Some("kube-system"), None),
            ),
            (
                Method::PUT,
                "/api/v1/namespaces/x/finalize",
                rr(Update, "", None, "namespaces", Some("x"), Some("finalize")),
            ),
            (
                Method::PUT,
                "/api/v1/namespaces/x/status",
                rr(Update, "", None, "namespaces", Some("x"), Some("status")),
            ),
            // The deprecated watch prefix.
            (
                Method::GET,
                "/api/v1/watch/namespaces/default/pods",
                rr(Watch, "", Some("default"), "pods", None, None),
            ),
        ];
        for (method, path, want) in cases {
            assert_eq!(res(method, path), want, "{path}");
        }
    }

    #[test]
    fn watch_query_turns_a_list_into_a_watch() {
        let Ok(Target::Resource(r)) = resolve(&Method::GET, "/api/v1/pods", true) else {
            panic!()
        };
        assert_eq!(r.verb, Verb::Watch);
    }

    #[test]
    fn discovery_paths() {
        let get = |p| resolve(&Method::GET, p, false);
        assert_eq!(get("/api"), Ok(Target::LegacyVersions));
        assert_eq!(get("/apis/"), Ok(Target::Groups));
        assert_eq!(
            get("/apis/apps"),
            Ok(Target::Group {
                group: "apps".into()
            })
        );
        assert_eq!(
            get("/apis/apps/v1"),
            Ok(Target::Resources {
                group: "apps".into(),
                version: "v1".into()
            })
        );
        assert_eq!(
            resolve(&Method::POST, "/api", false),
            Err(PathError::MethodNotAllowed)
        );
    }

    #[test]
    fn other_paths_are_not_found() {
        for p in [
            "/",
            "/foo",
            "/api/v1/a/b/c/d",
            "/apis/apps/v1/namespaces/x/deployments/d/scale/more",
        ] {
            assert_eq!(
                resolve(&Method::GET, p, false),
                Err(PathError::NotFound),
                "{p}"
            );
        }
        assert_eq!(
            resolve(&Method::OPTIONS, "/api/v1/pods", false),
            Err(PathError::MethodNotAllowed)
        );
    }
}
