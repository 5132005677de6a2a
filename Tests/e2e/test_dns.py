"""Cluster DNS on the built-in node, from inside real pods, with the real kubectl: the node DNS
server answers Services (ClusterIP and headless), SRV records, pod and StatefulSet hostname
records, and forwards other names to a fake upstream resolver this test runs on loopback (the
server is started with --resolv-conf pointing at it, so no query reaches the host's real
resolvers). Pods' /etc/resolv.conf and /etc/hosts are checked, and the kube-dns Service."""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
import struct
import subprocess
import threading

import pytest

from e2eutil import serve, unique, wait_for
from kubeletutil import (IS_ROOT, apply, get_json, kill_pids, list_json, namespace_on, network_ranges, pod_spec, remove_bridge, wait_gone,
                         wait_no_pids, wait_running_ready)

pytestmark = pytest.mark.skipif(not IS_ROOT, reason="pods with their own network namespace and mounts need root")

TOKEN = unique("e2e-dns", 8)
ENV = [{"name": "E2E_TOKEN", "value": TOKEN}]
UPSTREAM_ANSWER = "192.0.2.7"


class FakeUpstream:
    """A resolver on 127.0.0.1 that answers every A question with 192.0.2.7 and records names."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.asked: list[str] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopped.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            with contextlib.suppress(Exception):
                self.sock.sendto(self.answer(data), peer)

    def answer(self, query: bytes) -> bytes:
        labels, i = [], 12
        while query[i]:
            labels.append(query[i + 1:i + 1 + query[i]].decode().lower())
            i += 1 + query[i]
        question = query[12:i + 5]
        qtype = struct.unpack("!H", query[i + 1:i + 3])[0]
        self.asked.append(".".join(labels))
        flags = 0x8180  # response, RD, RA
        answers = b""
        if qtype == 1:
            answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(UPSTREAM_ANSWER)
        return query[:2] + struct.pack("!HHHHH", flags, 1, 1 if answers else 0, 0, 0) + question + answers

    def stop(self):
        self.stopped.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture(scope="module")
def upstream():
    fake = FakeUpstream()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def srv(tmp_path_factory, upstream):
    conf = tmp_path_factory.mktemp("dns") / "resolv.conf"
    # IP:PORT names a resolver on another port than 53 (the node DNS server accepts it).
    conf.write_text(f"nameserver 127.0.0.1:{upstream.port}\nsearch upstream.example\noptions timeout:1\n")
    with serve(tmp_path_factory, "dns", controllers=True, kubelet=True, extra_args=["--resolv-conf", str(conf)]) as s:
        yield s
    kill_pids(TOKEN)
    remove_bridge(s)


def sleeper(name: str = "main") -> dict:
    return {"name": name, "image": "busybox:1.36", "command": ["sleep", "3600"], "env": ENV}


@pytest.fixture(scope="module")
def ns(srv):
    with namespace_on(srv, "dns") as namespace:
        yield namespace
        srv.kubectl("delete", "statefulsets,deployments,pods", "--all", "-n", namespace, "--wait=false", check=False)
        for pod in list_json(srv, "pods", namespace):
            wait_gone(srv, "pod", pod["metadata"]["name"], namespace, timeout=120)
        wait_no_pids(TOKEN, timeout=60)


@pytest.fixture(scope="module")
def cluster(srv, ns):
    """web (ClusterIP, 2 replicas), db (headless, a 2-pod StatefulSet), a client pod."""
    template = lambda app: {"metadata": {"labels": {"app": app}},  # noqa: E731
                            "spec": {"terminationGracePeriodSeconds": 2, "containers": [sleeper()]}}
    apply(srv, [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
         "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
         "spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"name": "pg", "port": 5432}]}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": template("web")}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
         "spec": {"replicas": 2, "serviceName": "db", "podManagementPolicy": "Parallel",
                  "selector": {"matchLabels": {"app": "db"}}, "template": template("db")}},
        pod_spec("client", [sleeper()], labels={"app": "client"}, terminationGracePeriodSeconds=2,
                 hostAliases=[{"ip": "10.1.2.3", "hostnames": ["alias-one.test", "alias-two.test"]}]),
    ], ns)
    client = wait_running_ready(srv, "client", ns, timeout=120)
    wait_for(lambda: len([p for p in list_json(srv, "pods", ns, "-l", "app in (web,db)")
                          if p["status"].get("podIP") and p["status"].get("phase") == "Running"]) == 4,
             timeout=120, what="4 web and db pods running")
    web_ip = get_json(srv, "service", "web", ns)["spec"]["clusterIP"]
    db = {p["metadata"]["name"]: p["status"]["podIP"] for p in list_json(srv, "pods", ns, "-l", "app=db")}
    wait_for(lambda: sorted(ready_slice_ips(srv, ns, "db")) == sorted(db.values()), timeout=60,
             what="db's EndpointSlice to list both pods")
    return {"client": client, "web_ip": web_ip, "db": db}


def ready_slice_ips(srv, ns, service):
    out = []
    for s in list_json(srv, "endpointslices", ns, "-l", f"kubernetes.io/service-name={service}"):
        for ep in s.get("endpoints") or []:
            if (ep.get("conditions") or {}).get("ready", True):
                out += ep["addresses"]
    return out


def node_dns(srv) -> str:
    node = get_json(srv, "node", srv.node_name)
    return (node["metadata"].get("annotations") or {}).get("dns.caravel.dev/address", "")


def in_pod(srv, ns, *cmd: str, check: bool = True) -> str:
    return srv.kubectl("exec", "client", "-n", ns, "--", *cmd, check=check, timeout=60).stdout


def lookup(srv, ns, name: str, qtype: str = "a") -> str:
    """busybox nslookup inside the client pod, against the pod's own resolv.conf nameserver."""
    fqdn = name if name.endswith(".") else name + "."  # no search list: exactly this name
    cp = srv.kubectl("exec", "client", "-n", ns, "--", "busybox", "nslookup", f"-type={qtype}", fqdn,
                     check=False, timeout=60)
    return cp.stdout + cp.stderr


