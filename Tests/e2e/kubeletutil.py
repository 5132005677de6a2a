"""Small helpers shared by the kubelet end-to-end tests (test_kubelet_*.py).

Pods there run as real host processes (the `process` runtime), so the tests look at the host
too: processes found by a unique token in their argv, marker files under /tmp.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import signal
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import pytest

from e2eutil import REPO, caravel_bin, serve, unique, wait_for

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def network_ranges(server) -> dict:
    """The pod and service ranges the server chose (apart from other servers on this host):
    {"clusterCIDR": "10.244.0.0/16", "serviceCIDR": "10.96.0.0/12"} by default."""
    return json.loads((Path(server.data_dir) / "network-ranges.json").read_text())


def in_pod_network(server, ip: str) -> bool:
    return ipaddress.ip_address(ip) in ipaddress.ip_network(network_ranges(server)["clusterCIDR"])


def fnv_hex(text: str, count: int) -> str:
    """FNV-1a 64 (PodNetworkHost.hexHash), as the kubelet names its bridges and tables."""
    h = 0xCBF29CE484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"[:count]


def kubelet_root(server) -> str:
    return os.path.normpath(os.path.abspath(server.data_dir / "kubelet"))


def bridge_name(server) -> str:
    """The built-in node's pod bridge: `cvl` + a hash of the kubelet root and the node name."""
    return "cvl" + fnv_hex(kubelet_root(server) + "\n" + server.node_name, 8)


def remove_bridge(server) -> None:
    """Deletes the node's pod bridge once no pod is on it (`caravel killall` removes only the host-named node's)."""
    remove_bridge_named(bridge_name(server))


def remove_bridge_named(bridge: str) -> None:
    members = subprocess.run(["ip", "-o", "link", "show", "master", bridge], capture_output=True, text=True, timeout=30)
    if members.returncode == 0 and not members.stdout.strip():
        subprocess.run(["ip", "link", "del", "dev", bridge], capture_output=True, timeout=30)


# --------------------------------------------------------------------------- fixtures


def node_fixtures(name: str, token: str, *, kubelet: bool = True, before_ns: Iterable[str] = (),
                  runtimes: Iterable[str] = ()):
    """The module-scoped `srv` and `ns` fixtures of a kubelet e2e file, as
    `srv, ns = node_fixtures("kl-pods", TOKEN)`.

    `srv`: a server named `name` with the controllers on and (unless `kubelet=False`, for a
    separate `caravel kubelet`) its built-in kubelet; at the end, whatever process still
    carries `token` is killed. `ns`: a namespace on it (after the fixtures named in
    `before_ns`, e.g. that separate kubelet); at the end its Deployments and pods are deleted
    through the API and their processes waited for, before the server stops.

    `runtimes` (e.g. `("process", "runc")`) runs the module once per container runtime of
    the built-in node; `srv.runtime` (runtimes.NodeRuntime) names the images to use. Without
    it the node runs the process runtime and the test ids carry no parameter."""
    from runtimes import node_runtime

    def server(request, tmp_path_factory):
        with node_runtime(getattr(request, "param", "process"), tmp_path_factory) as runtime:
            with serve(tmp_path_factory, name + runtime.suffix, controllers=True, kubelet=kubelet,
                       extra_args=runtime.args) as s:
                s.runtime = runtime
                yield s
            kill_pids(token)
            if runtime.oci:
                remove_bridge(s)

    runtimes = list(runtimes)
    srv = pytest.fixture(scope="module", params=runtimes or None, name="srv")(server)

    @pytest.fixture(scope="module")
    def ns(request, srv):
        for fixture in before_ns:
            request.getfixturevalue(fixture)
        with namespace_on(srv, name) as namespace:
            yield namespace
            srv.kubectl("delete", "deployments,pods", "--all", "-n", namespace, "--wait=false", check=False)
            with contextlib.suppress(AssertionError):  # what is left, srv's teardown kills
                wait_no_pids(token, timeout=60)
                # Container root file systems go with the pods, before the server stops.
                wait_for(lambda: list_json(srv, "pods", namespace) == [], timeout=60, interval=1, what="pods deleted")

    return srv, ns


