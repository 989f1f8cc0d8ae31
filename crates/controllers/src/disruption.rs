//! The disruption controller (upstream's disruption-controller): keeps every
//! PodDisruptionBudget's status (currentHealthy, desiredHealthy, expectedPods,
//! disruptionsAllowed, disruptedPods, observedGeneration, the DisruptionAllowed condition)
//! true to its pods, which the API server's eviction reads. [`budget`] computes the status;
//! this module feeds it from the informers, finds the scale of the pods' controllers and
//! writes the status subresource.

pub mod budget;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Pod, ReplicationController};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, PostParams};
use skiff_runtime::events::{EventType, Recorder};
use skiff_runtime::{Change, Informer, Informers, ObjectKey, WorkQueue};

use crate::context::Context;
use budget::ScaleLookup;

/// The informers the controller reads.
struct Caches {
    pdbs: Arc<Informer<PodDisruptionBudget>>,
    pods: Arc<Informer<Pod>>,
    rcs: Arc<Informer<ReplicationController>>,
    rss: Arc<Informer<ReplicaSet>>,
    deployments: Arc<Informer<Deployment>>,
    statefulsets: Arc<Informer<StatefulSet>>,
}

impl Caches {
    fn new(i: &Informers) -> Self {
        Caches {
            pdbs: i.get(),
            pods: i.get(),
            rcs: i.get(),
            rss: i.get(),
            deployments: i.get(),
            statefulsets: i.get(),
        }
    }

    async fn synced(&self) {
        self.pdbs.synced().await;
        self.pods.synced().await;
        self.rcs.synced().await;
        self.rss.synced().await;
        self.deployments.synced().await;
        self.statefulsets.synced().await;
    }

