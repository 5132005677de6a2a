"""kubectl logs and exec through the API server to the built-in kubelet's HTTPS server:
--timestamps, --since, --limit-bytes, -c, --previous, logs -f ending with the container,
exec exit codes and stdin (WebSocket v5), and the Python client's exec (v4.channel.k8s.io)."""

from __future__ import annotations

import re

import pytest

from e2eutil import LineReader, serve, unique, wait_for
from kubeletutil import (apply, container_status, kill_pids, namespace_on, pod_spec, sh_container,
                         wait_no_pids, wait_pod, wait_running_ready)

TOKEN = unique("e2e-logs", 8)  # in every container's env: finds leftover processes
ENV = [{"name": "E2E_TOKEN", "value": TOKEN}]
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z ")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with serve(tmp_path_factory, "kl-logs", controllers=True, kubelet=True) as s:
        yield s
    kill_pids(TOKEN)


@pytest.fixture(scope="module")
def ns(srv):
    with namespace_on(srv, "kl-logs") as name:
        yield name
        srv.kubectl("delete", "pods", "--all", "-n", name, "--wait=false", check=False)
        try:
            wait_no_pids(TOKEN, timeout=60)
        except AssertionError:
            pass


@pytest.fixture(scope="module")
def two(srv, ns):
    """A pod with two long-running containers, each printing its name and a counter."""
    loop = 'i=0; while true; do echo "{0} $i"; i=$((i+1)); sleep 0.3; done'
    apply(srv, pod_spec("two", [sh_container("a", loop.format("a"), env=ENV),
                                sh_container("b", loop.format("b"), env=ENV)]), ns)
    return wait_running_ready(srv, "two", ns)


def logs(srv, ns, *args, check=True):
    return srv.kubectl("logs", "-n", ns, *args, check=check)


def test_container_flag_and_missing_container_name(srv, ns, two):
    wait_for(lambda: logs(srv, ns, "two", "-c", "b").stdout.count("\n") >= 2, timeout=60, what="b's output")
    assert all(ln.startswith("b ") for ln in logs(srv, ns, "two", "-c", "b").stdout.splitlines())
    cp = logs(srv, ns, "two", check=False)
    # kubectl picks the default container itself when it can; either way no error about the server.
    assert cp.returncode == 0 or "container name must be specified" in cp.stderr, cp.stderr


def test_timestamps_since_and_limit_bytes(srv, ns, two):
    # Over 3 s of output (a line every 0.3 s), so that --since=1s is a strict part of it.
    wait_for(lambda: logs(srv, ns, "two", "-c", "a").stdout.count("\n") >= 12, timeout=60, what="a's output")
    stamped = logs(srv, ns, "two", "-c", "a", "--timestamps", "--tail=2").stdout.splitlines()
    assert len(stamped) == 2 and all(STAMP.match(ln) for ln in stamped), stamped
    assert logs(srv, ns, "two", "-c", "a", "--limit-bytes=4").stdout == "a 0\n"
    recent = logs(srv, ns, "two", "-c", "a", "--since=1s").stdout.splitlines()
    everything = logs(srv, ns, "two", "-c", "a").stdout.splitlines()
    assert 0 < len(recent) < len(everything), (recent, len(everything))


def test_previous_after_a_restart(srv, ns):
    apply(srv, pod_spec("restarts", [sh_container(
        "main", 'echo "run at $(date +%s%N)"; sleep 1; exit 1', env=ENV)], restartPolicy="Always"), ns)
    wait_pod(srv, "restarts", ns, lambda p: container_status(p, "main").get("restartCount", 0) >= 1,
             timeout=120, what="one restart")
    prev = logs(srv, ns, "restarts", "--previous").stdout
    assert prev.startswith("run at "), prev
    current = wait_for(lambda: (o := logs(srv, ns, "restarts", check=False).stdout) and o, timeout=60,
                       what="the current attempt's output")
    assert current != prev, (current, prev)


def test_follow_ends_when_the_container_exits(srv, ns):
    apply(srv, pod_spec("short", [sh_container(
        "main", "for i in 1 2 3; do echo step $i; sleep 1; done", env=ENV)], restartPolicy="Never"), ns)
    wait_pod(srv, "short", ns, lambda p: p["status"].get("phase") in ("Running", "Succeeded"), what="started")
    proc = srv.kubectl_popen("logs", "-f", "short", "-n", ns)
    try:
        reader = LineReader(proc.stdout)
        lines = reader.wait_for(lambda ls: "step 3" in ls, timeout=60, what="logs -f: step 3")
        assert lines[:3] == ["step 1", "step 2", "step 3"], lines
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_exec_exit_code_and_stdin(srv, ns, two):
    cp = srv.kubectl("exec", "two", "-c", "a", "-n", ns, "--", "sh", "-c", "echo hi; exit 3", check=False)
    assert cp.stdout == "hi\n" and cp.returncode == 3, (cp.returncode, cp.stdout, cp.stderr)
    cp = srv.kubectl("exec", "-i", "two", "-c", "b", "-n", ns, "--", "tr", "a-z", "A-Z", input="shout\n")
    assert cp.stdout == "SHOUT\n", cp.stderr
    cp = srv.kubectl("exec", "missing", "-n", ns, "--", "true", check=False)
    assert cp.returncode != 0 and "not found" in cp.stderr, cp.stderr


def test_python_client_exec_v4(srv, ns, two):
    from kubernetes import client, config
    from kubernetes.stream import stream

    api = config.new_client_from_config(config_file=str(srv.kubeconfig), persist_config=False)
    try:
        core = client.CoreV1Api(api)
        out = stream(core.connect_get_namespaced_pod_exec, "two", ns, container="a",
                     command=["sh", "-c", "echo from-python"], stderr=True, stdin=False, stdout=True, tty=False)
        assert out.strip() == "from-python", out
    finally:
        api.close()
