"""Nodes: the Manifests/ demo on the built-in kubelet (3 replicas, each with its own pod IP
and answering HTTP with its own name, all in the Service's Endpoints), and many fake nodes
from one `caravel kubelet --runtime fake --nodes 20` process: Ready nodes with Leases, a
Deployment of 2 replicas per fake node pinned to them (logs and exec through the API server on
every node), and Leases that stop renewing once that kubelet dies."""

from __future__ import annotations

import os
import time
import urllib.request

import pytest

from e2eutil import REPO, unique, wait_for
from kubeletutil import (IS_ROOT, in_pod_network, KubeletProcess, get_json, is_ready, list_json, node_fixtures,
                         node_ready, parse_time, pids_with)

TOKEN = unique("e2e-nodes", 8)
FAKE = "fake"
N_FAKE = int(os.environ.get("CARAVEL_E2E_FAKE_NODES", "20"))
REPLICAS = 2 * N_FAKE
FAKE_NODES = [f"{FAKE}-{i}" for i in range(1, N_FAKE + 1)]
FAKE_NODES_SET = set(FAKE_NODES)


srv, ns = node_fixtures("kl-nodes", TOKEN)


def http_get(url: str, timeout: float = 5) -> str:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as r:
        return r.read().decode()


def ready_endpoint_ips(srv, ns, name):
    ep = get_json(srv, "endpoints", name, ns)
    return {a["ip"] for s in ep.get("subsets") or [] for a in s.get("addresses") or []}


@pytest.mark.skipif(not IS_ROOT, reason="3 replicas on :8080 need a network namespace per pod (root)")
def test_manifests_demo_three_replicas(srv, ns):
    # Runs before any fake node exists, so the demo pods land on the built-in node.
    srv.kubectl("apply", "-n", ns, "-f", str(REPO / "Manifests"))

    def demo_ready():
        pods = [p for p in list_json(srv, "pods", ns, "-l", "app=demo")
                if not p["metadata"].get("deletionTimestamp")]
        return len(pods) == 3 and all(is_ready(p) for p in pods) and pods
    pods = wait_for(demo_ready, timeout=180, what="3 demo pods Ready")
    ips = {p["metadata"]["name"]: p["status"]["podIP"] for p in pods}
    assert len(set(ips.values())) == 3, ips
    for name, ip in ips.items():
        assert in_pod_network(srv, ip), ips
        body = wait_for(lambda: http_get(f"http://{ip}:8080/"), timeout=30, what=f"GET {ip}:8080/")
        assert body.strip() == f"hello from a ConfigMap from {name}", body
        cfg = http_get(f"http://{ip}:8080/config")
        assert "color=blue" in cfg and "token: 17 bytes" in cfg, cfg
    wait_for(lambda: ready_endpoint_ips(srv, ns, "demo") == set(ips.values()), timeout=60,
             what=f"Endpoints demo = {sorted(ips.values())}")
    for p in pods:
        assert p["spec"]["nodeName"] == srv.node_name, p["spec"]
        assert all(cs["restartCount"] == 0 for cs in p["status"]["containerStatuses"]), p["status"]
    srv.kubectl("delete", "-n", ns, "-f", str(REPO / "Manifests"), "--wait=false")
    wait_for(lambda: not list_json(srv, "pods", ns, "-l", "app=demo"), timeout=90,
             what="demo pods gone")


@pytest.fixture(scope="module")
def fake_kubelet(srv, tmp_path_factory):
    base = tmp_path_factory.mktemp("kl-fake")
    # One process plays fake-1 … fake-20: a node identity (system:node:fake) may not write
    # the others' Node and Lease objects (403 from the node authorizer), so as kwok it runs
    # with the admin kubeconfig.
    k = KubeletProcess(srv.kubeconfig, FAKE, base / "root", base / "kubelet.log",
                       extra_args=["--runtime", "fake", "--nodes", str(N_FAKE)]).start()
    # Every node's Lease must appear: the N nodes share one client, whose pool must not be
    # starved by their pod watches (it was once: lease renewals timed out waiting for a connection).
    wait_for(lambda: FAKE_NODES_SET <= {l["metadata"]["name"] for l in
                                        list_json(srv, "leases", "kube-node-lease")},
             timeout=120, interval=1, what="fake node leases")
    yield k
    k.stop()


