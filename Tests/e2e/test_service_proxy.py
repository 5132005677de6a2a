"""The service proxy on the built-in node (process runtime, real nftables, real kubectl).

A 3-replica busybox httpd Deployment (each replica answers its pod name) and a client pod.
Before any packet goes to a service IP, the test checks that the node captures the whole
service CIDR (`nft list table`). Then, from inside the client pod's network namespace
(`kubectl exec`): the ClusterIP spreads over the 3 replicas, ClientIP affinity sticks to one,
a replica that turns unready leaves the rotation, the NodePort answers on the node's address,
a service IP with no endpoints is refused at once (not a timeout), a pod reaches itself
through its own Service (hairpin), a pod reaches the Service by name (cluster DNS, then the
proxy), and `kubectl port-forward svc/web` reaches one of the pods the cluster IP spreads over. A
second server gets its own ranges and table, and a chain deleted from that table by hand comes
back at the proxy's periodic check. Last, with the pods deleted through the API and the server
stopped, `caravel killall` removes the proxy's table.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import shutil
import socket
import subprocess
import sys
import time

import pytest
import requests

from e2eutil import LineReader, caravel_bin, free_port, serve, unique, wait_for
from kubeletutil import (IS_ROOT, apply, bridge_name, fnv_hex, get_json, host_dir, is_ready, kill_pids, kubelet_root, list_json, namespace_on,
                         network_ranges, remove_bridge, sh_container, wait_no_pids, wait_running_ready)

pytestmark = pytest.mark.skipif(not IS_ROOT or shutil.which("nft") is None,
                                reason="the service proxy needs root and nftables (nft)")

TOKEN = unique("e2e-svcproxy", 8)
ENV = [{"name": "E2E_TOKEN", "value": TOKEN}]



@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with serve(tmp_path_factory, "svc-proxy", controllers=True, kubelet=True) as s:
        yield s
    kill_pids(TOKEN)
    # Whatever the tests got to, no table stays behind (killall is idempotent).
    subprocess.run([str(caravel_bin()), "killall", "--data-dir", str(s.data_dir)], capture_output=True, timeout=120)
    remove_bridge(s)


@pytest.fixture(scope="module")
def ns(srv):
    with namespace_on(srv, "svc-proxy") as namespace:
        yield namespace
        srv.kubectl("delete", "deployments,pods", "--all", "-n", namespace, "--wait=false", check=False)
        with contextlib.suppress(AssertionError):  # what is left, srv's teardown kills
            wait_no_pids(TOKEN, timeout=60)


def proxy_table(server) -> str:
    return "caravel-proxy-" + fnv_hex(kubelet_root(server), 8)


def nft_table(name: str) -> str:
    cp = subprocess.run(["nft", "list", "table", "ip", name], capture_output=True, text=True, timeout=30)
    return cp.stdout if cp.returncode == 0 else ""


def wait_for_capture(table: str, cidr: str) -> str:
    """The table once both capture chains reject the whole service range; its listing."""
    def capture_in_place() -> str:
        rules = nft_table(table)
        for chain in ("capture-forward", "capture-output"):
            if f"chain {chain} {{" not in rules:
                return ""
            body = rules.split(f"chain {chain} {{", 1)[-1].split("}", 1)[0]
            if f"ip daddr {cidr} reject with tcp reset" not in body or f"ip daddr {cidr} reject comment" not in body:
                return ""
        return rules

    try:
        return wait_for(capture_in_place, timeout=90, what=f"the capture of {cidr} in nft table ip {table}")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{nft_table(table)}") from None


@pytest.fixture(scope="module")
def captured(srv):
    """The capture of the service CIDR, checked before any traffic goes to a service IP."""
    cidr = network_ranges(srv)["serviceCIDR"]
    wait_for_capture(proxy_table(srv), cidr)
    return cidr


@pytest.fixture(scope="module")
def web(srv, ns):
    """3 replicas of `busybox httpd` answering their pod name on :8080 (port name `http`);
    ready while their www directory holds no file `unready`."""
    with host_dir("caravel-e2e-proxy") as hostd:
        www = hostd / "www"
        script = f'echo "$POD_NAME" > {www}/index.html && exec busybox httpd -f -p 8080 -h {www}'
        container = sh_container("httpd", script, env=ENV + [
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            ports=[{"name": "http", "containerPort": 8080}],
            volumeMounts=[{"name": "www", "mountPath": str(www)}],
            readinessProbe={"exec": {"command": ["sh", "-c", f"test ! -e {www}/unready"]},
                            "periodSeconds": 1, "failureThreshold": 1})
        apply(srv, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                             "template": {"metadata": {"labels": {"app": "web"}},
                                          "spec": {"containers": [container],
                                                   "volumes": [{"name": "www", "emptyDir": {}}]}}}}, ns)

        def ready_pods():
            pods = [p for p in list_json(srv, "pods", ns, "-l", "app=web") if not p["metadata"].get("deletionTimestamp")]
            return len(pods) == 3 and all(is_ready(p) for p in pods) and pods
        try:
            pods = wait_for(ready_pods, timeout=180, what="3 web pods Ready")
        except AssertionError as e:
            states = [(p["metadata"]["name"], p["status"].get("phase"), p["status"].get("podIP"),
                       [c.get("state") for c in p["status"].get("containerStatuses") or []])
                      for p in list_json(srv, "pods", ns, "-l", "app=web")]
            raise AssertionError(f"{e}\npods: {states}") from None
        yield {"names": sorted(p["metadata"]["name"] for p in pods), "www": www, "pods": pods}


def service(name: str, selector: dict, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": selector, "ports": [{"name": "web", "port": 80, "targetPort": "http"}], **spec}}


@pytest.fixture(scope="module")
def services(srv, ns, web):
    apply(srv, [
        service("web", {"app": "web"}),
        service("sticky", {"app": "web"}, sessionAffinity="ClientIP",
                sessionAffinityConfig={"clientIP": {"timeoutSeconds": 300}}),
        service("web-np", {"app": "web"}, type="NodePort"),
        service("empty", {"app": "nothing-matches"}),
        service("hairpin", {"hairpin": "yes"}),
    ], ns)
    return {s: get_json(srv, "service", s, ns) for s in ("web", "sticky", "web-np", "empty", "hairpin")}


@pytest.fixture(scope="module")
def client(srv, ns):
    apply(srv, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client", "labels": {"app": "client"}},
                "spec": {"containers": [sh_container("main", "exec sleep 3600", env=ENV)]}}, ns)
    return wait_running_ready(srv, "client", ns)


def ready_endpoints(srv, ns, svc: str) -> set[str]:
    """The ready addresses of the Service's EndpointSlices."""
    slices = list_json(srv, "endpointslices", ns, "-l", f"kubernetes.io/service-name={svc}")
    return {a for s in slices for e in s.get("endpoints") or []
            if (e.get("conditions") or {}).get("ready", True) for a in e.get("addresses", [])}


