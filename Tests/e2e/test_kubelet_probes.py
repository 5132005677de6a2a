"""Probes on the built-in kubelet with demo-app, as real processes and in the demo image under
the OCI runtime (runc and crun): a failing liveness probe restarts the container with growing
CrashLoopBackOff delays; a slow starter is not killed while its startup probe allows;
readiness flapping moves the pod in and out of the Service's Endpoints without restarting it."""

from __future__ import annotations

import time

import pytest
import yaml

from e2eutil import REPO, unique, wait_for
from kubeletutil import (apply, container_status, get_json, host_dir, is_ready, node_fixtures,
                         parse_time, pod_spec, wait_gone, wait_pod, wait_running_ready)

TOKEN = unique("e2e-probes", 8)
EXAMPLES = REPO / "Manifests" / "examples"


def example(name: str, runtime) -> dict:
    """An example manifest, with our token in each container's env (to find its processes)
    and the demo image of the node's runtime."""
    obj = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    for c in obj["spec"]["containers"]:
        c.setdefault("env", []).append({"name": "E2E_TOKEN", "value": TOKEN})
        c["image"] = runtime.demo
    return obj


srv, ns = node_fixtures("kl-probes", TOKEN, runtimes=("process", "runc", "crun"))


@pytest.fixture(scope="module")
def examples(srv, ns):
    """Both examples start at once: the liveness one needs a minute of restarts, which the
    other tests' time covers."""
    apply(srv, [example("liveness-fail", srv.runtime), example("slow-start", srv.runtime)], ns)


def test_slow_start_not_killed_while_startup_probe_allows(srv, ns, examples):
    seen_unstarted = []

    def ready(p):
        cs = container_status(p)
        if "running" in cs.get("state", {}) and cs.get("started") is False:
            seen_unstarted.append(cs)
        return is_ready(p) and p["status"].get("phase") == "Running"

    pod = wait_pod(srv, "slow-start", ns, ready, 120, "Ready")
    cs = container_status(pod)
    assert cs["restartCount"] == 0, cs
    assert cs["started"] is True and cs["ready"] is True, cs
    assert seen_unstarted, "never saw the container running but not yet started"
    started_at = parse_time(cs["state"]["running"]["startedAt"])
    ready_at = parse_time(next(c["lastTransitionTime"] for c in pod["status"]["conditions"]
                               if c["type"] == "Ready"))
    # STARTUP_DELAY_SECONDS is 8; timestamps have whole seconds.
    assert ready_at - started_at >= 7, (started_at, ready_at)
    # Now liveness runs (on /startupz, which succeeds): still no restart a few probes later.
    time.sleep(4)
    assert container_status(get_json(srv, "pod", "slow-start", ns))["restartCount"] == 0


def endpoints(srv, ns, name):
    ep = get_json(srv, "endpoints", name, ns)
    ready, not_ready = set(), set()
    for subset in ep.get("subsets") or []:
        ready |= {a["ip"] for a in subset.get("addresses") or []}
        not_ready |= {a["ip"] for a in subset.get("notReadyAddresses") or []}
    return ready, not_ready


