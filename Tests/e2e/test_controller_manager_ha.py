"""Two `caravel controller-manager` processes against one API server (run with
--disable-controllers): only one leads on the Lease kube-system/caravel-controller-manager,
and after the leader is killed with SIGKILL the other takes over within the lease duration
and carries on (a Deployment scaled meanwhile reaches its new size)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from e2eutil import caravel_bin, unique, wait_for

LEASE_DURATION = 15  # seconds; the controller-manager's default
TAKEOVER_MARGIN = 20  # seconds beyond the lease duration, for a loaded 2-core machine


def _lease(server) -> dict:
    out = server.kubectl("get", "lease", "-n", "kube-system", "caravel-controller-manager", "-o", "json").stdout
    return json.loads(out).get("spec", {})


def _replica_sets(server, ns: str) -> list[dict]:
    out = server.kubectl("get", "replicasets", "-n", ns, "-o", "json").stdout
    return json.loads(out)["items"]


@pytest.mark.timeout(240)
def test_standby_takes_over_when_leader_is_killed(start_server, tmp_path):
    server = start_server("cm-ha")
    cm_config = Path(server.data_dir) / "controller-manager.kubeconfig"
    kubeconfig = str(cm_config if cm_config.exists() else server.kubeconfig)

    managers: dict[int, tuple[subprocess.Popen, Path]] = {}
    try:
        for i in range(2):
            log_path = tmp_path / f"cm{i}.log"
            log = open(log_path, "wb")
            proc = subprocess.Popen([str(caravel_bin()), "controller-manager", "--kubeconfig", kubeconfig],
                                    stdout=log, stderr=subprocess.STDOUT)
            log.close()  # the child keeps its own descriptor
            managers[proc.pid] = (proc, log_path)

        first = wait_for(lambda: _lease(server).get("holderIdentity"), timeout=60, what="a lease holder")
        transitions_before = _lease(server).get("leaseTransitions", 0) or 0

        ns = unique("cm-ha", 5)
        server.kubectl("create", "namespace", ns)
        server.kubectl("create", "deployment", "web", "--image=nginx", "--replicas=2", "-n", ns)
        wait_for(lambda: any((rs.get("status", {}).get("replicas") or 0) == 2 for rs in _replica_sets(server, ns)),
                 timeout=60, what="the Deployment's ReplicaSet with 2 pods")

        # The leader is the process that logged "leading" with the holder's identity.
        def leader_pid():
            holder = _lease(server).get("holderIdentity")
            hits = [pid for pid, (_, path) in managers.items()
                    if any("leading" in line and holder in line and "stopped leading" not in line
                           for line in path.read_text(errors="replace").splitlines())]
            return hits[0] if len(hits) == 1 else None

        leader = wait_for(leader_pid, timeout=30, what="the leader's log line")
        standby = next(pid for pid in managers if pid != leader)
        assert managers[standby][0].poll() is None, "the standby manager exited"
        leader_identity = _lease(server).get("holderIdentity")
        assert leader_identity == first

        os.kill(leader, signal.SIGKILL)
        managers[leader][0].wait(timeout=10)
        killed_at = time.monotonic()

        server.kubectl("scale", "deployment", "web", "--replicas=4", "-n", ns)

        def took_over():
            spec = _lease(server)
            holder = spec.get("holderIdentity")
            return holder and holder != leader_identity and (spec.get("leaseTransitions") or 0) > transitions_before

        wait_for(took_over, timeout=LEASE_DURATION + TAKEOVER_MARGIN, what="the standby to take the lease")
        assert time.monotonic() - killed_at <= LEASE_DURATION + TAKEOVER_MARGIN
        new_holder = _lease(server)["holderIdentity"]
        standby_log = managers[standby][1].read_text(errors="replace")
        assert new_holder in standby_log, "the new holder is not the surviving process"

        def scaled():
            items = _replica_sets(server, ns)
            return len(items) == 1 and items[0]["spec"].get("replicas") == 4 \
                and (items[0].get("status", {}).get("replicas") or 0) == 4

        wait_for(scaled, timeout=60, what="the ReplicaSet to reach 4 replicas under the new leader")
    finally:
        for proc, path in managers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
