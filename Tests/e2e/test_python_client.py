"""The official Python client (`kubernetes`) against Caravel: CRUD, selectors, pagination,
optimistic concurrency, error Status bodies, subresources, finalizers, generateName."""

from __future__ import annotations

import json
import time

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from e2eutil import RawWatch, assert_status_body, wait_for


def api_error(fn, *args, **kwargs) -> ApiException:
    with pytest.raises(ApiException) as ei:
        fn(*args, **kwargs)
    return ei.value


def body_of(e: ApiException) -> dict:
    assert e.body, f"ApiException {e.status} without a body"
    return json.loads(e.body)


def update_with_retry(read, mutate, write, attempts=10):
    """Read-modify-write, retrying on 409 Conflict (as client-go's RetryOnConflict): with the
    controllers on, they write the same objects (status, scheduling, node conditions)."""
    for i in range(attempts):
        obj = read()
        mutate(obj)
        try:
            return write(obj)
        except ApiException as e:
            if e.status != 409 or i == attempts - 1:
                raise
            time.sleep(0.1 * (i + 1))


def cm(name, data=None, labels=None, **meta):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels, **meta),
                              data=data)


def deployment(name, replicas=1, image="nginx:1.27", labels=None):
    labels = labels or {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image=image)]))))


def pod(name, labels=None, restart_policy=None):
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name, labels=labels),
                        spec=client.V1PodSpec(restart_policy=restart_policy,
                                              containers=[client.V1Container(name="c", image="busybox")]))


# ----------------------------------------------------------------------------- CRUD


def test_configmap_crud(k8s, namespace):
    core = client.CoreV1Api(k8s)
    created = core.create_namespaced_config_map(namespace, cm("one", {"a": "1"}, {"app": "demo"}))
    assert created.metadata.uid and created.metadata.resource_version
    assert created.metadata.creation_timestamp is not None
    assert created.metadata.namespace == namespace

    got = core.read_namespaced_config_map("one", namespace)
    assert got.data == {"a": "1"} and got.metadata.uid == created.metadata.uid
    assert got.metadata.resource_version == created.metadata.resource_version

    lst = core.list_namespaced_config_map(namespace)
    assert "one" in [i.metadata.name for i in lst.items]
    assert lst.metadata.resource_version

    got.data["b"] = "2"
    replaced = core.replace_namespaced_config_map("one", namespace, got)
    assert replaced.data == {"a": "1", "b": "2"}
    assert replaced.metadata.resource_version != created.metadata.resource_version
    assert replaced.metadata.uid == created.metadata.uid

    patched = core.patch_namespaced_config_map("one", namespace, {"data": {"c": "3"}})
    assert patched.data == {"a": "1", "b": "2", "c": "3"}

    all_ns = core.list_config_map_for_all_namespaces(field_selector=f"metadata.namespace={namespace}")
    assert [i.metadata.name for i in all_ns.items if i.metadata.name == "one"] == ["one"]

    core.delete_namespaced_config_map("one", namespace)
    e = api_error(core.read_namespaced_config_map, "one", namespace)
    assert e.status == 404


def test_deployment_crud(k8s, namespace):
    apps = client.AppsV1Api(k8s)
    created = apps.create_namespaced_deployment(namespace, deployment("web", replicas=2))
    assert created.metadata.generation == 1

    got = apps.read_namespaced_deployment("web", namespace)
    assert got.spec.replicas == 2
    assert [d.metadata.name for d in apps.list_namespaced_deployment(namespace).items] == ["web"]

    def set_image(d):
        d.spec.template.spec.containers[0].image = "nginx:1.28"
    replaced = update_with_retry(lambda: apps.read_namespaced_deployment("web", namespace), set_image,
                                 lambda d: apps.replace_namespaced_deployment("web", namespace, d))
    assert replaced.spec.template.spec.containers[0].image == "nginx:1.28"
    assert replaced.metadata.generation == 2

    apps.delete_namespaced_deployment("web", namespace)
    wait_for(lambda: api_error(apps.read_namespaced_deployment, "web", namespace).status == 404,
             timeout=30, what="deployment deleted")


def test_pod_crud(k8s, namespace):
    core = client.CoreV1Api(k8s)
    created = core.create_namespaced_pod(namespace, pod("p1", {"app": "p"}))
    assert created.status.phase == "Pending"
    assert created.spec.restart_policy == "Always"
    assert created.spec.containers[0].image == "busybox"
    assert created.spec.service_account_name in (None, "default")

    def add_label(p):
        p.metadata.labels["extra"] = "yes"
    replaced = update_with_retry(lambda: core.read_namespaced_pod("p1", namespace), add_label,
                                 lambda p: core.replace_namespaced_pod("p1", namespace, p))
    assert replaced.metadata.labels == {"app": "p", "extra": "yes"}
    assert [p.metadata.name for p in core.list_namespaced_pod(namespace).items] == ["p1"]

    # an unscheduled pod is deleted at once (nothing to wait for)
    core.delete_namespaced_pod("p1", namespace)
    wait_for(lambda: api_error(core.read_namespaced_pod, "p1", namespace).status == 404,
             timeout=30, what="pod deleted")


