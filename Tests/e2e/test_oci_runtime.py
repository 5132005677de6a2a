"""The OCI runtime (`caravel server --runtime oci`, runc): images built here by hand (busybox
and the demo app with its libraries), pushed with skopeo to Debian's docker-registry on
loopback (one open, one with htpasswd logins), pulled and run by the built-in kubelet with
the real kubectl: a Deployment with probes, a rollout to a second tag, imagePullSecrets, a
missing tag's ImagePullBackOff, an imported image with imagePullPolicy Never, a liveness
restart with a graceful stop, seccomp profiles, `kubectl exec -it` inside the container's
namespaces. Every test runs on a runc node and on a crun node."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import ociimage
from e2eutil import caravel_bin, serve, unique, wait_for
from kubeletutil import (apply, container_status, events_for, get_json, is_ready, kubelet_root, list_json, namespace_on,
                         pod_spec, remove_bridge, wait_gone, wait_pod, wait_running_ready)
from kubectlrun import finish, kubectl_pty

USER, PASSWORD = "puller", unique("pw", 10)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.fail("the OCI runtime tests need root (runc, overlay mounts, pod networks)", pytrace=False)
    missing = ociimage.missing_tools()
    if missing:
        pytest.fail("the OCI runtime tests need " + ", ".join(missing), pytrace=False)
    base = tmp_path_factory.mktemp("oci-images")
    ociimage.demo_image(base / "demo1", "1", "v1")
    ociimage.demo_image(base / "demo2", "2", "v2")
    ociimage.busybox_image(base / "busybox", "1")
    return base


@pytest.fixture(scope="module")
def registry(tmp_path_factory, images):
    reg = ociimage.Registry(tmp_path_factory.mktemp("registry")).start()
    try:
        reg.push(images / "demo1", "1", "demo", "1")
        reg.push(images / "demo2", "2", "demo", "2")
        reg.push(images / "busybox", "1", "busybox", "1")
        yield reg
    finally:
        reg.stop()


@pytest.fixture(scope="module")
def private(tmp_path_factory, images):
    reg = ociimage.Registry(tmp_path_factory.mktemp("private"), users={USER: PASSWORD}).start()
    try:
        reg.push(images / "busybox", "1", "team/busybox", "1")
        yield reg
    finally:
        reg.stop()


def overlay_mounts(root: str) -> list[str]:
    """Containers' root file systems still mounted under the kubelet root."""
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(root) and line.split()[4].endswith("/bundle/rootfs")]


@pytest.fixture(scope="module", params=["runc", "crun"])
def srv(request, tmp_path_factory, registry, private):
    """A server whose node runs containers with runc, then one with crun (on a cgroup hybrid
    host crun runs in a mount namespace without the v2 hierarchy)."""
    args = ["--runtime", "oci", "--oci-runtime", request.param, "--insecure-registry", registry.host,
            "--insecure-registry", private.host]
    with serve(tmp_path_factory, f"oci-{request.param}", controllers=True, kubelet=True, extra_args=args) as s:
        yield s
        root = kubelet_root(s)
    remove_bridge(s)
    assert overlay_mounts(root) == [], "mounts left behind"


@pytest.fixture(scope="module")
def ns(srv):
    with namespace_on(srv, "oci") as namespace:
        yield namespace
        # The Deployments first (their ReplicaSets would replace deleted pods), then the pods.
        srv.kubectl("delete", "deployments", "--all", "-n", namespace, "--cascade=foreground", "--timeout=120s", check=False,
                    timeout=150)
        srv.kubectl("delete", "pods", "--all", "-n", namespace, "--wait=false", check=False)
        wait_for(lambda: list_json(srv, "pods", namespace) == [], timeout=120, interval=1, what="pods deleted")
        root = kubelet_root(srv)
        wait_for(lambda: overlay_mounts(root) == [], timeout=30, interval=1,
                 what="no container root file system left mounted")


def probe(path: str, **extra) -> dict:
    return {"httpGet": {"path": path, "port": 8080}, "periodSeconds": 1, "failureThreshold": 30, **extra}


def demo_deployment(name: str, image: str) -> dict:
    container = {"name": "app", "image": image, "ports": [{"containerPort": 8080}],
                 "startupProbe": probe("/startupz"), "readinessProbe": probe("/readyz"),
                 "livenessProbe": probe("/healthz", failureThreshold=5)}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": name}},
                     "strategy": {"rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container],
                                                                               "terminationGracePeriodSeconds": 5}}}}


