//! The Deployment controller (upstream's deployment-controller): each Deployment owns
//! ReplicaSets named `<deployment>-<pod-template-hash>`, one per template it has had, and
//! rolls from the old ones to the new one by its strategy, with revisions, pause, history
//! cleanup, proportional scaling and the Progressing / Available conditions `kubectl rollout`
//! reads. [`plan`] decides a sync purely (see [`sync::Planner`]); this module claims the
//! ReplicaSets, feeds the plan from the shared informers and carries it out.

pub mod progress;
pub mod recreate;
pub mod rolling;
pub mod sync;
pub mod util;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use skiff_runtime::events::{EventType, Recorder};
use skiff_runtime::{Change, Informer, ObjectKey, WorkQueue};

use crate::context::Context;
use crate::podcontrol;
use crate::replicaset::err_text;
use sync::{Plan, Planner, Write};

pub const COMPONENT: &str = "deployment-controller";

/// Decides one sync of `d` over the ReplicaSets it owns (and, for Recreate, the pods they
/// control) at `now` (upstream `syncDeployment` after the claims).
pub fn plan(d: &Deployment, rss: &[ReplicaSet], pods: &[&Pod], now: jiff::Timestamp) -> Plan {
    let mut p = Planner::new(d, now);
    let selector = d.spec.as_ref().map(|s| &s.selector);
    let selects_all = selector.is_none_or(|s| {
        s.match_labels.as_ref().is_none_or(|m| m.is_empty())
            && s.match_expressions.as_ref().is_none_or(|e| e.is_empty())
    });
    if selects_all {
        p.plan.warnings.push((
            "SelectingAll".into(),
            "This deployment is selecting all pods. A non-empty selector is required.".into(),
        ));
        let generation = d.metadata.generation;
        let st = p.status_mut();
        if st.observed_generation < generation {
            st.observed_generation = generation;
        }
        return p.finish();
    }
    if d.metadata.deletion_timestamp.is_some() {
        let (new_rs, old) = p.all_rss_and_sync_revision(rss, false);
        let all: Vec<&ReplicaSet> = old.iter().chain(new_rs.as_ref()).collect();
        p.sync_status(&all, new_rs.as_ref());
        return p.finish();
    }
    p.check_paused_conditions();
    if util::paused(d) {
        p.sync(rss);
        return p.finish();
    }
    if p.is_scaling_event(rss) {
        p.sync(rss);
        return p.finish();
    }
    if util::is_recreate(d) {
        p.rollout_recreate(rss, pods);
    } else {
        p.rollout_rolling(rss);
    }
    p.finish()
}

struct Controller {
    client: kube::Client,
    deployments: Arc<Informer<Deployment>>,
    rss: Arc<Informer<ReplicaSet>>,
    pods: Arc<Informer<Pod>>,
    queue: WorkQueue<ObjectKey>,
    recorder: Recorder,
}

fn ns_of(meta: &kube::api::ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("")
}

impl Controller {
    /// The Deployment an object's controller reference names, if it exists with that uid.
    fn owner_of(&self, meta: &kube::api::ObjectMeta) -> Option<Arc<Deployment>> {
        let r = podcontrol::controller_of(meta)?;
        if r.kind != "Deployment" {
            return None;
        }
        let d = self.deployments.get_named(ns_of(meta), &r.name)?;
        (d.metadata.uid.as_deref() == Some(r.uid.as_str())).then_some(d)
    }

    fn enqueue_owner(&self, meta: &kube::api::ObjectMeta) -> bool {
        match self.owner_of(meta) {
            Some(d) => {
                self.queue.add(ObjectKey::of(&d.metadata));
                true
            }
            None => false,
        }
    }

    /// Deployments whose selector matches an orphan ReplicaSet.
    fn enqueue_matching(&self, rs: &ReplicaSet) {
        for d in self.deployments.list_in(ns_of(&rs.metadata)) {
            let sel = podcontrol::selector(d.spec.as_ref().map(|s| &s.selector));
            if sel.is_some_and(|s| {
                !s.is_everything() && podcontrol::matches(&s, rs.metadata.labels.as_ref())
            }) {
                self.queue.add(ObjectKey::of(&d.metadata));
            }
        }
    }

    fn rs_changed(&self, change: Change<ReplicaSet>) {
        match change {
            Change::Added(rs) => {
                if podcontrol::controller_of(&rs.metadata).is_some() {
                    self.enqueue_owner(&rs.metadata);
                } else if rs.metadata.deletion_timestamp.is_none() {
                    self.enqueue_matching(&rs);
                }
            }
            Change::Updated { old, new } => {
                let old_ref = podcontrol::controller_of(&old.metadata);
                let new_ref = podcontrol::controller_of(&new.metadata);
                if old_ref != new_ref && old_ref.is_some() {
                    self.enqueue_owner(&old.metadata);
                }
                if new_ref.is_some() {
                    self.enqueue_owner(&new.metadata);
                } else if old.metadata.labels != new.metadata.labels || old_ref != new_ref {
                    self.enqueue_matching(&new);
                }
            }
            Change::Deleted(rs) => {
                self.enqueue_owner(&rs.metadata);
            }
            Change::Resync => self.enqueue_all(),
        }
    }

