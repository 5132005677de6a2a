"""The official Python client against Caravel: selectors, pagination, optimistic concurrency,
error Status bodies, status and scale subresources, finalizers, generateName, Go booleans."""

from __future__ import annotations

import pytest
from kubernetes import client

from e2eutil import RawWatch, assert_status_body, wait_for
from pyclientutil import api_error, cm, deployment, pod, update_with_retry

def test_list_with_label_and_field_selectors(k8s, namespace):
    core = client.CoreV1Api(k8s)
    core.create_namespaced_config_map(namespace, cm("a1", {"x": "1"}, {"app": "a", "tier": "fe"}))
    core.create_namespaced_config_map(namespace, cm("a2", {"x": "1"}, {"app": "a", "tier": "be"}))
    core.create_namespaced_config_map(namespace, cm("b1", {"x": "1"}, {"app": "b"}))

    def names(**kw):
        return sorted(i.metadata.name for i in core.list_namespaced_config_map(namespace, **kw).items
                      if i.metadata.name != "kube-root-ca.crt")

    assert names(label_selector="app=a") == ["a1", "a2"]
    assert names(label_selector="app=a,tier!=fe") == ["a2"]
    assert names(label_selector="app in (a,b),!tier") == ["b1"]
    assert names(field_selector="metadata.name=a2") == ["a2"]
    assert names(field_selector="metadata.name!=a2", label_selector="app") == ["a1", "b1"]

    core.create_namespaced_pod(namespace, pod("never", restart_policy="Never"))
    core.create_namespaced_pod(namespace, pod("always"))
    pods = core.list_namespaced_pod(namespace, field_selector="spec.restartPolicy=Never").items
    assert [p.metadata.name for p in pods] == ["never"]
    pods = core.list_namespaced_pod(namespace, field_selector="status.phase=Pending").items
    assert sorted(p.metadata.name for p in pods) == ["always", "never"]
    pods = core.list_namespaced_pod(namespace, field_selector="spec.nodeName=").items
    assert sorted(p.metadata.name for p in pods) == ["always", "never"]

    e = api_error(core.list_namespaced_config_map, namespace, field_selector="spec.nope=1")
    assert e.status == 400
    assert_status_body(e.body, 400, "BadRequest")


# ----------------------------------------------------------------------------- pagination


def test_pagination_limit_continue(k8s, namespace):
    core = client.CoreV1Api(k8s)
    expected = [f"page-{i:02d}" for i in range(25)]
    for n in expected:
        core.create_namespaced_config_map(namespace, cm(n, {"n": n}, {"paged": "yes"}))

    seen, rvs, token, pages = [], [], None, 0
    while True:
        kw = {"limit": 10, "label_selector": "paged=yes"}
        if token:
            kw["_continue"] = token
        page = core.list_namespaced_config_map(namespace, **kw)
        pages += 1
        assert len(page.items) <= 10
        seen += [i.metadata.name for i in page.items]
        rvs.append(page.metadata.resource_version)
        if pages == 1:
            assert page.metadata.remaining_item_count in (None, 15), page.metadata
            # written after the first page: must not show up in later pages (snapshot)
            core.create_namespaced_config_map(namespace, cm("page-99", {"n": "late"}, {"paged": "yes"}))
            core.delete_namespaced_config_map("page-24", namespace)
        token = page.metadata._continue
        if not token:
            break
        assert pages < 10, "pagination does not terminate"
    assert pages == 3, (pages, seen)
    assert seen == expected, seen  # each exactly once, in key order
    assert len(set(rvs)) == 1, f"list resourceVersion changed between pages: {rvs}"

    fresh = core.list_namespaced_config_map(namespace, label_selector="paged=yes")
    names = [i.metadata.name for i in fresh.items]
    assert "page-99" in names and "page-24" not in names and len(names) == 25

    e = api_error(core.list_namespaced_config_map, namespace, limit=10, _continue="garbage-token")
    assert e.status in (400, 410), e
    assert_status_body(e.body, e.status)


# ----------------------------------------------------------------------------- errors


def test_stale_update_conflicts(k8s, namespace):
    core = client.CoreV1Api(k8s)
    first = core.create_namespaced_config_map(namespace, cm("c", {"v": "1"}))
    second = core.read_namespaced_config_map("c", namespace)
    second.data["v"] = "2"
    core.replace_namespaced_config_map("c", namespace, second)

    first.data["v"] = "stale"
    e = api_error(core.replace_namespaced_config_map, "c", namespace, first)
    assert e.status == 409
    b = assert_status_body(e.body, 409, "Conflict")
    assert "the object has been modified" in b["message"], b
    assert b["details"]["name"] == "c" and b["details"]["kind"] == "configmaps", b
    assert core.read_namespaced_config_map("c", namespace).data == {"v": "2"}

    # preconditions in a patch are checked too
    e = api_error(core.patch_namespaced_config_map, "c", namespace,
                  {"metadata": {"resourceVersion": first.metadata.resource_version},
                   "data": {"v": "3"}})
    assert e.status == 409

    # delete with a stale uid precondition
    e = api_error(core.delete_namespaced_config_map, "c", namespace,
                  body=client.V1DeleteOptions(preconditions=client.V1Preconditions(
                      uid="00000000-0000-0000-0000-000000000000")))
    assert e.status == 409


