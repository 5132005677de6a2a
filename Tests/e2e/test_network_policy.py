"""NetworkPolicy enforced by the node: pods as real processes in their own network
namespaces, policies applied with the real kubectl, and every pod trying every other pod on
every port from inside its own network namespace (the upstream test-matrix idea). Traffic
goes only to the pods' own IPs. At the end the pods are deleted through the API, the server
stopped and `caravel killall` removes the node's nft table."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from e2eutil import caravel_bin, serve, unique, wait_for
from kubeletutil import (IS_ROOT, apply, bridge_name, get_json, in_pod_network, is_ready, kill_pids, namespace_on, pod_spec, wait_gone,
                         wait_no_pids, wait_running_ready)

TOKEN = unique("e2e-netpol", 8)
PORTS = (5432, 8080)


def program(name: str):
    return shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.path.exists(p)), None)


NFT, IP = program("nft"), program("ip")

pytestmark = pytest.mark.skipif(not IS_ROOT or NFT is None or IP is None,
                                reason="pod network namespaces and nftables need root, ip (iproute2) and nft (nftables)")

# Each pod accepts on every port of PORTS and answers "ok".
SERVER = """
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in sys.argv[1:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(port)))
    s.listen(64)
    sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        c, _ = key.fileobj.accept()
        try:
            c.sendall(b"ok")
        except OSError:
            pass
        c.close()
"""

# Run inside a pod's network namespace: connects to each [ip, port] at once, prints whether
# each answered. A dropped SYN times out; only an answer counts as open.
PROBE = """
import concurrent.futures, json, socket, sys
targets = json.loads(sys.argv[1])
def probe(t):
    try:
        with socket.create_connection((t[0], t[1]), timeout=2) as s:
            s.settimeout(2)
            return s.recv(2) == b"ok"
    except OSError:
        return False
with concurrent.futures.ThreadPoolExecutor(len(targets)) as ex:
    print(json.dumps(list(ex.map(probe, targets))))
