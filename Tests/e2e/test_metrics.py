"""The metrics feed end to end, with the real kubectl: `kubectl top` on fake-runtime pods
whose annotations declare their usage (exact values) and on a real process burning CPU;
custom metrics from a demo-app pod's /metrics under `demo-app load`; external metrics pushed
and read back, under RBAC. Servers scrape every second (`--metrics-resolution 1s`)."""

from __future__ import annotations

import json
import subprocess
import urllib.parse

import pytest

from e2eutil import REPO, caravel_bin, serve, unique, wait_for
from kubeletutil import (IS_ROOT, apply, is_ready, kill_pids, list_json, namespace_on, pod_spec, wait_gone,
                         wait_running_ready)

TOKEN = unique("e2e-metrics", 8)
FAKE_CPU = "caravel.dev/fake-cpu"
FAKE_MEMORY = "caravel.dev/fake-memory"


def fake_pod(name: str, labels: dict, cpu: str | None, memory: str | None, containers=("app",)) -> dict:
    pod = pod_spec(name, [{"name": c, "image": "busybox:1.36"} for c in containers], labels=labels)
    annotations = {}
    if cpu:
        annotations[FAKE_CPU] = cpu
    if memory:
        annotations[FAKE_MEMORY] = memory
    pod["metadata"]["annotations"] = annotations
    return pod


def top(srv, *args: str) -> list[list[str]]:
    """`kubectl top ... --no-headers` as rows of columns; [] while metrics are not there yet."""
    cp = srv.kubectl("top", *args, "--no-headers", check=False)
    if cp.returncode != 0:
        return []
    return [line.split() for line in cp.stdout.splitlines() if line.strip()]


def delete_pods(srv, ns: str, names) -> None:
    for name in names:
        srv.kubectl("delete", "pod", name, "-n", ns, "--wait=false", check=False)
    for name in names:
        wait_gone(srv, "pod", name, ns, timeout=120)


# --------------------------------------------------------------------------- fake runtime


@pytest.fixture(scope="module")
def fake_srv(tmp_path_factory):
    with serve(tmp_path_factory, "metrics-fake", controllers=True, kubelet=True,
               extra_args=["--runtime", "fake", "--metrics-resolution", "1s"]) as s:
        yield s


def test_kubectl_top_shows_declared_fake_usage(fake_srv):
    srv = fake_srv
    with namespace_on(srv, "metrics") as ns, namespace_on(srv, "metrics-other") as other:
        pods = [
            (ns, fake_pod("web-a", {"app": "web"}, "500m", "100Mi", containers=("app", "sidecar"))),
            (ns, fake_pod("web-b", {"app": "web"}, "250m", "64Mi")),
            (ns, fake_pod("db", {"app": "db"}, "1", "256Mi")),
            (other, fake_pod("idle", {"app": "idle"}, None, None)),
        ]
        try:
            for namespace, pod in pods:
                apply(srv, pod, namespace)
            for namespace, pod in pods:
                wait_running_ready(srv, pod["metadata"]["name"], namespace, timeout=120)

            expected = {"db": ["1000m", "256Mi"], "web-a": ["500m", "100Mi"], "web-b": ["250m", "64Mi"]}

            def declared():
                rows = {r[0]: r[1:] for r in top(srv, "pods", "-n", ns)}
                return rows == expected and rows
            wait_for(declared, timeout=60, interval=0.5, what=f"kubectl top pods = {expected}")

            containers = top(srv, "pods", "web-a", "-n", ns, "--containers")
            assert sorted(containers) == [["web-a", "app", "250m", "50Mi"], ["web-a", "sidecar", "250m", "50Mi"]]
            assert [r[0] for r in top(srv, "pods", "-n", ns, "-l", "app=web")] == ["web-a", "web-b"]
            assert [r[0] for r in top(srv, "pods", "-n", ns, "--sort-by", "cpu")] == ["db", "web-a", "web-b"]
            assert [r[0] for r in top(srv, "pods", "-n", ns, "--sort-by", "memory")] == ["db", "web-a", "web-b"]
            # The idle pod of the other namespace is in the next scrape's window, if not in this one.
            def all_namespaces():
                rows = {(r[0], r[1]): r[2:] for r in top(srv, "pods", "-A")}
                return rows if (other, "idle") in rows else None
            everywhere = wait_for(all_namespaces, timeout=60, interval=0.5, what="kubectl top pods -A with the idle pod")
            assert everywhere[(other, "idle")] == ["0m", "0Mi"], everywhere
            assert everywhere[(ns, "db")] == ["1000m", "256Mi"], everywhere

            # The node of a fake runtime uses what its pods use.
            def node_row():
                rows = {r[0]: r for r in top(srv, "nodes")}
                row = rows.get(srv.node_name)
                return row if row and row[1] == "1750m" and row[3] == "420Mi" else None
            wait_for(node_row, timeout=60, interval=0.5, what=f"kubectl top nodes: {srv.node_name} 1750m 420Mi")

            # The declared usage follows the annotation.
            srv.kubectl("annotate", "pod", "db", "-n", ns, f"{FAKE_CPU}=100m", f"{FAKE_MEMORY}=32Mi", "--overwrite")
            wait_for(lambda: {r[0]: r[1:] for r in top(srv, "pods", "-n", ns)}.get("db") == ["100m", "32Mi"],
                     timeout=60, interval=0.5, what="db at 100m 32Mi after the annotation changed")

            # The API's own shape, as metrics-server serves it.
            raw = json.loads(srv.kubectl("get", "--raw", f"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods/web-b").stdout)
            assert raw["kind"] == "PodMetrics" and raw["metadata"]["labels"] == {"app": "web"}
            assert raw["containers"] == [{"name": "app", "usage": {"cpu": "250m", "memory": "64Mi"}}]
            assert raw["window"].endswith("s") and raw["timestamp"].endswith("Z")
            missing = srv.kubectl("get", "--raw", f"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods/nope", check=False)
            assert missing.returncode != 0 and "NotFound" in missing.stderr
        finally:
            for namespace, pod in pods:
                srv.kubectl("delete", "pod", pod["metadata"]["name"], "-n", namespace, "--wait=false", check=False)
            for namespace, pod in pods:
                wait_gone(srv, "pod", pod["metadata"]["name"], namespace, timeout=120)


