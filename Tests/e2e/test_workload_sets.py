"""DaemonSets, StatefulSets and ReplicationControllers with the real kubectl and real
processes: a server with its controllers and built-in node plus two nodes joined as their
own `caravel kubelet` processes (all with the process runtime). A DaemonSet runs one pod on
each node and rolls a new image out and back (`kubectl rollout status|history|undo ds/x`); a
3-replica OrderedReady StatefulSet comes up in ordinal order and a partitioned rollout updates
only the ordinals at or above the partition; StatefulSet pods write to their claims (local-path
volumes), are deleted, and find their data again; `kubectl scale rc` scales a ReplicationController.
Every pod is deleted through the API and its processes waited for before the nodes stop."""

from __future__ import annotations

import contextlib
import json

import pytest

from e2eutil import unique, wait_for
from kubeletutil import (IS_ROOT, KubeletProcess, get_json, is_ready, kill_pids, list_json, namespace_on, node_kubeconfig,
                         node_ready, parse_time, pids_with, serve, sh_container, wait_no_pids)

pytestmark = pytest.mark.skipif(not IS_ROOT, reason="process-runtime pods need root (CI runs as root)")

TOKEN = unique("e2e-sets", 8)
JOINED = ["sets-joined-1", "sets-joined-2"]


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with serve(tmp_path_factory, "sets", controllers=True, kubelet=True) as s:
        yield s
    kill_pids(TOKEN)


@pytest.fixture(scope="module")
def joined(srv, tmp_path_factory):
    base = tmp_path_factory.mktemp("sets-kubelet")
    kubelets = [KubeletProcess(node_kubeconfig(srv, name, base / f"{name}.kubeconfig"), name, base / name,
                               base / f"{name}.log").start() for name in JOINED]
    try:
        for name in JOINED:
            wait_for(lambda: node_ready(get_json(srv, "node", name)), timeout=120, what=f"node {name} Ready")
        yield kubelets
    finally:
        for kubelet in kubelets:
            kubelet.stop()
            kubelet.clean_up_node()


@pytest.fixture
def ns(srv, joined):
    with namespace_on(srv, "sets") as namespace:
        yield namespace
        srv.kubectl("delete", "daemonsets,statefulsets,replicationcontrollers", "--all", "-n", namespace, "--wait=false",
                    check=False)
        srv.kubectl("delete", "pods", "--all", "-n", namespace, "--wait=false", check=False)
        with contextlib.suppress(AssertionError):
            wait_for(lambda: not list_json(srv, "pods", namespace), timeout=120, what="pods deleted")
        srv.kubectl("delete", "pvc", "--all", "-n", namespace, "--wait=false", check=False)
        with contextlib.suppress(AssertionError):
            wait_no_pids(TOKEN, timeout=60)


def apply(srv, ns: str, obj: dict) -> None:
    srv.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(obj))


def template(app: str, image: str) -> dict:
    c = sh_container("main", "sleep 3600", env=[{"name": "E2E_TOKEN", "value": TOKEN}])
    c["image"] = image
    return {"metadata": {"labels": {"app": app}}, "spec": {"containers": [c], "terminationGracePeriodSeconds": 2}}


def images(srv, ns: str, app: str) -> dict[str, str]:
    return {p["metadata"]["name"]: p["spec"]["containers"][0]["image"]
            for p in list_json(srv, "pods", ns, "-l", f"app={app}") if not p["metadata"].get("deletionTimestamp")}


def rollout_status(srv, ns: str, target: str) -> str:
    return srv.kubectl("rollout", "status", target, "-n", ns, "--timeout=240s", timeout=260).stdout