def test_create_existing_is_409_already_exists(k8s, namespace):
    core = client.CoreV1Api(k8s)
    core.create_namespaced_config_map(namespace, cm("dup"))
    e = api_error(core.create_namespaced_config_map, namespace, cm("dup"))
    assert e.status == 409
    b = assert_status_body(e.body, 409, "AlreadyExists")
    assert b["message"] == 'configmaps "dup" already exists', b
    assert b["details"] == {"name": "dup", "kind": "configmaps"} or \
        (b["details"]["name"] == "dup" and b["details"]["kind"] == "configmaps"), b


def test_get_missing_is_404_status(k8s, namespace):
    core = client.CoreV1Api(k8s)
    e = api_error(core.read_namespaced_config_map, "missing", namespace)
    assert e.status == 404
    b = assert_status_body(e.body, 404, "NotFound")
    assert b["message"] == 'configmaps "missing" not found', b
    assert b["details"]["name"] == "missing" and b["details"]["kind"] == "configmaps", b

    e = api_error(client.AppsV1Api(k8s).read_namespaced_deployment, "missing", namespace)
    b = assert_status_body(e.body, 404, "NotFound")
    assert b["details"]["group"] == "apps" and b["details"]["kind"] == "deployments", b


def test_missing_namespace_is_refused(k8s):
    core = client.CoreV1Api(k8s)
    e = api_error(core.create_namespaced_config_map, "no-such-namespace-e2e", cm("x"))
    assert e.status == 404
    b = assert_status_body(e.body, 404, "NotFound")
    assert 'namespaces "no-such-namespace-e2e" not found' == b["message"], b

    # body namespace must match the URL
    e = api_error(core.create_namespaced_config_map, "default", cm("x", namespace="kube-public"))
    assert e.status == 400, e


# ----------------------------------------------------------------------------- status subresource


def test_status_subresource_and_generation(k8s, namespace):
    apps = client.AppsV1Api(k8s)
    d = apps.create_namespaced_deployment(namespace, deployment("s", replicas=1))
    assert d.metadata.generation == 1
    assert not (d.status and d.status.replicas)

    # With the controllers on, the deployment controller writes status too: every
    # read-modify-write retries on 409 Conflict, as a client does.
    def read():
        return apps.read_namespaced_deployment("s", namespace)

    # PUT /status: status changes, the spec change riding along is ignored
    def set_status(obj):
        obj.status = client.V1DeploymentStatus(replicas=1, ready_replicas=1, available_replicas=1,
                                               updated_replicas=1, observed_generation=1)
        obj.spec.replicas = 9
    st = update_with_retry(read, set_status,
                           lambda obj: apps.replace_namespaced_deployment_status("s", namespace, obj))
    assert st.status.ready_replicas == 1 and st.status.observed_generation == 1
    assert st.spec.replicas == 1
    assert st.metadata.generation == 1
    assert st.metadata.resource_version != d.metadata.resource_version

    # PUT on the main resource: status changes are ignored, spec change bumps generation
    stored = {}

    def set_spec_and_status(obj):
        stored["status"] = (obj.status.replicas, obj.status.ready_replicas)
        obj.status.ready_replicas = 41
        obj.status.replicas = 42
        obj.spec.replicas = 3
    upd = update_with_retry(read, set_spec_and_status,
                            lambda obj: apps.replace_namespaced_deployment("s", namespace, obj))
    assert upd.spec.replicas == 3
    # the status as stored when the write succeeded (without controllers: the one set above)
    assert (upd.status.replicas, upd.status.ready_replicas) == stored["status"], upd.status
    assert upd.status.replicas != 42 and upd.status.ready_replicas != 41, upd.status
    assert upd.metadata.generation == 2

    # metadata-only change: no generation bump
    lab = apps.patch_namespaced_deployment("s", namespace, {"metadata": {"labels": {"x": "y"}}})
    assert lab.metadata.generation == 2

    # status patch
    p = apps.patch_namespaced_deployment_status("s", namespace, {"status": {"replicas": 3}})
    assert p.status.replicas == 3 and p.spec.replicas == 3 and p.metadata.generation == 2

    # scale subresource
    assert apps.read_namespaced_deployment_scale("s", namespace).spec.replicas == 3

    def scale_to_4(sc):
        sc.spec.replicas = 4
    update_with_retry(lambda: apps.read_namespaced_deployment_scale("s", namespace), scale_to_4,
                      lambda sc: apps.replace_namespaced_deployment_scale("s", namespace, sc))
    assert apps.read_namespaced_deployment("s", namespace).spec.replicas == 4
    apps.patch_namespaced_deployment_scale("s", namespace, {"spec": {"replicas": 5}})
    after = apps.read_namespaced_deployment("s", namespace)
    assert after.spec.replicas == 5 and after.metadata.generation == 4