def test_metrics_apis_follow_rbac_and_discovery(fake_srv):
    srv = fake_srv
    groups = json.loads(srv.kubectl("get", "--raw", "/apis").stdout)["groups"]
    names = {g["name"]: g["preferredVersion"]["version"] for g in groups}
    assert names["metrics.k8s.io"] == "v1beta1"
    # The custom and external groups are listed once they have metrics; their documents always answer.
    custom = json.loads(srv.kubectl("get", "--raw", "/apis/custom.metrics.k8s.io").stdout)
    assert custom["kind"] == "APIGroup" and custom["preferredVersion"]["version"] == "v1beta2"
    resources = srv.kubectl("api-resources", "--api-group", "metrics.k8s.io", "--no-headers").stdout
    assert "nodes" in resources and "pods" in resources and "PodMetrics" in resources
    user = unique("metrics-viewer", 5)
    denied = srv.kubectl("top", "nodes", "--as", user, check=False)
    assert denied.returncode != 0 and "forbidden" in denied.stderr.lower(), denied.stderr
    role = unique("metrics-reader", 5)
    try:
        apply(srv, [
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": role},
             "rules": [{"apiGroups": ["metrics.k8s.io"], "resources": ["nodes"], "verbs": ["get", "list"]},
                       {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}]},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": role},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
             "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]},
        ])
        wait_for(lambda: srv.node_name in {r[0] for r in top(srv, "nodes", "--as", user)}, timeout=60, interval=0.5,
                 what="kubectl top nodes allowed once the role is bound")
    finally:
        srv.kubectl("delete", "clusterrolebinding", role, check=False)
        srv.kubectl("delete", "clusterrole", role, check=False)