def test_daemonset_runs_on_every_node_and_rolls_out_and_back(srv, ns):
    apply(srv, ns, {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "prep"},
                    "spec": {"selector": {"matchLabels": {"app": "prep"}}, "template": template("prep", "busybox:1.36")}})
    assert "successfully rolled out" in rollout_status(srv, ns, "ds/prep")
    pods = list_json(srv, "pods", ns, "-l", "app=prep")
    assert sorted(p["spec"]["nodeName"] for p in pods) == sorted([srv.node_name, *JOINED])
    header, row = srv.kubectl("get", "ds", "prep", "-n", ns).stdout.splitlines()
    assert header.split() == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE", "SELECTOR", "AGE"]
    assert row.split()[:7] == ["prep", "3", "3", "3", "3", "3", "<none>"]
    wait_for(lambda: len(pids_with(TOKEN)) >= 3, timeout=60, what="a daemon process per node")

    srv.kubectl("set", "image", "ds/prep", "main=busybox:1.37", "-n", ns)
    assert "successfully rolled out" in rollout_status(srv, ns, "ds/prep")
    wait_for(lambda: sorted(images(srv, ns, "prep").values()) == ["busybox:1.37"] * 3, timeout=120, what="new image on every node")
    history = srv.kubectl("rollout", "history", "ds/prep", "-n", ns).stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"], history
    revisions = list_json(srv, "controllerrevisions", ns)
    assert sorted(r["revision"] for r in revisions) == [1, 2]
    assert all(r["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet" for r in revisions)

    srv.kubectl("rollout", "undo", "ds/prep", "-n", ns)
    assert "successfully rolled out" in rollout_status(srv, ns, "ds/prep")
    wait_for(lambda: sorted(images(srv, ns, "prep").values()) == ["busybox:1.36"] * 3, timeout=120, what="old image back")
    # The first template's revision is renumbered, not copied.
    assert sorted(r["revision"] for r in list_json(srv, "controllerrevisions", ns)) == [2, 3]


def test_a_node_joining_gets_its_daemon_pod_and_a_removed_node_loses_it(srv, ns, tmp_path):
    apply(srv, ns, {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                    "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template("agent", "busybox:1.36")}})
    assert "successfully rolled out" in rollout_status(srv, ns, "ds/agent")
    assert get_json(srv, "ds", "agent", ns)["status"]["desiredNumberScheduled"] == 3
    late = "sets-late"
    kubelet = KubeletProcess(node_kubeconfig(srv, late, tmp_path / "late.kubeconfig"), late, tmp_path / "root",
                             tmp_path / "kubelet.log", extra_args=["--runtime", "fake"]).start()
    try:
        wait_for(lambda: node_ready(get_json(srv, "node", late)), timeout=120, what=f"node {late} Ready")
        wait_for(lambda: get_json(srv, "ds", "agent", ns)["status"].get("numberReady") == 4, timeout=120,
                 what="a ready daemon pod on the new node too")
        assert late in {p["spec"].get("nodeName") for p in list_json(srv, "pods", ns, "-l", "app=agent")}
    finally:
        kubelet.stop()
    srv.kubectl("delete", "node", late)
    wait_for(lambda: late not in {p["spec"].get("nodeName") for p in list_json(srv, "pods", ns, "-l", "app=agent")},
             timeout=120, what="the removed node's daemon pod gone")
    status = get_json(srv, "ds", "agent", ns)["status"]
    assert status["desiredNumberScheduled"] == 3 and status["currentNumberScheduled"] == 3


def test_statefulset_comes_up_in_order_and_a_partitioned_rollout_stops_at_the_partition(srv, ns):
    apply(srv, ns, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
                    "spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 80}]}})
    apply(srv, ns, {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
                    "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                             "template": template("db", "busybox:1.36")}})
    rollout_status(srv, ns, "sts/db")
    wait_for(lambda: get_json(srv, "sts", "db", ns).get("status", {}).get("readyReplicas") == 3, timeout=240, what="3 ready")
    pods = {p["metadata"]["name"]: p for p in list_json(srv, "pods", ns, "-l", "app=db")}
    assert sorted(pods) == ["db-0", "db-1", "db-2"]
    for i in range(3):
        p = pods[f"db-{i}"]
        assert p["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == f"db-{i}"
        assert p["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == str(i)
        assert p["spec"]["hostname"] == f"db-{i}" and p["spec"]["subdomain"] == "db"

    def ready_at(p: dict) -> float:
        return parse_time(next(c["lastTransitionTime"] for c in p["status"]["conditions"] if c["type"] == "Ready"))

    # OrderedReady: each pod was created only once the one before it was Ready.
    for i in (1, 2):
        assert parse_time(pods[f"db-{i}"]["metadata"]["creationTimestamp"]) >= ready_at(pods[f"db-{i - 1}"]) - 1
    header = srv.kubectl("get", "sts", "-n", ns).stdout.splitlines()
    assert header[0].split() == ["NAME", "READY", "AGE"] and header[1].split()[:2] == ["db", "3/3"]

    srv.kubectl("patch", "sts", "db", "-n", ns, "-p", json.dumps({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 2}}}}))
    srv.kubectl("set", "image", "sts/db", "main=busybox:1.37", "-n", ns)
    out = rollout_status(srv, ns, "sts/db")
    assert "partitioned roll out complete: 1 new pods have been updated" in out, out
    wait_for(lambda: images(srv, ns, "db") == {"db-0": "busybox:1.36", "db-1": "busybox:1.36", "db-2": "busybox:1.37"},
             timeout=180, what="only db-2 updated")
    status = get_json(srv, "sts", "db", ns)["status"]
    assert status["updatedReplicas"] == 1 and status["currentRevision"] != status["updateRevision"]
    assert [line.split()[0] for line in srv.kubectl("rollout", "history", "sts/db", "-n", ns).stdout.splitlines()[2:]
            if line.strip()] == ["1", "2"]


def test_statefulset_pods_find_their_volume_data_after_being_deleted(srv, ns):
    script = ('if [ -f /data/id ]; then echo "found $(cat /data/id)"; '
              'else echo "$POD_NAME" > /data/id && echo "wrote $POD_NAME"; fi; exec sleep 3600')
    c = sh_container("main", script, env=[{"name": "E2E_TOKEN", "value": TOKEN},
                                          {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                     volumeMounts=[{"name": "data", "mountPath": "/data"}])
    apply(srv, ns, {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "store"},
                    "spec": {"replicas": 3, "serviceName": "store", "selector": {"matchLabels": {"app": "store"}},
                             "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"},
                             "template": {"metadata": {"labels": {"app": "store"}},
                                          "spec": {"containers": [c], "terminationGracePeriodSeconds": 2}},
                             "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                                 "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "16Mi"}}}}]}})

    def ready_pods() -> dict[str, dict]:
        pods = {p["metadata"]["name"]: p for p in list_json(srv, "pods", ns, "-l", "app=store")
                if not p["metadata"].get("deletionTimestamp")}
        return pods if len(pods) == 3 and all(is_ready(p) for p in pods.values()) else {}

    first = wait_for(ready_pods, timeout=300, what="3 store pods ready")
    claims = {c["metadata"]["name"]: c for c in list_json(srv, "pvc", ns)}
    assert sorted(claims) == ["data-store-0", "data-store-1", "data-store-2"]
    assert all(c["status"].get("phase") == "Bound" for c in claims.values()), claims
    for name in first:
        wait_for(lambda: f"wrote {name}" in srv.kubectl("logs", name, "-n", ns).stdout, timeout=60, what=f"{name} wrote its id")

    srv.kubectl("delete", "pods", "-l", "app=store", "-n", ns, "--wait=false")
    old_uids = {p["metadata"]["uid"] for p in first.values()}
    again = wait_for(lambda: (p := ready_pods()) and not old_uids & {x["metadata"]["uid"] for x in p.values()} and p,
                     timeout=300, what="3 new store pods ready")
    for name in again:
        wait_for(lambda: f"found {name}" in srv.kubectl("logs", name, "-n", ns).stdout, timeout=60,
                 what=f"{name} found its own data")


