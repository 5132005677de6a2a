"""kubectl-lite logs and exec against a process-runtime kubelet, compared with the real
kubectl; exit codes, stdin, and `exec -it` through a pseudo-terminal."""

from __future__ import annotations

import subprocess

import pexpect
import pytest

from e2eutil import kubectl_cmd, serve, unique, wait_for
from kubeletutil import (apply, container_status, kill_pids, namespace_on, pod_spec, sh_container,
                         wait_no_pids, wait_pod, wait_running_ready)
from liteutil import Pair, clean_env, lite_cmd

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
                                  sh_container("b", "echo from-b; sleep 3600", env=ENV)],
                        labels={"app": "lines"}), ns)
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


def test_logs_selectors_and_containers(pair, ns, pod):
    for args in (["lines", "-c", "a", "--since=1h"], ["-l", "app=lines", "-c", "b"], ["-l", "app=lines", "-c", "a"],
                 ["-l", "app=nosuch"], ["lines", "-c", "a", "-p"]):
        pair.same("logs", *args, "-n", ns)


@pytest.mark.parametrize("args", [["lines", "--all-containers"], ["lines", "--all-containers", "--prefix"],
                                  ["-l", "app=lines", "--all-containers"]])
def test_logs_all_containers(pair, ns, pod, args):
    """kubectl prints each container's whole log in turn, in an order that varies from run to run
    (it walks a Go map); kubectl-lite keeps the pod's container order."""
    k, l = pair.both("logs", *args, "-n", ns)
    assert (l.returncode, l.stderr) == (k.returncode, k.stderr) == (0, "")
    blocks = []
    for c in ("a", "b"):
        text = pair.kubectl("logs", "lines", "-c", c, "-n", ns, *(["--tail", "10"] if "-l" in args else [])).stdout
        prefixed = "--prefix" in args
        blocks.append("".join(f"[pod/lines/{c}] {line}\n" if prefixed else line + "\n" for line in text.splitlines()))
    assert l.stdout == blocks[0] + blocks[1], l.stdout
    assert k.stdout in (blocks[0] + blocks[1], blocks[1] + blocks[0]), k.stdout


def test_logs_previous(pair, srv, ns, pod):
    apply(srv, pod_spec("again", [sh_container("once", "echo attempt; exit 1", env=ENV)], restartPolicy="Always"), ns)
    wait_pod(srv, "again", ns, lambda p: container_status(p, "once").get("restartCount", 0) >= 1, what="a restart")
    pair.same("logs", "-p", "again", "-n", ns)
    srv.kubectl("delete", "pod", "again", "-n", ns, "--wait=true")


def test_logs_follow_until_exit(pair, srv, ns, pod):
    apply(srv, pod_spec("brief", [sh_container("c", "echo one; sleep 4; echo two", env=ENV)], restartPolicy="Never"), ns)
    wait_pod(srv, "brief", ns, lambda p: container_status(p).get("state", {}).get("running") or
             p.get("status", {}).get("phase") == "Succeeded", what="running")
    env = clean_env()
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env)
             for cmd in (kubectl_cmd(srv.kubeconfig, "logs", "-f", "brief", "-n", ns),
                         lite_cmd(srv.kubeconfig, "logs", "-f", "brief", "-n", ns))]
    (k_out, k_err), (l_out, l_err) = (p.communicate(timeout=120) for p in procs)
    assert (procs[1].returncode, l_out, l_err) == (procs[0].returncode, k_out, k_err) == (0, "one\ntwo\n", "")
    srv.kubectl("delete", "pod", "brief", "-n", ns, "--wait=true")