def test_external_metrics_push_and_read(fake_srv, tmp_path):
    srv = fake_srv
    with namespace_on(srv, "metrics-ext") as ns:
        path = f"/apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/queue_depth"
        body = {"kind": "ExternalMetricValueList", "apiVersion": "external.metrics.k8s.io/v1beta1", "items": [
            {"metricName": "queue_depth", "metricLabels": {"queue": "orders"}, "value": "42"},
            {"metricName": "queue_depth", "metricLabels": {"queue": "mail"}, "value": "1500m"},
        ]}
        f = tmp_path / "values.json"
        f.write_text(json.dumps(body))
        srv.kubectl("replace", "--raw", path, "-f", str(f))
        groups = {g["name"] for g in json.loads(srv.kubectl("get", "--raw", "/apis").stdout)["groups"]}
        assert "external.metrics.k8s.io" in groups
        listed = json.loads(srv.kubectl("get", "--raw", "/apis/external.metrics.k8s.io/v1beta1").stdout)["resources"]
        assert "queue_depth" in {r["name"] for r in listed}
        selector = urllib.parse.quote("queue=orders")
        got = json.loads(srv.kubectl("get", "--raw", f"{path}?labelSelector={selector}").stdout)
        assert got["kind"] == "ExternalMetricValueList"
        assert [(i["metricLabels"], i["value"]) for i in got["items"]] == [({"queue": "orders"}, "42")]
        assert len(json.loads(srv.kubectl("get", "--raw", path).stdout)["items"]) == 2

        # Pushing needs `update` on the metric; bad values are refused and change nothing.
        pusher = unique("pusher", 5)
        denied = srv.kubectl("replace", "--raw", path, "-f", str(f), "--as", pusher, check=False)
        assert denied.returncode != 0 and "forbidden" in denied.stderr.lower(), denied.stderr
        apply(srv, [
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "push"},
             "rules": [{"apiGroups": ["external.metrics.k8s.io"], "resources": ["queue_depth"], "verbs": ["update", "list"]}]},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "push"},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "push"},
             "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": pusher}]},
        ], ns)
        f.write_text(json.dumps({**body, "items": [{"metricLabels": {"queue": "orders"}, "value": "7"}]}))
        wait_for(lambda: srv.kubectl("replace", "--raw", path, "-f", str(f), "--as", pusher, check=False).returncode == 0,
                 timeout=30, interval=0.5, what="push allowed once the role is bound")
        got = json.loads(srv.kubectl("get", "--raw", path, "--as", pusher).stdout)
        assert [i["value"] for i in got["items"]] == ["7"]
        f.write_text(json.dumps({**body, "items": [{"value": "not-a-number"}]}))
        bad = srv.kubectl("replace", "--raw", path, "-f", str(f), check=False)
        assert bad.returncode != 0 and "Invalid" in bad.stderr, bad.stderr
        assert [i["value"] for i in json.loads(srv.kubectl("get", "--raw", path).stdout)["items"]] == ["7"]
        unknown = srv.kubectl("get", "--raw", f"/apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/nothing", check=False)
        assert unknown.returncode != 0 and "NotFound" in unknown.stderr


# --------------------------------------------------------------------------- real processes


@pytest.fixture(scope="module")
def proc_srv(tmp_path_factory):
    with serve(tmp_path_factory, "metrics-proc", controllers=True, kubelet=True,
               extra_args=["--metrics-resolution", "1s"]) as s:
        yield s
    kill_pids(TOKEN)


def test_kubectl_top_shows_cpu_of_a_busy_process(proc_srv):
    srv = proc_srv
    with namespace_on(srv, "metrics-busy") as ns:
        pod = pod_spec("busy", [{"name": "spin", "image": "busybox:1.36", "command": ["sh", "-c", "while :; do :; done"],
                                 "env": [{"name": "E2E_TOKEN", "value": TOKEN}],
                                 "resources": {"limits": {"cpu": "300m", "memory": "64Mi"}}}], labels={"app": "busy"})
        try:
            apply(srv, pod, ns)
            wait_running_ready(srv, "busy", ns, timeout=120)

            def busy_row():
                rows = {r[0]: r for r in top(srv, "pods", "-n", ns, "--containers")}
                row = rows.get("busy")
                return row if row and int(row[2].rstrip("m")) > 0 else None
            row = wait_for(busy_row, timeout=90, interval=0.5, what="kubectl top shows CPU for the busy loop")
            assert row[1] == "spin"
            node = wait_for(lambda: {r[0]: r for r in top(srv, "nodes")}.get(srv.node_name), timeout=60, interval=0.5,
                            what="kubectl top nodes lists the node")
            assert int(node[1].rstrip("m")) > 0 and node[3].endswith("Mi"), node
        finally:
            delete_pods(srv, ns, ["busy"])