    /// A deleted pod may be what a Recreate rollout waits for.
    fn pod_deleted(&self, pod: &Pod) {
        let Some(r) = podcontrol::controller_of(&pod.metadata) else {
            return;
        };
        if r.kind != "ReplicaSet" {
            return;
        }
        if let Some(rs) = self.rss.get_named(ns_of(&pod.metadata), &r.name) {
            if let Some(d) = self.owner_of(&rs.metadata) {
                if util::is_recreate(&d) {
                    self.queue.add(ObjectKey::of(&d.metadata));
                }
            }
        }
    }

    fn enqueue_all(&self) {
        for k in self.deployments.keys() {
            self.queue.add(k);
        }
    }

    /// Adopts matching orphan ReplicaSets and releases owned ones that stopped matching;
    /// returns the ReplicaSets the Deployment owns.
    async fn claim_rss(&self, d: &Deployment) -> Result<Vec<ReplicaSet>, kube::Error> {
        let ns = ns_of(&d.metadata).to_string();
        let uid = d.metadata.uid.clone().unwrap_or_default();
        let Some(selector) = podcontrol::selector(d.spec.as_ref().map(|s| &s.selector)) else {
            return Ok(Vec::new());
        };
        let candidates: Vec<Arc<ReplicaSet>> = self.rss.list_in(&ns);
        let deleting = d.metadata.deletion_timestamp.is_some();
        let claims = podcontrol::claim(&uid, deleting, &selector, &candidates, |r| &r.metadata);
        let mut owned: Vec<ReplicaSet> = claims.owned.iter().map(|r| (**r).clone()).collect();
        let api: Api<ReplicaSet> = Api::namespaced(self.client.clone(), &ns);
        let pp = PatchParams::default();
        if !claims.adopt.is_empty() {
            let dapi: Api<Deployment> = Api::namespaced(self.client.clone(), &ns);
            let fresh = dapi.get(d.metadata.name.as_deref().unwrap_or("")).await?;
            if fresh.metadata.uid == d.metadata.uid && fresh.metadata.deletion_timestamp.is_none() {
                let cref = podcontrol::controller_ref(d);
                for rs in claims.adopt {
                    let body =
                        podcontrol::adopt_patch(&cref, rs.metadata.uid.as_deref().unwrap_or(""));
                    let name = rs.metadata.name.clone().unwrap_or_default();
                    match api.patch(&name, &pp, &Patch::Strategic(&body)).await {
                        Ok(adopted) => owned.push(adopted),
                        Err(e) if podcontrol::api_code(&e) == 404 => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        for rs in claims.release {
            let body = podcontrol::release_patch(&uid, rs.metadata.uid.as_deref().unwrap_or(""));
            let name = rs.metadata.name.clone().unwrap_or_default();
            match api.patch(&name, &pp, &Patch::Strategic(&body)).await {
                Ok(_) => {}
                Err(e) if matches!(podcontrol::api_code(&e), 404 | 422) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(owned)
    }

    async fn write_status(&self, d: &Deployment) -> Result<(), kube::Error> {
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), ns_of(&d.metadata));
        let name = d.metadata.name.as_deref().unwrap_or("");
        match api.replace_status(name, &PostParams::default(), d).await {
            Ok(_) => Ok(()),
            Err(e) if podcontrol::api_code(&e) == 404 => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The new ReplicaSet's name is taken: ours (the cache lags; try again) or a hash
    /// collision (bump collisionCount so the next hash differs).
    async fn create_conflict(
        &self,
        d: &Deployment,
        rs: &ReplicaSet,
        e: kube::Error,
    ) -> kube::Error {
        let ns = ns_of(&d.metadata);
        let name = rs.metadata.name.as_deref().unwrap_or("");
        let existing = match self.rss.get_named(ns, name) {
            Some(r) => (*r).clone(),
            None => {
                let api: Api<ReplicaSet> = Api::namespaced(self.client.clone(), ns);
                match api.get(name).await {
                    Ok(r) => r,
                    Err(e) => return e,
                }
            }
        };
        let ours = podcontrol::controller_of(&existing.metadata)
            .is_some_and(|r| Some(&r.uid) == d.metadata.uid.as_ref());
        let same = existing
            .spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .is_some_and(|t| util::equal_ignore_hash(t, &util::template(d)));
        if ours && same {
            return e;
        }
        let mut bumped = d.clone();
        let st = bumped.status.get_or_insert_with(Default::default);
        st.collision_count = Some(st.collision_count.unwrap_or(0).saturating_add(1));
        if let Err(e) = self.write_status(&bumped).await {
            return e;
        }
        e
    }

    async fn execute(&self, d: &Deployment, plan: Plan) -> Result<Option<Duration>, kube::Error> {
        for (reason, msg) in &plan.warnings {
            self.recorder
                .record(d, EventType::Warning, reason, msg.clone());
        }
        let ns = ns_of(&d.metadata).to_string();
        let api: Api<ReplicaSet> = Api::namespaced(self.client.clone(), &ns);
        for w in plan.writes {
            match w {
                Write::Create { rs, event } => {
                    match api.create(&PostParams::default(), &rs).await {
                        Ok(_) => {
                            if let Some(msg) = event {
                                self.recorder.record(
                                    d,
                                    EventType::Normal,
                                    sync::SCALING_REPLICA_SET,
                                    msg,
                                );
                            }
                        }
                        Err(e) if podcontrol::api_code(&e) == 409 => {
                            return Err(self.create_conflict(d, &rs, e).await);
                        }
                        Err(e) if podcontrol::namespace_terminating(&e) => return Err(e),
                        Err(e) => {
                            let msg = format!(
                                "Failed to create new replica set {}: {}",
                                skiff_api::labels::go_quote(
                                    rs.metadata.name.as_deref().unwrap_or("")
                                ),
                                err_text(&e)
                            );
                            if util::progress_deadline(d).is_some() {
                                let mut failed = d.clone();
                                let st = failed.status.get_or_insert_with(Default::default);
                                util::set_condition(
                                    st,
                                    util::new_condition(
                                        util::PROGRESSING,
                                        "False",
                                        util::FAILED_RS_CREATE_REASON,
                                        msg.clone(),
                                        jiff::Timestamp::now(),
                                    ),
                                );
                                let _ = self.write_status(&failed).await;
                            }
                            self.recorder.record(
                                d,
                                EventType::Warning,
                                util::FAILED_RS_CREATE_REASON,
                                msg,
                            );
                            return Err(e);
                        }
                    }
                }
                Write::Update { rs, events } => {
                    let name = rs.metadata.name.clone().unwrap_or_default();
                    api.replace(&name, &PostParams::default(), &rs).await?;
                    for msg in events {
                        self.recorder
                            .record(d, EventType::Normal, sync::SCALING_REPLICA_SET, msg);
                    }
                }
                Write::Delete { name } => {
                    let cached = self.rss.get_named(&ns, &name);
                    let dp = DeleteParams {
                        preconditions: cached.map(|r| Preconditions {
                            uid: r.metadata.uid.clone(),
                            resource_version: r.metadata.resource_version.clone(),
                        }),
                        ..Default::default()
                    };
                    match api.delete(&name, &dp).await {
                        Ok(_) => {}
                        Err(e) if podcontrol::api_code(&e) == 404 => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        if let Some(updated) = &plan.deployment {
            self.write_status(updated).await?;
        }
        Ok(plan.requeue_after)
    }

    async fn sync(&self, key: ObjectKey) -> Result<Option<Duration>, kube::Error> {
        let Some(d) = self.deployments.get(&key) else {
            return Ok(None);
        };
        let rss = self.claim_rss(&d).await?;
        let pods: Vec<Arc<Pod>> = if util::is_recreate(&d) {
            let uids: std::collections::HashSet<&str> = rss
                .iter()
                .filter_map(|r| r.metadata.uid.as_deref())
                .collect();
            self.pods
                .list_in(&key.namespace)
                .into_iter()
                .filter(|p| {
                    podcontrol::controller_of(&p.metadata)
                        .is_some_and(|r| uids.contains(r.uid.as_str()))
                })
                .collect()
        } else {
            Vec::new()
        };
        let pods: Vec<&Pod> = pods.iter().map(|p| &**p).collect();
        let plan = plan(&d, &rss, &pods, jiff::Timestamp::now());
        self.execute(&d, plan).await
    }
}

pub async fn run(ctx: Arc<Context>) {
    let deployments = ctx.informers.get::<Deployment>();
    let rss = ctx.informers.get::<ReplicaSet>();
    let pods = ctx.informers.get::<Pod>();
    let mut d_changes = deployments.subscribe();
    let mut rs_changes = rss.subscribe();
    let mut pod_changes = pods.subscribe();
    deployments.synced().await;
    rss.synced().await;
    pods.synced().await;
    let c = Arc::new(Controller {
        client: ctx.client.clone(),
        deployments,
        rss,
        pods,
        queue: WorkQueue::new(),
        recorder: ctx.recorder(COMPONENT),
    });
    c.enqueue_all();
    let events = c.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                ch = d_changes.recv() => match ch {
                    Some(Change::Resync) => events.enqueue_all(),
                    Some(ch) => if let Some(d) = ch.object() {
                        events.queue.add(ObjectKey::of(&d.metadata));
                    },
                    None => return,
                },
                ch = rs_changes.recv() => match ch {
                    Some(ch) => events.rs_changed(ch),
                    None => return,
                },
                ch = pod_changes.recv() => match ch {
                    Some(Change::Deleted(p)) => events.pod_deleted(&p),
                    Some(_) => {}
                    None => return,
                },
            }
        }
    });
    let queue = c.queue.clone();
    queue
        .run(ctx.config.workers, move |key| {
            let c = c.clone();
            async move { c.sync(key).await }
        })
        .await;
}