def ready_pods(srv, ns, app: str, image: str) -> list[dict]:
    pods = list_json(srv, "pods", ns, "-l", f"app={app}")
    return [p for p in pods if is_ready(p) and p["spec"]["containers"][0]["image"] == image
            and not p["metadata"].get("deletionTimestamp")]


def pod_report(srv, ns) -> str:
    """The namespace's pods (phase, readiness, each container's state) and events, for a
    failure message."""
    lines = []
    for p in list_json(srv, "pods", ns):
        states = [(c["name"], c.get("ready"), c.get("restartCount"), c.get("state")) for c in p["status"].get("containerStatuses", [])]
        lines.append(f"pod {p['metadata']['name']} {p['status'].get('phase')} ready={is_ready(p)} {states}")
    events = srv.kubectl("get", "events", "-n", ns, "--sort-by=.lastTimestamp", check=False).stdout
    return "\n".join(lines) + "\nevents:\n" + "\n".join(events.splitlines()[-40:])


def test_deployment_runs_three_ready_replicas_then_rolls_out_a_second_tag(srv, ns, registry):
    image1, image2 = f"{registry.host}/demo:1", f"{registry.host}/demo:2"
    apply(srv, demo_deployment("web", image1), ns)
    try:
        wait_for(lambda: len(ready_pods(srv, ns, "web", image1)) == 3, timeout=240, interval=1, what="3 Ready replicas of demo:1")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{pod_report(srv, ns)}") from None
    pod = ready_pods(srv, ns, "web", image1)[0]
    name = pod["metadata"]["name"]
    status = container_status(pod)
    assert status["imageID"].startswith(f"{registry.host}/demo@sha256:") or status.get("image") == image1, status
    reasons = [e["reason"] for e in events_for(srv, ns, name)]
    assert "Pulled" in reasons and "Started" in reasons, reasons
    # exec goes through runc: the image's environment, the container's root.
    out = srv.kubectl("exec", name, "-n", ns, "--", "/bin/sh", "-c", "echo $DEMO_VERSION; ls /app").stdout
    assert out.split() == ["v1", "demo-app"], out
    assert srv.kubectl("logs", name, "-n", ns).returncode == 0
    def node_images():
        node = get_json(srv, "node", srv.node_name)
        return [n for image in node["status"].get("images", []) for n in image["names"]]
    wait_for(lambda: image1 in node_images(), timeout=60, interval=1, what=f"{image1} in the node's status.images")

    srv.kubectl("set", "image", "deployment/web", f"app={image2}", "-n", ns)
    srv.kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=240s", timeout=260)
    pods = ready_pods(srv, ns, "web", image2)
    assert len(pods) == 3
    out = srv.kubectl("exec", pods[0]["metadata"]["name"], "-n", ns, "--", "/bin/sh", "-c", "echo $DEMO_VERSION").stdout
    assert out.strip() == "v2"


def sleeper(name: str, image: str, **spec) -> dict:
    return pod_spec(name, [{"name": "main", "image": image, "command": ["/bin/sh", "-c", "sleep 3600"]}],
                    terminationGracePeriodSeconds=2, **spec)


def test_private_repository_needs_image_pull_secrets(srv, ns, private):
    image = f"{private.host}/team/busybox:1"
    apply(srv, sleeper("anon", image), ns)
    pod = wait_pod(srv, "anon", ns, lambda p: container_status(p).get("state", {}).get("waiting", {}).get("reason")
                   in ("ErrImagePull", "ImagePullBackOff"), 90, "a pull refused without credentials")
    assert "authorization required" in container_status(pod)["state"]["waiting"]["message"]

    srv.kubectl("create", "secret", "docker-registry", "pull", "-n", ns, f"--docker-server={private.host}",
                f"--docker-username={USER}", f"--docker-password={PASSWORD}")
    apply(srv, sleeper("authed", image, imagePullSecrets=[{"name": "pull"}]), ns)
    wait_running_ready(srv, "authed", ns, timeout=120)
    out = srv.kubectl("exec", "authed", "-n", ns, "--", "id", "-u").stdout
    assert out.strip() == "0"


def test_missing_tag_ends_in_image_pull_backoff_with_the_registry_message(srv, ns, registry):
    apply(srv, sleeper("missing", f"{registry.host}/demo:nope"), ns)
    pod = wait_pod(srv, "missing", ns,
                   lambda p: container_status(p).get("state", {}).get("waiting", {}).get("reason") == "ImagePullBackOff",
                   90, "ImagePullBackOff")
    message = container_status(pod)["state"]["waiting"]["message"]
    assert "manifest unknown" in message, message
    reasons = [(e["reason"], e["message"]) for e in events_for(srv, ns, "missing")]
    assert any(r == "Failed" and "Failed to pull image" in m for r, m in reasons), reasons
    assert any(r == "BackOff" for r, _ in reasons), reasons


