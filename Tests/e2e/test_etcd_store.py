"""`caravel server --datastore-endpoint`: the whole state in a real etcd started here.

A Deployment on the fake runtime gets its pods Ready, and everything is found again after the
server restarts (the objects are read back from etcd, where they sit under the key layout);
then the server is killed with SIGKILL in the middle of concurrent writes, restarted on the
same etcd, and every acknowledged write is there. etcd comes from Debian's etcd-server; the
test fails, not skips, without it."""

from __future__ import annotations

import json
import shutil

import pytest

from e2eutil import SERVERS, CaravelServer, caravel_bin, serve, wait_for
from etcdprocess import etcdctl, single_member_etcd
from test_crash import NS as CRASH_NS, crash_rounds


@pytest.fixture(scope="module")
def etcd(tmp_path_factory):
    with single_member_etcd(tmp_path_factory.mktemp("etcd")) as client:
        yield client


def deployment(name: str, replicas: int) -> str:
    return json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                       "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                                "template": {"metadata": {"labels": {"app": name}},
                                             "spec": {"containers": [{"name": "main", "image": "busybox"}]}}}})


def ready_replicas(srv, name: str) -> int:
    out = srv.kubectl("get", "deployment", name, "-o", "jsonpath={.status.readyReplicas}", check=False).stdout
    return int(out) if out.strip().isdigit() else 0


def pod_names(srv, app: str) -> list[str]:
    out = srv.kubectl("get", "pods", "-l", f"app={app}", "-o", "jsonpath={.items[*].metadata.name}").stdout
    return sorted(out.split())


@pytest.mark.timeout(600)
def test_a_deployment_on_etcd_survives_a_restart(tmp_path_factory, etcd):
    with serve(tmp_path_factory, "etcd-deploy", controllers=True, kubelet=True,
               extra_args=["--runtime", "fake", "--datastore-endpoint", etcd]) as srv:
        wait_for(lambda: "True" in srv.kubectl("get", "nodes", "-o",
                                               "jsonpath={.items[*].status.conditions[?(@.type==\"Ready\")].status}").stdout,
                 timeout=120, what="the fake node to be Ready")
        srv.kubectl("apply", "-f", "-", input=deployment("web", 2))
        srv.kubectl("create", "configmap", "settings", "--from-literal=k=v")
        srv.kubectl("create", "secret", "generic", "token", "--from-literal=password=s3cret")
        wait_for(lambda: ready_replicas(srv, "web") == 2, timeout=120, what="2 Ready replicas")
        pods = pod_names(srv, "web")
        assert len(pods) == 2

        # The objects are etcd's: under the prefix, one key each; Secrets sealed at rest.
        keys = etcdctl(etcd, "get", "--prefix", "--keys-only", "/registry/").stdout.split()
        assert "/registry/deployments/default/web" in keys, keys[:50]
        assert all(f"/registry/pods/default/{p}" in keys for p in pods), keys[:50]
        secret = etcdctl(etcd, "get", "/registry/secrets/default/token", "--print-value-only").stdout
        assert secret and "s3cret" not in secret and "czNjcmV0" not in secret and "caravel.io/encrypted" in secret

        srv.restart()
        wait_for(lambda: ready_replicas(srv, "web") == 2, timeout=120, what="2 Ready replicas after the restart")
        assert pod_names(srv, "web") == pods
        assert srv.kubectl("get", "configmap", "settings", "-o", "jsonpath={.data.k}").stdout == "v"
        got = srv.kubectl("get", "secret", "token", "-o", "jsonpath={.data.password}").stdout
        assert got == "czNjcmV0"

        # A watch started after the restart sees a change made now.
        srv.kubectl("scale", "deployment", "web", "--replicas=1")
        wait_for(lambda: len(pod_names(srv, "web")) == 1 and ready_replicas(srv, "web") == 1, timeout=120,
                 what="the Deployment scaled to 1")

        srv.kubectl("delete", "deployment", "web", "--wait=true", timeout=120)
        wait_for(lambda: pod_names(srv, "web") == [], timeout=120, what="the Deployment's pods to be gone")