def test_fake_nodes_ready_with_leases(srv, fake_kubelet):
    def all_ready():
        nodes = {n["metadata"]["name"]: n for n in list_json(srv, "nodes")}
        return all(name in nodes and node_ready(nodes[name]) for name in FAKE_NODES) and nodes
    try:
        nodes = wait_for(all_ready, timeout=120, what=f"{N_FAKE} fake nodes Ready")
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- fake kubelet log ---\n{fake_kubelet.log_tail()}") from None
    for name in FAKE_NODES:
        assert nodes[name]["metadata"]["labels"].get("type") == "fake", nodes[name]["metadata"]
        assert nodes[name]["status"]["allocatable"].get("pods"), nodes[name]["status"]

    def all_leases():
        leases = {l["metadata"]["name"]: l for l in list_json(srv, "leases", "kube-node-lease")}
        return all(name in leases for name in FAKE_NODES) and leases
    leases = wait_for(all_leases, timeout=60, what=f"{N_FAKE} leases in kube-node-lease")
    for name in FAKE_NODES:
        assert leases[name]["spec"].get("holderIdentity") == name, leases[name]
        assert leases[name]["spec"].get("renewTime"), leases[name]


def test_two_replicas_per_fake_node(srv, ns, fake_kubelet):
    srv.kubectl("apply", "-n", ns, "-f", "-", input=f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: many}}
spec:
  replicas: {REPLICAS}
  selector: {{matchLabels: {{app: many}}}}
  template:
    metadata: {{labels: {{app: many}}}}
    spec:
      nodeSelector: {{type: fake}}
      containers:
      - name: main
        image: caravel/demo-app:1.0
        env: [{{name: E2E_TOKEN, value: {TOKEN}}}]
""")

    def all_ready():
        pods = list_json(srv, "pods", ns, "-l", "app=many")
        ok = [p for p in pods if p["status"].get("phase") == "Running" and is_ready(p)]
        return len(ok) == REPLICAS and len(pods) == REPLICAS and pods
    pods = wait_for(all_ready, timeout=180, what=f"{REPLICAS} fake pods Running and Ready")
    used = {p["spec"]["nodeName"] for p in pods}
    assert used <= set(FAKE_NODES), used
    assert len(used) > 1, f"all {REPLICAS} pods on {used}"
    dep = get_json(srv, "deployment", "many", ns)
    wait_for(lambda: get_json(srv, "deployment", "many", ns)["status"].get("readyReplicas") == REPLICAS,
             timeout=60, what=f"deployment readyReplicas {REPLICAS} (status {dep.get('status')})")
    assert pids_with(TOKEN) == [], "the fake runtime started real processes"
    # Every fake node serves logs (empty: nothing runs) and refuses exec clearly, through the
    # API server: the kubelet sends its Status and close right after the upgrade, and waits for
    # the relay's close before dropping the connection (else the relay could hang).
    one_per_node = {p["spec"]["nodeName"]: p for p in pods}
    for node, pod in sorted(one_per_node.items()):
        name = pod["metadata"]["name"]
        r = srv.kubectl("logs", "-n", ns, name, check=False)
        assert r.returncode == 0 and r.stdout == "", f"{name} on {node}: {r.stderr}"
        r = srv.kubectl("exec", "-n", ns, name, "--", "true", check=False, timeout=60)
        assert r.returncode == 126 and "fake runtime" in r.stderr and "exec is not supported" in r.stderr, \
            f"{name} on {node}: rc {r.returncode}: {r.stderr}"
    srv.kubectl("delete", "deployment", "many", "-n", ns)
    wait_for(lambda: not list_json(srv, "pods", ns, "-l", "app=many"), timeout=120,
             what=f"the {REPLICAS} fake pods gone")


def test_leases_stop_renewing_when_fake_kubelet_dies(srv, fake_kubelet):
    def renew_times():
        return {l["metadata"]["name"]: l["spec"].get("renewTime")
                for l in list_json(srv, "leases", "kube-node-lease") if l["metadata"]["name"] in FAKE_NODES}
    first = renew_times()
    # Alive: renewed (every 10 s).
    wait_for(lambda: (now := renew_times()) and all(now[n] != first.get(n) for n in FAKE_NODES),
             timeout=40, interval=1, what="every fake node's lease renewed")
    fake_kubelet.kill()
    dead = renew_times()
    time.sleep(25)  # more than two renew periods: the absence of renewals is the assertion
    after = renew_times()
    assert after == dead, {n: (dead[n], after[n]) for n in FAKE_NODES if dead[n] != after[n]}
    newest = max(parse_time(t) for t in after.values())
    assert time.time() - newest >= 20, "a lease claims a renewal after the kubelet died"
