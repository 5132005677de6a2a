"""The horizontal pod autoscaler end to end on the fake runtime: pods report the CPU their
`caravel.dev/fake-cpu` annotation declares, the kubelet serves it, the API server's metrics
feed (`--metrics-resolution 1s`) turns it into metrics.k8s.io PodMetrics, and the controller
(`--hpa-sync-period 1s`) scales the Deployment through its /scale subresource. Real kubectl
reads `get hpa`, `describe hpa` and `top pods`.

Usage is declared per pod, not in the Deployment's template: changing the template would roll
out new pods whose metrics appear one scrape later, so the step in which they count would
depend on timing. Scaled-up pods inherit the template's value; changes of usage are made by
patching every pod's annotation, which the fake runtime follows.

Expected counts, from Kubernetes' algorithm with requests of 200m and a 50% target:
  400m per pod is 200%: ratio 4, so 2 pods want 8. The default scale-up behavior allows
  max(+4 pods, +100%) per 15 s: 2 -> 6; the next period, from 6: 8 (maxReplicas). New pods
  without metrics count as 0% on the way up (6 pods: 66%, still 8), so the steps do not depend
  on when the new pods' first samples arrive.
  50m per pod is 25%: ratio 0.5, 8 pods want 4, held until the scale-down stabilization window
  (behavior.scaleDown.stabilizationWindowSeconds 30) has passed; the default scale-down policy
  (100% per 15 s) then allows 8 -> 4 at once. A scrape's rounding (49m..51m) gives 24% or 25%,
  both ceil(<= 0.5 x 8) = 4.
  108m per pod is 54%: ratio 1.08, within the 0.1 tolerance: 4 stays. It is set as soon as 4 is
  reached: at 25%, 4 pods would want 2 once the recommendations of 4 leave the 30 s window, and
  the window is what leaves the test time to change the usage (samples blending 25% and 54%
  want 2..4, held at 4 by the window until the 54% samples arrive).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest

from e2eutil import parse_table, serve, wait_for
from kubeletutil import namespace_on

FAKE_CPU = "caravel.dev/fake-cpu"
REASON = "cpu resource utilization (percentage of request)"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    args = ["--runtime", "fake", "--hpa-sync-period", "1s", "--metrics-resolution", "1s"]
    with serve(tmp_path_factory, "hpa-fake", controllers=True, kubelet=True, extra_args=args) as s:
        yield s


@pytest.fixture
def ns(srv):
    with namespace_on(srv, "hpa") as name:
        yield name


def get_json(srv, ns, *args) -> dict:
    return json.loads(srv.kubectl("get", *args, "-n", ns, "-o", "json").stdout)


def pods(srv, ns) -> list[dict]:
    return [p for p in get_json(srv, ns, "pods", "-l", "app=web")["items"]
            if not p["metadata"].get("deletionTimestamp")]


def replicas(srv, ns) -> int:
    return get_json(srv, ns, "deployment", "web")["spec"]["replicas"]


def parse_ts(ts: str) -> float:
    return datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()


def pod_cpu_milli(srv, ns) -> dict[str, tuple[int, float]]:
    """name -> (milli-CPU, sample time) from metrics.k8s.io, as the autoscaler reads it."""
    with srv.session() as s:
        r = s.get(f"{srv.url}/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods", params={"labelSelector": "app=web"},
                  timeout=10)
    r.raise_for_status()
    out = {}
    for item in r.json()["items"]:
        total = 0
        for c in item["containers"]:
            q = c["usage"]["cpu"]
            total += int(q[:-1]) // 1_000_000 if q.endswith("n") else int(q[:-1]) if q.endswith("m") else int(float(q) * 1000)
        out[item["metadata"]["name"]] = (total, parse_ts(item["timestamp"]))
    return out


def set_usage(srv, ns, cpu: str) -> None:
    """Annotates every pod; pods being scaled away may vanish under kubectl (NotFound), so
    success is judged by the usage the HPA then reports, not by kubectl's exit code."""
    cp = srv.kubectl("annotate", "pods", "-n", ns, "-l", "app=web", f"{FAKE_CPU}={cpu}", "--overwrite", check=False)
    assert cp.returncode == 0 or "NotFound" in cp.stderr, cp.stderr


def hpa_events(srv, ns) -> list[tuple[str, str]]:
    items = get_json(srv, ns, "events", "--field-selector", "involvedObject.kind=HorizontalPodAutoscaler")["items"]
    return [(e["reason"], e["message"]) for e in items]