def fetch(srv, ns, pod: str, address: str, times: int = 1) -> list[str]:
    """`times` HTTP GETs of address ("IP PORT") from inside `pod`'s network namespace with
    busybox nc: each answer's last line (the pod name), or FAIL."""
    request = 'printf "GET / HTTP/1.0\\r\\n\\r\\n"'
    script = (f'for i in $(busybox seq {times}); do '
              f'a=$({request} | busybox nc -w 5 {address} | busybox tail -n 1); echo "${{a:-FAIL}}"; done')
    out = srv.kubectl("exec", pod, "-n", ns, "--", "sh", "-c", script, timeout=120).stdout
    return out.split()


def test_capture_is_in_place_and_covers_the_service_range(srv, captured, services):
    # Every ClusterIP the server hands out lies in the captured range.
    for svc in services.values():
        assert ipaddress.ip_address(svc["spec"]["clusterIP"]) in ipaddress.ip_network(captured), svc["spec"]
    rules = nft_table(proxy_table(srv))
    assert "hook forward" in rules and "hook output" in rules, rules


def test_cluster_ip_spreads_over_the_replicas(srv, ns, captured, web, services, client):
    ip = services["web"]["spec"]["clusterIP"]
    wait_for(lambda: len(ready_endpoints(srv, ns, "web")) == 3, timeout=60, what="3 ready endpoints")
    answers = wait_for(lambda: (a := fetch(srv, ns, "client", f"{ip} 80", 30)) and "FAIL" not in a and a,
                       timeout=60, what=f"30 answers from {ip}")
    assert set(answers) == set(web["names"]), answers


