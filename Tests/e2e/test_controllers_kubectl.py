"""kubectl against a Caravel server WITH its controllers (ReplicaSet, Deployment, garbage
collector): create deployment, rollout status, wait, set image, rollout history/undo, and
cascading deletion. There is no kubelet: the test marks pods Ready itself by writing their
status (Ready condition True; minReadySeconds is 0, so Ready pods count as available)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest

from e2eutil import serve, unique, wait_for


@pytest.fixture(scope="module")
def cserver(tmp_path_factory):
    with serve(tmp_path_factory, "caravel-controllers", controllers=True) as s:
        yield s


@pytest.fixture
def cns(cserver):
    name = unique("e2e-ctl", 5)
    cserver.kubectl("create", "namespace", name)
    yield name
    cserver.kubectl("delete", "namespace", name, "--wait=false", check=False)


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def list_json(server, ns, kind, selector=None) -> list[dict]:
    args = ["get", kind, "-n", ns, "-o", "json"]
    if selector:
        args += ["-l", selector]
    return json.loads(server.kubectl(*args).stdout)["items"]


def mark_ready(server, ns: str, pod: dict) -> None:
    """Writes what a kubelet would: phase Running, Ready condition True, container statuses."""
    name = pod["metadata"]["name"]
    ts = now()
    containers = pod["spec"]["containers"]
    body = {"status": {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": ts},
                       {"type": "ContainersReady", "status": "True", "lastTransitionTime": ts}],
        "containerStatuses": [{"name": c["name"], "image": c["image"], "imageID": "",
                               "ready": True, "started": True, "restartCount": 0,
                               "state": {"running": {"startedAt": ts}}} for c in containers],
    }}
    with server.session() as s:
        r = s.patch(f"{server.url}/api/v1/namespaces/{ns}/pods/{name}/status",
                    data=json.dumps(body),
                    headers={"Content-Type": "application/merge-patch+json"}, timeout=10)
    if r.status_code == 404:
        return  # deleted meanwhile (scaled down)
    assert r.status_code == 200, (r.status_code, r.text)


def is_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def ready_all_until(server, ns: str, selector: str, done, timeout: float = 60) -> None:
    """Marks every not-yet-ready pod matching selector Ready, until done() is true."""
    deadline = time.monotonic() + timeout
    while True:
        for p in list_json(server, ns, "pods", selector):
            if not is_ready(p) and not p["metadata"].get("deletionTimestamp"):
                mark_ready(server, ns, p)
        if done():
            return
        if time.monotonic() > deadline:
            raise AssertionError("timed out marking pods ready; deployment: "
                                 + server.kubectl("get", "deploy", "-n", ns, "-o", "wide").stdout
                                 + server.kubectl("get", "rs,pods", "-n", ns).stdout)
        time.sleep(0.3)


def deployment_done(server, ns, name) -> bool:
    d = json.loads(server.kubectl("get", "deploy", name, "-n", ns, "-o", "json").stdout)
    st = d.get("status") or {}
    want = d["spec"].get("replicas", 1)
    return (st.get("observedGeneration", 0) >= d["metadata"]["generation"]
            and st.get("updatedReplicas") == want and st.get("replicas") == want
            and st.get("availableReplicas") == want)


@pytest.mark.timeout(120)
def test_deployment_lifecycle_with_kubectl(cserver, cns):
    k = cserver.kubectl
    ns = cns
    out = k("create", "deployment", "web", "-n", ns, "--image=nginx:1.25", "--replicas=3").stdout
    assert "deployment.apps/web created" in out, out

    # the Deployment controller creates a ReplicaSet, the ReplicaSet controller 3 pods
    rs_list = wait_for(lambda: list_json(cserver, ns, "rs", "app=web"), 30, what="a ReplicaSet")
    assert len(rs_list) == 1, [r["metadata"]["name"] for r in rs_list]
    rs1 = rs_list[0]
    dep = json.loads(k("get", "deploy/web", "-n", ns, "-o", "json").stdout)
    owners = rs1["metadata"].get("ownerReferences") or []
    assert [(o["kind"], o["name"], o["uid"], o.get("controller")) for o in owners] == \
        [("Deployment", "web", dep["metadata"]["uid"], True)], owners
    assert rs1["metadata"]["annotations"].get("deployment.kubernetes.io/revision") == "1"

    pods = wait_for(lambda: (lambda ps: ps if len(ps) == 3 else None)(list_json(cserver, ns, "pods", "app=web")),
                    30, what="3 pods")
    for p in pods:
        owners = p["metadata"].get("ownerReferences") or []
        assert [(o["kind"], o["name"], o["uid"], o.get("controller")) for o in owners] == \
            [("ReplicaSet", rs1["metadata"]["name"], rs1["metadata"]["uid"], True)], owners
        assert p["metadata"]["labels"].get("pod-template-hash"), p["metadata"]["labels"]

    # not ready yet: rollout status must not succeed
    cp = k("rollout", "status", "deploy/web", "-n", ns, "--timeout=2s", check=False)
    assert cp.returncode != 0, cp.stdout

    for p in pods:
        mark_ready(cserver, ns, p)
    out = k("rollout", "status", "deploy/web", "-n", ns, "--timeout=60s", timeout=90).stdout
    assert "successfully rolled out" in out, out
    out = k("wait", "--for=condition=Available", "deploy/web", "-n", ns, "--timeout=60s", timeout=90).stdout
    assert "condition met" in out, out
    row = k("get", "deploy/web", "-n", ns, "--no-headers").stdout.split()
    assert row[:4] == ["web", "3/3", "3", "3"], row

    # new image -> new ReplicaSet; mark new pods ready as they appear
    out = k("set", "image", "deploy/web", "-n", ns, "nginx=nginx:1.27").stdout
    assert "image updated" in out, out
    ready_all_until(cserver, ns, "app=web", lambda: deployment_done(cserver, ns, "web"), 60)
    out = k("rollout", "status", "deploy/web", "-n", ns, "--timeout=60s", timeout=90).stdout
    assert "successfully rolled out" in out, out
    rs_list = list_json(cserver, ns, "rs", "app=web")
    assert len(rs_list) == 2, [r["metadata"]["name"] for r in rs_list]
    by_rev = {r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: r for r in rs_list}
    assert set(by_rev) == {"1", "2"}, list(by_rev)
    assert by_rev["2"]["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert by_rev["2"]["spec"]["replicas"] == 3 and by_rev["1"]["spec"]["replicas"] == 0
    pods = list_json(cserver, ns, "pods", "app=web")
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    assert {p["spec"]["containers"][0]["image"] for p in live} == {"nginx:1.27"}, \
        [(p["metadata"]["name"], p["spec"]["containers"][0]["image"]) for p in live]

    out = k("rollout", "history", "deploy/web", "-n", ns).stdout
    revs = [ln.split()[0] for ln in out.splitlines()[2:] if ln.strip()]
    assert revs == ["1", "2"], out
    out = k("rollout", "history", "deploy/web", "-n", ns, "--revision=1").stdout
    assert "nginx:1.25" in out, out

    # undo -> template back to the old image, revision 1 becomes 3
    out = k("rollout", "undo", "deploy/web", "-n", ns).stdout
    assert "rolled back" in out, out
    dep = json.loads(k("get", "deploy/web", "-n", ns, "-o", "json").stdout)
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    ready_all_until(cserver, ns, "app=web", lambda: deployment_done(cserver, ns, "web"), 60)
    rs_list = list_json(cserver, ns, "rs", "app=web")
    assert len(rs_list) == 2, [r["metadata"]["name"] for r in rs_list]
    old = next(r for r in rs_list if r["metadata"]["uid"] == rs1["metadata"]["uid"])
    assert old["spec"]["replicas"] == 3
    assert old["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    out = k("rollout", "history", "deploy/web", "-n", ns).stdout
    revs = [ln.split()[0] for ln in out.splitlines()[2:] if ln.strip()]
    assert revs == ["2", "3"], out

    # cascading delete: the garbage collector removes the ReplicaSets and the pods
    out = k("delete", "deploy", "web", "-n", ns, timeout=90).stdout
    assert 'deployment.apps "web" deleted' in out, out
    wait_for(lambda: not list_json(cserver, ns, "rs"), 30, what="ReplicaSets deleted")
    wait_for(lambda: not list_json(cserver, ns, "pods"), 30, what="pods deleted")


@pytest.mark.timeout(60)
def test_scale_and_orphan_delete(cserver, cns):
    k = cserver.kubectl
    ns = cns
    k("create", "deployment", "sc", "-n", ns, "--image=busybox", "--replicas=1")
    wait_for(lambda: len(list_json(cserver, ns, "pods", "app=sc")) == 1, 30, what="1 pod")
    out = k("scale", "deploy/sc", "-n", ns, "--replicas=4").stdout
    assert "scaled" in out, out
    wait_for(lambda: len(list_json(cserver, ns, "pods", "app=sc")) == 4, 30, what="4 pods")
    k("scale", "deploy/sc", "-n", ns, "--replicas=2")
    wait_for(lambda: len([p for p in list_json(cserver, ns, "pods", "app=sc")
                          if not p["metadata"].get("deletionTimestamp")]) == 2, 30, what="2 pods")

    # --cascade=orphan keeps the ReplicaSet (and its pods), without owner reference
    k("delete", "deploy", "sc", "-n", ns, "--cascade=orphan", timeout=90)
    time.sleep(1.0)
    rs = wait_for(lambda: [r for r in list_json(cserver, ns, "rs", "app=sc")
                           if not r["metadata"].get("ownerReferences")], 30, what="orphaned ReplicaSet")
    assert len(rs) == 1
    assert len(list_json(cserver, ns, "pods", "app=sc")) == 2