def test_readiness_flapping_moves_pod_in_and_out_of_endpoints(srv, ns):
    with host_dir() as d:
        ready_file = d / "ready"
        ready_file.write_text("yes")
        apply(srv, [
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "flap"},
             "spec": {"selector": {"app": "flap"}, "ports": [{"port": 80, "targetPort": "http"}]}},
            pod_spec("flap", [{
                "name": "demo", "image": srv.runtime.demo,
                "env": [{"name": "PORT", "value": "8085"}, {"name": "READY_FILE", "value": str(ready_file)},
                        {"name": "E2E_TOKEN", "value": TOKEN}],
                "ports": [{"name": "http", "containerPort": 8085}],
                "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"},
                                   "periodSeconds": 1, "failureThreshold": 1},
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 2,
                                  "initialDelaySeconds": 3, "failureThreshold": 5},
                "volumeMounts": [{"name": "marker", "mountPath": str(d)}]}],
                labels={"app": "flap"},
                volumes=[{"name": "marker", "hostPath": {"path": str(d), "type": "Directory"}}]),
        ], ns)
        pod = wait_running_ready(srv, "flap", ns, timeout=120)
        ip = pod["status"]["podIP"]

        for round_ in range(2):
            wait_for(lambda: ip in endpoints(srv, ns, "flap")[0], timeout=60,
                     what=f"round {round_}: {ip} in the Endpoints' addresses")
            ready_file.unlink()
            wait_pod(srv, "flap", ns, lambda p: not is_ready(p), 60, "not Ready")
            r, nr = wait_for(lambda: (e := endpoints(srv, ns, "flap")) and ip in e[1] and e, timeout=60,
                             what=f"round {round_}: {ip} in notReadyAddresses")
            assert ip not in r, (r, nr)
            ready_file.write_text("yes")
            wait_running_ready(srv, "flap", ns, timeout=60)
        r, nr = wait_for(lambda: (e := endpoints(srv, ns, "flap")) and ip in e[0] and e, timeout=60,
                         what=f"{ip} back in the Endpoints' addresses")
        assert ip not in nr, (r, nr)

        pod = get_json(srv, "pod", "flap", ns)
        assert container_status(pod)["restartCount"] == 0, pod["status"]
        out = wait_for(lambda: (o := srv.kubectl("describe", "pod", "flap", "-n", ns).stdout)
                       and "Unhealthy" in o and "Readiness probe failed" in o and o,
                       timeout=30, what="Unhealthy readiness events in describe")
        assert "Killing" not in out, out
        srv.kubectl("delete", "pod", "flap", "-n", ns, "--wait=false")
        wait_gone(srv, "pod", "flap", ns)


def test_liveness_failure_restarts_with_growing_backoff(srv, ns, examples):
    # restartCount n -> lastState.terminated (startedAt, finishedAt): attempt n-1. Attempt n's
    # start is read from the next restart's lastState, so no short running window must be caught.
    attempts: dict[int, tuple[float, float]] = {}
    reasons: set[str] = set()
    restarts: dict[int, tuple[float, float]] = {}

    def observe(p):
        cs = container_status(p)
        reasons.add(cs.get("state", {}).get("waiting", {}).get("reason", ""))
        n = cs.get("restartCount", 0)
        term = cs.get("lastState", {}).get("terminated", {})
        if n >= 1 and term.get("startedAt") and term.get("finishedAt"):
            attempts.setdefault(n - 1, (parse_time(term["startedAt"]), parse_time(term["finishedAt"])))
        # restart n: attempt n-1 finished, attempt n started
        for k in attempts:
            if k + 1 in attempts:
                restarts.setdefault(k + 1, (attempts[k][1], attempts[k + 1][0]))
        return n >= 3 and len([k for k in restarts if k >= 2]) >= 2

    pod = wait_pod(srv, "liveness-fail", ns, observe, 240, "restartCount >= 3")
    cs = container_status(pod)
    term = cs["lastState"]["terminated"]
    assert term.get("reason") in ("Error", "Completed"), cs  # SIGTERM from the kill
    assert "CrashLoopBackOff" in reasons, reasons
    gaps = {n: start - fin for n, (fin, start) in sorted(restarts.items())}
    # Delays: the first restart at once, then 10 s, 20 s, 40 s… (timestamps have whole seconds).
    later = sorted(n for n in gaps if n >= 2)
    assert len(later) >= 2, (gaps, restarts)
    for n in later:
        assert gaps[n] >= min(10 * 2 ** (n - 2), 300) - 2, (n, gaps)
    assert all(gaps[a] < gaps[b] for a, b in zip(later, later[1:])), gaps
    assert all(gaps[n] > gaps.get(1, -1) for n in later), gaps
    out = srv.kubectl("describe", "pod", "liveness-fail", "-n", ns).stdout
    assert "Liveness probe failed" in out and "Killing" in out, out