    /// The scale of the controller `r` of a pod in `ns` (upstream's finders: a
    /// ReplicationController, the Deployment of a ReplicaSet, a ReplicaSet, a
    /// StatefulSet); `Ok(None)` when no controller with its uid exists.
    fn scale_of(&self, r: &OwnerReference, ns: &str) -> Result<Option<i32>, String> {
        let group = r.api_version.split_once('/').map_or("", |(g, _)| g);
        let same = |uid: Option<&String>| uid == Some(&r.uid);
        match (group, r.kind.as_str()) {
            ("", "ReplicationController") => Ok(self
                .rcs
                .get_named(ns, &r.name)
                .filter(|rc| same(rc.metadata.uid.as_ref()))
                .map(|rc| rc.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1))),
            ("apps", "ReplicaSet") => {
                let Some(rs) = self
                    .rss
                    .get_named(ns, &r.name)
                    .filter(|rs| same(rs.metadata.uid.as_ref()))
                else {
                    return Ok(None);
                };
                let owner = rs
                    .metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .find(|o| o.controller == Some(true) && o.kind == "Deployment");
                if let Some(o) = owner {
                    if let Some(d) = self
                        .deployments
                        .get_named(ns, &o.name)
                        .filter(|d| d.metadata.uid.as_ref() == Some(&o.uid))
                    {
                        return Ok(Some(d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)));
                    }
                }
                Ok(Some(rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)))
            }
            ("apps", "StatefulSet") => Ok(self
                .statefulsets
                .get_named(ns, &r.name)
                .filter(|s| same(s.metadata.uid.as_ref()))
                .map(|s| s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1))),
            _ => {
                let version = r
                    .api_version
                    .split_once('/')
                    .map_or(r.api_version.as_str(), |(_, v)| v);
                match skiff_api::resources::by_group_version_kind(group, version, &r.kind) {
                    Some(res) => {
                        let gr = if res.group.is_empty() {
                            res.plural.to_string()
                        } else {
                            format!("{}.{}", res.plural, res.group)
                        };
                        Err(format!("{gr} does not implement the scale subresource"))
                    }
                    None => Err(format!(
                        "no matches for kind {:?} in version {:?}",
                        r.kind, r.api_version
                    )),
                }
            }
        }
    }

    /// The budgets in the pod's namespace selecting it.
    fn budgets_of(&self, pod: &Pod) -> Vec<ObjectKey> {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        self.pdbs
            .list_in(&ns)
            .iter()
            .filter(|b| budget::selector(b).is_ok_and(|s| budget::selects(&s, pod)))
            .map(|b| ObjectKey::of(&b.metadata))
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
enum SyncError {
    #[error(transparent)]
    Api(#[from] kube::Error),
    #[error("{0}")]
    Failed(String),
}

fn is_conflict(e: &SyncError) -> bool {
    matches!(e, SyncError::Api(kube::Error::Api(s)) if s.code == 409)
}

async fn write_status(
    api: &Api<PodDisruptionBudget>,
    pdb: &PodDisruptionBudget,
    status: k8s_openapi::api::policy::v1::PodDisruptionBudgetStatus,
) -> Result<(), kube::Error> {
    let mut new = pdb.clone();
    new.status = Some(status);
    let name = pdb.metadata.name.clone().unwrap_or_default();
    api.replace_status(&name, &PostParams::default(), &new)
        .await
        .map(|_| ())
}

/// Upstream's trySync: returns when to look again (an evicted pod's deadline).
async fn try_sync(
    caches: &Caches,
    recorder: &Recorder,
    api: &Api<PodDisruptionBudget>,
    pdb: &PodDisruptionBudget,
    now: Timestamp,
) -> Result<Option<Duration>, SyncError> {
    let ns = pdb.metadata.namespace.clone().unwrap_or_default();
    let sel = budget::selector(pdb).map_err(|e| {
        recorder.record(
            pdb,
            EventType::Warning,
            "NoPods",
            format!("Failed to get pods: {e}"),
        );
        SyncError::Failed(e)
    })?;
    let all = caches.pods.list_in(&ns);
    let pods: Vec<&Pod> = all
        .iter()
        .map(|p| p.as_ref())
        .filter(|p| budget::selects(&sel, p))
        .collect();
    if pods.is_empty() {
        recorder.record(pdb, EventType::Normal, "NoPods", "No matching pods found");
    }
    let mut scales = ScaleLookup::new();
    if budget::needs_scales(pdb) {
        let refs: BTreeSet<(String, String, String, String)> = pods
            .iter()
            .filter_map(|p| budget::controller_of(p))
            .map(|r| {
                (
                    r.uid.clone(),
                    r.api_version.clone(),
                    r.kind.clone(),
                    r.name.clone(),
                )
            })
            .collect();
        for (uid, api_version, kind, name) in refs {
            let r = OwnerReference {
                api_version,
                kind,
                name,
                uid: uid.clone(),
                ..Default::default()
            };
            scales.insert(uid, caches.scale_of(&r, &ns));
        }
    }
    let expected = budget::expected_counts(pdb, &pods, &scales).map_err(|e| {
        recorder.record(
            pdb,
            EventType::Warning,
            "CalculateExpectedPodCountFailed",
            format!("Failed to calculate the number of expected pods: {e}"),
        );
        SyncError::Failed(e)
    })?;
    if !expected.unmanaged.is_empty() {
        let sel_text = budget::selector_string(pdb.spec.as_ref().and_then(|s| s.selector.as_ref()));
        recorder.record(
            pdb,
            EventType::Warning,
            "UnmanagedPods",
            format!(
                "Pods selected by this PodDisruptionBudget (selector: {sel_text}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value."
            ),
        );
    }
    let (disrupted, recheck, not_deleted) = budget::disrupted_pods(pdb, &pods, now);
    for name in not_deleted {
        if let Some(p) = caches.pods.get_named(&ns, &name) {
            recorder.record(
                p.as_ref(),
                EventType::Warning,
                "NotDeleted",
                format!(
                    "Pod was expected by PDB {ns}/{} to be deleted but it wasn't",
                    pdb.metadata.name.as_deref().unwrap_or_default()
                ),
            );
        }
    }
    let healthy = budget::count_healthy(&pods, &disrupted, now);
    if let Some(status) = budget::new_status(pdb, healthy, &expected, disrupted, now) {
        write_status(api, pdb, status).await?;
    }
    Ok(recheck.map(|t| {
        let d = t.duration_since(now);
        Duration::try_from(d).unwrap_or_default()
    }))
}

pub async fn run(ctx: Arc<Context>) {
    let caches = Arc::new(Caches::new(&ctx.informers));
    let queue: WorkQueue<ObjectKey> = WorkQueue::new();
    let mut pdb_changes = caches.pdbs.subscribe();
    let mut pod_changes = caches.pods.subscribe();
    caches.synced().await;
    for k in caches.pdbs.keys() {
        queue.add(k);
    }
    {
        let q = queue.clone();
        let caches = caches.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    c = pdb_changes.recv() => match c {
                        Some(Change::Resync) => caches.pdbs.keys().into_iter().for_each(|k| q.add(k)),
                        Some(c) => if let Some(b) = c.object() { q.add(ObjectKey::of(&b.metadata)) },
                        None => return,
                    },
                    c = pod_changes.recv() => match c {
                        Some(Change::Resync) => caches.pdbs.keys().into_iter().for_each(|k| q.add(k)),
                        Some(Change::Updated { old, new }) => {
                            caches.budgets_of(&new).into_iter().for_each(|k| q.add(k));
                            if old.metadata.labels != new.metadata.labels {
                                caches.budgets_of(&old).into_iter().for_each(|k| q.add(k));
                            }
                        }
                        Some(c) => if let Some(p) = c.object() {
                            caches.budgets_of(p).into_iter().for_each(|k| q.add(k))
                        },
                        None => return,
                    },
                }
            }
        });
    }
    let recorder = ctx.recorder("controllermanager");
    let client = ctx.client.clone();
    queue
        .run(ctx.config.workers, move |key: ObjectKey| {
            let caches = caches.clone();
            let recorder = recorder.clone();
            let client = client.clone();
            async move {
                let Some(pdb) = caches.pdbs.get(&key) else {
                    return Ok(None);
                };
                let api: Api<PodDisruptionBudget> = Api::namespaced(client, &key.namespace);
                let now = Timestamp::now();
                match try_sync(&caches, &recorder, &api, &pdb, now).await {
                    Ok(recheck) => Ok(recheck),
                    Err(e) if is_conflict(&e) => Err(e),
                    Err(e) => {
                        // Fail safe: no disruption allowed while the status cannot be known.
                        let status = budget::fail_safe_status(&pdb, &e.to_string(), now);
                        write_status(&api, &pdb, status)
                            .await
                            .map_err(SyncError::from)?;
                        Ok(None)
                    }
                }
            }
        })
        .await;
}