def test_imported_tarball_runs_with_pull_policy_never(srv, ns, images, tmp_path):
    name = "registry.invalid/airgap/busybox:1"
    layout = tmp_path / "layout"
    ociimage.busybox_image(layout, "1", full_name=name)
    archive = ociimage.tar_directory(layout, tmp_path / "busybox.tar")
    container = {"name": "main", "image": name, "imagePullPolicy": "Never", "command": ["/bin/sh", "-c", "echo imported; sleep 3600"]}

    # Not there yet: Never does not pull.
    apply(srv, pod_spec("early", [container], terminationGracePeriodSeconds=2), ns)
    pod = wait_pod(srv, "early", ns, lambda p: container_status(p).get("state", {}).get("waiting", {}).get("reason") == "ErrImageNeverPull",
                   60, "ErrImageNeverPull")
    assert "is not present with pull policy of Never" in container_status(pod)["state"]["waiting"]["message"]

    cp = subprocess.run([str(caravel_bin()), "images", "import", "--data-dir", str(srv.data_dir), str(archive)],
                        capture_output=True, text=True, timeout=300)
    assert cp.returncode == 0, cp.stderr
    listed = subprocess.run([str(caravel_bin()), "images", "list", "--data-dir", str(srv.data_dir)],
                            capture_output=True, text=True, timeout=60).stdout
    assert name in listed, listed
    apply(srv, pod_spec("airgap", [container], terminationGracePeriodSeconds=2), ns)
    wait_running_ready(srv, "airgap", ns, timeout=120)
    wait_for(lambda: "imported" in srv.kubectl("logs", "airgap", "-n", ns).stdout, timeout=30, what="the imported image's output")
    # The early pod gets it too once its back-off ends.
    wait_running_ready(srv, "early", ns, timeout=120)


def test_liveness_restart_stops_the_container_gracefully(srv, ns, registry):
    """A failing exec probe (run with runc exec) restarts the container, whose next attempt has
    a fresh root; the stop is a SIGTERM the container's shell traps (runc kill), seen in the
    previous attempt's log."""
    script = 'trap "echo got-term; exit 0" TERM; while true; do sleep 0.2; done'
    container = {"name": "main", "image": f"{registry.host}/busybox:1", "command": ["/bin/sh", "-c", script],
                 "livenessProbe": {"exec": {"command": ["test", "!", "-f", "/tmp/dead"]}, "periodSeconds": 1, "failureThreshold": 1}}
    apply(srv, pod_spec("lively", [container], terminationGracePeriodSeconds=10), ns)
    wait_running_ready(srv, "lively", ns, timeout=120)
    srv.kubectl("exec", "lively", "-n", ns, "--", "touch", "/tmp/dead")
    wait_pod(srv, "lively", ns, lambda p: container_status(p).get("restartCount", 0) >= 1 and is_ready(p), 90, "a liveness restart")
    previous = srv.kubectl("logs", "lively", "-n", ns, "--previous").stdout
    assert "got-term" in previous, previous
    status = container_status(get_json(srv, "pod", "lively", ns))
    assert status["lastState"]["terminated"]["exitCode"] == 0, status
    srv.kubectl("delete", "pod", "lively", "-n", ns, "--wait=false")
    wait_gone(srv, "pod", "lively", ns, timeout=60)


