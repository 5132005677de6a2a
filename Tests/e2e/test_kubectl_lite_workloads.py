"""kubectl-lite on a running cluster (controllers and a fake-runtime kubelet): describe, rollout
status, set image, scale, label, annotate, patch, set image, wait, events, run, expose, autoscale, top, auth,
compared with the real kubectl."""

from __future__ import annotations

import json
import re
import time

import pytest

from e2eutil import serve, unique
from liteutil import WEB_DEPLOYMENT, Pair

DEPLOY = WEB_DEPLOYMENT + """---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
"""

AGE = re.compile(r"\b\d+(?:s|m|h|d|y)(?:\d+(?:s|m|h|d))?\b")


def loose(text: str) -> str:
    """Ages blanked and runs of spaces collapsed (ages change the column widths)."""
    return re.sub(r" +", " ", AGE.sub("<age>", text))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with serve(tmp_path_factory, "lite-cluster", controllers=True, kubelet=True, extra_args=["--runtime", "fake", "--metrics-resolution", "1s"]) as s:
        yield s


@pytest.fixture(scope="module")
def pair(cluster):
    return Pair(cluster)


@pytest.fixture
def web(pair, cluster):
    ns = unique("lite-wl", 5)
    pair.kubectl("create", "namespace", ns)
    pair.kubectl("apply", "-n", ns, "-f", "-", input=DEPLOY)
    pair.kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=120s")
    yield ns
    pair.kubectl("delete", "namespace", ns, "--wait=false")
    pair.kubectl("delete", "pods", "--all", "-n", ns, "--wait=true")


def test_describe_matches(pair, web):
    ns = ["-n", web]
    pod = json.loads(pair.kubectl("get", "pods", "-l", "app=web", *ns, "-o", "json").stdout)["items"][0]["metadata"]["name"]
    for args in (["describe", "deploy", "web"], ["describe", "svc", "web"], ["describe", "pod", pod],
                 ["describe", "pods", "-l", "app=web"], ["describe", "pod", "nosuch"]):
        k, l = pair.both(*args, *ns)
        assert l.returncode == k.returncode, (args, l.stderr)
        assert loose(l.stdout) == loose(k.stdout), f"{args}\n--- kubectl\n{k.stdout}\n--- lite\n{l.stdout}"
        assert l.stderr == k.stderr
    node = json.loads(pair.kubectl("get", "nodes", "-o", "json").stdout)["items"][0]["metadata"]["name"]
    k, l = pair.both("describe", "node", node)
    assert loose(l.stdout) == loose(k.stdout), f"--- kubectl\n{k.stdout}\n--- lite\n{l.stdout}"


def test_describe_hpa_and_autoscale(pair, web):
    ns = ["-n", web]
    l = pair.lite("autoscale", "deploy", "web", "--min=2", "--max=4", "--cpu-percent=70", *ns)
    assert (l.returncode, l.stdout) == (0, "horizontalpodautoscaler.autoscaling/web autoscaled\n"), l.stderr
    # The autoscaler writes the HPA's status and events while the two tools run one after the
    # other: compare snapshots until two consecutive reads saw the same object (bounded).
    for _ in range(30):
        k, l = pair.both("describe", "hpa", "web", *ns)
        if loose(l.stdout) == loose(k.stdout):
            break
        time.sleep(1)
    assert loose(l.stdout) == loose(k.stdout), f"--- kubectl\n{k.stdout}\n--- lite\n{l.stdout}"
    for _ in range(30):
        k, l = pair.both("get", "hpa", *ns)
        if l.stdout.splitlines()[1:2] == k.stdout.splitlines()[1:2]:
            break
        time.sleep(1)
    pair.same("get", "hpa", *ns, tables=True)


def test_rollout_verbs(pair, web):
    ns = ["-n", web]
    pair.same("rollout", "status", "deploy/web", *ns)
    l = pair.lite("set", "image", "deploy/web", "app=caravel/demo-app:2.0", *ns)
    assert l.stdout == "deployment.apps/web image updated\n", l.stderr
    l = pair.lite("rollout", "status", "deploy/web", *ns, "--timeout=120s")
    assert l.returncode == 0 and l.stdout.endswith("deployment \"web\" successfully rolled out\n"), l.stdout + l.stderr