def test_client_ip_affinity_sticks_to_one_replica(srv, ns, captured, web, services, client):
    ip = services["sticky"]["spec"]["clusterIP"]
    wait_for(lambda: len(ready_endpoints(srv, ns, "sticky")) == 3, timeout=60, what="3 ready endpoints")
    answers = fetch(srv, ns, "client", f"{ip} 80", 15)
    assert "FAIL" not in answers and len(set(answers)) == 1, answers
    assert answers[0] in web["names"], answers


def test_node_port_on_the_node_address(srv, ns, captured, web, services, client):
    port = services["web-np"]["spec"]["ports"][0]["nodePort"]
    host_ip = client["status"]["hostIP"]
    # From a pod, and from the node itself.
    answers = wait_for(lambda: (a := fetch(srv, ns, "client", f"{host_ip} {port}", 10)) and "FAIL" not in a and a,
                       timeout=60, what=f"answers from {host_ip}:{port}")
    assert set(answers) <= set(web["names"]) and len(set(answers)) >= 2, answers
    body = requests.get(f"http://{host_ip}:{port}/", timeout=10).text.strip()
    assert body in web["names"], body


def by_name(srv, ns, pod: str, url: str, times: int) -> list[str]:
    """`times` GETs of `url` from inside `pod` with Python's urllib: the name goes through the
    pod's resolv.conf to the node DNS server, the answer's ClusterIP through the proxy."""
    code = ("import urllib.request\n"
            f"for _ in range({times}):\n"
            f"    print(urllib.request.urlopen({url!r}, timeout=5).read().decode().strip())\n")
    return srv.kubectl("exec", pod, "-n", ns, "--", sys.executable, "-c", code, timeout=120).stdout.split()


def test_a_pod_reaches_a_service_by_name(srv, ns, captured, web, services, client):
    # The short name, the namespaced one and the full one, as an application would write them.
    for url in ("http://web/", f"http://web.{ns}/", f"http://web.{ns}.svc.cluster.local/"):
        seen = by_name(srv, ns, "client", url, 12)
        assert set(seen) <= set(web["names"]), (url, seen)
        assert len(set(seen)) >= 2, f"{url}: 12 requests all went to {set(seen)}"


def test_port_forward_and_in_cluster_clients_reach_the_same_pods(srv, ns, captured, web, services, client):
    local = free_port()
    proc = srv.kubectl_popen("port-forward", "-n", ns, "svc/web", f"{local}:80")
    try:
        LineReader(proc.stdout).wait_for(lambda ls: any("Forwarding from 127.0.0.1" in ln for ln in ls), timeout=60,
                                         what="kubectl port-forward ready")
        forwarded = {requests.get(f"http://127.0.0.1:{local}/", timeout=30).text.strip() for _ in range(3)}
    finally:
        proc.kill()
        proc.wait(10)
    in_cluster = set(by_name(srv, ns, "client", "http://web/", 12))
    # kubectl forwards to one ready pod of the Service; the cluster IP spreads over all of them.
    assert len(forwarded) == 1 and forwarded <= set(web["names"]), forwarded
    assert in_cluster <= set(web["names"]) and len(in_cluster) >= 2, in_cluster


