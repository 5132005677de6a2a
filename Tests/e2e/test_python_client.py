"""The official Python client (`kubernetes`) against Caravel: create, read, list, replace and
delete of every served kind, API defaulting, autoscaling v1/v2 views. Selectors, pagination,
concurrency, errors and subresources are in test_python_client_semantics.py."""

from __future__ import annotations

from kubernetes import client

from e2eutil import assert_status_body, wait_for
from pyclientutil import api_error, cm, deployment, pod, update_with_retry


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