def test_scale_replicationcontroller(srv, ns):
    apply(srv, ns, {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "legacy"},
                    "spec": {"replicas": 1, "template": template("legacy", "busybox:1.36")}})
    wait_for(lambda: get_json(srv, "rc", "legacy", ns).get("status", {}).get("readyReplicas") == 1, timeout=120, what="1 ready")
    srv.kubectl("scale", "rc", "legacy", "--replicas=3", "-n", ns)
    wait_for(lambda: get_json(srv, "rc", "legacy", ns).get("status", {}).get("readyReplicas") == 3, timeout=180, what="3 ready")
    pods = list_json(srv, "pods", ns, "-l", "app=legacy")
    assert len(pods) == 3
    assert all(p["metadata"]["ownerReferences"][0]["kind"] == "ReplicationController" for p in pods)
    header, row = srv.kubectl("get", "rc", "legacy", "-n", ns, "-o", "wide").stdout.splitlines()
    assert header.split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert row.split()[:4] == ["legacy", "3", "3", "3"] and row.split()[-1] == "app=legacy"
    srv.kubectl("scale", "rc", "legacy", "--replicas=1", "-n", ns)
    wait_for(lambda: len([p for p in list_json(srv, "pods", ns, "-l", "app=legacy") if not p["metadata"].get("deletionTimestamp")]) == 1,
             timeout=120, what="scaled to 1")


def test_quota_explain_and_namespace_deletion_cover_the_kinds(srv, joined):
    with namespace_on(srv, "sets-q") as q:
        srv.kubectl("create", "quota", "sets", "-n", q,
                    "--hard=count/daemonsets.apps=1,count/statefulsets.apps=1,count/controllerrevisions.apps=4,replicationcontrollers=1")
        nowhere = template("idle", "busybox:1.36")
        nowhere["spec"]["nodeSelector"] = {"e2e-sets": "no-such-node"}
        apply(srv, q, {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "idle"},
                       "spec": {"selector": {"matchLabels": {"app": "idle"}}, "template": nowhere}})
        apply(srv, q, {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "idle"},
                       "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "idle"}}, "template": nowhere}})
        wait_for(lambda: get_json(srv, "resourcequota", "sets", q).get("status", {}).get("used", {}) == {
            "count/daemonsets.apps": "1", "count/statefulsets.apps": "1", "count/controllerrevisions.apps": "2",
            "replicationcontrollers": "0"}, timeout=60, what="quota usage counted")
        cp = srv.kubectl("apply", "-n", q, "-f", "-", check=False, input=json.dumps(
            {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "second"},
             "spec": {"selector": {"matchLabels": {"app": "idle"}}, "template": nowhere}}))
        assert cp.returncode != 0 and "exceeded quota: sets" in cp.stderr, cp.stderr
        assert get_json(srv, "ds", "idle", q)["status"]["desiredNumberScheduled"] == 0

        explained = srv.kubectl("explain", "daemonsets.spec.updateStrategy").stdout
        assert "rollingUpdate" in explained and "type" in explained, explained
        assert "volumeClaimTemplates" in srv.kubectl("explain", "statefulsets.spec").stdout

        srv.kubectl("delete", "namespace", q, "--timeout=120s", timeout=150)
        cp = srv.kubectl("get", "namespace", q, check=False)
        assert cp.returncode != 0 and "NotFound" in cp.stderr