def test_seccomp_profiles_block_syscalls(srv, ns, registry):
    """RuntimeDefault (set on the pod) refuses `unshare`, which the same image runs under a
    container's Unconfined; a Localhost profile from the kubelet's seccomp directory refuses
    mkdir; a missing one fails the container with CreateContainerError."""
    image = f"{registry.host}/busybox:1"
    def tries(call: str, what: str) -> list[str]:
        return ["/bin/sh", "-c", f"if {call}; then echo {what}-ok; else echo {what}-refused; fi; sleep 3600"]
    unshare = tries("/bin/busybox unshare -U /bin/true", "unshare")
    apply(srv, pod_spec("seccomp", [
        {"name": "confined", "image": image, "command": unshare},
        {"name": "open", "image": image, "command": unshare, "securityContext": {"seccompProfile": {"type": "Unconfined"}}},
    ], terminationGracePeriodSeconds=1, securityContext={"seccompProfile": {"type": "RuntimeDefault"}}), ns)
    wait_running_ready(srv, "seccomp", ns, timeout=120)
    def log(pod: str, container: str) -> str:
        return srv.kubectl("logs", pod, "-n", ns, "-c", container).stdout.strip()
    def verdict(pod: str, container: str) -> str:
        """The shell's line, once written (stdout and stderr interleave in any order)."""
        return next((line for line in log(pod, container).splitlines() if line.endswith(("-ok", "-refused"))), "")
    wait_for(lambda: verdict("seccomp", "confined") and verdict("seccomp", "open"), timeout=30, what="both containers' verdicts")
    assert verdict("seccomp", "confined") == "unshare-refused"
    assert "Operation not permitted" in log("seccomp", "confined")
    assert verdict("seccomp", "open") == "unshare-ok"

    profiles = Path(kubelet_root(srv)) / "seccomp" / "team"
    profiles.mkdir(parents=True, exist_ok=True)
    (profiles / "no-mkdir.json").write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}))
    local = {"type": "Localhost", "localhostProfile": "team/no-mkdir.json"}
    apply(srv, pod_spec("local", [{"name": "main", "image": image, "command": tries("/bin/busybox mkdir /tmp/d", "mkdir"),
                                   "securityContext": {"seccompProfile": local}}], terminationGracePeriodSeconds=1), ns)
    wait_running_ready(srv, "local", ns, timeout=120)
    wait_for(lambda: verdict("local", "main"), timeout=30, what="the Localhost verdict")
    assert verdict("local", "main") == "mkdir-refused"
    assert "Operation not permitted" in log("local", "main")

    missing = {"type": "Localhost", "localhostProfile": "team/missing.json"}
    apply(srv, pod_spec("nofile", [{"name": "main", "image": image, "command": ["/bin/sh", "-c", "sleep 3600"],
                                    "securityContext": {"seccompProfile": missing}}], terminationGracePeriodSeconds=1), ns)
    pod = wait_pod(srv, "nofile", ns, lambda p: container_status(p).get("state", {}).get("waiting", {}).get("reason")
                   == "CreateContainerError", 90, "CreateContainerError for a missing profile")
    assert "team/missing.json" in container_status(pod)["state"]["waiting"]["message"]
    for name in ("seccomp", "local", "nofile"):
        srv.kubectl("delete", "pod", name, "-n", ns, "--wait=false")
    for name in ("seccomp", "local", "nofile"):
        wait_gone(srv, "pod", name, ns, timeout=60)


def test_exec_it_enters_the_container_namespaces(srv, ns, registry):
    """`kubectl exec -it` (a terminal, through the shim rather than runc exec) runs in the
    container's PID, UTS, IPC and mount namespaces and its working directory, as its user and
    with its capabilities."""
    container = {"name": "main", "image": f"{registry.host}/busybox:1", "command": ["/bin/sh", "-c", "sleep 3600"],
                 "workingDir": "/tmp", "securityContext": {"runAsUser": 65534, "runAsGroup": 65534}}
    apply(srv, pod_spec("inside", [container], terminationGracePeriodSeconds=2), ns)
    wait_running_ready(srv, "inside", ns, timeout=120)
    child = kubectl_pty(srv, "exec", "-it", "-n", ns, "inside", "--", "/bin/sh")
    try:
        # A new PID namespace: the shell's PID is small and only the container's few processes
        # are visible, not the host's.
        child.sendline("set -- /proc/[0-9]*; echo pid=$$ count=$#")
        child.expect(r"pid=(\d+) count=(\d+)")
        assert int(child.match.group(1)) < 50 and int(child.match.group(2)) <= 6, child.match.group(0)
        child.sendline("echo host=$(hostname) dir=$(pwd)")
        child.expect(r"host=inside dir=/tmp")
        # The container's user and group, and no capability (a non-root user without added ones).
        child.sendline("echo uid=$(id -u) gid=$(id -g); while read k v; do [ \"$k\" = CapEff: ] && echo eff=$v; done < /proc/self/status")
        child.expect(r"uid=65534 gid=65534")
        child.expect(r"eff=0000000000000000")
        child.sendline("exit 3")
        assert finish(child) == 3
    finally:
        if child.isalive():
            child.terminate(force=True)
    srv.kubectl("delete", "pod", "inside", "-n", ns, "--wait=false")
    wait_gone(srv, "pod", "inside", ns, timeout=60)
