"""The real kubectl against Caravel: label and field selectors, deletion, errors, `kind: List`,
the scale subresource, label/annotate, patches and the request metrics."""

from __future__ import annotations

import json
import re

import pytest

from e2eutil import unique, wait_for
from kubectlutil import MANIFEST, get_json, names

SELECTOR_CMS = """\
{apiVersion: v1, kind: ConfigMap, metadata: {name: a, labels: {app: x, tier: fe}}}
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: b, labels: {app: x, tier: be}}}
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: c, labels: {app: "y"}}}
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: d, labels: {tier: fe}}}
"""

LIST_MANIFEST = """\
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: l1}, data: {k: v}}
- {apiVersion: v1, kind: Service, metadata: {name: l2}, spec: {ports: [{port: 80}]}}
"""


@pytest.mark.parametrize("selector,expected", [
    ("app=x", {"a", "b"}),
    ("app==x", {"a", "b"}),
    ("app!=x", {"c", "d"}),
    ("app in (x,y)", {"a", "b", "c"}),
    ("app notin (x)", {"c", "d"}),
    ("app", {"a", "b", "c"}),
    ("!app", {"d"}),
    ("app=x,tier=fe", {"a"}),
    ("app in (x),tier notin (be)", {"a"}),
    ("app=nothing", set()),
])
def test_label_selectors(kubectl, namespace, selector, expected):
    kubectl("create", "-n", namespace, "-f", "-", input=SELECTOR_CMS)
    got = names(kubectl("get", "cm", "-n", namespace, "-l", selector, "-o", "name"))
    assert got == expected, f"-l {selector!r}"


def test_field_selectors(kubectl, namespace):
    kubectl("create", "-n", namespace, "-f", "-", input=SELECTOR_CMS)
    assert names(kubectl("get", "cm", "-n", namespace, "--field-selector", "metadata.name=b",
                         "-o", "name")) == {"b"}
    assert names(kubectl("get", "cm", "-n", namespace, "--field-selector", "metadata.name!=b",
                         "-o", "name")) == {"a", "c", "d"}
    assert names(kubectl("get", "cm", "-n", namespace, "-l", "app=x", "--field-selector",
                         "metadata.name!=a", "-o", "name")) == {"b"}
    assert names(kubectl("get", "cm", "-n", namespace, "--field-selector",
                         f"metadata.namespace={namespace},metadata.name=c", "-o", "name")) == {"c"}
    # across namespaces
    all_ns = kubectl("get", "cm", "-A", "--field-selector", "metadata.name=d", "-o", "json").stdout
    hits = [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in json.loads(all_ns)["items"]]
    assert (namespace, "d") in hits, hits
    bad = kubectl("get", "cm", "-n", namespace, "--field-selector", "data.x=1", check=False)
    assert bad.returncode != 0 and "BadRequest" in bad.stderr, bad.stderr


# ----------------------------------------------------------------------------- delete


def test_delete(kubectl, namespace):
    kubectl("create", "-n", namespace, "-f", "-", input=SELECTOR_CMS)
    cp = kubectl("delete", "cm", "a", "-n", namespace)
    assert 'configmap "a" deleted' in cp.stdout, cp.stdout
    got = kubectl("get", "cm", "a", "-n", namespace, check=False)
    assert got.returncode != 0, got.stdout
    assert "NotFound" in got.stderr and 'configmaps "a" not found' in got.stderr, got.stderr

    cp = kubectl("delete", "cm", "-l", "app", "-n", namespace)
    assert 'configmap "b" deleted' in cp.stdout and 'configmap "c" deleted' in cp.stdout, cp.stdout
    assert names(kubectl("get", "cm", "-n", namespace, "-o", "name")) == {"d"}

    again = kubectl("delete", "cm", "a", "-n", namespace, check=False)
    assert again.returncode != 0 and "NotFound" in again.stderr, again.stderr
    assert kubectl("delete", "cm", "a", "-n", namespace, "--ignore-not-found").returncode == 0

    kubectl("create", "-n", namespace, "-f", "-", input=MANIFEST)
    cp = kubectl("delete", "-n", namespace, "-f", "-", input=MANIFEST, timeout=120)
    for kind, name in (("configmap", "web-config"), ("secret", "web-secret"), ("service", "web"),
                       ("deployment.apps", "web"), ("pod", "web-pod")):
        assert f'{kind} "{name}" deleted' in cp.stdout, cp.stdout
    left = set(kubectl("get", "deploy,svc,pod,secret,cm", "-n", namespace, "-o", "name").stdout.split())
    gone = {"deployment.apps/web", "service/web", "pod/web-pod", "secret/web-secret",
            "configmap/web-config"}
    assert not (left & gone), left


