"""Terminals through the API server to the built-in kubelet, driven through a pseudo-terminal
with pexpect as a person would type: `kubectl exec -it` gets a real TTY (its own terminal
device, the window size kubectl sends, ^C reaching the foreground command); an exec'd command
stops when kubectl is killed; `kubectl run -it --rm` gives a shell and deletes the pod;
`kubectl attach -it` twice to one container's terminal; `kubectl debug node/NAME -it`."""

from __future__ import annotations

import os
import shutil

import pytest

from e2eutil import serve, unique, wait_for
from kubectlrun import finish, kubectl_pty
from kubeletutil import (apply, kill_pids, namespace_on, pod_spec, sh_container, sleeps, wait_no_pids,
                         wait_running_ready)

TOKEN = unique("e2e-tty", 8)
ENV = [{"name": "E2E_TOKEN", "value": TOKEN}]


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    if shutil.which("busybox") is None:
        pytest.fail("busybox is needed (Debian: busybox-static); .ci/run installs it", pytrace=False)
    with serve(tmp_path_factory, "kl-tty", controllers=True, kubelet=True) as s:
        yield s
    kill_pids(TOKEN)


@pytest.fixture(scope="module")
def ns(srv):
    with namespace_on(srv, "kl-tty") as name:
        try:
            yield name
        finally:
            srv.kubectl("delete", "pods", "--all", "-n", name, "--wait=false", check=False)
            wait_no_pids(TOKEN, timeout=90)


def test_exec_it_gets_a_terminal_with_the_window_size(srv, ns):
    apply(srv, pod_spec("shell", [sh_container("main", "sleep 3600", env=ENV)]), ns)
    wait_running_ready(srv, "shell", ns)
    child = kubectl_pty(srv, "exec", "-it", "-n", ns, "shell", "--", "busybox", "sh", rows=33, cols=101)
    try:
        child.sendline("busybox tty; busybox stty size")
        child.expect(r"/dev/pts/\d+")
        child.expect("33 101")
        child.setwinsize(41, 120)
        child.sendline("busybox stty size")
        child.expect("41 120")
        # ^C goes to the terminal's foreground job, not to kubectl.
        child.sendline("sleep 600")
        wait_for(lambda: len(sleeps(TOKEN)) == 2, timeout=60, what="the sleep started in the terminal")
        child.sendintr()
        wait_for(lambda: len(sleeps(TOKEN)) == 1, timeout=60, what="^C ended the sleep")
        child.sendline("echo $((6 * 7))")
        child.expect("42")
        child.sendline("exit 7")
        assert finish(child) == 7
    finally:
        if child.isalive():
            child.terminate(force=True)


@pytest.mark.parametrize("flags", [["-it"], ["-i"]], ids=["terminal", "pipes"])
def test_exec_command_ends_when_kubectl_is_killed(srv, ns, flags):
    wait_running_ready(srv, "shell", ns)
    child = kubectl_pty(srv, "exec", *flags, "-n", ns, "shell", "--", "sleep", "600")
    try:
        wait_for(lambda: len(sleeps(TOKEN)) == 2, timeout=60, what="the exec'd sleep started")
    finally:
        child.close(force=True)
    wait_for(lambda: len(sleeps(TOKEN)) == 1, timeout=60, what="the exec'd command stopped with its client gone")


def test_run_it_rm_gives_a_shell_and_deletes_the_pod(srv, ns):
    # busybox resolves to the node's busybox; `sh` runs on the terminal the shim holds.
    child = kubectl_pty(srv, "run", "-it", "--rm", "debug", "-n", ns, "--image=busybox",
                        f"--env=E2E_TOKEN={TOKEN}", "--", "sh")
    try:
        child.expect("If you don't see a command prompt, try pressing enter.")
        child.sendline("")
        child.sendline("echo h''i; exit")
        child.expect("\r\nhi\r\n")
        child.expect('pod "debug" deleted')
        assert finish(child) == 0
    finally:
        if child.isalive():
            child.terminate(force=True)
    wait_for(lambda: srv.kubectl("get", "pod", "debug", "-n", ns, check=False).returncode != 0,
             timeout=90, what="the debug pod gone")


def test_attach_it_to_a_running_terminal_twice(srv, ns):
    apply(srv, pod_spec("console", [{"name": "main", "image": "busybox", "args": ["sh"], "stdin": True, "tty": True,
                                      "env": ENV}], restartPolicy="Never"), ns)
    wait_running_ready(srv, "console", ns)
    child = kubectl_pty(srv, "attach", "-it", "-n", ns, "console", rows=30, cols=90)
    try:
        child.expect("If you don't see a command prompt, try pressing enter.")
        child.sendline("busybox stty size; echo $((40 + 2))")
        child.expect("30 90")
        child.expect("42")
        # kubectl has no detach keys: its terminal going away detaches it; the shell goes on.
        child.close(force=True)
        again = kubectl_pty(srv, "attach", "-it", "-n", ns, "console")
        again.expect("If you don't see a command prompt, try pressing enter.")
        again.sendline("echo again-$((1 + 1)); exit 3")
        again.expect("again-2")
        assert finish(again) == 0  # attach ends with the console; the exit code is the pod status
    finally:
        if child.isalive():
            child.terminate(force=True)
    wait_for(lambda: srv.kubectl("get", "pod", "console", "-n", ns, "-o", "jsonpath={.status.phase}").stdout == "Failed",
             timeout=90, what="the console pod done")
    # Its terminal's output went to the log as well.
    assert "again-2" in srv.kubectl("logs", "console", "-n", ns).stdout


def test_debug_node_gets_a_shell_on_the_node(srv, ns):
    node = srv.kubectl("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}").stdout
    # The process runtime creates a missing mount point on the node: /host, for the node's root.
    made_host = not os.path.exists("/host")
    child = kubectl_pty(srv, "debug", f"node/{node}", "-it", "-n", ns, "--image=busybox",
                        f"--env=E2E_TOKEN={TOKEN}", "--", "sh")
    try:
        child.expect("If you don't see a command prompt, try pressing enter.")
        # The node's root is mounted at /host in the debug container.
        child.sendline("ls /host/proc/1/ >/dev/null && echo host-$((20 + 1)); exit")
        child.expect("host-21")
        assert finish(child) == 0
    finally:
        if child.isalive():
            child.terminate(force=True)
    pods = srv.kubectl("get", "pods", "-n", ns, "-o", "jsonpath={.items[*].metadata.name}").stdout.split()
    debug = [p for p in pods if p.startswith(f"node-debugger-{node}")]
    assert debug, pods
    for p in debug:
        srv.kubectl("delete", "pod", p, "-n", ns, "--wait=true", timeout=120)
    if made_host:
        os.rmdir("/host")  # empty again: the bind mount was in the container's mount namespace