def test_scale_label_annotate_patch_wait(pair, web):
    ns = ["-n", web]
    assert pair.lite("scale", "deploy/web", "--replicas=3", *ns).stdout == "deployment.apps/web scaled\n"
    l = pair.lite("wait", "--for=jsonpath={.status.readyReplicas}=3", "deploy/web", "--timeout=120s", *ns)
    assert l.stdout == "deployment.apps/web condition met\n", l.stderr
    l = pair.lite("wait", "--for=condition=Available", "deploy/web", "--timeout=60s", *ns)
    assert l.stdout == "deployment.apps/web condition met\n"
    pair.same("scale", "deploy/web", "--replicas=2", "--current-replicas=7", *ns)
    assert pair.lite("label", "deploy", "web", "tier=front", *ns).stdout == "deployment.apps/web labeled\n"
    pair.same("label", "deploy", "web", "tier=back", *ns)  # needs --overwrite
    assert pair.lite("label", "deploy", "web", "tier-", *ns).stdout == "deployment.apps/web unlabeled\n"
    assert pair.lite("annotate", "deploy/web", "note=hello", *ns).stdout == "deployment.apps/web annotated\n"
    l = pair.lite("patch", "deploy", "web", "-p", '{"spec":{"minReadySeconds":1}}', *ns)
    assert l.stdout == "deployment.apps/web patched\n", l.stderr
    # The controller writes the new generation's status; kubectl would see that write as a change.
    pair.kubectl("rollout", "status", "deploy/web", "--timeout=120s", *ns)
    k, l = pair.both("patch", "deploy", "web", "-p", '{"spec":{"minReadySeconds":1}}', *ns)
    assert l.stdout == k.stdout == "deployment.apps/web patched (no change)\n"
    k = pair.kubectl("get", "deploy", "web", *ns, "-o", "json")
    d = json.loads(k.stdout)
    assert d["metadata"]["labels"] == {"app": "web"} and d["metadata"]["annotations"]["note"] == "hello"
    pair.same("wait", "--for=condition=Nope", "deploy/web", "--timeout=1s", *ns)


def test_run_expose_events_auth_top(pair, web):
    ns = ["-n", web]
    for args in (["run", "solo", "--image=caravel/demo-app:1.0", "--dry-run=client", "-o", "yaml"],
                 ["expose", "deploy", "web", "--name=web2", "--port=81", "--target-port=8080", "--dry-run=client", "-o", "yaml"]):
        pair.same(*args, *ns)
    assert pair.lite("run", "solo", "--image=caravel/demo-app:1.0", *ns).stdout == "pod/solo created\n"
    assert pair.lite("expose", "deploy", "web", "--name=web2", "--port=81", *ns).stdout == "service/web2 exposed\n"
    pair.same("get", "svc", "web2", *ns, tables=True)
    k, l = pair.both("events", *ns)
    assert l.returncode == k.returncode == 0
    assert loose(l.stdout).splitlines()[0] == loose(k.stdout).splitlines()[0]
    assert sorted(loose(l.stdout).splitlines()) == sorted(loose(k.stdout).splitlines())
    pair.same("auth", "can-i", "create", "pods", *ns)
    pair.same("auth", "can-i", "get", "deployments.apps/web", *ns)
    # Fake pods without usage annotations use nothing, so the figures are stable once every
    # pod (solo too) has been sampled twice.
    deadline = time.monotonic() + 90
    while "solo " not in pair.kubectl("top", "pods", *ns).stdout:
        assert time.monotonic() < deadline, "solo never appeared in kubectl top pods"
        time.sleep(1)
    pair.same("top", "pods", *ns)
    pair.same("top", "pods", "--containers", *ns)
    pair.same("top", "nodes")
    pair.kubectl("delete", "pod", "solo", *ns)