def condition(hpa: dict, type_: str) -> dict:
    return next((c for c in hpa.get("status", {}).get("conditions", []) if c["type"] == type_), {})


@pytest.mark.timeout(420)
def test_cpu_utilization_scales_step_by_step(srv, ns):
    srv.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}, "annotations": {FAKE_CPU: "400m"}},
                              "spec": {"terminationGracePeriodSeconds": 0,
                                       "containers": [{"name": "app", "image": "caravel/demo-app:1.0",
                                                       "resources": {"requests": {"cpu": "200m"}}}]}}},
    }))
    try:
        run_scenario(srv, ns)
    finally:
        srv.kubectl("delete", "hpa", "web", "-n", ns, "--ignore-not-found", check=False)
        srv.kubectl("delete", "deployment", "web", "-n", ns, "--ignore-not-found", check=False)
        wait_for(lambda: not get_json(srv, ns, "pods")["items"], timeout=120, interval=0.5, what="pods deleted")


def run_scenario(srv, ns):
    # Both pods Ready and sampled after becoming ready (a CPU sample from a pod's first
    # minutes counts only then), so the first sync sees them both at 200%.
    def sampled():
        ps = pods(srv, ns)
        if len(ps) != 2:
            return False
        metrics = pod_cpu_milli(srv, ns)
        for p in ps:
            ready = next((c for c in p["status"].get("conditions", []) if c["type"] == "Ready"), None)
            m = metrics.get(p["metadata"]["name"])
            if not ready or ready["status"] != "True" or not m or m[0] < 390 or m[1] < parse_ts(ready["lastTransitionTime"]) + 3:
                return False
        return True
    wait_for(sampled, timeout=120, interval=0.5, what="both pods Ready with CPU samples at 400m")

    top = srv.kubectl("top", "pods", "-n", ns, "-l", "app=web").stdout
    assert all(390 <= int(r["CPU(cores)"].rstrip("m")) <= 410 for r in parse_table(top)), top

    srv.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "minReplicas": 1, "maxReplicas": 8,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                                                               "target": {"type": "Utilization", "averageUtilization": 50}}}],
                 "behavior": {"scaleDown": {"stabilizationWindowSeconds": 30}}},
    }))

    # Up: every count the Deployment passes through, in order.
    seen = [2]

    def reached(n):
        def check():
            r = replicas(srv, ns)
            if r != seen[-1]:
                seen.append(r)
            return r == n
        return check
    wait_for(reached(8), timeout=120, interval=0.2, what="8 replicas")
    assert seen == [2, 6, 8], seen
    events = hpa_events(srv, ns)
    assert ("SuccessfulRescale", f"New size: 6; reason: {REASON} above target") in events, events
    assert ("SuccessfulRescale", f"New size: 8; reason: {REASON} above target") in events, events

    hpa = wait_for(lambda: (h := get_json(srv, ns, "hpa", "web"))["status"].get("currentReplicas") == 8 and h,
                   timeout=60, what="status.currentReplicas 8")
    assert hpa["status"]["desiredReplicas"] == 8
    assert condition(hpa, "AbleToScale")["status"] == "True"
    assert condition(hpa, "ScalingActive")["reason"] == "ValidMetricFound"
    assert hpa["status"].get("lastScaleTime")
    wait_for(lambda: len(pods(srv, ns)) == 8 and all(p["status"].get("phase") == "Running" for p in pods(srv, ns)),
             timeout=120, interval=0.5, what="8 running pods")

    # Down to 25%: 4, once the 30 s window has passed.
    changed = time.monotonic()
    set_usage(srv, ns, "50m")
    stabilized = []

    def down():
        h = get_json(srv, ns, "hpa", "web")
        if condition(h, "AbleToScale").get("reason") == "ScaleDownStabilized":
            stabilized.append(h)
        return replicas(srv, ns) == 4
    wait_for(down, timeout=180, interval=0.3, what="4 replicas")
    elapsed = time.monotonic() - changed
    set_usage(srv, ns, "108m")
    # Load only delays the controller: the window is a lower bound.
    assert elapsed >= 30, elapsed
    assert stabilized, "AbleToScale never said ScaleDownStabilized while the window held"
    assert ("SuccessfulRescale", "New size: 4; reason: All metrics below target") in hpa_events(srv, ns)

    # 54%: within tolerance, 4 holds for many syncs.
    wait_for(lambda: len(pods(srv, ns)) == 4, timeout=120, interval=0.5, what="4 pods")
    wait_for(lambda: get_json(srv, ns, "hpa", "web")["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"] in (53, 54),
             timeout=60, interval=0.5, what="status at 54%")
    # Past the window: at 54% nothing changes, sync after sync.
    for _ in range(35):
        time.sleep(1)
        assert replicas(srv, ns) == 4

    table = parse_table(srv.kubectl("get", "hpa", "web", "-n", ns).stdout)
    assert table[0]["TARGETS"] in ("cpu: 53%/50%", "cpu: 54%/50%"), table
    assert table[0]["REPLICAS"] == "4" and table[0]["MINPODS"] == "1" and table[0]["MAXPODS"] == "8", table

    described = srv.kubectl("describe", "hpa", "web", "-n", ns).stdout
    for text in ["Reference:", "Deployment/web",
                 "resource cpu on pods  (as a percentage of request):",
                 "Min replicas:", "Max replicas:", "Deployment pods:", "4 current / 4 desired",
                 "AbleToScale", "ScalingActive", "True    ValidMetricFound", "ScalingLimited",
                 "SuccessfulRescale", "New size: 8; reason: cpu resource utilization (percentage of request) above target"]:
        assert text in described, f"{text!r} not in:\n{described}"