def answered_addresses(output: str) -> set[str]:
    """Addresses after the answer header (the first Address: line is the server's)."""
    part = output.split("Name:", 1)[1] if "Name:" in output else ""
    return set(re.findall(r"Address:\s*([0-9.]+)\s*$", part, re.M))


def test_node_dns_address_and_kube_dns_service(srv, cluster):
    dns = wait_for(lambda: node_dns(srv), timeout=60, what="the node's DNS address annotation")
    ranges = network_ranges(srv)
    pod_net = ipaddress.ip_network(ranges["clusterCIDR"])
    assert ipaddress.ip_address(dns) in pod_net, dns
    svc = get_json(srv, "service", "kube-dns", "kube-system")
    # The conventional address: the service range's tenth (10.96.0.10 with the default range).
    assert svc["spec"]["clusterIP"] == str(ipaddress.ip_network(ranges["serviceCIDR"])[10]), svc["spec"]
    assert sorted((p["name"], p["protocol"], p["port"]) for p in svc["spec"]["ports"]) == [
        ("dns", "UDP", 53), ("dns-tcp", "TCP", 53)]
    wait_for(lambda: ready_slice_ips(srv, "kube-system", "kube-dns") == [dns], timeout=60,
             what="kube-dns EndpointSlice pointing at the node DNS server")
    ep = get_json(srv, "endpoints", "kube-dns", "kube-system")
    assert [a["ip"] for a in ep["subsets"][0]["addresses"]] == [dns], ep


def test_pod_resolv_conf(srv, ns, cluster):
    dns = wait_for(lambda: node_dns(srv), timeout=60, what="the node's DNS address annotation")
    text = in_pod(srv, ns, "cat", "/etc/resolv.conf")
    assert text == (f"search {ns}.svc.cluster.local svc.cluster.local cluster.local upstream.example\n"
                    f"nameserver {dns}\noptions ndots:5\n"), text


def test_pod_hosts_file(srv, ns, cluster):
    text = in_pod(srv, ns, "cat", "/etc/hosts")
    ip = cluster["client"]["status"]["podIP"]
    assert "127.0.0.1\tlocalhost\n" in text, text
    assert f"\n{ip}\tclient\n" in text, text
    assert "\n10.1.2.3\talias-one.test\talias-two.test\n" in text, text
    # A StatefulSet pod's hosts file has its FQDN.
    db0 = srv.kubectl("exec", "db-0", "-n", ns, "--", "cat", "/etc/hosts").stdout
    assert f"{cluster['db']['db-0']}\tdb-0.db.{ns}.svc.cluster.local\tdb-0\n" in db0, db0
    # Through the resolver too (files before dns).
    assert in_pod(srv, ns, "getent", "hosts", "alias-two.test").split()[0] == "10.1.2.3"


def test_cluster_ip_service(srv, ns, cluster):
    out = lookup(srv, ns, f"web.{ns}.svc.cluster.local")
    assert answered_addresses(out) == {cluster["web_ip"]}, out
    # A short name through the search path and ndots:5 (glibc's resolver in the pod).
    assert in_pod(srv, ns, "getent", "hosts", "web").split()[0] == cluster["web_ip"]


def test_headless_service_and_hostnames(srv, ns, cluster):
    out = lookup(srv, ns, f"db.{ns}.svc.cluster.local")
    assert answered_addresses(out) == set(cluster["db"].values()), out
    out = lookup(srv, ns, f"db-1.db.{ns}.svc.cluster.local")
    assert answered_addresses(out) == {cluster["db"]["db-1"]}, out


def test_srv_records(srv, ns, cluster):
    out = lookup(srv, ns, f"_pg._tcp.db.{ns}.svc.cluster.local", "srv")
    for host in ("db-0", "db-1"):
        assert re.search(rf"\b5432\b.*{host}\.db\.{ns}\.svc\.cluster\.local", out), out
    out = lookup(srv, ns, f"_http._tcp.web.{ns}.svc.cluster.local", "srv")
    assert re.search(rf"\b80\b.*web\.{ns}\.svc\.cluster\.local", out), out


def test_pod_record(srv, ns, cluster):
    ip = cluster["client"]["status"]["podIP"]
    out = lookup(srv, ns, f"{ip.replace('.', '-')}.{ns}.pod.cluster.local")
    assert answered_addresses(out) == {ip}, out


def test_missing_names(srv, ns, cluster):
    out = lookup(srv, ns, f"nope.{ns}.svc.cluster.local")
    assert "NXDOMAIN" in out, out


def test_other_names_go_to_the_upstream(srv, ns, cluster, upstream):
    out = lookup(srv, ns, "outside.example.")
    assert answered_addresses(out) == {UPSTREAM_ANSWER}, out
    assert "outside.example" in upstream.asked, upstream.asked