def test_pod_and_replicaset_status_and_scale(k8s, namespace):
    core = client.CoreV1Api(k8s)
    apps = client.AppsV1Api(k8s)
    core.create_namespaced_pod(namespace, pod("runner"))

    # With the controllers on, the scheduler and the ReplicaSet controller write status too:
    # read-modify-write retries on 409 Conflict, as a client does.
    def set_running(p):
        p.status = client.V1PodStatus(phase="Running", pod_ip="10.1.2.3")
    st = update_with_retry(lambda: core.read_namespaced_pod("runner", namespace), set_running,
                           lambda p: core.replace_namespaced_pod_status("runner", namespace, p))
    assert st.status.phase == "Running" and st.status.pod_ip == "10.1.2.3"
    running = core.list_namespaced_pod(namespace, field_selector="status.phase=Running").items
    assert [x.metadata.name for x in running] == ["runner"]

    rs = apps.create_namespaced_replica_set(namespace, client.V1ReplicaSet(
        metadata=client.V1ObjectMeta(name="rs"),
        spec=client.V1ReplicaSetSpec(
            replicas=1, selector=client.V1LabelSelector(match_labels={"app": "rs"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "rs"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")])))))

    def set_rs_status(obj):
        obj.status = client.V1ReplicaSetStatus(replicas=1, ready_replicas=1)
    st = update_with_retry(lambda: apps.read_namespaced_replica_set("rs", namespace), set_rs_status,
                           lambda obj: apps.replace_namespaced_replica_set_status("rs", namespace, obj))
    assert st.status.ready_replicas == 1
    apps.patch_namespaced_replica_set_scale("rs", namespace, {"spec": {"replicas": 3}})
    sc = apps.read_namespaced_replica_set_scale("rs", namespace)
    assert sc.spec.replicas == 3 and sc.status.selector == "app=rs"


# ----------------------------------------------------------------------------- finalizers / names


def test_finalizers_delay_deletion(k8s, namespace):
    core = client.CoreV1Api(k8s)
    core.create_namespaced_config_map(namespace, cm("fin", {"a": "1"}, finalizers=["example.com/hold"]))
    core.delete_namespaced_config_map("fin", namespace)
    held = core.read_namespaced_config_map("fin", namespace)
    assert held.metadata.deletion_timestamp is not None
    assert held.metadata.finalizers == ["example.com/hold"]

    # deleting again keeps it; updates other than adding finalizers still work
    core.delete_namespaced_config_map("fin", namespace)
    patched = core.patch_namespaced_config_map("fin", namespace, {"data": {"a": "2"}})
    assert patched.data == {"a": "2"} and patched.metadata.deletion_timestamp is not None
    e = api_error(core.patch_namespaced_config_map, "fin", namespace,
                  {"metadata": {"finalizers": ["example.com/hold", "example.com/new"]}})
    assert e.status == 422, e

    core.patch_namespaced_config_map("fin", namespace, {"metadata": {"finalizers": None}})
    wait_for(lambda: api_error(core.read_namespaced_config_map, "fin", namespace).status == 404,
             timeout=30, what="finalized object to disappear")


def test_generate_name(k8s, namespace):
    core = client.CoreV1Api(k8s)
    a = core.create_namespaced_config_map(namespace, cm(None, generate_name="gen-"))
    b = core.create_namespaced_config_map(namespace, cm(None, generate_name="gen-"))
    for o in (a, b):
        assert o.metadata.name.startswith("gen-") and len(o.metadata.name) > len("gen-")
        assert o.metadata.generate_name == "gen-"
    assert a.metadata.name != b.metadata.name
    assert core.read_namespaced_config_map(a.metadata.name, namespace).metadata.uid == a.metadata.uid

    e = api_error(core.create_namespaced_config_map, namespace, cm(None))
    assert e.status == 422, e  # neither name nor generateName


# ----------------------------------------------------------------------------- query parsing


@pytest.mark.parametrize("value", ["True", "true", "1"])
def test_watch_query_parses_go_booleans(server, http, namespace, k8s, value):
    client.CoreV1Api(k8s).create_namespaced_config_map(namespace, cm("w", {"a": "1"}))
    url = f"{server.url}/api/v1/namespaces/{namespace}/configmaps"
    w = RawWatch(http, url, {"watch": value, "timeoutSeconds": "2"})
    try:
        assert w.status_code == 200, w.body
        evs = w.wait_for(lambda evs: any(e.get("type") == "ADDED" and
                                         e["object"]["metadata"]["name"] == "w" for e in evs),
                         timeout=20, what="ADDED for the existing object")
        assert evs[0]["object"]["kind"] == "ConfigMap"
        assert w.wait_closed(30), "watch with timeoutSeconds=2 did not end"
        assert w.error is None, w.error
    finally:
        w.close()

    r = http.get(url, params={"watch": "False"}, timeout=30)
    assert r.status_code == 200 and r.json()["kind"] == "ConfigMapList", r.text[:300]
