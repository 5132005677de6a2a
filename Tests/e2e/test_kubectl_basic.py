"""The real kubectl (v1.33, .tools/bin/kubectl) against Caravel: discovery, create/apply,
tables, output formats, selectors, deletion, errors, subresources, patches, metrics."""

from __future__ import annotations

import base64
import json
import re

import pytest
import yaml

from e2eutil import parse_table, unique, wait_for

MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  labels: {app: web}
data:
  greeting: hello
  mode: test
---
apiVersion: v1
kind: Secret
metadata:
  name: web-secret
  labels: {app: web}
type: Opaque
stringData:
  user: admin
  password: s3cr3t
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Pod
metadata:
  name: web-pod
  labels: {app: web, role: standalone}
spec:
  containers:
  - name: web
    image: nginx:1.27
"""

CREATED = ["configmap/web-config", "secret/web-secret", "service/web",
           "deployment.apps/web", "pod/web-pod"]


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def names(cp) -> set[str]:
    """Names from `-o name` output ('configmap/x' -> 'x'), ignoring controller-made objects."""
    out = {ln.split("/", 1)[1] for ln in cp.stdout.split() if "/" in ln}
    return out - {"kube-root-ca.crt"}


def get_json(kubectl, *args):
    return json.loads(kubectl("get", *args, "-o", "json").stdout)


def output_lines(cp) -> list[str]:
    return [ln.strip() for ln in cp.stdout.splitlines() if ln.strip()]


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
