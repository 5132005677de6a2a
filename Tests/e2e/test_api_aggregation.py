"""API aggregation with the real kubectl: the Local APIServices the server keeps (built-in
groups, and one per CustomResourceDefinition group/version while it exists), APIService
validation, and an aggregated API server (`wardle_apiserver.py`, a process of this test on
loopback, reached through a selectorless Service whose EndpointSlice points at 127.0.0.1:
Endpoints refuse loopback addresses, as Kubernetes' do) whose
group appears in discovery, whose resources kubectl lists, reads and creates through the
server's proxy, and whose Available condition follows the backend going away."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading

import pytest

from admission_webhook import make_certificates
from e2eutil import REPO, free_port, serve, unique, wait_for

GROUP, VERSION = "wardle.example.com", "v1alpha1"
NAME = f"{VERSION}.{GROUP}"


@pytest.fixture(scope="module")
def aserver(tmp_path_factory):
    with serve(tmp_path_factory, "caravel-aggregation", extra_args=["--apiservice-check-interval", "1s"]) as s:
        yield s


def apiservice(s, name: str) -> dict:
    return json.loads(s.kubectl("get", "apiservice", name, "-o", "json").stdout)


def available(obj: dict) -> dict:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == "Available"), {})


def table_row(s, name: str) -> list[str]:
    out = s.kubectl("get", "apiservices", name).stdout.splitlines()
    return out[1].split() if len(out) > 1 else []


def test_local_apiservices_for_builtin_groups(aserver):
    out = wait_for(lambda: (o := aserver.kubectl("get", "apiservices").stdout) and "v1.apps" in o and o, timeout=30,
                   what="the built-in APIServices")
    header = out.splitlines()[0].split()
    assert header == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    for name in ("v1.", "v1.apps", "v2.autoscaling", "v1.apiextensions.k8s.io", "v1.apiregistration.k8s.io"):
        assert name in rows, out
    wait_for(lambda: table_row(aserver, "v1.apps")[1:3] == ["Local", "True"], timeout=30, what="v1.apps Local and Available")
    core = apiservice(aserver, "v1.")
    assert core["spec"] == {"version": "v1", "groupPriorityMinimum": 18000, "versionPriority": 1}
    assert core["metadata"]["labels"]["kube-aggregator.kubernetes.io/automanaged"] == "onstart"
    apps = apiservice(aserver, "v1.apps")["spec"]
    assert (apps["group"], apps["groupPriorityMinimum"], apps["versionPriority"]) == ("apps", 17800, 15)


def test_apiservice_per_crd_version(aserver):
    group = f"{unique('agg')}.example.com"
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": f"widgets.{group}"},
           "spec": {"group": group, "scope": "Namespaced", "names": {"plural": "widgets", "kind": "Widget"},
                    "versions": [{"name": v, "served": True, "storage": v == "v1",
                                  "schema": {"openAPIV3Schema": {"type": "object"}}} for v in ("v1", "v1beta1")]}}
    aserver.kubectl("apply", "-f", "-", input=json.dumps(crd))
    for v in ("v1", "v1beta1"):
        wait_for(lambda v=v: table_row(aserver, f"{v}.{group}")[1:3] == ["Local", "True"], timeout=30,
                 what=f"the APIService {v}.{group}")
    obj = apiservice(aserver, f"v1.{group}")
    assert obj["metadata"]["labels"]["kube-aggregator.kubernetes.io/automanaged"] == "true"
    assert (obj["spec"]["groupPriorityMinimum"], obj["spec"]["versionPriority"]) == (1000, 100)
    aserver.kubectl("delete", "crd", f"widgets.{group}")
    wait_for(lambda: aserver.kubectl("get", "apiservice", f"v1.{group}", check=False).returncode != 0, timeout=30,
             what="the CRD's APIService to go")


def test_extension_apiserver_authentication_is_published(aserver):
    """What aggregated API servers built on Kubernetes' apiserver library read to believe the proxy."""
    cm = json.loads(aserver.kubectl("get", "configmap", "extension-apiserver-authentication", "-n", "kube-system", "-o", "json").stdout)
    ca = (aserver.data_dir / "pki" / "ca.crt").read_text()
    assert cm["data"]["requestheader-client-ca-file"] == ca and cm["data"]["client-ca-file"] == ca
    assert json.loads(cm["data"]["requestheader-allowed-names"]) == ["front-proxy-client"]
    assert json.loads(cm["data"]["requestheader-username-headers"]) == ["X-Remote-User"]
    assert json.loads(cm["data"]["requestheader-group-headers"]) == ["X-Remote-Group"]
    assert json.loads(cm["data"]["requestheader-extra-headers-prefix"]) == ["X-Remote-Extra-"]
    role = json.loads(aserver.kubectl("get", "role", "extension-apiserver-authentication-reader", "-n", "kube-system", "-o", "json").stdout)
    assert role["rules"][0]["resourceNames"] == ["extension-apiserver-authentication"]