def test_a_pod_reaches_the_api_server_through_the_kubernetes_service(srv, ns, captured, client):
    """In-cluster clients dial https://kubernetes.default.svc with the pod's ServiceAccount token
    and CA: the Service's ClusterIP leads to the server on the host's loopback, and the serving
    certificate names that address."""
    kubernetes = get_json(srv, "service", "kubernetes", "default")
    assert ipaddress.ip_address(kubernetes["spec"]["clusterIP"]) in ipaddress.ip_network(captured)
    sa = "/var/run/secrets/kubernetes.io/serviceaccount"
    code = ("import json, os, ssl, urllib.request\n"
            f"token = open('{sa}/token').read().strip()\n"
            f"ctx = ssl.create_default_context(cafile='{sa}/ca.crt')\n"
            "for host in ('kubernetes.default.svc', os.environ['KUBERNETES_SERVICE_HOST']):\n"
            "    req = urllib.request.Request(f'https://{host}/api', headers={'Authorization': 'Bearer ' + token})\n"
            "    print(host, json.load(urllib.request.urlopen(req, context=ctx, timeout=10))['kind'])\n"
            # The official client's in-cluster configuration reads the same environment and files.
            "from kubernetes import client, config\n"
            "config.load_incluster_config()\n"
            "print('version', client.VersionApi().get_code().git_version)\n")
    out = srv.kubectl("exec", "client", "-n", ns, "--", sys.executable, "-c", code, timeout=120).stdout.split("\n")
    ip = kubernetes["spec"]["clusterIP"]
    assert out[:2] == ["kubernetes.default.svc APIVersions", f"{ip} APIVersions"], out
    assert out[2].startswith("version v1."), out
    env = srv.kubectl("exec", "client", "-n", ns, "--", "sh", "-c", "echo $KUBERNETES_SERVICE_PORT $KUBERNETES_PORT").stdout.split()
    assert env == ["443", f"tcp://{ip}:443"], env


def test_service_without_endpoints_is_refused_at_once(srv, ns, captured, services, client):
    ip = services["empty"]["spec"]["clusterIP"]
    script = f'printf "GET / HTTP/1.0\\r\\n\\r\\n" | busybox nc -w 20 {ip} 80; echo exit=$?'
    started = time.monotonic()
    cp = srv.kubectl("exec", "client", "-n", ns, "--", "sh", "-c", script, timeout=120)
    elapsed = time.monotonic() - started
    assert "exit=1" in cp.stdout, (cp.stdout, cp.stderr)
    assert "refused" in cp.stderr.lower(), cp.stderr
    # The reset comes from the node: far quicker than the 20 s wget would wait.
    assert elapsed < 15, elapsed
    # From the host too: the output hook rejects.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((ip, 80), timeout=10).close()


def test_unready_replica_leaves_the_rotation(srv, ns, captured, web, services, client):
    victim = web["names"][0]
    ip = services["web"]["spec"]["clusterIP"]
    victim_ip = next(p["status"]["podIP"] for p in web["pods"] if p["metadata"]["name"] == victim)
    srv.kubectl("exec", victim, "-n", ns, "--", "touch", f"{web['www']}/unready")
    try:
        wait_for(lambda: victim_ip not in ready_endpoints(srv, ns, "web") and len(ready_endpoints(srv, ns, "web")) == 2,
                 timeout=60, what=f"{victim} out of the web endpoints")
        answers = wait_for(lambda: (a := fetch(srv, ns, "client", f"{ip} 80", 30)) and victim not in a and a,
                           timeout=30, what=f"answers without {victim}")
        assert "FAIL" not in answers and set(answers) == set(web["names"]) - {victim}, answers
    finally:
        srv.kubectl("exec", victim, "-n", ns, "--", "rm", "-f", f"{web['www']}/unready")
    wait_for(lambda: len(ready_endpoints(srv, ns, "web")) == 3, timeout=60, what=f"{victim} back in the endpoints")