def test_namespace_deletion_removes_contents(kubectl):
    ns = unique("e2e-nsdel", 5)
    assert f"namespace/{ns} created" in kubectl("create", "namespace", ns).stdout
    kubectl("create", "-n", ns, "-f", "-", input=MANIFEST)
    cp = kubectl("delete", "namespace", ns, "--timeout=120s", timeout=150)
    assert f'namespace "{ns}" deleted' in cp.stdout, cp.stdout

    def gone():
        r = kubectl("get", "namespace", ns, check=False)
        return r.returncode != 0 and "NotFound" in r.stderr
    wait_for(gone, timeout=90, what=f"namespace {ns} to disappear")

    left = json.loads(kubectl("get", "cm,secret,svc,deploy,pod", "-n", ns, "-o", "json").stdout)
    assert [i["metadata"]["name"] for i in left["items"]] == [], left

    # a namespace of the same name starts empty
    kubectl("create", "namespace", ns)
    try:
        again = kubectl("get", "cm,secret,svc,deploy,pod", "-n", ns, "-o", "name").stdout.split()
        assert [n for n in again if n != "configmap/kube-root-ca.crt"] == [], again
    finally:
        kubectl("delete", "namespace", ns, "--wait=false", check=False)


# ----------------------------------------------------------------------------- errors


def test_invalid_object_reports_field(kubectl, namespace):
    bad_dep = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bad
spec:
  replicas: -1
  selector:
    matchLabels: {app: bad}
  template:
    metadata:
      labels: {app: bad}
    spec:
      containers:
      - name: c
        image: busybox