def test_apiservice_validation(aserver):
    def create(name: str, spec: dict):
        body = {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": name}, "spec": spec}
        return aserver.kubectl("create", "-f", "-", input=json.dumps(body), check=False)

    good = {"group": "bad.example.com", "version": "v1", "groupPriorityMinimum": 100, "versionPriority": 10,
            "service": {"namespace": "default", "name": "x"}, "insecureSkipTLSVerify": True}
    cp = create("v2.bad.example.com", good)
    assert cp.returncode != 0 and 'metadata.name: Invalid value: "v2.bad.example.com"' in cp.stderr, cp.stderr
    cp = create("v1.bad.example.com", {**good, "groupPriorityMinimum": 0, "versionPriority": 0})
    assert "spec.groupPriorityMinimum: Invalid value: 0" in cp.stderr and "spec.versionPriority: Invalid value: 0" in cp.stderr, cp.stderr
    cp = create("v1.bad.example.com", {**good, "caBundle": base64.b64encode(b"pem").decode()})
    assert "spec.insecureSkipTLSVerify: Invalid value: true: may not be true if caBundle is present" in cp.stderr, cp.stderr
    local = {k: v for k, v in good.items() if k != "service"}
    cp = create("v1.bad.example.com", local)
    assert "must not be set if service is not set" in cp.stderr, cp.stderr
    assert aserver.kubectl("get", "apiservice", "v1.bad.example.com", check=False).returncode != 0


@pytest.fixture
def wardle(aserver, tmp_path):
    """The backend process, its Service and EndpointSlice in a namespace of its own, and its log."""
    ns = unique("wardle")
    aserver.kubectl("create", "namespace", ns)
    ca, cert, key = make_certificates(tmp_path, san=f"DNS:api.{ns}.svc")
    port = free_port()
    log = tmp_path / "requests.jsonl"
    log.touch()
    cmd = [sys.executable, str(REPO / "Tests/e2e/wardle_apiserver.py"), str(port), cert, key,
           str(aserver.data_dir / "pki" / "ca.crt"), str(log)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    objects = [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": ns},
         "spec": {"ports": [{"port": 443, "targetPort": port}]}},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
         "metadata": {"name": "api-1", "namespace": ns, "labels": {"kubernetes.io/service-name": "api"}},
         "addressType": "IPv4", "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": True}}],
         "ports": [{"port": port}]},
        {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": NAME},
         "spec": {"group": GROUP, "version": VERSION, "groupPriorityMinimum": 1000, "versionPriority": 15,
                  "service": {"namespace": ns, "name": "api", "port": 443},
                  "caBundle": base64.b64encode(open(ca, "rb").read()).decode()}},
    ]
    aserver.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    yield {"ns": ns, "proc": proc, "log": log}
    if proc.poll() is None:
        proc.terminate()
        proc.wait(10)
    aserver.kubectl("delete", "apiservice", NAME, "--ignore-not-found")
    aserver.kubectl("delete", "namespace", ns, "--wait=false")


