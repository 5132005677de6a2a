"""The horizontal pod autoscaler with real processes: the demo Deployment of Manifests/ (the
demo-app, process runtime) under the shipped load generator (`demo-app load`, sent to the
pod's IP, never to the Service's ClusterIP) scales up, and comes back to one replica once the
load stops and the scale-down stabilization window (`--horizontal-pod-autoscaler-downscale-
stabilization 10s`) has passed; first on CPU (Manifests/hpa.yaml), then on the Pods metric
`http_requests_per_second` (Manifests/examples/hpa-http-requests.yaml) that the metrics feed
derives from the app's `http_requests_total`. Pods get IPs of their own only as root.
"""

from __future__ import annotations

import json
import signal
import subprocess
from contextlib import contextmanager

import pytest

from e2eutil import REPO, caravel_bin, parse_table, serve, unique, wait_for
from kubeletutil import IS_ROOT, in_pod_network, is_ready

MANIFESTS = REPO / "Manifests"
pytestmark = pytest.mark.skipif(not IS_ROOT, reason="the demo pods need network namespaces of their own (root)")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    args = ["--hpa-sync-period", "1s", "--metrics-resolution", "1s",
            "--horizontal-pod-autoscaler-downscale-stabilization", "10s"]
    with serve(tmp_path_factory, "hpa-demo", controllers=True, kubelet=True, extra_args=args) as s:
        yield s


@pytest.fixture
def ns(srv):
    name = unique("hpa-demo", 5)
    srv.kubectl("create", "namespace", name)
    try:
        yield name
    finally:
        srv.kubectl("delete", "-n", name, "-f", str(MANIFESTS), "--ignore-not-found", "--wait=false", check=False)
        srv.kubectl("delete", "hpa", "--all", "-n", name, check=False)
        wait_for(lambda: not get_json(srv, name, "pods")["items"], timeout=120, interval=1, what="demo pods gone")
        srv.kubectl("delete", "namespace", name, "--wait=false", check=False)


def get_json(srv, ns, *args) -> dict:
    return json.loads(srv.kubectl("get", *args, "-n", ns, "-o", "json").stdout)


def replicas(srv, ns) -> int:
    return get_json(srv, ns, "deployment", "demo")["spec"]["replicas"]


def live_pods(srv, ns) -> list[dict]:
    return [p for p in get_json(srv, ns, "pods", "-l", "app=demo")["items"] if not p["metadata"].get("deletionTimestamp")]


@contextmanager
def load(url: str, rps: int, seconds: int):
    """`demo-app load URL` for at most `seconds`; stopped when the block ends."""
    proc = subprocess.Popen([str(caravel_bin().parent / "demo-app"), "load", url, "--rps", str(rps),
                             "--duration", str(seconds), "--concurrency", "8"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def one_ready_pod(srv, ns) -> dict:
    """Waits for the Deployment to be down to one Ready pod (the autoscaler takes the three
    replicas of the manifest down while idle) and answers it."""
    def single():
        ps = live_pods(srv, ns)
        return replicas(srv, ns) == 1 and len(ps) == 1 and is_ready(ps[0]) and ps[0]["status"].get("podIP") and ps[0]
    return wait_for(single, timeout=360, interval=1, what="one Ready demo pod")


def rescale_events(srv, ns, hpa: str) -> list[str]:
    items = get_json(srv, ns, "events", "--field-selector", f"involvedObject.name={hpa},reason=SuccessfulRescale")["items"]
    return [e["message"] for e in items]


def up_then_down(srv, ns, hpa: str, url: str, rps: int, loaded_check=None) -> int:
    pod = one_ready_pod(srv, ns)
    ip = pod["status"]["podIP"]
    assert in_pod_network(srv, ip), ip
    with load(url.format(ip=ip), rps, 360):
        peak = wait_for(lambda: (r := replicas(srv, ns)) > 1 and r, timeout=300, interval=1, what="scale-up under load")
        if loaded_check:
            loaded_check(pod["metadata"]["name"])
    wait_for(lambda: replicas(srv, ns) == 1, timeout=360, interval=1, what="back to 1 replica after the load")
    return peak


@pytest.mark.timeout(1200)
def test_cpu_load_scales_the_demo_up_and_back_down(srv, ns):
    for f in ("configmap.yaml", "secret.yaml", "deployment.yaml", "hpa.yaml"):
        srv.kubectl("apply", "-n", ns, "-f", str(MANIFESTS / f))

    def top_shows_cpu(name):
        def nonzero():
            rows = {r["NAME"]: r for r in parse_table(srv.kubectl("top", "pods", "-n", ns, "-l", "app=demo").stdout)}
            cpu = rows.get(name, {}).get("CPU(cores)", "0m")
            return cpu.endswith("m") and int(cpu[:-1]) > 0
        wait_for(nonzero, timeout=60, interval=1, what=f"kubectl top pods: CPU of {name}")

    # 20 requests/s burning 20 ms each: ~400m against a 50m request.
    up_then_down(srv, ns, "demo", "http://{ip}:8080/burn?ms=20", 20, loaded_check=top_shows_cpu)
    messages = rescale_events(srv, ns, "demo")
    assert any(m.startswith("New size: ") and m.endswith("reason: cpu resource utilization (percentage of request) above target")
               for m in messages), messages
    assert "New size: 1; reason: All metrics below target" in messages, messages
    described = srv.kubectl("describe", "hpa", "demo", "-n", ns).stdout
    assert "SuccessfulRescale" in described and "resource cpu on pods  (as a percentage of request):" in described, described


@pytest.mark.timeout(1200)
def test_requests_per_second_scales_the_demo_up_and_back_down(srv, ns):
    for f in ("configmap.yaml", "secret.yaml", "deployment.yaml"):
        srv.kubectl("apply", "-n", ns, "-f", str(MANIFESTS / f))
    srv.kubectl("apply", "-n", ns, "-f", str(MANIFESTS / "examples" / "hpa-http-requests.yaml"))
    hpa = get_json(srv, ns, "hpa")["items"][0]
    name = hpa["metadata"]["name"]
    assert hpa["spec"]["metrics"][0]["pods"]["metric"]["name"] == "http_requests_per_second"

    # 60 requests/s on one pod, six times the target of 10 per pod.
    up_then_down(srv, ns, name, "http://{ip}:8080/", 60)
    messages = rescale_events(srv, ns, name)
    assert any(m.endswith("reason: pods metric http_requests_per_second above target") for m in messages), messages
    assert "New size: 1; reason: All metrics below target" in messages, messages
    described = srv.kubectl("describe", "hpa", name, "-n", ns).stdout
    assert '"http_requests_per_second" on pods:' in described, described
