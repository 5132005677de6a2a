"""kubectl-lite get against the real kubectl: same server, same arguments, same output
(tables modulo AGE), same stderr and exit codes."""

from __future__ import annotations

import subprocess
import time

import pytest

from e2eutil import wait_for
from liteutil import Pair, lite_cmd, clean_env, rows_without_header

OBJECTS = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: alpha
  labels: {app: web, tier: front}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: beta
  labels: {app: db}
data: {a: "1", b: "2"}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  labels: {app: web}
spec:
  containers:
  - name: app
    image: caravel/demo-app:1.0
---
apiVersion: v1
kind: Pod
metadata:
  name: web-0
  labels: {app: web, extra: "yes"}
spec:
  containers:
  - name: app
    image: caravel/demo-app:1.0
  - name: side
    image: busybox
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: caravel/demo-app:1.0
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
"""


@pytest.fixture(scope="module")
def pair(server):
    return Pair(server)


@pytest.fixture
def objects(pair, namespace):
    pair.kubectl("apply", "-n", namespace, "-f", "-", input=OBJECTS)
    yield namespace
    pair.kubectl("delete", "pods", "--all", "-n", namespace, "--wait=true")


@pytest.mark.parametrize("args", [
    ["get", "pods"],
    ["get", "po", "-o", "wide"],
    ["get", "configmaps"],
    ["get", "cm", "alpha", "beta"],
    ["get", "cm/alpha", "pod/web-1"],
    ["get", "deploy"],
    ["get", "deployments.apps", "web"],
    ["get", "deployment.v1.apps", "-o", "wide"],
    ["get", "svc,cm"],
    ["get", "all"],
    ["get", "pods", "-l", "app=web"],
    ["get", "pods", "-l", "app=web,extra=yes", "--show-labels"],
    ["get", "cm", "--field-selector", "metadata.name=beta"],
    ["get", "cm", "--show-labels"],
    ["get", "pods", "--sort-by", ".metadata.name"],
    ["get", "cm", "--show-kind"],
])
def test_tables_match(pair, objects, args):
    pair.same(*args, "-n", objects, tables=True)


@pytest.mark.parametrize("args", [
    ["get", "cm", "alpha", "-o", "yaml"],
    ["get", "cm", "-o", "yaml"],
    ["get", "cm", "alpha", "-o", "json"],
    ["get", "deploy", "-o", "yaml"],
    ["get", "deploy", "web", "-o", "json"],
    ["get", "pods", "-o", "name"],
    ["get", "all", "-o", "name"],
    ["get", "cm", "-o", "jsonpath={.items[*].metadata.name}"],
    ["get", "pods", "-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\t\"}{.spec.containers[*].image}{\"\\n\"}{end}"],
    ["get", "pod", "web-0", "-o", "jsonpath={.metadata.labels}"],
    ["get", "pods", "-o", "jsonpath={.items[?(@.metadata.name==\"web-1\")].spec.containers[0].name}"],
    ["get", "pods", "-o", "custom-columns=NAME:.metadata.name,IMAGES:.spec.containers[*].image,NODE:.spec.nodeName"],
    ["get", "cm", "--no-headers", "-o", "custom-columns=N:.metadata.name"],
    ["get", "cm", "--sort-by", "{.metadata.name}", "-o", "name"],
    ["get", "pods", "-l", "app=none"],
    ["get", "pods", "-l", "app=none", "-o", "json"],
    ["get", "cm", "nosuch"],
    ["get", "cm", "alpha", "nosuch", "-o", "name"],
    ["get", "nosuchtype"],
    ["get"],
    ["get", "pods", "-o", "bogus"],
    ["get", "cm", "nosuch", "--ignore-not-found"],
])
def test_exact_output_matches(pair, objects, args):
    pair.same(*args, "-n", objects)


def test_no_headers_rows_match(pair, objects):
    k, l = pair.both("get", "pods", "--no-headers", "-n", objects)
    assert k.returncode == l.returncode == 0
    assert rows_without_header(l.stdout, 4) == rows_without_header(k.stdout, 4)


def test_cluster_scoped_and_all_namespaces(pair, objects):
    pair.same("get", "namespace", objects, tables=True)
    pair.same("get", "nodes")  # no node in this server: the "No resources found" notice
    k, l = pair.both("get", "cm", "-A", "-l", "app")
    assert l.returncode == k.returncode == 0
    from liteutil import table
    assert table(l.stdout) == table(k.stdout)


def test_namespace_flag_before_the_verb_and_attached_values(pair, objects):
    k = pair.kubectl("get", "cm", "alpha", "-n", objects, "-o", "yaml")
    assert pair.lite("-n", objects, "get", "cm", "alpha", "-oyaml").stdout == k.stdout
    assert pair.lite("get", "cm", "alpha", f"--namespace={objects}", "--output=yaml").stdout == k.stdout


def test_unknown_flag_is_an_error_with_exit_1(pair):
    k, l = pair.both("get", "pods", "--bogus")
    assert k.returncode == l.returncode == 1
    assert l.stderr.startswith("error: unknown flag: --bogus")


def test_watch_prints_new_rows(pair, objects):
    cmd = lite_cmd(pair.server.kubeconfig, "get", "cm", "-w", "-n", objects, cache_dir=str(pair.server.kube_cache))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
    try:
        lines: list[str] = []
        first = proc.stdout.readline()
        assert first.startswith("NAME"), first
        pair.kubectl("create", "configmap", "gamma", "--from-literal=x=y", "-n", objects)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("gamma"):
                break
        assert any(l.startswith("gamma ") for l in lines), lines
    finally:
        proc.terminate()
        proc.wait(timeout=10)