def push_external(srv, ns, tmp_path, value: str) -> None:
    f = tmp_path / "queue.json"
    f.write_text(json.dumps({"kind": "ExternalMetricValueList", "apiVersion": "external.metrics.k8s.io/v1beta1", "items": [
        {"metricName": "queue_depth", "metricLabels": {"queue": "orders"}, "value": value},
        {"metricName": "queue_depth", "metricLabels": {"queue": "mail"}, "value": "1000"},
    ]}))
    srv.kubectl("replace", "--raw", f"/apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/queue_depth", "-f", str(f))


@pytest.mark.timeout(300)
def test_external_metric_average_value(srv, ns, tmp_path):
    """An External metric pushed by an operator, `AverageValue` 10 per pod: a queue of 42 wants
    ceil(42 / 10) = 5 replicas (the default scale-up allows 1 -> 5 at once); an empty queue
    wants 0, held at minReplicas 1. The other queue's value is left out by the selector."""
    push_external(srv, ns, tmp_path, "42")
    srv.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps([{
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"terminationGracePeriodSeconds": 0,
                                       "containers": [{"name": "app", "image": "caravel/demo-app:1.0"}]}}},
    }][0]))
    try:
        srv.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "minReplicas": 1, "maxReplicas": 6,
                     "metrics": [{"type": "External", "external": {
                         "metric": {"name": "queue_depth", "selector": {"matchLabels": {"queue": "orders"}}},
                         "target": {"type": "AverageValue", "averageValue": "10"}}}],
                     "behavior": {"scaleDown": {"stabilizationWindowSeconds": 0}}},
        }))
        wait_for(lambda: replicas(srv, ns) == 5, timeout=90, interval=0.5, what="5 replicas for a queue of 42")
        messages = [m for r, m in hpa_events(srv, ns) if r == "SuccessfulRescale"]
        assert any(m.startswith("New size: 5; reason: external metric queue_depth(") and m.endswith("above target")
                   for m in messages), messages
        # 42 over the 5 replicas now running: 8400m each.
        wait_for(lambda: parse_table(srv.kubectl("get", "hpa", "web", "-n", ns).stdout)[0]["TARGETS"] == "8400m/10 (avg)",
                 timeout=90, interval=0.5, what="TARGETS 8400m/10 (avg)")
        described = srv.kubectl("describe", "hpa", "web", "-n", ns).stdout
        assert '"queue_depth" (target average value):' in described and "8400m / 10" in described, described
        assert replicas(srv, ns) == 5

        push_external(srv, ns, tmp_path, "0")
        wait_for(lambda: replicas(srv, ns) == 1, timeout=90, interval=0.5, what="back to minReplicas 1")
        # The status write follows the /scale write.
        wait_for(lambda: condition(get_json(srv, ns, "hpa", "web"), "ScalingLimited").get("reason") == "TooFewReplicas",
                 timeout=30, interval=0.5, what="ScalingLimited TooFewReplicas")
    finally:
        srv.kubectl("delete", "hpa", "web", "-n", ns, "--ignore-not-found", check=False)
        srv.kubectl("delete", "deployment", "web", "-n", ns, "--ignore-not-found", check=False)
        wait_for(lambda: not get_json(srv, ns, "pods")["items"], timeout=120, interval=0.5, what="pods deleted")
