"""kubectl-lite logs and exec against a process-runtime kubelet, compared with the real
kubectl; exit codes and stdin."""

from __future__ import annotations

import pytest

from e2eutil import serve, unique, wait_for
from kubeletutil import apply, kill_pids, namespace_on, pod_spec, sh_container, wait_no_pids, wait_running_ready
from liteutil import Pair

TOKEN = unique("e2e-lite", 8)
ENV = [{"name": "E2E_TOKEN", "value": TOKEN}]


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with serve(tmp_path_factory, "lite-exec", controllers=True, kubelet=True) as s:
        yield s
    kill_pids(TOKEN)


@pytest.fixture(scope="module")
def ns(srv):
    with namespace_on(srv, "lite-exec") as name:
        yield name
        srv.kubectl("delete", "pods", "--all", "-n", name, "--wait=true", check=False)
        try:
            wait_no_pids(TOKEN, timeout=60)
        except AssertionError:
            pass


@pytest.fixture(scope="module")
def pod(srv, ns):
    apply(srv, pod_spec("lines", [sh_container("a", 'for i in 1 2 3 4 5; do echo "line $i"; done; sleep 3600', env=ENV),
                                  sh_container("b", "echo from-b; sleep 3600", env=ENV)]), ns)
    wait_running_ready(srv, "lines", ns)
    wait_for(lambda: "line 5" in srv.kubectl("logs", "lines", "-c", "a", "-n", ns).stdout, timeout=60, what="output")
    return "lines"


@pytest.fixture(scope="module")
def pair(srv):
    return Pair(srv)


@pytest.mark.parametrize("args", [
    ["logs", "lines", "-c", "a"],
    ["logs", "lines", "-c", "a", "--tail", "2"],
    ["logs", "pod/lines", "-c", "b"],
    ["logs", "nosuch"],
])
def test_logs_match(pair, ns, pod, args):
    pair.same(*args, "-n", ns)


def test_logs_default_container_notice(pair, ns, pod):
    k, l = pair.both("logs", "lines", "-n", ns)
    assert (l.returncode, l.stdout, l.stderr) == (k.returncode, k.stdout, k.stderr)


def test_exec_exit_codes_and_stdin(pair, ns, pod):
    pair.same("exec", "lines", "-c", "a", "-n", ns, "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    k, l = pair.both("exec", "-i", "lines", "-c", "b", "-n", ns, "--", "tr", "a-z", "A-Z", input="shout\n")
    assert (l.returncode, l.stdout) == (k.returncode, k.stdout) == (0, "SHOUT\n")
    pair.same("exec", "nosuch", "-n", ns, "--", "true")