def test_logs_follow_selector_in_parallel(pair, srv, ns, pod):
    """Two followed pods at once: both tools print every line of both (the interleaving is
    the streams' own); too many streams are refused with kubectl's error."""
    for name in ("duo-a", "duo-b"):
        apply(srv, pod_spec(name, [sh_container("c", f"echo {name}-one; sleep 4; echo {name}-two", env=ENV)],
                            restartPolicy="Never", labels={"app": "duo"}), ns)
    for name in ("duo-a", "duo-b"):
        wait_pod(srv, name, ns, lambda p: container_status(p).get("state", {}).get("running") or
                 p.get("status", {}).get("phase") == "Succeeded", what="running")
    env = clean_env()
    for extra in ([], ["--prefix"]):
        args = ("logs", "-f", "-l", "app=duo", "-n", ns, *extra)
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env)
                 for cmd in (kubectl_cmd(srv.kubeconfig, *args), lite_cmd(srv.kubeconfig, *args))]
        (k_out, k_err), (l_out, l_err) = (p.communicate(timeout=120) for p in procs)
        assert (procs[1].returncode, l_err) == (procs[0].returncode, k_err) == (0, ""), (l_err, k_err)
        assert sorted(l_out.splitlines()) == sorted(k_out.splitlines()) and len(k_out.splitlines()) == 4, (k_out, l_out)
    pair.same("logs", "-f", "-l", "app=duo", "--max-log-requests=1", "-n", ns)
    srv.kubectl("delete", "pods", "-l", "app=duo", "-n", ns, "--wait=true")


def tty_run(cmd: list[str], script) -> tuple[str, str]:
    """Runs `cmd` on a pseudo-terminal inside `sh`, which afterwards prints the exit status and
    the terminal settings (raw mode must be gone). `script(child)` plays the user."""
    quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in cmd)
    child = pexpect.spawn("sh", ["-c", quoted + '; echo "rc=$?"; stty -a'], env=clean_env(), encoding="utf-8",
                          timeout=90, dimensions=(24, 80))
    script(child)
    child.expect(r"rc=(\d+)")
    rc = child.match.group(1)
    child.expect(pexpect.EOF)
    settings = child.before
    child.close()
    return rc, settings


def restored(settings: str) -> bool:
    words = settings.split()
    return "icanon" in words and "echo" in words and "isig" in words


def test_exec_interactive_tty(srv, ns, pod):
    def session(child):
        child.sendline("echo typed-$((6*7))")
        child.expect("typed-42")
        child.setwinsize(40, 120)  # SIGWINCH: the new size goes to the server as a resize frame
        child.sendline("echo after-resize")
        child.expect("after-resize")
        child.sendline("exit 3")
        child.expect("command terminated with exit code 3")
    args = ("exec", "-it", "lines", "-c", "a", "-n", ns, "--", "sh")
    for cmd in (kubectl_cmd(srv.kubeconfig, *args), lite_cmd(srv.kubeconfig, *args)):
        rc, settings = tty_run(cmd, session)
        assert rc == "3" and restored(settings), (cmd[0], rc, settings)


def test_exec_tty_restored_on_signal(srv, ns, pod):
    def interrupt(child):
        child.expect("ready")
        helper = subprocess.run(["pgrep", "-P", str(child.pid)], capture_output=True, text=True).stdout.split()
        assert len(helper) == 1, helper
        subprocess.run(["kill", "-TERM", helper[0]], check=True)
    args = ("exec", "-it", "lines", "-c", "a", "-n", ns, "--", "sh", "-c", "echo ready; exec sleep 600")
    results = [tty_run(cmd, interrupt) for cmd in (kubectl_cmd(srv.kubeconfig, *args), lite_cmd(srv.kubeconfig, *args))]
    assert [rc for rc, _ in results] == ["1", "1"], results
    assert all(restored(settings) for _, settings in results), results


def test_exec_tty_needs_stdin_and_terminal(pair, ns, pod):
    pair.same("exec", "-t", "lines", "-c", "a", "-n", ns, "--", "echo", "plain")
    pair.same("exec", "-it", "lines", "-c", "a", "-n", ns, "--", "echo", "plain")
