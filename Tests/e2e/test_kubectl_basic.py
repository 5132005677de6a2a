"""The real kubectl (v1.33, .tools/bin/kubectl) against Caravel: discovery, create/apply,
tables and output formats. Selectors, deletion, errors, subresources, patches and metrics are
in test_kubectl_verbs.py."""

from __future__ import annotations

import base64
import json
import re

import pytest
import yaml

from e2eutil import parse_table, unique
from kubectlutil import CREATED, MANIFEST, b64, get_json, output_lines

@pytest.fixture(scope="module")
def app_ns(server, kubectl):
    """A namespace holding the objects of MANIFEST, created with `kubectl create -f`."""
    ns = unique("e2e-kubectl-app", 5)
    kubectl("create", "namespace", ns)
    kubectl("create", "-n", ns, "-f", "-", input=MANIFEST)
    yield ns
    kubectl("delete", "namespace", ns, "--wait=false", check=False)


# ----------------------------------------------------------------------------- discovery


def test_version_reports_v1_33(kubectl):
    info = json.loads(kubectl("version", "-o", "json").stdout)
    sv = info.get("serverVersion")
    assert sv, f"no serverVersion in {info}"
    assert re.match(r"^v1\.33\.\d+", sv["gitVersion"]), sv
    assert sv["major"] == "1", sv
    assert sv["minor"].rstrip("+") == "33", sv
    plain = kubectl("version").stdout
    assert re.search(r"Server Version: v1\.33\.\d+", plain), plain


def test_api_resources(kubectl):
    # `nodes` and `pods` are also served by metrics.k8s.io (as with metrics-server): the core
    # group's rows come first and are the ones checked.
    rows = {}
    for r in parse_table(kubectl("api-resources").stdout):
        rows.setdefault(r["NAME"], r)

    def check(name, shortname, apiversion, namespaced, kind):
        assert name in rows, f"{name} missing from api-resources: {sorted(rows)}"
        r = rows[name]
        if shortname:
            assert shortname in r["SHORTNAMES"].split(","), r
        assert r["APIVERSION"] == apiversion, r
        assert r["NAMESPACED"] == namespaced, r
        assert r["KIND"] == kind, r

    check("deployments", "deploy", "apps/v1", "true", "Deployment")
    check("replicasets", "rs", "apps/v1", "true", "ReplicaSet")
    check("pods", "po", "v1", "true", "Pod")
    check("services", "svc", "v1", "true", "Service")
    check("configmaps", "cm", "v1", "true", "ConfigMap")
    check("secrets", None, "v1", "true", "Secret")
    check("serviceaccounts", "sa", "v1", "true", "ServiceAccount")
    check("endpoints", "ep", "v1", "true", "Endpoints")
    check("events", "ev", "v1", "true", "Event")
    check("namespaces", "ns", "v1", "false", "Namespace")
    check("nodes", "no", "v1", "false", "Node")
    check("horizontalpodautoscalers", "hpa", "autoscaling/v2", "true", "HorizontalPodAutoscaler")
    check("networkpolicies", "netpol", "networking.k8s.io/v1", "true", "NetworkPolicy")
    check("leases", None, "coordination.k8s.io/v1", "true", "Lease")
    check("endpointslices", None, "discovery.k8s.io/v1", "true", "EndpointSlice")
    metrics = parse_table(kubectl("api-resources", "--api-group=metrics.k8s.io").stdout)
    assert {(r["NAME"], r["KIND"]) for r in metrics} == {("nodes", "NodeMetrics"), ("pods", "PodMetrics")}, metrics

    apps = parse_table(kubectl("api-resources", "--api-group=apps").stdout)
    assert {"deployments", "replicasets"} <= {r["NAME"] for r in apps}, apps

    versions = set(kubectl("api-versions").stdout.split())
    for gv in ("v1", "apps/v1", "autoscaling/v1", "autoscaling/v2", "networking.k8s.io/v1",
               "coordination.k8s.io/v1", "discovery.k8s.io/v1"):
        assert gv in versions, f"{gv} not in api-versions: {sorted(versions)}"


def test_explain_uses_server_schema(kubectl):
    out = kubectl("explain", "deployment.spec.replicas").stdout
    assert "replicas" in out and "integer" in out, out


# ----------------------------------------------------------------------------- create / apply