def requests(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def test_aggregated_api_through_the_proxy(aserver, wardle):
    ns = wardle["ns"]
    wait_for(lambda: table_row(aserver, NAME)[1:3] == [f"{ns}/api", "True"], timeout=60, what="the wardle APIService Available")
    cond = available(apiservice(aserver, NAME))
    assert (cond["status"], cond["reason"]) == ("True", "Passed")

    groups = json.loads(aserver.kubectl("get", "--raw", "/apis").stdout)["groups"]
    wardle_group = next(g for g in groups if g["name"] == GROUP)
    assert wardle_group["preferredVersion"] == {"groupVersion": f"{GROUP}/{VERSION}", "version": VERSION}
    group_doc = json.loads(aserver.kubectl("get", "--raw", f"/apis/{GROUP}").stdout)
    assert group_doc["kind"] == "APIGroup" and group_doc["name"] == GROUP
    cp = aserver.kubectl("api-resources", "--api-group", GROUP)
    assert "flunders" in cp.stdout and "Flunder" in cp.stdout, cp.stdout

    flunder = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Flunder", "metadata": {"name": "first", "namespace": ns},
               "spec": {"reference": "x"}}
    cp = aserver.kubectl("create", "-f", "-", input=json.dumps(flunder))
    assert "flunder.wardle.example.com/first created" in cp.stdout, cp.stdout
    listed = aserver.kubectl("get", "flunders", "-n", ns).stdout
    assert listed.splitlines()[0].split()[0] == "NAME" and "first" in listed, listed
    got = json.loads(aserver.kubectl("get", "flunder", "first", "-n", ns, "-o", "json").stdout)
    # The backend learnt who asked from the front-proxy headers, not from the client's credentials.
    assert got["metadata"]["annotations"]["wardle.example.com/created-by"] == "caravel-admin"
    missing = aserver.kubectl("get", "flunder", "nope", "-n", ns, check=False)
    assert missing.returncode != 0 and 'flunders.wardle.example.com "nope" not found' in missing.stderr, missing.stderr

    posts = [r for r in requests(wardle["log"]) if r["method"] == "POST"]
    assert posts and posts[0]["user"] == "caravel-admin"
    assert "system:masters" in posts[0]["groups"] and "system:authenticated" in posts[0]["groups"]
    assert posts[0]["authorization"] is None
    assert {r["client_cn"] for r in requests(wardle["log"])} == {"front-proxy-client"}

    # A watch streams through the proxy as the backend sends its events.
    watch = aserver.kubectl_popen("get", "flunders", "-n", ns, "--watch", "-o", "name")
    seen: list[str] = []
    threading.Thread(target=lambda: seen.extend(watch.stdout), daemon=True).start()
    try:
        wait_for(lambda: any("flunder.wardle.example.com/first" in line for line in seen), timeout=30, what="the listed flunder")
        second = dict(flunder, metadata={"name": "second", "namespace": ns})
        aserver.kubectl("create", "-f", "-", input=json.dumps(second))
        wait_for(lambda: any("flunder.wardle.example.com/second" in line for line in seen), timeout=30,
                 what="the new flunder as a watch event")
        assert any("watch=true" in q["path"] for q in requests(wardle["log"]) if q["method"] == "GET")
    finally:
        watch.terminate()
        watch.wait(10)

    # A client cannot speak for someone else through the proxy: its own X-Remote-* headers are dropped.
    session = aserver.session()
    r = session.get(f"{aserver.url}/apis/{GROUP}/{VERSION}/namespaces/{ns}/flunders?marker=spoof",
                    headers={"X-Remote-User": "mallory", "X-Remote-Group": "system:masters"})
    session.close()
    assert r.status_code == 200 and r.json()["items"][0]["metadata"]["name"] == "first", r.text
    spoofed = [q for q in requests(wardle["log"]) if "marker=spoof" in q["path"]]
    assert len(spoofed) == 1 and spoofed[0]["user"] == "caravel-admin" and "mallory" not in spoofed[0]["groups"]
    assert spoofed[0]["groups"].count("system:masters") == 1

    wardle["proc"].terminate()
    wardle["proc"].wait(10)
    wait_for(lambda: table_row(aserver, NAME)[2:3] == ["False"], timeout=60, what="Available to turn False")
    cond = available(apiservice(aserver, NAME))
    assert cond["reason"] == "FailedDiscoveryCheck" and "failing or missing response" in cond["message"], cond
    down = aserver.kubectl("get", "flunders", "-n", ns, check=False)
    assert down.returncode != 0 and "unable to handle the request" in down.stderr, down.stderr


def test_apiservice_without_endpoints(aserver):
    ns = unique("noeps")
    aserver.kubectl("create", "namespace", ns)
    name = "v1.noeps.example.com"
    objects = [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": ns}, "spec": {"ports": [{"port": 443}]}},
        {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": name},
         "spec": {"group": "noeps.example.com", "version": "v1", "groupPriorityMinimum": 1000, "versionPriority": 15,
                  "service": {"namespace": ns, "name": "api"}, "insecureSkipTLSVerify": True}},
    ]
    aserver.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    try:
        wait_for(lambda: available(apiservice(aserver, name)).get("reason") == "MissingEndpoints", timeout=30,
                 what="MissingEndpoints")
        aserver.kubectl("delete", "service", "api", "-n", ns)
        wait_for(lambda: available(apiservice(aserver, name)).get("reason") == "ServiceNotFound", timeout=30, what="ServiceNotFound")
        assert table_row(aserver, name)[2] == "False"
        groups = [g["name"] for g in json.loads(aserver.kubectl("get", "--raw", "/apis").stdout)["groups"]]
        assert "noeps.example.com" not in groups
    finally:
        aserver.kubectl("delete", "apiservice", name, "--ignore-not-found")
        aserver.kubectl("delete", "namespace", ns, "--wait=false")
