"""Pods on the built-in kubelet, as real processes, driven with the real kubectl: phases and
container states, pod IPs, logs (--tail, -f), env, Secret/ConfigMap volumes (and their
updates), init containers, restart policies, an image that names no program, events, exec."""

from __future__ import annotations

import ipaddress
import time

import pytest

from e2eutil import LineReader, unique, wait_for
from kubeletutil import (IS_ROOT, apply, container_status, get_json, host_dir, in_pod_network, network_ranges, node_fixtures, pod_spec,
                         sh_container, wait_gone, wait_no_pids, wait_pod, wait_running_ready)

TOKEN = unique("e2e-pods", 8)  # in every container's env: finds leftover processes
ENV = [{"name": "E2E_TOKEN", "value": TOKEN}]


srv, ns = node_fixtures("kl-pods", TOKEN)


@pytest.fixture(scope="module")
def hostd():
    with host_dir() as d:
        yield d


@pytest.fixture(scope="module")
def counter(srv, ns):
    """A long-running sh pod that prints `line N` twice a second."""
    name = "counter"
    apply(srv, pod_spec(name, [sh_container(
        "main", 'i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.5; done', env=ENV)]), ns)
    return wait_running_ready(srv, name, ns)


def logs(srv, ns, pod, *args):
    return srv.kubectl("logs", pod, "-n", ns, *args).stdout


def test_pod_runs_and_is_ready(srv, ns, counter):
    cs = container_status(counter, "main")
    assert cs["ready"] is True and cs["started"] is True, cs
    assert "running" in cs["state"] and cs["restartCount"] == 0, cs
    assert counter["spec"]["nodeName"] == srv.node_name
    conds = {c["type"]: c["status"] for c in counter["status"]["conditions"]}
    for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready"):
        assert conds.get(t) == "True", conds
    assert counter["status"].get("hostIP"), counter["status"]
    ip = counter["status"].get("podIP")
    assert ip, counter["status"]
    if IS_ROOT:
        assert in_pod_network(srv, ip), (ip, network_ranges(srv))
        assert {"ip": ip} in counter["status"].get("podIPs", []), counter["status"]


def test_logs_tail_and_follow(srv, ns, counter):
    out = wait_for(lambda: (o := logs(srv, ns, "counter")).count("\n") >= 3 and o, timeout=60,
                   what="three lines of output")
    assert out.startswith("line 0\nline 1\n"), out[:200]
    tail = logs(srv, ns, "counter", "--tail=1").splitlines()
    assert len(tail) == 1 and tail[0].startswith("line "), tail

    proc = srv.kubectl_popen("logs", "-f", "--tail=1", "counter", "-n", ns)
    try:
        reader = LineReader(proc.stdout)
        lines = reader.wait_for(lambda ls: len(ls) >= 3, timeout=60, what="logs -f: 3 lines")
        nums = [int(ln.split()[1]) for ln in lines[:3]]
        assert nums == sorted(nums) and len(set(nums)) == 3, lines
        assert proc.poll() is None, "logs -f ended instead of following"
    finally:
        proc.kill()
        proc.wait(10)


def test_env_sources(srv, ns):
    apply(srv, [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "env-secret"},
         "stringData": {"password": "pa55", "SECRET_FROM": "s-from"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "env-config"},
         "data": {"color": "blue", "CM_FROM": "c-from"}},
        pod_spec("env", [sh_container("main", "env | sort; echo done", env=ENV + [
            {"name": "PLAIN", "value": "plain-value"},
            {"name": "MY_POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "MY_NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "MY_NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "env-secret", "key": "password"}}},
            {"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "env-config", "key": "color"}}},
            {"name": "EXPANDED", "value": "$(PLAIN)-x"},
        ], envFrom=[{"configMapRef": {"name": "env-config"}, "prefix": "P_"},
                    {"secretRef": {"name": "env-secret"}}])], restartPolicy="Never"),
    ], ns)
    wait_pod(srv, "env", ns, lambda p: p["status"].get("phase") == "Succeeded", 90, "Succeeded")
    env = dict(ln.split("=", 1) for ln in logs(srv, ns, "env").splitlines() if "=" in ln)
    expected = {"PLAIN": "plain-value", "MY_POD": "env", "MY_NS": ns, "MY_NODE": srv.node_name,
                "PASSWORD": "pa55", "COLOR": "blue", "EXPANDED": "plain-value-x",
                "P_color": "blue", "P_CM_FROM": "c-from", "SECRET_FROM": "s-from", "password": "pa55"}
    assert {k: env.get(k) for k in expected} == expected


def test_secret_and_configmap_volumes_and_update(srv, ns, hostd):
    base = hostd / "vol"
    script = (f'last=""; while true; do v="$(cat {base}/config/greeting)|$(cat {base}/secret/token)"; '
              'if [ "$v" != "$last" ]; then echo "seen=$v"; last="$v"; fi; sleep 1; done')
    apply(srv, [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "vol-secret"},
         "stringData": {"token": "tok-1"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "vol-config"},
         "data": {"greeting": "hello-1"}},
        pod_spec("volumes", [sh_container("main", script, env=ENV, volumeMounts=[
            {"name": "config", "mountPath": f"{base}/config", "readOnly": True},
            {"name": "secret", "mountPath": f"{base}/secret", "readOnly": True}])],
            volumes=[{"name": "config", "configMap": {"name": "vol-config"}},
                     {"name": "secret", "secret": {"secretName": "vol-secret"}}]),
    ], ns)
    wait_running_ready(srv, "volumes", ns)
    wait_for(lambda: "seen=hello-1|tok-1" in logs(srv, ns, "volumes"), timeout=60,
             what="the mounted ConfigMap and Secret in the pod's output")
    srv.kubectl("patch", "configmap", "vol-config", "-n", ns, "--type=merge",
                "-p", '{"data":{"greeting":"hello-2"}}')
    wait_for(lambda: "seen=hello-2|tok-1" in logs(srv, ns, "volumes"), timeout=90,
             what="the ConfigMap update in the mounted file")
    assert container_status(get_json(srv, "pod", "volumes", ns))["restartCount"] == 0