# --------------------------------------------------------------------------- objects


def apply(server, obj: dict | list, namespace: Optional[str] = None) -> None:
    """kubectl apply of one object or a list of them (JSON on stdin)."""
    items = obj if isinstance(obj, list) else [obj]
    doc = {"apiVersion": "v1", "kind": "List", "items": items}
    args = ["apply", "-f", "-"] + (["-n", namespace] if namespace else [])
    server.kubectl(*args, input=json.dumps(doc))


def get_json(server, kind: str, name: str, namespace: Optional[str] = None) -> dict:
    args = ["get", kind, name, "-o", "json"] + (["-n", namespace] if namespace else [])
    return json.loads(server.kubectl(*args).stdout)


def list_json(server, kind: str, namespace: Optional[str] = None, *extra: str) -> list[dict]:
    args = ["get", kind, "-o", "json"] + (["-n", namespace] if namespace else ["-A"]) + list(extra)
    return json.loads(server.kubectl(*args).stdout).get("items", [])


def pod_spec(name: str, containers: list[dict], **spec: Any) -> dict:
    """A Pod object; `spec` keys go into .spec (restartPolicy=..., volumes=[...], ...)."""
    labels = spec.pop("labels", None) or {"e2e": "kubelet"}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels},
            "spec": {"containers": containers, **spec}}


def sh_container(name: str, script: str, image: str = "busybox:1.36", **extra: Any) -> dict:
    """A container that runs `sh -c script` (for the process runtime the command is what runs;
    the OCI runtime needs an image with a shell, see runtimes.NodeRuntime.busybox)."""
    return {"name": name, "image": image, "command": ["sh", "-c", script], **extra}


def container_status(pod: dict, name: Optional[str] = None, init: bool = False) -> dict:
    key = "initContainerStatuses" if init else "containerStatuses"
    statuses = (pod.get("status") or {}).get(key) or []
    for cs in statuses:
        if name is None or cs.get("name") == name:
            return cs
    return {}


def is_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def wait_pod(server, name: str, namespace: str, pred: Callable[[dict], Any], timeout: float = 90,
             what: str = "pod condition") -> dict:
    """Polls the pod until pred(pod) is truthy; returns the pod."""
    last: dict = {}

    def check():
        nonlocal last
        last = get_json(server, "pod", name, namespace)
        return last if pred(last) else None

    try:
        return wait_for(check, timeout=timeout, interval=0.5, what=f"{namespace}/{name}: {what}")
    except AssertionError as e:
        raise AssertionError(f"{e}\nlast status: {json.dumps(last.get('status'), indent=1)}") from None


def wait_running_ready(server, name: str, namespace: str, timeout: float = 90) -> dict:
    return wait_pod(server, name, namespace,
                    lambda p: p["status"].get("phase") == "Running" and is_ready(p),
                    timeout, "Running and Ready")


def wait_gone(server, kind: str, name: str, namespace: str, timeout: float = 90) -> None:
    def gone():
        cp = server.kubectl("get", kind, name, "-n", namespace, "-o", "name", check=False)
        return cp.returncode != 0 and "NotFound" in cp.stderr
    wait_for(gone, timeout=timeout, interval=0.5, what=f"{kind} {namespace}/{name} to be gone")


