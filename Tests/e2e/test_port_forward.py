"""kubectl port-forward through the API server to the built-in kubelet, which connects to the
port inside the pod's network namespace: kubectl v1.33's default (SPDY/3.1 tunnelled in a
WebSocket) to a pod, to a Deployment, to a Service and with two local ports; twenty concurrent GETs; Ctrl-C
leaves no kubectl and no connection in the pod behind; a port nothing listens on; the Python
client's v4.channel.k8s.io port-forward; a plain request answered with a Status."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from e2eutil import LineReader, free_port, serve, unique, wait_for
from kubeletutil import apply, kill_pids, namespace_on, pids_with, pod_spec, wait_no_pids, wait_running_ready, list_json

TOKEN = unique("e2e-pf", 8)
ENV = [{"name": "E2E_TOKEN", "value": TOKEN}]
DEMO = "caravel/demo-app:1.0"


def demo_container(greeting: str) -> dict:
    return {"name": "app", "image": DEMO, "ports": [{"containerPort": 8080}],
            "env": ENV + [{"name": "GREETING", "value": greeting}],
            # Probed from inside the pod's network namespace (the node's routes to pod IPs are
            # not what this is about).
            "readinessProbe": {"exec": {"command": ["busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/readyz"]},
                               "periodSeconds": 1}}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    if shutil.which("busybox") is None:
        pytest.fail("busybox is needed (Debian: busybox-static); .ci/run installs it", pytrace=False)
    with serve(tmp_path_factory, "kl-pf", controllers=True, kubelet=True) as s:
        yield s
    kill_pids(TOKEN)


@pytest.fixture(scope="module")
def ns(srv):
    with namespace_on(srv, "kl-pf") as name:
        apply(srv, pod_spec("solo", [demo_container("hello-solo")]), name)
        apply(srv, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                             "template": {"metadata": {"labels": {"app": "web"}},
                                          "spec": {"containers": [demo_container("hello-web")]}}}}, name)
        # kubectl port-forward svc/web picks a pod of the Service and maps port 80 to its
        # targetPort itself: no traffic goes to the ClusterIP.
        apply(srv, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                    "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}, name)
        wait_running_ready(srv, "solo", name, timeout=120)
        wait_for(lambda: any(p["status"].get("phase") == "Running" for p in list_json(srv, "pods", name, "-l", "app=web")),
                 timeout=120, what="the Deployment's pod running")
        try:
            yield name
        finally:
            srv.kubectl("delete", "deployment,service", "web", "-n", name, "--wait=false", check=False)
            srv.kubectl("delete", "pods", "--all", "-n", name, "--wait=false", check=False)
            wait_no_pids(TOKEN, timeout=90)


class PortForward:
    """A running `kubectl port-forward`, ready once it printed a Forwarding line per port."""

    def __init__(self, srv, ns: str, target: str, *ports: str):
        self.proc = srv.kubectl_popen("port-forward", "-n", ns, target, *ports)
        self.err = LineReader(self.proc.stderr)
        out = LineReader(self.proc.stdout)
        try:
            out.wait_for(lambda ls: sum("Forwarding from 127.0.0.1" in ln for ln in ls) >= len(ports), timeout=60,
                         what="kubectl port-forward ready")
        except AssertionError:
            self.stop()
            raise AssertionError(f"port-forward did not start: {self.err.lines}") from None

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(30)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def get(port: int, path: str = "/") -> requests.Response:
    return requests.get(f"http://127.0.0.1:{port}{path}", timeout=30)


def pod_connections(port: int) -> list[str]:
    """TCP connections to `port` in the network namespaces of our containers (their
    /proc/PID/net/tcp is their namespace's table), listening sockets aside."""
    rows = set()
    for pid in pids_with(TOKEN):
        try:
            with open(f"/proc/{pid}/net/tcp") as f:
                lines = f.read().splitlines()[1:]
            netns = str(os.stat(f"/proc/{pid}/ns/net").st_ino)
        except OSError:
            continue
        for ln in lines:
            fields = ln.split()
            local, state = fields[1], fields[3]
            if local.endswith(f":{port:04X}") and state not in ("0A", "06"):  # LISTEN, TIME_WAIT
                rows.add(netns + " " + ln.strip())
    return sorted(rows)


def test_twenty_concurrent_gets_then_ctrl_c_leaves_nothing(srv, ns):
    local = free_port()
    pf = PortForward(srv, ns, "pod/solo", f"{local}:8080")
    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(lambda _: get(local), range(20)))
        assert all(r.status_code == 200 and r.text.startswith("hello-solo from ") for r in answers), \
            [(r.status_code, r.text) for r in answers]
        assert pf.interrupt() == 0, pf.err.lines
    finally:
        pf.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", local), timeout=5).close()
    wait_for(lambda: not pod_connections(8080), timeout=60, what=f"no connection left in the pod: {pod_connections(8080)}")


def test_deployment_and_two_local_ports(srv, ns):
    a, b = free_port(), free_port()
    while b == a:
        b = free_port()
    pf = PortForward(srv, ns, "deployment/web", f"{a}:8080", f"{b}:8080")
    try:
        assert get(a).text.startswith("hello-web from ")
        assert get(b, "/healthz").text == "ok\n"
        # A larger answer than one frame: the app's Prometheus text, several times over.
        bodies = [get(a, "/metrics").text for _ in range(3)]
        assert all("# TYPE" in body for body in bodies), bodies[0][:200]
    finally:
        assert pf.interrupt() == 0, pf.err.lines
        pf.stop()


def test_service(srv, ns):
    local = free_port()
    pf = PortForward(srv, ns, "svc/web", f"{local}:80")
    try:
        assert get(local).text.startswith("hello-web from ")
    finally:
        assert pf.interrupt() == 0, pf.err.lines
        pf.stop()


def test_a_port_nothing_listens_on(srv, ns):
    local = free_port()
    pf = PortForward(srv, ns, "pod/solo", f"{local}:9")
    try:
        with pytest.raises(requests.ConnectionError):
            get(local)
        pf.err.wait_for(lambda ls: any("connection refused" in ln for ln in ls), timeout=30,
                        what="kubectl reports the refused connection")
        # As against Kubernetes, kubectl v1.33 gives up the whole forward on such an error.
        assert pf.proc.wait(30) != 0
    finally:
        pf.stop()


def test_python_client_port_forward(srv, ns):
    from kubernetes import client
    from kubernetes.stream import portforward

    api = srv.api_client()
    try:
        core = client.CoreV1Api(api)
        pf = portforward(core.connect_get_namespaced_pod_portforward, "solo", ns, ports="8080")
        sock = pf.socket(8080)
        sock.setblocking(True)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: solo\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
        sock.close()
        assert re.match(rb"HTTP/1\.1 200 ", reply) and b"hello-solo from " in reply, reply
        assert pf.error(8080) is None
    finally:
        api.close()


def test_without_an_upgrade_is_a_status(srv, ns):
    r = srv.session().post(f"{srv.url}/api/v1/namespaces/{ns}/pods/solo/portforward?ports=8080", timeout=30)
    assert r.status_code == 400 and r.json()["kind"] == "Status", r.text
    r = srv.session().post(f"{srv.url}/api/v1/namespaces/{ns}/pods/missing/portforward?ports=8080", timeout=30)
    assert r.status_code == 404, r.text
    cp = srv.kubectl("port-forward", "-n", ns, "pod/missing", f"{free_port()}:8080", check=False, timeout=60)
    assert cp.returncode != 0 and "not found" in cp.stderr, cp.stderr
