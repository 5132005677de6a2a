"""Container lifecycle on a separate `caravel kubelet` process (the server runs with
--disable-kubelet): OOM kills under a memory limit, graceful deletion (preStop, SIGTERM, SIGKILL
after the grace period, the pod object removed only once its processes are gone), these on the
process runtime and on a second kubelet with the OCI runtime (runc, crun); and a
kubelet killed with -9 and restarted: running pods keep their processes, none is duplicated,
and a pod deleted while the kubelet was down has its processes killed when it returns;
`caravel killall` ending the pods a stopped kubelet left, and a restart unmounting the volumes
of pods that went away meanwhile."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass

import pytest
import yaml

from e2eutil import REPO, caravel_bin, unique, wait_for
from kubeletutil import (IS_ROOT, KubeletProcess, apply, container_status, get_json, host_dir,
                         kill_pids, list_json, node_fixtures, node_kubeconfig, node_ready, pids_with,
                         pod_spec, sh_container, sleeps, wait_gone, wait_no_pids, wait_pod,
                         wait_running_ready)
from runtimes import NodeRuntime, node_runtime

TOKEN = unique("e2e-life", 8)
NODE = unique("kl-ext", 5)


def token_env(suffix: str) -> list[dict]:
    return [{"name": "E2E_TOKEN", "value": f"{TOKEN}-{suffix}"}]


srv, ns = node_fixtures("kl-life", TOKEN, kubelet=False, before_ns=("kubelet",))


@pytest.fixture(scope="module")
def kubelet(srv, tmp_path_factory):
    base = tmp_path_factory.mktemp("kl-life-kubelet")
    kc = node_kubeconfig(srv, NODE, base / "node.kubeconfig")
    k = KubeletProcess(kc, NODE, base / "root", base / "kubelet.log").start()
    try:
        wait_for(lambda: node_ready(get_json(srv, "node", NODE)), timeout=60,
                 what=f"node {NODE} Ready")
    except AssertionError as e:
        k.stop()
        raise AssertionError(f"{e}\n--- kubelet log ---\n{k.log_tail()}") from None
    yield k
    if not k.alive():
        k.start()
    k.stop()
    k.clean_up_node()


@dataclass
class NodeUnderTest:
    name: str
    runtime: NodeRuntime


def start_kubelet(srv, name: str, base, args=()) -> KubeletProcess:
    kc = node_kubeconfig(srv, name, base / "node.kubeconfig")
    k = KubeletProcess(kc, name, base / "root", base / "kubelet.log", extra_args=args).start()
    try:
        wait_for(lambda: node_ready(get_json(srv, "node", name)), timeout=60, what=f"node {name} Ready")
    except AssertionError as e:
        k.stop()
        raise AssertionError(f"{e}\n--- kubelet log ---\n{k.log_tail()}") from None
    return k


@pytest.fixture(scope="module", params=["process", "runc", "crun"])
def node(request, srv, ns, tmp_path_factory):
    """Where the OOM and graceful-deletion tests run: the separate kubelet (process runtime),
    or a second `caravel kubelet` with the OCI runtime, which deletes its pods through the API
    before it stops."""
    if request.param == "process":
        request.getfixturevalue("kubelet")
        yield NodeUnderTest(NODE, NodeRuntime("process"))
        return
    with node_runtime(request.param, tmp_path_factory) as runtime:
        name = f"{NODE}-{request.param}"
        base = tmp_path_factory.mktemp(f"kl-life-{request.param}")
        k = start_kubelet(srv, name, base, runtime.args)
        try:
            yield NodeUnderTest(name, runtime)
        finally:
            def left() -> list[str]:
                return [p["metadata"]["name"] for p in list_json(srv, "pods", ns) if p["spec"].get("nodeName") == name]
            try:
                if left():
                    srv.kubectl("delete", "pods", *left(), "-n", ns, "--wait=false", check=False)
                wait_for(lambda: not left(), timeout=90, interval=1, what=f"the pods of {name} deleted")
            except AssertionError as e:
                raise AssertionError(f"{e}: {left()}\n--- kubelet log ---\n{k.log_tail()}") from None
            finally:
                k.stop()
            k.clean_up_node()


def oom_pod(node: NodeUnderTest) -> dict:
    obj = yaml.safe_load((REPO / "Manifests" / "examples" / "oom.yaml").read_text())
    obj["metadata"]["name"] = "oom" + node.runtime.suffix
    container = obj["spec"]["containers"][0]
    container["env"] = token_env("oom" + node.runtime.suffix)
    if node.runtime.oci:
        # The busybox image has no python: a shell string that doubles until the limit.
        container["image"] = node.runtime.busybox
        container["command"] = ["/bin/sh", "-c", 's=x; i=0; while [ $i -lt 30 ]; do s="$s$s"; i=$((i+1)); done; '
                                                 'echo "allocated 1 GiB and was not killed"; sleep 3600']
    obj["spec"]["nodeName"] = node.name
    return obj


@pytest.mark.skipif(not IS_ROOT, reason="memory limits need cgroups (root)")
def test_oom_killed_under_memory_limit(srv, ns, node):
    obj = oom_pod(node)
    name = obj["metadata"]["name"]
    apply(srv, obj, ns)

    def oom(p):
        cs = container_status(p)
        term = cs.get("state", {}).get("terminated") or cs.get("lastState", {}).get("terminated") or {}
        return term.get("reason") == "OOMKilled" and term
    pod = wait_pod(srv, name, ns, oom, 120, "terminated with reason OOMKilled")
    term = oom(pod)
    assert term["exitCode"] == 137, term
    assert pod["status"]["phase"] == "Failed", pod["status"]
    out = srv.kubectl("logs", name, "-n", ns).stdout
    assert "was not killed" not in out, out
    wait_no_pids(f"{TOKEN}-{name}", timeout=30)


def timestamp(node: NodeUnderTest) -> str:
    """A shell command printing a fine-grained time: busybox's date has no %N, so in an image
    the seconds since boot (the same clock for the hook and the container)."""
    return "read up rest < /proc/uptime; echo $up" if node.runtime.oci else "date +%s.%N"


def graceful_pod(name: str, d, script: str, token: str, node: NodeUnderTest) -> dict:
    return pod_spec(name, [sh_container(
        "main", script, env=token_env(token), image=node.runtime.busybox,
        lifecycle={"preStop": {"exec": {"command": [
            "sh", "-c", f"{timestamp(node)} > {d}/prestop-{name}; sleep 1"]}}},
        volumeMounts=[{"name": "marker", "mountPath": str(d)}])],
        nodeName=node.name, terminationGracePeriodSeconds=5,
        volumes=[{"name": "marker", "hostPath": {"path": str(d), "type": "Directory"}}])


def test_graceful_deletion_runs_prestop_then_sigterm(srv, ns, node):
    name = "polite" + node.runtime.suffix
    with host_dir() as d:
        script = (f"trap '{timestamp(node)} > {d}/term-{name}; exit 0' TERM; echo started; "
                  "while true; do sleep 1 & wait $!; done")
        apply(srv, graceful_pod(name, d, script, name, node), ns)
        wait_running_ready(srv, name, ns)
        assert pids_with(f"{TOKEN}-{name}"), "no process carries the pod's token"
        srv.kubectl("delete", "pod", name, "-n", ns, "--wait=true", timeout=120)
        # The delete returned: the object is gone, and so must be the processes.
        assert pids_with(f"{TOKEN}-{name}") == [], "processes outlived the pod object"
        prestop, term = d / f"prestop-{name}", d / f"term-{name}"
        assert prestop.exists(), "the preStop hook did not run"
        assert term.exists(), "the container got no SIGTERM (or could not handle it)"
        assert float(prestop.read_text()) <= float(term.read_text()), "SIGTERM came before preStop"


def test_graceful_deletion_kills_after_grace_period(srv, ns, node):
    name = "stubborn" + node.runtime.suffix
    with host_dir() as d:
        script = ("trap 'echo ignoring TERM' TERM; echo started; "
                  "while true; do sleep 1; done")
        apply(srv, graceful_pod(name, d, script, name, node), ns)
        wait_running_ready(srv, name, ns)
        t0 = time.monotonic()
        srv.kubectl("delete", "pod", name, "-n", ns, "--wait=true", timeout=120)
        took = time.monotonic() - t0
        assert pids_with(f"{TOKEN}-{name}") == [], "processes outlived the pod object"
        assert (d / f"prestop-{name}").exists(), "the preStop hook did not run"
        # terminationGracePeriodSeconds 5 (the preStop hook's time counts in it).
        assert took >= 4.5, f"deleted after {took:.1f}s, before the grace period was over"


def test_kubelet_restart_keeps_pods_and_reaps_deleted_ones(srv, ns, kubelet):
    keep, doomed = f"{TOKEN}-keep", f"{TOKEN}-doomed"
    apply(srv, [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "sleepers"},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "sleepers"}},
                  "template": {"metadata": {"labels": {"app": "sleepers"}},
                               "spec": {"nodeName": NODE, "containers": [
                                   sh_container("main", "exec sleep 31337", env=[{"name": "E2E_TOKEN", "value": keep}])]}}}},
        pod_spec("doomed", [sh_container("main", "exec sleep 31338",
                                         env=[{"name": "E2E_TOKEN", "value": doomed}])], nodeName=NODE),
    ], ns)

    try:
        def sleepers_ready():
            pods = list_json(srv, "pods", ns, "-l", "app=sleepers")
            return len(pods) == 2 and all(p["status"].get("phase") == "Running" for p in pods) and pods
        pods = wait_for(sleepers_ready, timeout=90, what="2 sleepers Running")
        wait_running_ready(srv, "doomed", ns)
        names = sorted(p["metadata"]["name"] for p in pods)
        # One `sleep 31337` per replica (plus whatever else carries the token, e.g. its shim).
        before = wait_for(lambda: len(sleeps(keep)) == 2 and pids_with(keep), timeout=30,
                          what="2 sleep processes")
        doomed_pids = pids_with(doomed)
        assert doomed_pids

        kubelet.kill()
        assert pids_with(keep) == before, "killing the kubelet killed its pods' processes"
        srv.kubectl("delete", "pod", "doomed", "-n", ns, "--wait=false")
        time.sleep(2)  # the kubelet is down: nothing may act on the deletion
        assert pids_with(doomed) == doomed_pids, "the doomed pod's processes died with no kubelet"

        kubelet.start()
        wait_gone(srv, "pod", "doomed", ns, timeout=90)
        wait_no_pids(doomed, timeout=30)
        wait_for(lambda: node_ready(get_json(srv, "node", NODE)), timeout=60, what="node Ready again")
        for n in names:
            wait_running_ready(srv, n, ns, timeout=60)
        time.sleep(10)  # give a confused kubelet time to start duplicates
        assert pids_with(keep) == before, f"processes changed across the kubelet restart: {before} -> {pids_with(keep)}"
        for n in names:
            cs = container_status(get_json(srv, "pod", n, ns))
            assert cs["restartCount"] == 0 and "running" in cs["state"], cs
        assert kubelet.alive(), kubelet.log_tail()

    finally:
        # Also after a failure: the next tests count what this kubelet runs.
        srv.kubectl("delete", "deployment", "sleepers", "-n", ns, "--ignore-not-found", check=False)
        srv.kubectl("delete", "pod", "doomed", "-n", ns, "--ignore-not-found", "--wait=false", check=False)
        if kubelet.alive():
            wait_for(lambda: not list_json(srv, "pods", ns, "-l", "app=sleepers"), timeout=90, what="sleepers gone")
            wait_no_pids(keep, timeout=30)
        else:
            kill_pids(keep)



def mounts_under(path: str) -> list[str]:
    with open("/proc/self/mounts") as f:
        return [line.split()[1] for line in f if line.split()[1].startswith(path.rstrip("/") + "/")]


@pytest.mark.skipif(not IS_ROOT, reason="network namespaces, cgroups and tmpfs volumes need root")
def test_killall_stops_pods_left_by_a_stopped_kubelet(srv, ns, kubelet):
    token = f"{TOKEN}-reaped"
    apply(srv, pod_spec("reaped", [sh_container("main", "exec sleep 31339", env=[{"name": "E2E_TOKEN", "value": token}])],
                        nodeName=NODE), ns)
    pod = wait_running_ready(srv, "reaped", ns)
    uid = pod["metadata"]["uid"]
    pod_dir = str(kubelet.root_dir / "pods" / uid)
    assert pids_with(token)
    assert mounts_under(pod_dir), "the pod has no tmpfs volume (kube-api-access) to clean up"
    netns = f"/var/run/netns/cvl-{uid[:12]}"
    assert os.path.exists(netns), "the pod has no network namespace of its own"

    kubelet.stop()
    assert pids_with(token), "stopping the kubelet stopped its pods (they outlive it by design)"
    cp = subprocess.run([str(caravel_bin()), "killall", "--root-dir", str(kubelet.root_dir)],
                        capture_output=True, text=True, timeout=120)
    try:
        assert cp.returncode == 0, cp.stdout + cp.stderr
        assert "containers stopped: 1" in cp.stdout, cp.stdout
        assert "tmpfs mounts unmounted: 0" not in cp.stdout, cp.stdout
        assert "network namespaces removed: 1" in cp.stdout, cp.stdout
        wait_no_pids(token, timeout=30)
        assert mounts_under(pod_dir) == [], mounts_under(pod_dir)
        assert not os.path.exists(netns), f"{netns} still exists: {cp.stdout}"
        assert not os.path.exists(pod_dir)
    finally:
        kubelet.start()
        wait_for(lambda: node_ready(get_json(srv, "node", NODE)), timeout=60, what="node Ready again")
        srv.kubectl("delete", "pod", "reaped", "-n", ns, "--wait=false")
        wait_gone(srv, "pod", "reaped", ns, timeout=90)
        kill_pids(token)


@pytest.mark.skipif(not IS_ROOT, reason="tmpfs mounts need root")
def test_restart_unmounts_volumes_of_pods_gone_meanwhile(srv, ns, kubelet):
    # What a kubelet stopped in the middle of a termination leaves: containers gone, the
    # kube-api-access tmpfs still mounted, no pod object. The next start cleans it up.
    kubelet.stop()
    leftover = kubelet.root_dir / "pods" / "0badc0de-0000-4000-8000-000000000001" / "volumes" / "kube-api-access-x"
    leftover.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(leftover)], check=True)
    try:
        assert mounts_under(str(leftover.parent))
        kubelet.start()
        wait_for(lambda: not mounts_under(str(leftover.parent.parent)) and not leftover.parent.parent.exists(),
                 timeout=90, what="the leftover pod directory unmounted and removed")
    finally:
        if mounts_under(str(leftover.parent)):
            subprocess.run(["umount", "-l", str(leftover)], check=False)
        if not kubelet.alive():
            kubelet.start()