def test_hairpin_a_pod_reaches_itself_through_its_service(srv, ns, captured, web, services, client):
    me = web["names"][1]
    srv.kubectl("label", "pod", me, "-n", ns, "hairpin=yes")
    ip = services["hairpin"]["spec"]["clusterIP"]
    wait_for(lambda: len(ready_endpoints(srv, ns, "hairpin")) == 1, timeout=60, what="the hairpin endpoint")
    answers = wait_for(lambda: (a := fetch(srv, ns, me, f"{ip} 80", 3)) and "FAIL" not in a and a,
                       timeout=30, what=f"{me} through its own Service")
    assert answers == [me] * 3, answers


def test_a_second_server_gets_its_own_ranges_bridge_and_table(srv, captured, tmp_path_factory):
    first = network_ranges(srv)
    with serve(tmp_path_factory, "svc-proxy-2", controllers=True, kubelet=True) as other:
        second = network_ranges(other)
        for key in ("clusterCIDR", "serviceCIDR"):
            assert not ipaddress.ip_network(first[key]).overlaps(ipaddress.ip_network(second[key])), (first, second)
        assert not ipaddress.ip_network(first["clusterCIDR"]).overlaps(ipaddress.ip_network(second["serviceCIDR"]))
        table = proxy_table(other)
        assert table != proxy_table(srv)
        rules = wait_for_capture(table, second["serviceCIDR"])
        # Each node's pod traffic is matched on its own bridge.
        bridges = {line.split('"')[1] for t in (nft_table(proxy_table(srv)), rules)
                   for line in t.splitlines() if "iifname" in line and "jump services" in line}
        assert len(bridges) == 2, bridges
        pod_cidr = wait_for(lambda: get_json(other, "node", other.node_name)["spec"].get("podCIDR"), timeout=60,
                            what="the second node's podCIDR")
        assert ipaddress.ip_network(pod_cidr).subnet_of(ipaddress.ip_network(second["clusterCIDR"])), (pod_cidr, second)
        # A chain deleted behind the kubelet's back is found at the next periodic check and the
        # table rebuilt (a chain no packet of this test goes through: the capture stays).
        subprocess.run(["nft", "delete", "chain", "ip", table, "nodeport-input"], check=True, timeout=30)
        assert "chain nodeport-input {" not in nft_table(table)
        wait_for(lambda: "chain nodeport-input {" in nft_table(table), timeout=75, what=f"nodeport-input back in {table}")
        assert f"ip daddr {second['serviceCIDR']} reject with tcp reset" in nft_table(table)
    cp = subprocess.run([str(caravel_bin()), "killall", "--data-dir", str(other.data_dir)], capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    remove_bridge(other)
    assert not nft_table(table), f"{table} left after killall"
    assert nft_table(proxy_table(srv)), "the first server's table must not be touched"


def test_killall_removes_the_proxy_table(srv, ns, captured, web, services, client):
    table = proxy_table(srv)
    assert nft_table(table), f"table {table} missing before the stop"
    srv.kubectl("delete", "deployment", "web", "-n", ns, "--wait=false")
    srv.kubectl("delete", "pods", "--all", "-n", ns, "--wait=false")
    wait_for(lambda: not list_json(srv, "pods", ns), timeout=120, what="every pod gone")
    wait_no_pids(TOKEN, timeout=60)
    srv.stop()
    # The rules outlive the server (pods do too); killall takes them away.
    assert nft_table(table), f"table {table} should stay while the node is merely stopped"
    cp = subprocess.run([str(caravel_bin()), "killall", "--data-dir", str(srv.data_dir), "--node-name", srv.node_name],
                        capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert "nftables tables removed: 2" in cp.stdout, cp.stdout
    # With every pod gone, the node's bridge has nothing attached and goes too.
    assert f"pod bridge removed: {bridge_name(srv)}" in cp.stdout, cp.stdout
    assert subprocess.run(["ip", "link", "show", "dev", bridge_name(srv)], capture_output=True, timeout=30).returncode != 0
    listed = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, timeout=30).stdout
    assert table not in listed, listed
    assert json.loads((srv.data_dir / "network-ranges.json").read_text())["serviceCIDR"] == captured