def test_api_defaulting(k8s, namespace):
    """Defaults kube-apiserver fills in on create."""
    apps = client.AppsV1Api(k8s)
    d = apps.create_namespaced_deployment(namespace, deployment("web"))
    assert d.spec.strategy.type == "RollingUpdate"
    assert d.spec.strategy.rolling_update.max_surge == "25%"
    assert d.spec.revision_history_limit == 10
    assert d.spec.progress_deadline_seconds == 600
    ps = d.spec.template.spec
    assert ps.restart_policy == "Always" and ps.dns_policy == "ClusterFirst"
    assert ps.scheduler_name == "default-scheduler"
    assert ps.termination_grace_period_seconds == 30
    assert ps.containers[0].termination_message_path == "/dev/termination-log"
    assert ps.containers[0].image_pull_policy == "IfNotPresent"

    core = client.CoreV1Api(k8s)
    p = core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="latest"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")])))
    assert p.spec.containers[0].image_pull_policy == "Always"  # no tag means :latest
    assert p.status.phase == "Pending" and p.status.qos_class == "BestEffort"

    np = client.NetworkingV1Api(k8s).create_namespaced_network_policy(namespace, client.V1NetworkPolicy(
        metadata=client.V1ObjectMeta(name="deny"),
        spec=client.V1NetworkPolicySpec(pod_selector=client.V1LabelSelector())))
    assert np.spec.policy_types == ["Ingress"]


def test_pod_spec_is_immutable(k8s, namespace):
    core = client.CoreV1Api(k8s)
    core.create_namespaced_pod(namespace, pod("p1"))

    def set_never(p):
        p.spec.restart_policy = "Never"
    e = api_error(update_with_retry, lambda: core.read_namespaced_pod("p1", namespace), set_never,
                  lambda p: core.replace_namespaced_pod("p1", namespace, p))
    assert e.status == 422, e
    b = assert_status_body(e.body, 422, "Invalid")
    assert "spec" in b["message"], b


def test_service_crud(k8s, namespace):
    core = client.CoreV1Api(k8s)
    svc = client.V1Service(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1ServiceSpec(selector={"app": "web"},
                                  ports=[client.V1ServicePort(name="http", port=80, target_port=8080)]))
    created = core.create_namespaced_service(namespace, svc)
    assert created.spec.type == "ClusterIP"
    assert created.spec.ports[0].protocol == "TCP"
    assert created.spec.ports[0].target_port == 8080
    got = core.read_namespaced_service("web", namespace)
    got.spec.ports.append(client.V1ServicePort(name="https", port=443))
    replaced = core.replace_namespaced_service("web", namespace, got)
    assert sorted(p.port for p in replaced.spec.ports) == [80, 443]
    https = [p for p in replaced.spec.ports if p.name == "https"][0]
    assert https.target_port == 443  # defaults to port
    assert created.spec.cluster_ip == replaced.spec.cluster_ip
    core.delete_namespaced_service("web", namespace)
    wait_for(lambda: api_error(core.read_namespaced_service, "web", namespace).status == 404,
             timeout=30, what="service deleted")


def test_hpa_v2_and_v1_are_the_same_object(k8s, namespace):
    v2 = client.AutoscalingV2Api(k8s)
    v1 = client.AutoscalingV1Api(k8s)
    hpa = client.V2HorizontalPodAutoscaler(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V2HorizontalPodAutoscalerSpec(
            scale_target_ref=client.V2CrossVersionObjectReference(api_version="apps/v1",
                                                                  kind="Deployment", name="web"),
            min_replicas=2, max_replicas=5,
            metrics=[client.V2MetricSpec(
                type="Resource",
                resource=client.V2ResourceMetricSource(
                    name="cpu", target=client.V2MetricTarget(type="Utilization",
                                                             average_utilization=70)))]))
    created = v2.create_namespaced_horizontal_pod_autoscaler(namespace, hpa)
    assert created.spec.metrics[0].resource.target.average_utilization == 70

    old = v1.read_namespaced_horizontal_pod_autoscaler("web", namespace)
    assert old.metadata.uid == created.metadata.uid
    assert old.spec.target_cpu_utilization_percentage == 70
    assert (old.spec.min_replicas, old.spec.max_replicas) == (2, 5)
    assert old.spec.scale_target_ref.kind == "Deployment" and old.spec.scale_target_ref.name == "web"
    assert [h.metadata.name for h in v1.list_namespaced_horizontal_pod_autoscaler(namespace).items] == ["web"]

    # write through v1, read through v2
    def change(h):
        h.spec.target_cpu_utilization_percentage = 55
        h.spec.max_replicas = 7
    update_with_retry(lambda: v1.read_namespaced_horizontal_pod_autoscaler("web", namespace), change,
                      lambda h: v1.replace_namespaced_horizontal_pod_autoscaler("web", namespace, h))
    new = v2.read_namespaced_horizontal_pod_autoscaler("web", namespace)
    assert new.spec.max_replicas == 7
    cpu = [m for m in new.spec.metrics if m.type == "Resource" and m.resource.name == "cpu"]
    assert cpu and cpu[0].resource.target.average_utilization == 55, new.spec.metrics

    # v1 object without minReplicas gets the default of 1
    v1.create_namespaced_horizontal_pod_autoscaler(namespace, client.V1HorizontalPodAutoscaler(
        metadata=client.V1ObjectMeta(name="min"),
        spec=client.V1HorizontalPodAutoscalerSpec(
            max_replicas=3, target_cpu_utilization_percentage=50,
            scale_target_ref=client.V1CrossVersionObjectReference(api_version="apps/v1",
                                                                  kind="Deployment", name="x"))))
    assert v2.read_namespaced_horizontal_pod_autoscaler("min", namespace).spec.min_replicas == 1

    v2.delete_namespaced_horizontal_pod_autoscaler("web", namespace)
    e = api_error(v1.read_namespaced_horizontal_pod_autoscaler, "web", namespace)
    assert e.status == 404