"""
    cp = kubectl("create", "-n", namespace, "-f", "-", input=bad_dep, check=False)
    assert cp.returncode != 0
    assert 'The Deployment "bad" is invalid' in cp.stderr, cp.stderr
    assert "spec.replicas" in cp.stderr, cp.stderr

    bad_name = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n"
    cp = kubectl("create", "-n", namespace, "-f", "-", input=bad_name, check=False)
    assert cp.returncode != 0
    assert 'The ConfigMap "Bad_Name" is invalid' in cp.stderr, cp.stderr
    assert "metadata.name" in cp.stderr and "Invalid value" in cp.stderr, cp.stderr

    mismatch = bad_dep.replace("replicas: -1", "replicas: 1").replace(
        "labels: {app: bad}", "labels: {app: other}")
    cp = kubectl("create", "-n", namespace, "-f", "-", input=mismatch, check=False)
    assert cp.returncode != 0 and "spec.template.metadata.labels" in cp.stderr, cp.stderr


def test_create_existing_is_already_exists(kubectl, namespace):
    kubectl("create", "configmap", "dup", "-n", namespace, "--from-literal=k=v")
    cp = kubectl("create", "configmap", "dup", "-n", namespace, "--from-literal=k=v", check=False)
    assert cp.returncode != 0
    assert 'configmaps "dup" already exists' in cp.stderr, cp.stderr
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n"
    cp = kubectl("create", "-n", namespace, "-f", "-", input=manifest, check=False)
    assert cp.returncode != 0
    assert "Error from server (AlreadyExists)" in cp.stderr, cp.stderr
    assert 'configmaps "dup" already exists' in cp.stderr, cp.stderr


def test_create_and_apply_list_manifest(kubectl, namespace):
    # a `kind: List` is validated client-side against the server's /openapi/v2
    cp = kubectl("create", "-n", namespace, "-f", "-", input=LIST_MANIFEST)
    assert "configmap/l1 created" in cp.stdout and "service/l2 created" in cp.stdout, cp.stdout
    cp = kubectl("apply", "-n", namespace, "-f", "-", input=LIST_MANIFEST.replace("k: v", "k: w"))
    assert "configmap/l1 configured" in cp.stdout, cp.stdout
    assert get_json(kubectl, "cm", "l1", "-n", namespace)["data"] == {"k": "w"}


# ----------------------------------------------------------------------------- scale / label / patch


def test_scale_subresource(kubectl, namespace, http, server):
    kubectl("create", "deployment", "web", "--image=nginx:1.27", "-n", namespace)
    cp = kubectl("scale", "deploy", "web", "--replicas=3", "-n", namespace)
    assert "deployment.apps/web scaled" in cp.stdout
    dep = get_json(kubectl, "deploy", "web", "-n", namespace)
    assert dep["spec"]["replicas"] == 3
    assert dep["metadata"]["generation"] == 2

    # with a precondition kubectl reads the scale and writes it back (GET + PUT)
    kubectl("scale", "deploy", "web", "--current-replicas=3", "--replicas=2", "-n", namespace)
    assert kubectl("get", "deploy", "web", "-n", namespace, "-o",
                   "jsonpath={.spec.replicas}").stdout == "2"
    cp = kubectl("scale", "deploy", "web", "--current-replicas=5", "--replicas=1", "-n", namespace,
                 check=False)
    assert cp.returncode != 0 and "5" in cp.stderr, cp.stderr

    scale = json.loads(kubectl("get", "--raw",
                               f"/apis/apps/v1/namespaces/{namespace}/deployments/web/scale").stdout)
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1", scale
    assert scale["metadata"]["name"] == "web" and scale["spec"]["replicas"] == 2, scale
    assert scale["status"].get("selector") == "app=web", scale


def test_label_and_annotate(kubectl, namespace):
    kubectl("create", "configmap", "a", "-n", namespace, "--from-literal=k=v")
    assert "configmap/a labeled" in kubectl("label", "cm", "a", "env=prod", "-n", namespace).stdout
    cp = kubectl("label", "cm", "a", "env=dev", "-n", namespace, check=False)
    assert cp.returncode != 0 and "already has a value" in cp.stderr, cp.stderr
    kubectl("label", "cm", "a", "env=dev", "team=core", "--overwrite", "-n", namespace)
    labels = get_json(kubectl, "cm", "a", "-n", namespace)["metadata"]["labels"]
    assert labels == {"env": "dev", "team": "core"}, labels
    assert "configmap/a unlabeled" in kubectl("label", "cm", "a", "env-", "-n", namespace).stdout
    assert names(kubectl("get", "cm", "-n", namespace, "-l", "team=core", "-o", "name")) == {"a"}
    assert names(kubectl("get", "cm", "-n", namespace, "-l", "env", "-o", "name")) == set()

    cp = kubectl("annotate", "cm", "a", "note=hello world", "-n", namespace)
    assert "configmap/a annotated" in cp.stdout
    ann = get_json(kubectl, "cm", "a", "-n", namespace)["metadata"]["annotations"]
    assert ann["note"] == "hello world", ann
    kubectl("annotate", "cm", "a", "note-", "-n", namespace)
    ann = get_json(kubectl, "cm", "a", "-n", namespace)["metadata"].get("annotations") or {}
    assert "note" not in ann, ann


def test_patch_merge_json_strategic(kubectl, namespace):
    kubectl("create", "configmap", "p", "-n", namespace, "--from-literal=k=v", "--from-literal=z=1")
    cp = kubectl("patch", "cm", "p", "-n", namespace, "--type=merge",
                 "-p", '{"data":{"k":"v2","new":"n"}}')
    assert "configmap/p patched" in cp.stdout
    assert get_json(kubectl, "cm", "p", "-n", namespace)["data"] == {"k": "v2", "new": "n", "z": "1"}

    kubectl("patch", "cm", "p", "-n", namespace, "--type=merge", "-p", '{"data":{"z":null}}')
    assert get_json(kubectl, "cm", "p", "-n", namespace)["data"] == {"k": "v2", "new": "n"}

    cp = kubectl("patch", "cm", "p", "-n", namespace, "--type=json", "-p", json.dumps([
        {"op": "add", "path": "/data/added", "value": "a"},
        {"op": "remove", "path": "/data/new"},
        {"op": "replace", "path": "/data/k", "value": "v3"},
    ]))
    assert "configmap/p patched" in cp.stdout
    assert get_json(kubectl, "cm", "p", "-n", namespace)["data"] == {"k": "v3", "added": "a"}

    # a failing JSON-patch "test" op leaves the object alone
    cp = kubectl("patch", "cm", "p", "-n", namespace, "--type=json", "-p", json.dumps([
        {"op": "test", "path": "/data/k", "value": "nope"},
        {"op": "replace", "path": "/data/k", "value": "v4"},
    ]), check=False)
    assert cp.returncode != 0, cp.stdout
    assert get_json(kubectl, "cm", "p", "-n", namespace)["data"]["k"] == "v3"

    rv = get_json(kubectl, "cm", "p", "-n", namespace)["metadata"]["resourceVersion"]
    cp = kubectl("patch", "cm", "p", "-n", namespace, "--type=merge", "-p", '{"data":{"k":"v3"}}')
    assert "configmap/p patched (no change)" in cp.stdout, cp.stdout
    assert get_json(kubectl, "cm", "p", "-n", namespace)["metadata"]["resourceVersion"] == rv

    # default (strategic merge): containers merge by name, the other fields stay
    kubectl("create", "-n", namespace, "-f", "-", input=MANIFEST)
    cp = kubectl("patch", "deploy", "web", "-n", namespace, "-p",
                 '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.29"}]}}}}')
    assert "deployment.apps/web patched" in cp.stdout
    c = get_json(kubectl, "deploy", "web", "-n", namespace)["spec"]["template"]["spec"]["containers"]
    assert len(c) == 1 and c[0]["image"] == "nginx:1.29", c
    assert c[0]["ports"][0]["containerPort"] == 8080, c

    bad = kubectl("patch", "cm", "p", "-n", namespace, "--type=merge", "-p", "{not json", check=False)
    assert bad.returncode != 0


# ----------------------------------------------------------------------------- metrics


def _request_counters(text: str) -> dict[str, float]:
    counters = set(re.findall(r"^# TYPE (\S+) counter$", text, re.M))
    counters = {c for c in counters if "request" in c}
    totals = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if m and m.group(1) in counters:
            totals[m.group(1)] = totals.get(m.group(1), 0.0) + float(m.group(3))
    return totals


def test_metrics_has_request_counters(kubectl):
    before = _request_counters(kubectl("get", "--raw", "/metrics").stdout)
    assert before, "no counter with 'request' in its name in /metrics"
    assert any(v > 0 for v in before.values()), before
    for _ in range(3):
        kubectl("get", "ns", "default")
    text = kubectl("get", "--raw", "/metrics").stdout
    after = _request_counters(text)
    assert any(after.get(k, 0) >= before[k] + 3 for k in before), (before, after)
    assert "apiserver_request_total" in after, \
        f"Kubernetes' own request counter apiserver_request_total missing; have {sorted(after)}"