@pytest.mark.skipif(not IS_ROOT, reason="the pod needs its own network namespace and IP (root)")
def test_custom_metrics_from_demo_app_under_load(proc_srv):
    srv = proc_srv
    with namespace_on(srv, "metrics-custom") as ns:
        pod = pod_spec("demo", [{"name": "demo", "image": "caravel/demo-app:1.0",
                                 "env": [{"name": "PORT", "value": "8080"}, {"name": "E2E_TOKEN", "value": TOKEN}],
                                 "ports": [{"containerPort": 8080}],
                                 "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080}, "periodSeconds": 1}}],
                       labels={"app": "demo-metrics"})
        pod["metadata"]["annotations"] = {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"}
        service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "demo"},
                   "spec": {"selector": {"app": "demo-metrics"}, "ports": [{"port": 80, "targetPort": 8080}]}}
        load = None
        try:
            apply(srv, [pod, service], ns)
            ip = wait_running_ready(srv, "demo", ns, timeout=120)["status"]["podIP"]
            # Traffic goes to the pod IP only: Service cluster IPs are not routed.
            load = subprocess.Popen([str(caravel_bin().parent / "demo-app"), "load", f"http://{ip}:8080/", "--rps", "20",
                                     "--duration", "120", "--concurrency", "2"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            base = f"/apis/custom.metrics.k8s.io/v1beta2/namespaces/{ns}"
            selector = urllib.parse.quote("app=demo-metrics")

            def rate():
                cp = srv.kubectl("get", "--raw", f"{base}/pods/*/http_requests_per_second?labelSelector={selector}", check=False)
                if cp.returncode != 0:
                    return None
                items = json.loads(cp.stdout)["items"]
                return items if items and float(_quantity(items[0]["value"])) > 0 else None
            items = wait_for(rate, timeout=90, interval=0.5, what="http_requests_per_second > 0 for the demo pod")
            assert items[0]["describedObject"] == {"kind": "Pod", "namespace": ns, "name": "demo", "apiVersion": "/v1"}
            assert items[0]["metric"]["name"] == "http_requests_per_second" and items[0]["windowSeconds"] >= 1
            one = json.loads(srv.kubectl("get", "--raw", f"{base}/pods/demo/http_requests_per_second").stdout)
            assert [i["describedObject"]["name"] for i in one["items"]] == ["demo"]
            # An Object metric: the Service's value is the sum over the pods it selects.
            svc = json.loads(srv.kubectl("get", "--raw", f"{base}/services/demo/http_requests_per_second").stdout)
            assert svc["items"][0]["describedObject"]["kind"] == "Service" and float(_quantity(svc["items"][0]["value"])) > 0
            discovery = json.loads(srv.kubectl("get", "--raw", "/apis/custom.metrics.k8s.io/v1beta2").stdout)
            assert "pods/http_requests_per_second" in {r["name"] for r in discovery["resources"]}
            gauge = json.loads(srv.kubectl("get", "--raw", f"{base}/pods/demo/demo_ready").stdout)
            assert _quantity(gauge["items"][0]["value"]) == 1
        finally:
            if load is not None and load.poll() is None:
                load.terminate()
                load.wait(10)
            srv.kubectl("delete", "service", "demo", "-n", ns, "--wait=false", check=False)
            delete_pods(srv, ns, ["demo"])


@pytest.mark.skipif(not IS_ROOT, reason="3 replicas on :8080 need a network namespace per pod (root)")
def test_manifests_demo_feeds_the_hpa_metrics(proc_srv):
    """Manifests/ as written: the demo pods show in `kubectl top` and in custom metrics, and
    the shipped load generator against one pod's /burn raises that pod's CPU well past the
    HPA's 50% of a 50m request."""
    srv = proc_srv
    with namespace_on(srv, "metrics-demo") as ns:
        load = None
        try:
            srv.kubectl("apply", "-n", ns, "-f", str(REPO / "Manifests"))

            def demo_ready():
                pods = [p for p in list_json(srv, "pods", ns, "-l", "app=demo") if not p["metadata"].get("deletionTimestamp")]
                return len(pods) == 3 and all(is_ready(p) for p in pods) and pods
            pods = wait_for(demo_ready, timeout=180, what="3 demo pods Ready")
            target = pods[0]
            ip, name = target["status"]["podIP"], target["metadata"]["name"]
            load = subprocess.Popen([str(caravel_bin().parent / "demo-app"), "load", f"http://{ip}:8080/burn?ms=20",
                                     "--rps", "20", "--duration", "150", "--concurrency", "4"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

            def loaded():
                rows = {r[0]: int(r[1].rstrip("m")) for r in top(srv, "pods", "-n", ns, "-l", "app=demo")}
                return len(rows) == 3 and rows[name] > 50 and rows
            wait_for(loaded, timeout=120, interval=1, what=f"kubectl top shows {name} above 50m under load")
            selector = urllib.parse.quote("app=demo")
            per_pod = json.loads(srv.kubectl("get", "--raw", f"/apis/custom.metrics.k8s.io/v1beta2/namespaces/{ns}/pods/*/"
                                             f"http_requests_per_second?labelSelector={selector}").stdout)["items"]
            assert {i["describedObject"]["name"] for i in per_pod} == {p["metadata"]["name"] for p in pods}
        finally:
            if load is not None and load.poll() is None:
                load.terminate()
                load.wait(10)
            srv.kubectl("delete", "-n", ns, "-f", str(REPO / "Manifests"), "--wait=false", check=False)
            wait_for(lambda: not list_json(srv, "pods", ns, "-l", "app=demo"), timeout=120, what="demo pods gone")


def _quantity(text: str) -> float:
    if text.endswith("m"):
        return float(text[:-1]) / 1000
    return float(text)
