"""Node maintenance with the real kubectl against two real `caravel kubelet` nodes: cordon and
uncordon, `kubectl drain` respecting a PodDisruptionBudget (available replicas never drop
below minAvailable while the drained node's pods move to the other node), the eviction API
refusing with 429 when the budget is spent, and a NoExecute taint evicting pods that do not
tolerate it, at once or after tolerationSeconds."""

from __future__ import annotations

import threading
import time

import pytest

from e2eutil import serve, unique, wait_for
from kubeletutil import (KubeletProcess, apply, get_json, is_ready, kill_pids, list_json, namespace_on,
                         node_kubeconfig, node_ready, pod_spec, sh_container, wait_gone, wait_no_pids,
                         wait_running_ready)

TOKEN = unique("e2e-drain", 8)
NODES = [unique("drain-a", 4), unique("drain-b", 4)]


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with serve(tmp_path_factory, "drain", controllers=True) as s:
        yield s
    kill_pids(TOKEN)


@pytest.fixture(scope="module")
def nodes(srv, tmp_path_factory):
    kubelets = []
    try:
        for name in NODES:
            base = tmp_path_factory.mktemp(name)
            kc = node_kubeconfig(srv, name, base / "node.kubeconfig")
            kubelets.append(KubeletProcess(kc, name, base / "root", base / "kubelet.log").start())
        for name in NODES:
            wait_for(lambda: node_ready(get_json(srv, "node", name)), timeout=60, what=f"node {name} Ready")
        yield NODES
    finally:
        for k in kubelets:
            k.stop()
            k.clean_up_node()


@pytest.fixture(scope="module")
def ns(srv, nodes):
    with namespace_on(srv, "drain") as name:
        yield name
        srv.kubectl("delete", "deployments,pods,pdb", "--all", "-n", name, "--wait=false", check=False)
        try:
            wait_no_pids(TOKEN, timeout=60)
        except AssertionError:
            pass  # the srv fixture kills what is left


def deployment(name: str, replicas: int, **pod_extra) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"terminationGracePeriodSeconds": 2, "containers": [
                                      sh_container("main", "exec sleep 3600",
                                                   env=[{"name": "E2E_TOKEN", "value": f"{TOKEN}-{name}"}])],
                                           **pod_extra}}}}


def ready_pods(srv, ns, app) -> list[dict]:
    return [p for p in list_json(srv, "pods", ns, "-l", f"app={app}")
            if is_ready(p) and not p["metadata"].get("deletionTimestamp")]


def test_cordon_shows_scheduling_disabled(srv, nodes):
    a = nodes[0]
    srv.kubectl("cordon", a)
    try:
        assert get_json(srv, "node", a)["spec"].get("unschedulable") is True
        line = [ln for ln in srv.kubectl("get", "nodes").stdout.splitlines() if ln.startswith(a)][0]
        assert "Ready,SchedulingDisabled" in line, line
    finally:
        srv.kubectl("uncordon", a)
    assert not get_json(srv, "node", a)["spec"].get("unschedulable")