def test_other_kinds_roundtrip(k8s, namespace):
    core = client.CoreV1Api(k8s)
    sa = core.create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="robot")))
    assert sa.metadata.name == "robot"
    sec = core.create_namespaced_secret(namespace, client.V1Secret(
        metadata=client.V1ObjectMeta(name="s"), string_data={"k": "v"}))
    assert sec.data == {"k": "dg=="} and sec.type == "Opaque"
    lease = client.CoordinationV1Api(k8s).create_namespaced_lease(namespace, client.V1Lease(
        metadata=client.V1ObjectMeta(name="leader"),
        spec=client.V1LeaseSpec(holder_identity="me", lease_duration_seconds=15)))
    assert lease.spec.holder_identity == "me"
    np = client.NetworkingV1Api(k8s).create_namespaced_network_policy(namespace, client.V1NetworkPolicy(
        metadata=client.V1ObjectMeta(name="deny"),
        spec=client.V1NetworkPolicySpec(pod_selector=client.V1LabelSelector())))
    assert np.spec.pod_selector is not None
    rs = client.AppsV1Api(k8s).create_namespaced_replica_set(namespace, client.V1ReplicaSet(
        metadata=client.V1ObjectMeta(name="rs"),
        spec=client.V1ReplicaSetSpec(
            replicas=1, selector=client.V1LabelSelector(match_labels={"app": "rs"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "rs"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")])))))
    assert rs.spec.replicas == 1
    eps = client.DiscoveryV1Api(k8s).create_namespaced_endpoint_slice(namespace, client.V1EndpointSlice(
        metadata=client.V1ObjectMeta(name="web-abc", labels={"kubernetes.io/service-name": "web"}),
        address_type="IPv4", endpoints=[client.V1Endpoint(addresses=["10.0.0.1"])],
        ports=[client.DiscoveryV1EndpointPort(name="http", port=80, protocol="TCP")]))
    assert eps.endpoints[0].addresses == ["10.0.0.1"]
    ep = core.create_namespaced_endpoints(namespace, client.V1Endpoints(
        metadata=client.V1ObjectMeta(name="web"),
        subsets=[client.V1EndpointSubset(addresses=[client.V1EndpointAddress(ip="10.0.0.1")],
                                         ports=[client.CoreV1EndpointPort(port=80)])]))
    assert ep.subsets[0].addresses[0].ip == "10.0.0.1"
    ev = core.create_namespaced_event(namespace, client.CoreV1Event(
        metadata=client.V1ObjectMeta(name="ev1"),
        involved_object=client.V1ObjectReference(kind="Pod", name="p", namespace=namespace),
        reason="Test", message="hello", type="Normal"))
    assert ev.reason == "Test"

    node_name = f"node-{namespace}"[:63]
    node = core.create_node(client.V1Node(metadata=client.V1ObjectMeta(name=node_name,
                                                                       labels={"e2e": namespace})))
    try:
        assert node.metadata.namespace is None

        def set_ready(n):
            n.status = client.V1NodeStatus(conditions=[client.V1NodeCondition(type="Ready", status="True")])
        # (with the controllers on, the node lifecycle controller writes the node too)
        st = update_with_retry(lambda: core.read_node(node_name), set_ready,
                               lambda n: core.replace_node_status(node_name, n))
        assert st.status.conditions[0].type == "Ready"
        assert [n.metadata.name for n in core.list_node(label_selector=f"e2e={namespace}").items] == [node_name]
    finally:
        core.delete_node(node_name)


# ----------------------------------------------------------------------------- selectors


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
