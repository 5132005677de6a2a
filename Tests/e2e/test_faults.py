"""Fault drills, each bounded in time (docs/reliability.md sums them up):

- kill -9 of `caravel server` in the middle of a 20-replica rollout (pods on a separate fake
  kubelet): after the restart the rollout finishes, maxSurge/maxUnavailable held at every
  sample, and every write the server acknowledged is there;
- kill -9 of a separate `caravel controller-manager` and of a joined `caravel kubelet` (real
  processes) at random moments while a Deployment scales up and down: never more pods than
  asked for, no process without its pod, and the end state converges;
- a full disk (the data dir on a small tmpfs): writes fail with a 5xx Status, reads go on, the
  server stays up, and writes work again once space returns;
- misbehaving clients: in test_faults_clients.py.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import threading
import time
from pathlib import Path

import pytest

from e2eutil import CaravelServer, SERVERS, caravel_bin, unique, wait_for
from kubeletutil import (IS_ROOT, KubeletProcess, get_json, list_json, node_kubeconfig, node_ready, pids_with,
                         sh_container, sleeps)

RNG = random.Random(int(os.environ.get("CARAVEL_FAULT_SEED", str(int(time.time())))))


def new_server(tmp_path: Path, name: str, data_dir: Path | None = None, **kw) -> CaravelServer:
    s = CaravelServer(data_dir or tmp_path / "data", log_path=tmp_path / f"{name}.log", name=name, **kw)
    SERVERS.append(s)
    return s


def deployment(name: str, replicas: int, token: str, *, surge=None, unavailable=None, min_ready=0,
               node: str | None = None, fake: bool = True) -> dict:
    spec = {"containers": [sh_container("main", "exec sleep 100000", env=[{"name": "E2E_TOKEN", "value": token}])],
            "terminationGracePeriodSeconds": 2}
    if node:
        spec["nodeName"] = node
    d = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
         "spec": {"replicas": replicas, "minReadySeconds": min_ready,
                  "selector": {"matchLabels": {"app": name}},
                  "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}}
    if surge is not None:
        d["spec"]["strategy"] = {"type": "RollingUpdate",
                                 "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}
    return d


def live_pods(srv, ns: str, app: str) -> list[dict]:
    return [p for p in list_json(srv, "pods", ns, "-l", f"app={app}") if not p["metadata"].get("deletionTimestamp")]


def delete_all(srv, ns: str, timeout: float = 180) -> None:
    srv.kubectl("delete", "deployments,replicasets,pods", "--all", "-n", ns, "--wait=false", check=False)
    wait_for(lambda: not list_json(srv, "pods", ns), timeout=timeout, what=f"every pod of {ns} gone")


class Sampler:
    """Polls a function every `interval` s on a thread, keeping what it returns (None: skip)."""

    def __init__(self, fn, interval: float = 0.25):
        self.fn, self.interval = fn, interval
        self.samples: list = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                v = self.fn()
                if v is not None:
                    self.samples.append(v)
            except Exception:  # noqa: BLE001 - the server is down for a while on purpose
                pass
            self._stop.wait(self.interval)

    def stop(self) -> list:
        self._stop.set()
        self._t.join(30)
        return self.samples


# ----------------------------------------------------------------------------- server kill -9


@pytest.mark.timeout(600)
def test_server_kill9_mid_rollout(tmp_path):
    token = unique("e2e-fault-roll", 8)
    srv = new_server(tmp_path, "fault-roll", controllers=True)
    srv.start()
    kubelet = KubeletProcess(srv.kubeconfig, "fault-fake", tmp_path / "kl", tmp_path / "kubelet.log",
                             extra_args=["--runtime", "fake"]).start()
    ns = unique("fault-roll", 5)
    replicas, surge, unavailable = 20, 3, 2
    acked: list[str] = []
    stop_writes = threading.Event()
    try:
        wait_for(lambda: node_ready(get_json(srv, "node", "fault-fake")), timeout=120, what="fake node Ready")
        srv.kubectl("create", "namespace", ns)
        srv.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(
            deployment("web", replicas, token, surge=surge, unavailable=unavailable, min_ready=2)))

        def rollout_done(image: str):
            def done():
                d = get_json(srv, "deployment", "web", ns)
                st = d.get("status", {})
                img = d["spec"]["template"]["spec"]["containers"][0]["image"]
                return (img == image and st.get("observedGeneration", 0) >= d["metadata"]["generation"]
                        and st.get("updatedReplicas") == replicas and st.get("availableReplicas") == replicas
                        and st.get("replicas") == replicas)
            return done
        wait_for(rollout_done("busybox:1.36"), timeout=240, interval=1, what="20 replicas available")

        # Acknowledged writes: ConfigMaps created one after another all through the drill.
        def writer():
            i = 0
            while not stop_writes.is_set():
                name = f"ack-{i}"
                try:
                    with srv.session() as s:
                        r = s.post(f"{srv.url}/api/v1/namespaces/{ns}/configmaps", timeout=5,
                                   json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
                    if r.status_code == 201:
                        acked.append(name)
                        i += 1
                    elif r.status_code == 409:
                        i += 1  # created by a request whose answer was lost: not acknowledged
                except Exception:  # noqa: BLE001 - the server is down for a while on purpose
                    time.sleep(0.2)
        writes = threading.Thread(target=writer, daemon=True)
        writes.start()

        session = srv.session()

        def rs_sample():
            r = session.get(f"{srv.url}/apis/apps/v1/namespaces/{ns}/replicasets", params={"labelSelector": "app=web"},
                            timeout=5)
            if r.status_code != 200:
                return None
            items = r.json()["items"]
            return (sum(rs["spec"].get("replicas", 0) for rs in items),
                    sum(rs.get("status", {}).get("availableReplicas", 0) for rs in items))
        sampler = Sampler(rs_sample)

        srv.kubectl("set", "image", "deployment/web", "main=busybox:2", "-n", ns)

        def new_rs_started():
            rss = list_json(srv, "replicasets", ns, "-l", "app=web")
            new = [rs for rs in rss if rs["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:2"]
            return new and 0 < new[0]["spec"].get("replicas", 0) < replicas
        wait_for(new_rs_started, timeout=120, interval=0.2, what="the rollout under way")
        time.sleep(RNG.uniform(0, 2))
        srv.kill()
        time.sleep(RNG.uniform(0.5, 3))
        srv.start()

        wait_for(rollout_done("busybox:2"), timeout=300, interval=1, what="the rollout finished after the restart")
        stop_writes.set()
        writes.join(30)
        samples = sampler.stop()
        session.close()
        assert len(samples) > 10, f"too few samples of the ReplicaSets: {samples}"
        most = max(t for t, _ in samples)
        fewest = min(a for _, a in samples)
        assert most <= replicas + surge, f"maxSurge broken: {most} pods asked for (samples {samples})"
        assert fewest >= replicas - unavailable, f"maxUnavailable broken: {fewest} available (samples {samples})"

        names = {c["metadata"]["name"] for c in list_json(srv, "configmaps", ns)}
        lost = [n for n in acked if n not in names]
        assert acked and not lost, f"{len(lost)} acknowledged writes lost: {lost[:10]}"
        dep = get_json(srv, "deployment", "web", ns)
        assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:2"
        delete_all(srv, ns)
    finally:
        stop_writes.set()
        kubelet.stop()
        srv.stop()
        srv.cleanup()


# ----------------------------------------------------------------------------- controller-manager and kubelet kill -9


class Component:
    """A separate `caravel controller-manager`: started, killed with -9, started again."""

    def __init__(self, kubeconfig: str, log_path: Path):
        self.kubeconfig, self.log_path = kubeconfig, log_path
        self.proc = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([str(caravel_bin()), "controller-manager", "--kubeconfig", self.kubeconfig],
                                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        return self

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()



@pytest.mark.skipif(not IS_ROOT, reason="pods as real processes with their own network namespace need root")
@pytest.mark.timeout(600)
def test_controller_manager_and_kubelet_kill9_while_scaling(tmp_path):
    token = unique("e2e-fault-scale", 8)
    node = unique("fault-node", 4)
    srv = new_server(tmp_path, "fault-scale")  # controllers and kubelet off: they run apart
    srv.start()
    cm_config = srv.data_dir / "controller-manager.kubeconfig"
    cm = Component(str(cm_config if cm_config.exists() else srv.kubeconfig), tmp_path / "cm.log").start()
    kubelet = KubeletProcess(node_kubeconfig(srv, node, tmp_path / "node.kubeconfig"), node, tmp_path / "kl",
                             tmp_path / "kubelet.log").start()
    ns = unique("fault-scale", 5)
    try:
        wait_for(lambda: node_ready(get_json(srv, "node", node)), timeout=120, what=f"node {node} Ready")
        srv.kubectl("create", "namespace", ns)
        targets = [4, 9, 2, 7, 3]
        srv.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(deployment("s", targets[0], token, node=node)))
        asked = {"max": targets[0]}

        def too_many():
            n = len(live_pods(srv, ns, "s"))
            return n if n > asked["max"] else None
        sampler = Sampler(too_many, interval=0.5)

        for target in targets[1:]:
            # A scale-down may not have happened yet (its controller was killed): the bound is
            # the largest count asked for so far; duplicates would exceed it.
            asked["max"] = max(asked["max"], target)
            srv.kubectl("scale", "deployment", "s", f"--replicas={target}", "-n", ns)
            time.sleep(RNG.uniform(0, 3))
            victim = RNG.choice(["controller-manager", "kubelet", "both"])
            if victim in ("controller-manager", "both"):
                cm.kill()
            if victim in ("kubelet", "both"):
                kubelet.kill()
            time.sleep(RNG.uniform(0.5, 4))
            if not cm.proc or cm.proc.poll() is not None:
                cm.start()
            if not kubelet.alive():
                kubelet.start()

        final = targets[-1]

        def converged():
            pods = live_pods(srv, ns, "s")
            ok = (len(pods) == final and all(p["status"].get("phase") == "Running" for p in pods)
                  and len(list_json(srv, "pods", ns)) == final and len(sleeps(token)) == final)
            return ok and pods
        try:
            wait_for(converged, timeout=300, interval=2, what=f"{final} pods running, {final} processes")
        except AssertionError as e:
            raise AssertionError(f"{e}: {len(sleeps(token))} processes\n--- kubelet ---\n{kubelet.log_tail()}") from None
        over = sampler.stop()
        assert not over, f"more pods than any replica count asked for: {over}"
        assert cm.proc.poll() is None and kubelet.alive()
        delete_all(srv, ns)
        wait_for(lambda: not sleeps(token), timeout=60, what="no process left")
    finally:
        cm.stop()
        kubelet.stop()
        kubelet.clean_up_node()  # its nftables tables and pod bridge outlive it
        srv.stop()
        srv.cleanup()
        for pid in pids_with(token):
            try:
                os.kill(pid, 9)
            except OSError:
                pass


# ----------------------------------------------------------------------------- disk full


@pytest.mark.skipif(not IS_ROOT, reason="mounting a small tmpfs needs root")
@pytest.mark.timeout(300)
def test_disk_full_fails_writes_cleanly_and_recovers(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mnt)], check=True)
    srv = new_server(tmp_path, "fault-disk", data_dir=mnt / "data")
    filler = mnt / "filler"
    try:
        srv.start()
        s = srv.session()
        url = f"{srv.url}/api/v1/namespaces/default/configmaps"
        blob = "x" * 200_000
        assert s.post(url, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "before"},
                                 "data": {"v": "1"}}, timeout=30).status_code == 201
        # Take every free byte.
        with open(filler, "wb") as f:
            chunk = b"\0" * (1 << 20)
            try:
                while True:
                    f.write(chunk)
                    f.flush()
            except OSError:
                pass
        codes = []
        for i in range(20):
            r = s.post(url, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"full-{i}"},
                                  "data": {"v": blob}}, timeout=60)
            codes.append(r.status_code)
            if r.status_code >= 500:
                body = r.json()
                assert body["kind"] == "Status" and body["status"] == "Failure" and body["code"] == r.status_code, body
                assert "full" in body["message"].lower(), body
                break
        assert codes and codes[-1] >= 500, f"no write failed on a full disk: {codes}"
        # Up, and reads work.
        assert srv.alive()
        assert s.get(f"{url}/before", timeout=30).json()["data"] == {"v": "1"}
        assert s.get(url, timeout=30).status_code == 200
        assert s.get(f"{srv.url}/readyz", timeout=30).status_code == 200

        filler.unlink()

        def writes_again():
            r = s.post(url, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": unique("after", 4)},
                                  "data": {"v": blob}}, timeout=60)
            return r.status_code == 201
        wait_for(writes_again, timeout=60, interval=1, what="writes working once space is back")
        assert srv.alive()
        s.close()
    finally:
        srv.stop()
        subprocess.run(["umount", "-l", str(mnt)], check=False)


# ----------------------------------------------------------------------------- misbehaving clients
