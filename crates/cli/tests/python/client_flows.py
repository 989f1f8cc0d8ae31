"""The official Kubernetes Python client against a real skiff server.

Usage: client_flows.py KUBECONFIG. Exits non-zero with a message on the first failure.
Covers CRUD, list with label and field selectors, watch with resume from a
resourceVersion, strategic-merge and merge patches (also on /scale), for core and apps kinds.
"""

import sys
import threading

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")


def main(kubeconfig):
    config.load_kube_config(config_file=kubeconfig)
    core = client.CoreV1Api()
    apps = client.AppsV1Api()
    ns = "py-flows"

    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    names = [n.metadata.name for n in core.list_namespace().items]
    check(ns in names and "default" in names, f"namespaces listed: {names}")

    # ConfigMaps: create, read, replace with a stale resourceVersion (409), list by label.
    for i in range(5):
        core.create_namespaced_config_map(
            ns,
            client.V1ConfigMap(
                metadata=client.V1ObjectMeta(name=f"cm-{i}", labels={"tier": "a" if i % 2 else "b", "i": str(i)}),
                data={"k": str(i)},
            ),
        )
    cm = core.read_namespaced_config_map("cm-1", ns)
    check(cm.data == {"k": "1"} and cm.metadata.uid and cm.metadata.resource_version, "read cm-1")
    stale = cm.metadata.resource_version
    cm.data = {"k": "one"}
    cm2 = core.replace_namespaced_config_map("cm-1", ns, cm)
    check(cm2.data == {"k": "one"}, "replace cm-1")
    cm.metadata.resource_version = stale
    try:
        core.replace_namespaced_config_map("cm-1", ns, cm)
        check(False, "stale replace must fail")
    except ApiException as e:
        check(e.status == 409, f"stale replace: {e.status}")
    try:
        core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm-1")))
        check(False, "duplicate create must fail")
    except ApiException as e:
        check(e.status == 409 and "already exists" in e.body, f"duplicate: {e.status} {e.body}")
    try:
        core.read_namespaced_config_map("nope", ns)
        check(False, "missing must 404")
    except ApiException as e:
        check(e.status == 404, f"missing: {e.status}")
    a = core.list_namespaced_config_map(ns, label_selector="tier=a")
    check(sorted(c.metadata.name for c in a.items) == ["cm-1", "cm-3"], "label selector tier=a")
    notin = core.list_namespaced_config_map(ns, label_selector="i notin (0,1,2)")
    check(sorted(c.metadata.name for c in notin.items) == ["cm-3", "cm-4"], "label selector notin")
    by_name = core.list_namespaced_config_map(ns, field_selector="metadata.name=cm-2")
    check([c.metadata.name for c in by_name.items] == ["cm-2"], "field selector metadata.name")
    page = core.list_namespaced_config_map(ns, limit=2)
    check(len(page.items) == 2 and page.metadata._continue, "limit 2 gives a continue token")
    rest = core.list_namespaced_config_map(ns, limit=10, _continue=page.metadata._continue)
    check(len(rest.items) == 3, f"continued page has the other 3: {len(rest.items)}")

    # Merge patch and strategic merge patch (a dict body is sent as strategic merge).
    core.patch_namespaced_config_map("cm-2", ns, {"metadata": {"labels": {"patched": "yes"}}, "data": {"new": "v"}})
    cm = core.read_namespaced_config_map("cm-2", ns)
    check(cm.metadata.labels.get("patched") == "yes" and cm.data == {"k": "2", "new": "v"}, f"patched cm-2: {cm.data}")

    # Watch with resume: start from a list's resourceVersion, see the next changes.
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    seen = []

    def watcher():
        w = watch.Watch()
        for ev in w.stream(core.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=20):
            seen.append((ev["type"], ev["object"].metadata.name))
            if len(seen) >= 3:
                w.stop()

    t = threading.Thread(target=watcher)
    t.start()
    core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w-1")))
    core.patch_namespaced_config_map("w-1", ns, {"data": {"x": "y"}})
    core.delete_namespaced_config_map("w-1", ns)
    t.join(30)
    check(seen == [("ADDED", "w-1"), ("MODIFIED", "w-1"), ("DELETED", "w-1")], f"watch events: {seen}")

    # Deployments: create, scale through /scale with a strategic merge patch, patch the
    # template, read back, delete.
    dep = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web", labels={"app": "web"}),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "web"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx:1.25")]),
            ),
        ),
    )
    apps.create_namespaced_deployment(ns, dep)
    scale = apps.read_namespaced_deployment_scale("web", ns)
    check(scale.spec.replicas == 2, f"scale read: {scale.spec.replicas}")
    apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 5}})
    d = apps.read_namespaced_deployment("web", ns)
    check(d.spec.replicas == 5, f"replicas after scale patch: {d.spec.replicas}")
    apps.patch_namespaced_deployment(
        "web", ns, {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]}}}}
    )
    d = apps.read_namespaced_deployment("web", ns)
    images = [c.image for c in d.spec.template.spec.containers]
    check(images == ["nginx:1.26"], f"strategic merge by container name: {images}")
    check(d.metadata.generation >= 3, f"generation bumped on spec changes: {d.metadata.generation}")
    deps = apps.list_namespaced_deployment(ns, label_selector="app=web")
    check([x.metadata.name for x in deps.items] == ["web"], "list deployments by label")
    apps.delete_namespaced_deployment("web", ns)
    try:
        apps.read_namespaced_deployment("web", ns)
        check(False, "deleted deployment must 404")
    except ApiException as e:
        check(e.status == 404, "deleted deployment 404")

    # Pods and services (core).
    core.create_namespaced_pod(
        ns,
        client.V1Pod(
            metadata=client.V1ObjectMeta(name="p1", labels={"app": "p"}),
            spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]),
        ),
    )
    pods = core.list_namespaced_pod(ns, field_selector="spec.nodeName=", label_selector="app=p")
    check([p.metadata.name for p in pods.items] == ["p1"], "unscheduled pods by field selector")
    # The legacy bindings resource binds the pod it names (the answer is a Status, which the
    # client cannot decode as a Binding: read it raw).
    core.create_namespaced_binding(
        ns,
        client.V1Binding(
            metadata=client.V1ObjectMeta(name="p1"),
            target=client.V1ObjectReference(kind="Node", name="node-x"),
        ),
        _preload_content=False,
    )
    check(core.read_namespaced_pod("p1", ns).spec.node_name == "node-x", "pod bound through bindings")
    svc = core.create_namespaced_service(
        ns,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="s1"),
            spec=client.V1ServiceSpec(selector={"app": "p"}, ports=[client.V1ServicePort(port=80)]),
        ),
    )
    check(svc.spec.cluster_ip and svc.spec.cluster_ip.startswith("10.43."), f"cluster IP: {svc.spec.cluster_ip}")
    core.delete_namespace(ns)
    print("python client flows: ok")


if __name__ == "__main__":
    main(sys.argv[1])
