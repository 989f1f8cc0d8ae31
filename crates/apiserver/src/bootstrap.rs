//! What exists from the first start, as upstream's bootstrap controllers create it: the
//! namespaces `default`, `kube-system`, `kube-public`, `kube-node-lease`, and the
//! `kubernetes` Service in `default` (the service CIDR's first address, port 443) with
//! Endpoints and an EndpointSlice pointing at this server. Idempotent: existing objects are
//! left alone, except that the endpoints follow this server's address.

use std::net::Ipv4Addr;

use serde_json::{json, Value};
use skiff_api::resources::by_group_version_resource;

use crate::app::App;
use crate::objects::ResourceScope;
use crate::status::ApiError;

pub const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

async fn ensure(
    app: &App,
    group: &str,
    version: &str,
    plural: &str,
    ns: Option<&str>,
    obj: Value,
) -> Result<(), ApiError> {
    let r = by_group_version_resource(group, version, plural)
        .ok_or_else(|| ApiError::Internal(format!("{plural} not registered")))?;
    match app.objects.create(&ResourceScope::new(r), ns, obj).await {
        Ok(_) | Err(ApiError::AlreadyExists { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn run(app: &App) -> Result<(), ApiError> {
    for ns in SYSTEM_NAMESPACES {
        ensure(
            app,
            "",
            "v1",
            "namespaces",
            None,
            json!({
                "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            }),
        )
        .await?;
    }
    let ip = app.allocators.service_cidr.nth(1).to_string();
    let mut svc = json!({
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {
            "type": "ClusterIP", "clusterIP": ip, "sessionAffinity": "None",
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster",
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": app.config.https_port}],
        },
        "status": {"loadBalancer": {}},
    });
    let key = "/registry/services/default/kubernetes";
    if app.store.get(key).await.ok().flatten().is_none() {
        app.allocators
            .allocate_service(&mut svc, None, key)
            .await
            .map_err(|c| ApiError::Internal(format!("kubernetes service address: {c:?}")))?;
        ensure(app, "", "v1", "services", Some("default"), svc).await?;
    }
    let addr = app
        .config
        .advertise_address
        .parse::<Ipv4Addr>()
        .unwrap_or(Ipv4Addr::LOCALHOST)
        .to_string();
    let port = app.config.https_port;
    let eps = json!({
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": addr}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}],
    });
    let slice = json!({
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"kubernetes.io/service-name": "kubernetes", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [addr], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    });
    upsert(app, "", "v1", "endpoints", eps).await?;
    upsert(app, "discovery.k8s.io", "v1", "endpointslices", slice).await?;
    Ok(())
}

/// Creates the object, or replaces its content when it differs.
async fn upsert(
    app: &App,
    group: &str,
    version: &str,
    plural: &str,
    obj: Value,
) -> Result<(), ApiError> {
    let r = by_group_version_resource(group, version, plural)
        .ok_or_else(|| ApiError::Internal(format!("{plural} not registered")))?;
    let scope = ResourceScope::new(r);
    match app
        .objects
        .create(&scope, Some("default"), obj.clone())
        .await
    {
        Ok(_) => Ok(()),
        Err(ApiError::AlreadyExists { .. }) => {
            app.objects
                .update_with(&scope, Some("default"), "kubernetes", |old| {
                    let mut new = old.clone();
                    for k in ["subsets", "endpoints", "ports", "addressType"] {
                        if let Some(v) = obj.get(k) {
                            new[k] = v.clone();
                        }
                    }
                    if let Some(m) = new["metadata"].as_object_mut() {
                        m.remove("resourceVersion");
                    }
                    Ok(new)
                })
                .await?;
            Ok(())
        }
        Err(e) => Err(e),
    }
}
