"""kubectl-lite rollout history, undo, pause, resume and restart on a fake-runtime cluster,
compared with the real kubectl: history is printed by both tools for the same Deployment; the
changing verbs run as one scenario per tool on twin Deployments, whose outputs and resulting
state must match."""

from __future__ import annotations

import json

import pytest

from e2eutil import serve, unique
from liteutil import WEB_DEPLOYMENT, Pair



@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with serve(tmp_path_factory, "lite-rollout", controllers=True, kubelet=True, extra_args=["--runtime", "fake"]) as s:
        yield s


@pytest.fixture(scope="module")
def pair(cluster):
    return Pair(cluster)


def deployed(pair, revisions: int = 2) -> str:
    """A namespace with Deployment `web` rolled out `revisions` times (image 1.0, 2.0, ...)."""
    ns = unique("lite-ro", 5)
    pair.kubectl("create", "namespace", ns)
    pair.kubectl("apply", "-n", ns, "-f", "-", input=WEB_DEPLOYMENT)
    pair.kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=120s")
    for n in range(2, revisions + 1):
        pair.kubectl("set", "image", "deploy/web", f"app=caravel/demo-app:{n}.0", "-n", ns)
        pair.kubectl("annotate", "deploy/web", f"kubernetes.io/change-cause=image {n}.0", "-n", ns)
        pair.kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=120s")
    return ns


def drop(pair, ns):
    pair.kubectl("delete", "namespace", ns, "--wait=false")
    pair.kubectl("delete", "pods", "--all", "-n", ns, "--wait=true")


def test_history_matches(pair):
    ns = deployed(pair, revisions=3)
    try:
        for args in (["deploy/web"], ["deployment", "web"], ["deploy/web", "--revision=1"], ["deploy/web", "--revision=3"],
                     ["deploy/web", "--revision=9"], ["deploy/nosuch"]):
            pair.same("rollout", "history", *args, "-n", ns)
        k = pair.kubectl("rollout", "history", "deploy/web", "--revision=2", "-n", ns).stdout
        assert "pod-template-hash=" in k and "caravel/demo-app:2.0" in k, k
    finally:
        drop(pair, ns)


STEPS = [
    ["rollout", "undo", "deploy/web", "--to-revision=9"],
    ["rollout", "undo", "deploy/web"],
    ["rollout", "undo", "deploy/web", "--to-revision=3"],
    ["rollout", "status", "deploy/web", "--timeout=120s"],
    ["rollout", "undo", "deploy/web", "--to-revision=5"],
    ["rollout", "pause", "deploy/web"],
    ["rollout", "pause", "deploy/web"],
    ["rollout", "undo", "deploy/web"],
    ["rollout", "restart", "deploy/web"],
    ["rollout", "resume", "deploy/web"],
    ["rollout", "resume", "deploy/web"],
    ["rollout", "restart", "deploy/web"],
    ["rollout", "status", "deploy/web", "--timeout=120s"],
    ["rollout", "history", "deploy/web"],
]


def state(pair, ns) -> dict:
    d = json.loads(pair.kubectl("get", "deploy", "web", "-n", ns, "-o", "json").stdout)
    template = d["spec"]["template"]
    stamp = template["metadata"].get("annotations", {}).pop("kubectl.kubernetes.io/restartedAt", None)
    annotations = {k: v for k, v in d["metadata"].get("annotations", {}).items()
                   if k != "kubectl.kubernetes.io/last-applied-configuration"}
    return {"template": template, "restarted": stamp is not None, "paused": d["spec"].get("paused", False),
            "annotations": annotations}


def scenario(pair, tool) -> tuple[list, dict]:
    ns = deployed(pair, revisions=3)
    try:
        results = []
        for step in STEPS:
            r = tool(*step, "-n", ns)
            results.append((step, r.returncode, r.stdout.replace(ns, "<ns>"), r.stderr.replace(ns, "<ns>")))
        return results, state(pair, ns)
    finally:
        drop(pair, ns)


def test_undo_pause_resume_restart_match(pair):
    k_results, k_state = scenario(pair, pair.kubectl)
    l_results, l_state = scenario(pair, pair.lite)
    for k, l in zip(k_results, l_results):
        # `rollout status` prints progress lines as it sees them; its last line must match.
        if k[0][1] == "status":
            k, l = k[:2] + (k[2].splitlines()[-1:],) + k[3:], l[:2] + (l[2].splitlines()[-1:],) + l[3:]
        assert l == k, f"\n--- kubectl\n{k}\n--- lite\n{l}"
    assert l_state == k_state
    skipped = next(r for r in k_results if r[0][-1] == "--to-revision=5")
    assert skipped[2] == "deployment.apps/web skipped rollback (current template already matches revision 5)\n", skipped
    assert k_state["restarted"] and not k_state["paused"]
    assert "pod-template-hash" not in k_state["template"]["metadata"]["labels"]