"""


def table_name(server) -> str:
    return "caravel-policy-" + bridge_name(server)


def nft_table(server) -> subprocess.CompletedProcess:
    return subprocess.run([NFT, "list", "table", "inet", table_name(server)], capture_output=True, text=True, timeout=30)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with serve(tmp_path_factory, "netpol", controllers=True, kubelet=True) as s:
        try:
            yield s
        finally:
            # A kubelet that stops with no isolated pod removes its table; one that dies (as
            # here) leaves it, as it would leave pods, and killall removes it.
            s.kill()
            assert nft_table(s).returncode == 0, "the table went with the killed server"
            cp = subprocess.run([str(caravel_bin()), "killall", "--data-dir", str(s.data_dir)],
                                capture_output=True, text=True, timeout=120)
            leftover = nft_table(s)
            if leftover.returncode == 0:  # never leave it behind, even when killall failed
                subprocess.run([NFT, "delete", "table", "inet", table_name(s)], timeout=30)
            # The node's bridge, now without members.
            subprocess.run([IP, "link", "del", "dev", bridge_name(s)], capture_output=True, timeout=30)
            assert cp.returncode == 0, cp.stdout + cp.stderr
            assert f"network policy table removed: {table_name(s)}" in cp.stdout, cp.stdout
            assert leftover.returncode != 0, f"killall left the table:\n{leftover.stdout}"
    kill_pids(TOKEN)


@contextlib.contextmanager
def pods_namespace(srv, prefix: str):
    with namespace_on(srv, prefix) as namespace:
        try:
            yield namespace
        finally:
            srv.kubectl("delete", "pods,networkpolicies", "--all", "-n", namespace, "--wait=false", check=False)
            wait_for(lambda: not json.loads(srv.kubectl("get", "pods", "-n", namespace, "-o", "json").stdout)["items"],
                     timeout=90, what=f"pods of {namespace} gone")


@pytest.fixture(scope="module")
def ns(srv):
    with pods_namespace(srv, "netpol") as namespace:
        yield namespace
    wait_no_pids(TOKEN, timeout=60)


@pytest.fixture(scope="module")
def ns2(srv):
    """A second namespace, labelled for the namespaceSelector case."""
    with pods_namespace(srv, "netpol-client") as namespace:
        srv.kubectl("label", "namespace", namespace, "netpol-e2e=client")
        yield namespace


def server_pod(name: str, app: str) -> dict:
    container = {"name": "srv", "image": "busybox:1.36", "command": ["python3", "-c", SERVER] + [str(p) for p in PORTS],
                 "env": [{"name": "E2E_TOKEN", "value": TOKEN}],
                 "ports": [{"name": "pg", "containerPort": 5432}, {"name": "http", "containerPort": 8080}],
                 # The kubelet probes from the host: a default-deny policy must not fail it.
                 "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1, "failureThreshold": 1}}
    return pod_spec(name, [container], labels={"app": app})


class Pod:
    """A running pod: its IP and network namespace (from the kubelet's sandbox record)."""

    def __init__(self, srv, namespace: str, name: str, label: str = ""):
        obj = wait_running_ready(srv, name, namespace)
        self.label = label or name
        self.name, self.namespace, self.ip = name, namespace, obj["status"]["podIP"]
        sandbox = srv.data_dir / "kubelet" / "pods" / obj["metadata"]["uid"] / "sandbox.json"
        self.netns = json.loads(sandbox.read_text())["netns"]


@pytest.fixture(scope="module")
def pods(srv, ns, ns2):
    for name in ("api", "db", "other"):
        apply(srv, server_pod(name, name), ns)
    apply(srv, server_pod("client", "client"), ns2)
    found = [Pod(srv, ns, n) for n in ("api", "db", "other")] + [Pod(srv, ns2, "client", "client@ns2")]
    assert len({p.ip for p in found}) == len(found), [p.ip for p in found]
    for p in found:
        assert in_pod_network(srv, p.ip), f"{p.name} has no pod IP of its own: {p.ip}"
    return found


def observe(pods: list[Pod]) -> dict:
    """Every pod to every other pod on every port: {(from, to, port): open}."""
    out = {}
    procs = []
    for src in pods:
        targets = [(dst, port) for dst in pods if dst is not src for port in PORTS]
        arg = json.dumps([[dst.ip, port] for dst, port in targets])
        procs.append((src, targets, subprocess.Popen([IP, "netns", "exec", src.netns, sys.executable, "-c", PROBE, arg],
                                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    for src, targets, proc in procs:
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"probe from {src.name} failed: {stderr}"
        for (dst, port), ok in zip(targets, json.loads(stdout)):
            out[(src.label, dst.label, port)] = ok
    return out


def table(pods: list[Pod], expected: dict, observed: dict) -> str:
    cols = [(d.label, p) for d in pods for p in PORTS]
    width = max(len(f"{c}:{p}") for c, p in cols) + 1
    lines = ["from \\ to".ljust(12) + "".join(f"{c}:{p}".ljust(width) for c, p in cols)]
    for s in pods:
        cells = []
        for d, p in cols:
            key = (s.label, d, p)
            if key not in expected:
                cells.append("-".ljust(width))
                continue
            mark = ("open" if observed.get(key) else "shut") + ("" if observed.get(key) == expected[key] else "!")
            cells.append(mark.ljust(width))
        lines.append(s.label.ljust(12) + "".join(cells))
    return "\n".join(lines) + "\n(! = expected the opposite)"


def expect_matrix(pods: list[Pod], allowed, what: str, timeout: float = 30) -> None:
    """Waits until the observed matrix is `allowed(from, to, port)` for every pair and port."""
    expected = {(s.label, d.label, p): bool(allowed(s.label, d.label, p)) for s in pods for d in pods if d is not s for p in PORTS}
    last: dict = {}

    def check():
        nonlocal last
        last = observe(pods)
        return last == expected

    try:
        wait_for(check, timeout=timeout, interval=0.5, what=what)
    except AssertionError:
        raise AssertionError(f"{what}: connectivity differs from the policies\n{table(pods, expected, last)}") from None


def policy(name: str, spec: dict) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name}, "spec": spec}


DEFAULT_DENY = policy("default-deny-all", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
ALLOW_API_TO_DB = policy("allow-api-to-db", {
    "podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"],
    "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "api"}}}], "ports": [{"protocol": "TCP", "port": 5432}]}]})
# The api pods may go out to the db pods' port named "pg" (5432, resolved on the db pod).
API_EGRESS = policy("api-egress-to-db", {
    "podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Egress"],
    "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}], "ports": [{"port": "pg"}]}]})
FROM_CLIENT_NAMESPACE = policy("allow-client-namespace-to-other", {
    "podSelector": {"matchLabels": {"app": "other"}},
    "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"netpol-e2e": "client"}}}], "ports": [{"port": 8080}]}]})


def test_matrix_follows_the_policies(srv, ns, pods):
    in_ns = {"api", "db", "other"}
    expect_matrix(pods, lambda s, d, p: True, "no policy: every pod reaches every pod on every port")

    apply(srv, DEFAULT_DENY, ns)
    expect_matrix(pods, lambda s, d, p: s not in in_ns and d not in in_ns, "default-deny-all: every pod of the namespace cut off")
    listing = nft_table(srv)
    assert listing.returncode == 0 and "ingress-" in listing.stdout and "egress-" in listing.stdout, listing.stdout + listing.stderr
    # Probes come from the node itself, which policies never block: the pods stay Ready.
    time.sleep(3)
    for p in pods:
        assert is_ready(get_json(srv, "pod", p.name, p.namespace)), f"{p.name} lost readiness under default-deny"

    apply(srv, [ALLOW_API_TO_DB, API_EGRESS], ns)
    expect_matrix(pods, lambda s, d, p: (s, d, p) == ("api", "db", 5432), "allow-api-to-db: only api -> db:5432")

    apply(srv, FROM_CLIENT_NAMESPACE, ns)
    expect_matrix(pods, lambda s, d, p: (s, d, p) in {("api", "db", 5432), ("client@ns2", "other", 8080)},
                  "namespaceSelector: the client namespace reaches other:8080 too")

    srv.kubectl("delete", "networkpolicies", "--all", "-n", ns)
    expect_matrix(pods, lambda s, d, p: True, "policies deleted: every pod reaches every pod again")
    listing = nft_table(srv)
    assert listing.returncode == 0 and "jump" not in listing.stdout, listing.stdout


def test_policies_survive_a_pod_replacement(srv, ns, pods):
    """A pod that comes back with a new IP is isolated again and reachable again as a peer:
    the sets follow pods as they come and go."""
    apply(srv, [DEFAULT_DENY, ALLOW_API_TO_DB, API_EGRESS], ns)
    try:
        expect_matrix(pods, lambda s, d, p: (s, d, p) == ("api", "db", 5432), "allow-api-to-db before the replacement")
        srv.kubectl("delete", "pod", "api", "-n", ns)
        wait_gone(srv, "pod", "api", ns)
        apply(srv, server_pod("api", "api"), ns)
        fresh = [Pod(srv, ns, "api")] + [p for p in pods if p.name != "api"]
        expect_matrix(fresh, lambda s, d, p: (s, d, p) == ("api", "db", 5432), "allow-api-to-db after the replacement")
    finally:
        srv.kubectl("delete", "networkpolicies", "--all", "-n", ns, check=False)


def test_a_kubelet_stopping_with_no_isolated_pod_removes_its_table(tmp_path_factory):
    with serve(tmp_path_factory, "netpol-stop", controllers=True, kubelet=True) as s:
        wait_for(lambda: nft_table(s).returncode == 0, timeout=90, what="the node's policy table")
        assert s.stop() is not None
        leftover = nft_table(s)
        if leftover.returncode == 0:
            subprocess.run([NFT, "delete", "table", "inet", table_name(s)], timeout=30)
        subprocess.run([IP, "link", "del", "dev", bridge_name(s)], capture_output=True, timeout=30)
        assert leftover.returncode != 0, f"the stopped kubelet left its table:\n{leftover.stdout}"