def test_create_manifest(kubectl, namespace):
    cp = kubectl("create", "-n", namespace, "-f", "-", input=MANIFEST)
    for obj in CREATED:
        assert f"{obj} created" in output_lines(cp), cp.stdout
    listed = kubectl("get", "configmap,secret,service,deployment,pod", "-n", namespace,
                     "-o", "name").stdout.split()
    for obj in CREATED:
        assert obj in listed, listed

    # `kubectl apply` on objects made by `kubectl create` (no last-applied annotation yet)
    cp = kubectl("apply", "-n", namespace, "-f", "-", input=MANIFEST)
    for obj in CREATED:
        assert f"{obj} configured" in output_lines(cp), cp.stdout + cp.stderr
    cm = get_json(kubectl, "cm", "web-config", "-n", namespace)
    assert "kubectl.kubernetes.io/last-applied-configuration" in cm["metadata"]["annotations"]


def test_apply_create_update_unchanged(kubectl, namespace):
    cp = kubectl("apply", "-n", namespace, "-f", "-", input=MANIFEST)
    for obj in CREATED:
        assert f"{obj} created" in output_lines(cp), cp.stdout

    dep = get_json(kubectl, "deploy", "web", "-n", namespace)
    applied = json.loads(dep["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert applied["spec"]["replicas"] == 1
    assert dep["metadata"]["generation"] == 1

    changed = (MANIFEST.replace("greeting: hello", "greeting: bonjour")
                       .replace("replicas: 1", "replicas: 2")
                       .replace("image: nginx:1.27\n        ports", "image: nginx:1.28\n        ports"))
    cp = kubectl("apply", "-n", namespace, "-f", "-", input=changed)
    lines = output_lines(cp)
    assert "configmap/web-config configured" in lines, cp.stdout
    assert "deployment.apps/web configured" in lines, cp.stdout
    for obj in ("service/web", "pod/web-pod"):
        assert f"{obj} unchanged" in lines, cp.stdout
    # (a Secret applied with stringData always reports "configured", also with kube-apiserver:
    # stringData is never stored, so the three-way diff always finds it missing)

    cm = get_json(kubectl, "cm", "web-config", "-n", namespace)
    assert cm["data"] == {"greeting": "bonjour", "mode": "test"}
    dep = get_json(kubectl, "deploy", "web", "-n", namespace)
    assert dep["spec"]["replicas"] == 2
    c = dep["spec"]["template"]["spec"]["containers"]
    assert len(c) == 1 and c[0]["name"] == "web" and c[0]["image"] == "nginx:1.28", c
    assert c[0]["ports"][0]["containerPort"] == 8080, c
    assert dep["metadata"]["generation"] == 2, dep["metadata"]

    # removing a key from the file removes it from the object (three-way merge)
    smaller = changed.replace("  mode: test\n", "")
    kubectl("apply", "-n", namespace, "-f", "-", input=smaller)
    cm = get_json(kubectl, "cm", "web-config", "-n", namespace)
    assert cm["data"] == {"greeting": "bonjour"}

    cp = kubectl("apply", "-n", namespace, "-f", "-", input=smaller)
    for obj in CREATED:
        if obj != "secret/web-secret":
            assert f"{obj} unchanged" in output_lines(cp), cp.stdout


def test_apply_rejects_unknown_field(kubectl, namespace):
    bad = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: typo
spec:
  replica: 2
  selector:
    matchLabels: {app: typo}
  template:
    metadata:
      labels: {app: typo}
    spec:
      containers:
      - name: c
        image: busybox
"""
    cp = kubectl("apply", "-n", namespace, "-f", "-", input=bad, check=False)
    assert cp.returncode != 0, cp.stdout
    assert "unknown field" in cp.stderr and "replica" in cp.stderr, cp.stderr
    got = kubectl("get", "deploy", "typo", "-n", namespace, check=False)
    assert got.returncode != 0 and "NotFound" in got.stderr, got.stdout + got.stderr

    # --validate=warn: created, with a warning naming the field
    cp = kubectl("apply", "--validate=warn", "-n", namespace, "-f", "-", input=bad)
    assert "deployment.apps/typo created" in cp.stdout
    assert "unknown field" in cp.stderr and "replica" in cp.stderr, cp.stderr
    dep = get_json(kubectl, "deploy", "typo", "-n", namespace)
    assert "replica" not in dep["spec"]

    # --validate=false: accepted silently, field dropped
    cp = kubectl("create", "--validate=false", "-n", namespace, "-f", "-",
                 input=bad.replace("name: typo", "name: typo2"))
    assert "deployment.apps/typo2 created" in cp.stdout
    assert "replica" not in get_json(kubectl, "deploy", "typo2", "-n", namespace)["spec"]


# ----------------------------------------------------------------------------- tables


def test_get_wide_shows_usual_columns(kubectl, app_ns):
    out = kubectl("get", "pods,deploy,svc", "-o", "wide", "-n", app_ns).stdout
    sections = [parse_table(s) for s in re.split(r"\n\s*\n", out.strip())]
    by_first = {}
    for rows in sections:
        assert rows, out
        by_first[rows[0]["NAME"].split("/")[0]] = rows

    pods = by_first.get("pod")
    assert pods, out
    assert list(pods[0].keys()) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
                                    "NOMINATED NODE", "READINESS GATES"], out
    pod = {r["NAME"]: r for r in pods}["pod/web-pod"]
    assert pod["READY"] == "0/1" and pod["STATUS"] == "Pending", pod

    deps = by_first.get("deployment.apps")
    assert deps, out
    assert list(deps[0].keys()) == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE",
                                    "CONTAINERS", "IMAGES", "SELECTOR"], out
    dep = {r["NAME"]: r for r in deps}["deployment.apps/web"]
    assert dep["READY"] == "0/1" and dep["CONTAINERS"] == "web", dep
    assert dep["IMAGES"] == "nginx:1.27" and dep["SELECTOR"] == "app=web", dep

    svcs = by_first.get("service")
    assert svcs, out
    assert list(svcs[0].keys()) == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)",
                                    "AGE", "SELECTOR"], out
    svc = {r["NAME"]: r for r in svcs}["service/web"]
    assert svc["TYPE"] == "ClusterIP" and svc["PORT(S)"] == "80/TCP", svc
    assert svc["SELECTOR"] == "app=web", svc

    plain = parse_table(kubectl("get", "pods", "-n", app_ns).stdout)
    assert list(plain[0].keys()) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"], plain

    cms = parse_table(kubectl("get", "cm", "web-config", "-n", app_ns).stdout)
    assert list(cms[0].keys()) == ["NAME", "DATA", "AGE"] and cms[0]["DATA"] == "2", cms

    labels = {r["NAME"]: r for r in parse_table(kubectl("get", "pods", "--show-labels", "-n", app_ns).stdout)}
    assert labels["web-pod"]["LABELS"] == "app=web,role=standalone", labels

    cols = parse_table(kubectl("get", "deploy", "-n", app_ns, "-o",
                               "custom-columns=N:.metadata.name,R:.spec.replicas").stdout)
    assert cols == [{"N": "web", "R": "1"}], cols


def test_get_all(kubectl, app_ns):
    out = kubectl("get", "all", "-n", app_ns).stdout
    for obj in ("pod/web-pod", "service/web", "deployment.apps/web"):
        assert obj in out, out
    assert "configmap/" not in out and "secret/" not in out, out


def test_get_namespaces(kubectl):
    rows = {r["NAME"]: r for r in parse_table(kubectl("get", "ns").stdout)}
    for ns in ("default", "kube-system", "kube-public"):
        assert ns in rows, rows
        assert rows[ns]["STATUS"] == "Active", rows[ns]


# ----------------------------------------------------------------------------- output formats


def test_get_yaml_json_roundtrip(kubectl, namespace):
    kubectl("create", "-n", namespace, "-f", "-", input=MANIFEST)
    cm = get_json(kubectl, "cm", "web-config", "-n", namespace)
    assert cm["kind"] == "ConfigMap" and cm["apiVersion"] == "v1", cm
    md = cm["metadata"]
    assert md["name"] == "web-config" and md["namespace"] == namespace, md
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", md["uid"]), md
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", md["creationTimestamp"]), md
    assert md["resourceVersion"], md
    assert cm["data"] == {"greeting": "hello", "mode": "test"}

    as_yaml = yaml.safe_load(kubectl("get", "cm", "web-config", "-n", namespace, "-o", "yaml").stdout)
    assert as_yaml == cm

    secret = get_json(kubectl, "secret", "web-secret", "-n", namespace)
    assert "stringData" not in secret, secret
    assert secret["type"] == "Opaque"
    assert secret["data"] == {"user": b64("admin"), "password": b64("s3cr3t")}, secret
    jp = kubectl("get", "secret", "web-secret", "-n", namespace, "-o",
                 "jsonpath={.data.password}").stdout
    assert base64.b64decode(jp).decode() == "s3cr3t"

    # edit the YAML we got and replace with it
    as_yaml["data"]["greeting"] = "hi again"
    cp = kubectl("replace", "-f", "-", input=yaml.safe_dump(as_yaml))
    assert "configmap/web-config replaced" in cp.stdout
    after = get_json(kubectl, "cm", "web-config", "-n", namespace)
    assert after["data"]["greeting"] == "hi again"
    assert after["metadata"]["uid"] == md["uid"]
    assert after["metadata"]["resourceVersion"] != md["resourceVersion"]
    assert after["metadata"]["creationTimestamp"] == md["creationTimestamp"]

    # the old YAML is now stale: replace must conflict
    cp = kubectl("replace", "-f", "-", input=yaml.safe_dump(cm), check=False)
    assert cp.returncode != 0 and "Conflict" in cp.stderr, cp.stderr


# ----------------------------------------------------------------------------- selectors