def test_init_containers_run_in_order(srv, ns, hostd):
    work = hostd / "init-work"
    mount = {"name": "work", "mountPath": str(work)}
    apply(srv, pod_spec("init", [
        sh_container("app", f"echo app >> {work}/steps; cat {work}/steps; exec sleep 3600",
                     env=ENV, volumeMounts=[mount])],
        initContainers=[
            sh_container("first", f"echo first > {work}/steps; sleep 1", volumeMounts=[mount]),
            sh_container("second", f"grep -q first {work}/steps && echo second >> {work}/steps",
                         volumeMounts=[mount])],
        volumes=[{"name": "work", "emptyDir": {}}]), ns)
    pod = wait_running_ready(srv, "init", ns)
    for name in ("first", "second"):
        term = container_status(pod, name, init=True).get("state", {}).get("terminated", {})
        assert term.get("exitCode") == 0 and term.get("reason") == "Completed", pod["status"]
    wait_for(lambda: logs(srv, ns, "init").split() == ["first", "second", "app"], timeout=30,
             what="the app's view of the shared emptyDir: first, second, app")


def test_restart_never_fails_with_exit_code(srv, ns):
    apply(srv, pod_spec("never", [sh_container("main", "echo bye; exit 7", env=ENV)],
                        restartPolicy="Never"), ns)
    pod = wait_pod(srv, "never", ns, lambda p: p["status"].get("phase") == "Failed", 90, "Failed")
    cs = container_status(pod, "main")
    assert cs["state"]["terminated"]["exitCode"] == 7, cs
    assert cs["state"]["terminated"].get("reason") == "Error", cs
    assert cs["restartCount"] == 0, cs
    assert logs(srv, ns, "never").strip() == "bye"


def test_on_failure_retries_then_succeeds(srv, ns, hostd):
    marker = hostd / "onfailure-once"
    script = f'if [ -e {marker} ]; then echo second; exit 0; fi; touch {marker}; echo first; exit 1'
    apply(srv, pod_spec("onfailure", [sh_container("main", script, env=ENV)],
                        restartPolicy="OnFailure"), ns)
    pod = wait_pod(srv, "onfailure", ns, lambda p: p["status"].get("phase") == "Succeeded", 120,
                   "Succeeded after one retry")
    cs = container_status(pod, "main")
    assert cs["state"]["terminated"]["exitCode"] == 0, cs
    assert cs["restartCount"] == 1, cs
    assert cs["lastState"]["terminated"]["exitCode"] == 1, cs


def test_image_naming_no_program(srv, ns):
    apply(srv, pod_spec("noimage", [{"name": "main", "image": "caravel/no-such-program-e2e:1.0"}]), ns)
    pod = wait_pod(srv, "noimage", ns,
                   lambda p: container_status(p).get("state", {}).get("waiting", {}).get("reason")
                   in ("ErrImagePull", "ImagePullBackOff"), 90, "waiting ErrImagePull/ImagePullBackOff")
    assert pod["status"].get("phase") == "Pending", pod["status"]
    time.sleep(3)  # give it a chance to go wrong: it must still not run
    pod = get_json(srv, "pod", "noimage", ns)
    assert pod["status"].get("phase") != "Running", pod["status"]
    assert "running" not in container_status(pod).get("state", {}), pod["status"]
    assert srv.alive(), "the server died on an image that names no program"


def test_describe_shows_events(srv, ns, counter):
    def described():
        out = srv.kubectl("describe", "pod", "counter", "-n", ns).stdout
        events = out.split("Events:", 1)[-1]
        return all(r in events for r in ("Scheduled", "Created", "Started")) and out
    out = wait_for(described, timeout=60, what="Scheduled/Created/Started events in describe")
    assert "Successfully assigned" in out and srv.node_name in out, out


def test_exec_exit_code(srv, ns, counter):
    cp = srv.kubectl("exec", "counter", "-n", ns, "--", "sh", "-c", "echo hi; echo oops >&2; exit 3",
                     check=False)
    assert cp.stdout == "hi\n", (cp.stdout, cp.stderr)
    assert "oops" in cp.stderr, cp.stderr
    assert cp.returncode == 3, (cp.returncode, cp.stderr)


def test_deleted_pods_leave_no_processes(srv, ns, counter):
    assert srv.kubectl("get", "pod", "counter", "-n", ns, "-o", "name", check=False).returncode == 0
    srv.kubectl("delete", "pods", "--all", "-n", ns, "--wait=false")
    for name in ("counter", "volumes", "init"):
        wait_gone(srv, "pod", name, ns, timeout=90)
    wait_no_pids(TOKEN, timeout=60)
