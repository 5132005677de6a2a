"""Three API servers on a three-member etcd, all on loopback: what survives losing one of each.

A client writes ConfigMaps through all three servers (moving on to the next server when one
cannot be reached) while a watch follows them (resuming from its last resourceVersion on the
next server when its stream breaks). The server whose controllers lead is killed with
SIGKILL, then one etcd member: every acknowledged write is there, the watch saw each write
exactly once and in revision order, another server's controllers take over, and the
`kubernetes` Service's endpoints drop the dead server once its identity Lease expires.
etcd comes from Debian's etcd-server; the test fails, not skips, without it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time

import pytest
import requests
import yaml

from e2eutil import SERVERS, CaravelServer, free_port, wait_for
from etcdprocess import etcdctl, stop
from liteutil import LITE, clean_env

NS = "failover"
PREFIX = "/failover"


class EtcdCluster:
    """Three etcd members on free loopback ports, each with its own data dir."""

    def __init__(self, base):
        self.binary = shutil.which("etcd")
        assert self.binary, "etcd is not installed (apt-get install etcd-server): the etcd failover cannot be tested"
        self.base = base
        self.names = ["m0", "m1", "m2"]
        self.clients = {n: f"http://127.0.0.1:{free_port()}" for n in self.names}
        self.peers = {n: f"http://127.0.0.1:{free_port()}" for n in self.names}
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs = []

    def start(self):
        cluster = ",".join(f"{n}={self.peers[n]}" for n in self.names)
        for n in self.names:
            log = open(self.base / f"{n}.log", "wb")
            self.logs.append(log)
            self.procs[n] = subprocess.Popen(
                [self.binary, "--name", n, "--data-dir", str(self.base / n),
                 "--listen-client-urls", self.clients[n], "--advertise-client-urls", self.clients[n],
                 "--listen-peer-urls", self.peers[n], "--initial-advertise-peer-urls", self.peers[n],
                 "--initial-cluster", cluster, "--initial-cluster-state", "new", "--initial-cluster-token", "caravel-failover",
                 "--logger", "zap", "--log-level", "error"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_for(lambda: etcdctl(self.endpoints, "endpoint", "health", "--cluster").returncode == 0, timeout=90,
                 what="the three etcd members to be healthy")

    @property
    def endpoints(self) -> str:
        return ",".join(self.clients[n] for n in self.names)

    def kill(self, name: str):
        self.procs[name].kill()
        self.procs[name].wait(10)

    def stop(self):
        for p in self.procs.values():
            stop(p)
        for log in self.logs:
            log.close()


class Writer:
    """Creates ConfigMaps w-0, w-1, ... through the servers in turn; on a connection error the
    same write goes to the next server. A 409 after a broken connection means the write landed."""

    def __init__(self, servers: list[CaravelServer]):
        self.targets = [(s.url, s.session()) for s in servers]
        self.acked: list[str] = []
        self.unexpected: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.lock = threading.Lock()

    def run(self):
        i, turn = 0, 0
        while not self.stop.is_set():
            name = f"w-{i}"
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"i": str(i)}}
            retried = False
            for attempt in range(60):
                url, session = self.targets[(turn + attempt) % len(self.targets)]
                try:
                    r = session.post(f"{url}/api/v1/namespaces/{NS}/configmaps", json=body, timeout=15)
                except requests.RequestException:
                    retried = True
                    time.sleep(0.1)
                    continue
                if r.status_code == 201 or (r.status_code == 409 and retried):
                    with self.lock:
                        self.acked.append(name)
                    break
                if r.status_code in (429, 500, 503, 504):
                    # The store is between etcd members: the same write again, after a moment.
                    retried = True
                    time.sleep(0.2)
                    continue
                self.unexpected.append(f"{name}: {r.status_code} {r.text[:200]}")
                break
            i += 1
            turn += 1

    def count(self) -> int:
        with self.lock:
            return len(self.acked)


class Watcher:
    """Watches the namespace's ConfigMaps from `rv`; when a stream breaks, resumes from the
    last resourceVersion it saw on the next server."""

    def __init__(self, servers: list[CaravelServer], rv: str):
        self.targets = [(s.url, s.session()) for s in servers]
        self.rv = rv
        self.events: list[dict] = []
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.resumes = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        turn = 0
        while not self.stop.is_set():
            url, session = self.targets[turn % len(self.targets)]
            params = {"watch": "1", "resourceVersion": self.rv, "allowWatchBookmarks": "true", "timeoutSeconds": "10"}
            try:
                with session.get(f"{url}/api/v1/namespaces/{NS}/configmaps", params=params, stream=True,
                                 timeout=(5, 15)) as r:
                    if r.status_code != 200:
                        if r.status_code == 410:
                            self.errors.append(f"410 from {url} at {self.rv}: the watch could not resume")
                            return
                        turn += 1
                        time.sleep(0.2)
                        continue
                    for line in r.iter_lines():
                        if not line:
                            continue
                        ev = json.loads(line)
                        if ev["type"] == "ERROR":
                            self.errors.append(f"ERROR event from {url}: {ev['object']}")
                            break
                        self.rv = ev["object"]["metadata"]["resourceVersion"]
                        if ev["type"] != "BOOKMARK":
                            self.events.append(ev)
                        if self.stop.is_set():
                            return
            except (requests.RequestException, ValueError):
                turn += 1
                self.resumes += 1
                time.sleep(0.2)

    def names(self) -> list[str]:
        return [e["object"]["metadata"]["name"] for e in self.events if e["type"] == "ADDED"]


def leaders(servers: list[CaravelServer]) -> list[CaravelServer]:
    """The servers whose controller manager logged that it leads (and did not stop)."""
    out = []
    for s in servers:
        lines = [ln for ln in s.log_tail(max_lines=1_000_000).splitlines() if re.search(r"\bleading\b", ln)]
        if lines and "stopped leading" not in lines[-1]:
            out.append(s)
    return out


def lite_reads_through_a_dead_server(dead: CaravelServer, live: CaravelServer, tmp) -> None:
    assert LITE.exists(), f"{LITE} is not built"
    get = ["get", "configmap", "w-0", "-n", NS, "-o", "jsonpath={.metadata.name}"]
    r = subprocess.run([str(LITE), "--kubeconfig", live.kubeconfig, "--server", f"{dead.url},{live.url}", *get],
                       capture_output=True, text=True, timeout=60, env=clean_env())
    assert r.returncode == 0 and r.stdout == "w-0", r.stderr
    config = yaml.safe_load(open(live.kubeconfig))
    for entry in config["clusters"]:
        entry["cluster"]["server"] = dead.url
        entry["cluster"]["extensions"] = [{"name": "caravel.dev/servers", "extension": {"servers": [live.url]}}]
    path = tmp / "several-servers.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    r = subprocess.run([str(LITE), "--kubeconfig", str(path), *get], capture_output=True, text=True, timeout=60, env=clean_env())
    assert r.returncode == 0 and r.stdout == "w-0", r.stderr


def endpoint_ports(srv: CaravelServer) -> list[int]:
    with srv.session() as s:
        ep = s.get(f"{srv.url}/api/v1/namespaces/default/endpoints/kubernetes", timeout=15).json()
    return sorted(p["port"] for sub in ep.get("subsets") or [] for p in sub["ports"]
                  for _ in sub.get("addresses") or [])


@pytest.mark.timeout(900)
def test_losing_an_api_server_and_an_etcd_member(tmp_path_factory):
    etcd = EtcdCluster(tmp_path_factory.mktemp("etcd-cluster"))
    servers: list[CaravelServer] = []
    try:
        etcd.start()
        args = ["--datastore-endpoint", etcd.endpoints, "--datastore-prefix", PREFIX, "--endpoint-lease-duration", "6s"]
        for i in range(3):
            base = tmp_path_factory.mktemp(f"failover-api-{i}")
            s = CaravelServer(base / "data", log_path=base / "server.log", name=f"failover-{i}", controllers=True,
                              extra_args=args)
            SERVERS.append(s)
            if servers:
                # One cluster: the same CA, ServiceAccount key and Secret encryption keys.
                shutil.copytree(servers[0].data_dir / "pki", s.data_dir / "pki")
                shutil.copy(servers[0].data_dir / "encryption-keys.json", s.data_dir / "encryption-keys.json")
            s.start()
            servers.append(s)
        first = servers[0]
        # Every server is an endpoint of the `kubernetes` Service.
        wait_for(lambda: endpoint_ports(first) == sorted(s.port for s in servers), timeout=60,
                 what="the kubernetes endpoints to list the three servers")
        leader = wait_for(lambda: (lambda ls: ls[0] if len(ls) == 1 else None)(leaders(servers)), timeout=120,
                          what="one server's controllers to lead")

        with first.session() as s:
            r = s.post(f"{first.url}/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace",
                                                               "metadata": {"name": NS}}, timeout=30)
            assert r.status_code == 201, r.text
            rv = s.get(f"{first.url}/api/v1/namespaces/{NS}/configmaps", timeout=30).json()["metadata"]["resourceVersion"]

        writer, watcher = Writer(servers), Watcher(servers, rv)
        writer.thread.start()
        watcher.thread.start()
        wait_for(lambda: writer.count() >= 100, timeout=120, what="100 acknowledged writes")

        # The leading server dies with SIGKILL: writes and the watch go on through the others.
        leader.kill()
        survivors = [s for s in servers if s is not leader]
        before = writer.count()
        wait_for(lambda: writer.count() >= before + 100, timeout=120, what="100 writes after the API server was killed")
        new_leader = wait_for(lambda: (lambda ls: ls[0] if len(ls) == 1 else None)(leaders(survivors)), timeout=120,
                              what="a surviving server's controllers to take over")
        wait_for(lambda: endpoint_ports(survivors[0]) == sorted(s.port for s in survivors), timeout=60,
                 what="the kubernetes endpoints to drop the killed server")

        # Caravel's clients move on too: kubectl-lite with a --server list, and with a kubeconfig
        # whose cluster lists the other servers in the caravel.dev/servers extension.
        lite_reads_through_a_dead_server(leader, survivors[0], tmp_path_factory.mktemp("failover-kubeconfig"))

        # One etcd member dies: the servers move on to the others.
        etcd.kill(etcd.names[0])
        before = writer.count()
        wait_for(lambda: writer.count() >= before + 100, timeout=180, what="100 writes after the etcd member was killed")

        # The controllers that took over act: a Deployment gets its ReplicaSet.
        deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "after-failover"},
                      "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "after"}},
                               "template": {"metadata": {"labels": {"app": "after"}},
                                            "spec": {"containers": [{"name": "main", "image": "busybox"}]}}}}
        with new_leader.session() as s:
            r = s.post(f"{new_leader.url}/apis/apps/v1/namespaces/{NS}/deployments", json=deployment, timeout=30)
            assert r.status_code == 201, r.text
            wait_for(lambda: s.get(f"{new_leader.url}/apis/apps/v1/namespaces/{NS}/replicasets", timeout=15).json()["items"],
                     timeout=120, what="the Deployment's ReplicaSet from the controllers that took over")

        writer.stop.set()
        writer.thread.join(120)
        assert not writer.thread.is_alive(), "the writer hung"
        assert not writer.unexpected, "unexpected answers:\n" + "\n".join(writer.unexpected[:20])
        acked = list(writer.acked)

        # Every acknowledged write is stored.
        with survivors[0].session() as s:
            items = s.get(f"{survivors[0].url}/api/v1/namespaces/{NS}/configmaps", timeout=60).json()["items"]
        stored = {i["metadata"]["name"] for i in items}
        missing = [n for n in acked if n not in stored]
        assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:20]}"

        # The watch saw each of them once, in revision order, across its resumes.
        wait_for(lambda: set(acked) <= set(watcher.names()), timeout=120, what="the watch to see every acknowledged write")
        watcher.stop.set()
        watcher.thread.join(60)
        assert not watcher.errors, watcher.errors
        names = watcher.names()
        dupes = sorted({n for n in names if names.count(n) > 1})
        assert not dupes, f"the watch delivered writes twice: {dupes[:20]}"
        revisions = [int(e["object"]["metadata"]["resourceVersion"]) for e in watcher.events]
        assert revisions == sorted(revisions) and len(set(revisions)) == len(revisions), "the watch went back in revision order"
    finally:
        for s in servers:
            s.stop()
            s.cleanup()
            if s in SERVERS:
                SERVERS.remove(s)
        etcd.stop()