@pytest.mark.timeout(600)
def test_acknowledged_writes_on_etcd_survive_kill_9(tmp_path_factory, etcd):
    # Its own key prefix on the same etcd: two clusters side by side.
    with serve(tmp_path_factory, "etcd-crash", extra_args=["--datastore-endpoint", etcd,
                                                           "--datastore-prefix", "/crash-test"]) as srv:
        with srv.session() as s:
            r = s.post(f"{srv.url}/api/v1/namespaces", timeout=30,
                       json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CRASH_NS}})
            assert r.status_code == 201, r.text
        crash_rounds(srv, rounds=2, seed=2379, acks=(200, 600), window=20, label="etcd-round")
        keys = etcdctl(etcd, "get", "--prefix", "--keys-only", f"/crash-test/configmaps/{CRASH_NS}/").stdout.split()
        assert keys, "the configmaps are not under the server's prefix in etcd"


class APIServerOnly(CaravelServer):
    """`caravel apiserver`: the API alone, no controllers and no kubelet."""

    def command(self) -> list[str]:
        return [str(caravel_bin()), "apiserver", "--data-dir", str(self.data_dir), "--port", str(self.port), *self.extra_args]


@pytest.mark.timeout(300)
def test_two_api_servers_on_one_etcd_see_each_others_writes(tmp_path_factory, etcd):
    prefix = ["--datastore-endpoint", etcd, "--datastore-prefix", "/shared"]
    with serve(tmp_path_factory, "etcd-api-a", extra_args=prefix) as a:
        base = tmp_path_factory.mktemp("etcd-api-b")
        b = APIServerOnly(base / "data", log_path=base / "server.log", name="etcd-api-b", extra_args=prefix)
        SERVERS.append(b)
        # One cluster: the same CA, ServiceAccount key and Secret encryption keys.
        shutil.copytree(a.data_dir / "pki", b.data_dir / "pki")
        shutil.copy(a.data_dir / "encryption-keys.json", b.data_dir / "encryption-keys.json")
        try:
            b.start()
            _exchange(a, b)
        finally:
            b.stop()
            b.cleanup()
            SERVERS.remove(b)


def _exchange(a, b):
    """A write through A reaches a watch on B; a Secret written through B reads back through A."""
    from rawwatch import RawWatch
    with b.session() as sb, a.session() as sa:
        lst = sb.get(f"{b.url}/api/v1/namespaces/default/configmaps", timeout=30)
        assert lst.status_code == 200, lst.text
        rv = lst.json()["metadata"]["resourceVersion"]
        with RawWatch(sb, f"{b.url}/api/v1/namespaces/default/configmaps",
                      {"watch": "1", "resourceVersion": rv}) as w:
            assert w.status_code == 200, w.body
            made = sa.post(f"{a.url}/api/v1/namespaces/default/configmaps", timeout=30,
                           json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-a"},
                                 "data": {"k": "v"}})
            assert made.status_code == 201, made.text
            events = w.wait_for(lambda evs: [e for e in evs if e["object"]["metadata"].get("name") == "from-a"],
                                timeout=60)
            assert events[0]["type"] == "ADDED"
            assert events[0]["object"]["metadata"]["resourceVersion"] == made.json()["metadata"]["resourceVersion"]
        # A Secret written through B reads back through A.
        s = sb.post(f"{b.url}/api/v1/namespaces/default/secrets", timeout=30,
                    json={"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "shared"},
                          "stringData": {"k": "v"}})
        assert s.status_code == 201, s.text
        got = sa.get(f"{a.url}/api/v1/namespaces/default/secrets/shared", timeout=30)
        assert got.status_code == 200 and got.json()["data"]["k"] == "dg==", got.text