def events_for(server, namespace: str, name: str) -> list[dict]:
    evs = list_json(server, "events", namespace, "--field-selector", f"involvedObject.name={name}")
    return sorted(evs, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")


def parse_time(ts: str) -> float:
    """RFC 3339 (with or without fractional seconds) to epoch seconds."""
    ts = ts.replace("Z", "+00:00")
    if "." in ts:
        head, rest = ts.split(".", 1)
        frac = "".join(ch for ch in rest if ch.isdigit())
        tz = rest[len(frac):]
        ts = f"{head}.{frac[:6]}{tz}"
    return datetime.fromisoformat(ts).timestamp()


@contextlib.contextmanager
def namespace_on(server, prefix: str = "kl"):
    """A fresh namespace on `server` (not the session server), deleted afterwards."""
    name = unique(prefix, 5)
    server.kubectl("create", "namespace", name)
    try:
        yield name
    finally:
        server.kubectl("delete", "namespace", name, "--wait=false", check=False)


# --------------------------------------------------------------------------- host side


@contextlib.contextmanager
def host_dir(prefix: str = "caravel-e2e"):
    """A directory /tmp/caravel-e2e-<unique> for hostPath volumes and mount paths; removed
    afterwards."""
    d = Path("/tmp") / unique(prefix, 8)
    d.mkdir(parents=True)
    d.chmod(0o777)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def pids_with(token: str) -> list[int]:
    """PIDs of live (non-zombie) processes whose argv or environment contains `token` (give
    containers an env var E2E_TOKEN=<unique> and their children carry it too)."""
    out = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            if state == b"Z":
                continue
            with open(f"/proc/{entry}/environ", "rb") as f:
                argv += f.read().split(b"\0")
        except (OSError, IndexError):
            continue
        if any(token.encode() in a for a in argv):
            out.append(int(entry))
    return sorted(out)


def sleeps(token: str) -> list[int]:
    """PIDs of the `sleep` processes among `pids_with(token)` (one per container running `sleep`)."""
    out = []
    for pid in pids_with(token):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "sleep":
                    out.append(pid)
        except OSError:
            pass
    return out


def wait_no_pids(token: str, timeout: float = 60) -> None:
    wait_for(lambda: not pids_with(token), timeout=timeout, interval=0.3,
             what=f"no process with {token!r} in its argv (left: {pids_with(token)})")


def kill_pids(token: str) -> None:
    """Test cleanup only: SIGKILL whatever carries our own unique token."""
    for pid in pids_with(token):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


# --------------------------------------------------------------------------- separate kubelet


def node_kubeconfig(server, node_name: str, output: Path) -> Path:
    cp = subprocess.run([str(caravel_bin()), "node-kubeconfig", "--data-dir", str(server.data_dir),
                         "--node-name", node_name, "--output", str(output)],
                        capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, f"node-kubeconfig failed: {cp.stdout}\n{cp.stderr}"
    assert output.exists(), f"node-kubeconfig wrote no {output}"
    return output


class KubeletProcess:
    """A `caravel kubelet` process (its own session, so kill() takes it alone)."""

    def __init__(self, kubeconfig: Path | str, node_name: str, root_dir: Path, log_path: Path,
                 extra_args: Iterable[str] = ()):
        self.kubeconfig = str(kubeconfig)
        self.node_name = node_name
        self.root_dir = Path(root_dir)
        self.log_path = Path(log_path)
        self.extra_args = list(extra_args)
        self.proc: Optional[subprocess.Popen] = None
        self._log = None

    def command(self) -> list[str]:
        return [str(caravel_bin()), "kubelet", "--kubeconfig", self.kubeconfig, "--node-name",
                self.node_name, "--root-dir", str(self.root_dir), "--port", "0", *self.extra_args]

    def start(self) -> "KubeletProcess":
        self._log = open(self.log_path, "ab")
        self._log.write(f"\n===== {' '.join(self.command())}\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True, cwd=str(REPO))
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """kill -9 of the kubelet process only (not its session: pods must survive)."""
        if self.alive():
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(10)
        self._close()

    def stop(self, grace: float = 15) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._close()

    def _close(self):
        if self._log is not None:
            self._log.close()
            self._log = None

    def clean_up_node(self) -> None:
        """After stop(): `caravel killall` ends what the node left (its pods, its nftables
        tables), then its pod bridge goes once no pod is on it."""
        subprocess.run([str(caravel_bin()), "killall", "--root-dir", str(self.root_dir)], capture_output=True, timeout=120)
        remove_bridge_named("cvl" + fnv_hex(os.path.normpath(os.path.abspath(self.root_dir)) + "\n" + self.node_name, 8))

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


def node_ready(node: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or [])