def test_drain_respects_the_disruption_budget(srv, ns, nodes):
    a, b = nodes
    # Everything starts on node a: b is cordoned while the Deployment comes up.
    srv.kubectl("cordon", b)
    apply(srv, deployment("web", 3), ns)
    wait_for(lambda: len(ready_pods(srv, ns, "web")) == 3, timeout=90, what="3 web pods Ready")
    assert {p["spec"]["nodeName"] for p in list_json(srv, "pods", ns, "-l", "app=web")} == {a}
    srv.kubectl("uncordon", b)
    apply(srv, {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"},
                "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}}}, ns)
    wait_for(lambda: (get_json(srv, "pdb", "web", ns).get("status") or {}).get("disruptionsAllowed") == 1,
             timeout=30, what="the budget allowing one disruption")
    out = srv.kubectl("get", "pdb", "web", "-n", ns).stdout.splitlines()
    assert out[0].split() == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"], out
    assert out[1].split()[:4] == ["web", "2", "N/A", "1"], out

    lowest = [3]
    done = threading.Event()

    def watch_available():
        while not done.is_set():
            try:
                lowest[0] = min(lowest[0], len(ready_pods(srv, ns, "web")))
            except Exception:  # noqa: BLE001 - a failed read proves nothing either way
                pass
            time.sleep(0.2)

    watcher = threading.Thread(target=watch_available, daemon=True)
    watcher.start()
    try:
        cp = srv.kubectl("drain", a, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=180s", timeout=200)
    finally:
        done.set()
        watcher.join(10)
    assert f"node/{a} drained" in cp.stdout, cp.stdout + cp.stderr
    # The budget held: a pod went only once its replacement was Ready on b.
    assert lowest[0] >= 2, f"available replicas fell to {lowest[0]} during the drain"
    assert "Cannot evict pod as it would violate the pod's disruption budget" in cp.stderr, cp.stderr
    pods = list_json(srv, "pods", ns, "-l", "app=web")
    assert {p["spec"]["nodeName"] for p in pods} == {b}
    assert get_json(srv, "node", a)["spec"].get("unschedulable") is True
    srv.kubectl("uncordon", a)


def test_eviction_refused_when_the_budget_is_spent(srv, ns, nodes):
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    apply(srv, [deployment("solo", 1),
                {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "solo"},
                 "spec": {"maxUnavailable": 0, "selector": {"matchLabels": {"app": "solo"}}}}], ns)
    wait_for(lambda: len(ready_pods(srv, ns, "solo")) == 1, timeout=90, what="the solo pod Ready")
    wait_for(lambda: (get_json(srv, "pdb", "solo", ns).get("status") or {}).get("expectedPods") == 1,
             timeout=30, what="the budget processed")
    pod = ready_pods(srv, ns, "solo")[0]["metadata"]["name"]
    api = client.CoreV1Api(config.new_client_from_config(config_file=str(srv.kubeconfig)))
    body = client.V1Eviction(metadata=client.V1ObjectMeta(name=pod, namespace=ns))
    with pytest.raises(ApiException) as refused:
        api.create_namespaced_pod_eviction(pod, ns, body)
    assert refused.value.status == 429, refused.value.body
    assert "The disruption budget solo needs 1 healthy pods and has 1 currently" in refused.value.body
    assert get_json(srv, "pod", pod, ns)["metadata"].get("deletionTimestamp") is None

    # Without a budget in the way the same call evicts.
    srv.kubectl("delete", "pdb", "solo", "-n", ns)
    api.create_namespaced_pod_eviction(pod, ns, body)
    wait_gone(srv, "pod", pod, ns, timeout=60)
    srv.kubectl("delete", "deployment", "solo", "-n", ns)


def test_no_execute_taint_evicts_untolerating_pods(srv, ns, nodes):
    a = nodes[0]
    tolerant = pod_spec("tolerant", [sh_container("main", "exec sleep 3600",
                                                  env=[{"name": "E2E_TOKEN", "value": f"{TOKEN}-taint"}])],
                        nodeName=a, terminationGracePeriodSeconds=2,
                        tolerations=[{"key": "maintenance", "operator": "Exists", "effect": "NoExecute",
                                      "tolerationSeconds": 5}])
    plain = pod_spec("plain", [sh_container("main", "exec sleep 3600",
                                            env=[{"name": "E2E_TOKEN", "value": f"{TOKEN}-taint"}])],
                     nodeName=a, terminationGracePeriodSeconds=2)
    apply(srv, [tolerant, plain], ns)
    wait_running_ready(srv, "tolerant", ns)
    wait_running_ready(srv, "plain", ns)
    srv.kubectl("taint", "node", a, "maintenance=yes:NoExecute")
    try:
        tainted = time.monotonic()
        wait_gone(srv, "pod", "plain", ns, timeout=60)
        # The tolerating pod stays for its tolerationSeconds, then goes too.
        assert get_json(srv, "pod", "tolerant", ns)["metadata"].get("name") == "tolerant"
        wait_gone(srv, "pod", "tolerant", ns, timeout=90)
        assert time.monotonic() - tainted >= 4, "the tolerating pod went before its tolerationSeconds"
    finally:
        srv.kubectl("taint", "node", a, "maintenance=yes:NoExecute-", check=False)
    wait_no_pids(f"{TOKEN}-taint", timeout=60)
