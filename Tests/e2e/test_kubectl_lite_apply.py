"""kubectl-lite apply/create/delete against the real kubectl: the same messages and exit
codes, and client-side apply interoperating in both directions (`unchanged`)."""

from __future__ import annotations

import json

import pytest

from liteutil import Pair

DEPLOY = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}, owner: apply-test}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: app
        image: {image}
        ports: [{{containerPort: 8080}}]
        env: [{{name: MODE, value: "{mode}"}}]
"""

CONFIG = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  labels: {{owner: apply-test}}
data: {{key: "{value}"}}
"""


def deploy(name, replicas=2, image="caravel/demo-app:1.0", mode="a"):
    return DEPLOY.format(name=name, replicas=replicas, image=image, mode=mode)


@pytest.fixture(scope="module")
def pair(server):
    return Pair(server)


def test_apply_interop_both_directions(pair, namespace):
    ns = ["-n", namespace]
    # kubectl-lite creates, kubectl re-applies: unchanged.
    l = pair.lite("apply", *ns, "-f", "-", input=deploy("one"))
    assert (l.returncode, l.stdout, l.stderr) == (0, "deployment.apps/one created\n", "")
    k = pair.kubectl("apply", *ns, "-f", "-", input=deploy("one"))
    assert k.stdout == "deployment.apps/one unchanged\n", k.stderr
    # kubectl creates, kubectl-lite re-applies: unchanged.
    k = pair.kubectl("apply", *ns, "-f", "-", input=deploy("two"))
    assert k.stdout == "deployment.apps/two created\n"
    l = pair.lite("apply", *ns, "-f", "-", input=deploy("two"))
    assert (l.returncode, l.stdout, l.stderr) == (0, "deployment.apps/two unchanged\n", "")
    # The annotations both tools write are identical.
    a = json.loads(pair.kubectl("get", "deploy", "one", *ns, "-o", "json").stdout)
    b = json.loads(pair.kubectl("get", "deploy", "two", *ns, "-o", "json").stdout)
    key = "kubectl.kubernetes.io/last-applied-configuration"
    assert a["metadata"]["annotations"][key].replace("one", "two") == b["metadata"]["annotations"][key]
    # A change through kubectl-lite, then kubectl sees nothing left to do, and the reverse.
    l = pair.lite("apply", *ns, "-f", "-", input=deploy("one", replicas=3, image="caravel/demo-app:2.0", mode="b"))
    assert l.stdout == "deployment.apps/one configured\n", l.stderr
    live = json.loads(pair.kubectl("get", "deploy", "one", *ns, "-o", "json").stdout)
    assert live["spec"]["replicas"] == 3
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "caravel/demo-app:2.0"
    k = pair.kubectl("apply", *ns, "-f", "-", input=deploy("one", replicas=3, image="caravel/demo-app:2.0", mode="b"))
    assert k.stdout == "deployment.apps/one unchanged\n"
    k = pair.kubectl("apply", *ns, "-f", "-", input=deploy("two", replicas=1))
    assert k.stdout == "deployment.apps/two configured\n"
    l = pair.lite("apply", *ns, "-f", "-", input=deploy("two", replicas=1))
    assert l.stdout == "deployment.apps/two unchanged\n"


def test_apply_removes_fields_dropped_from_the_config(pair, namespace):
    ns = ["-n", namespace]
    with_label = CONFIG.format(name="cfg", value="1").replace("labels: {owner: apply-test}", "labels: {owner: apply-test, extra: x}")
    pair.lite("apply", *ns, "-f", "-", input=with_label)
    l = pair.lite("apply", *ns, "-f", "-", input=CONFIG.format(name="cfg", value="1"))
    assert l.stdout == "configmap/cfg configured\n"
    labels = json.loads(pair.kubectl("get", "cm", "cfg", *ns, "-o", "json").stdout)["metadata"]["labels"]
    assert labels == {"owner": "apply-test"}
    assert pair.kubectl("apply", *ns, "-f", "-", input=CONFIG.format(name="cfg", value="1")).stdout == "configmap/cfg unchanged\n"


def test_dry_runs_change_nothing(pair, namespace, tmp_path):
    ns = ["-n", namespace]
    f = tmp_path / "cm.yaml"
    f.write_text(CONFIG.format(name="dry", value="1"))
    for mode in ("client", "server"):
        pair.same("apply", *ns, "-f", str(f), f"--dry-run={mode}")
        pair.same("create", *ns, "-f", str(f), f"--dry-run={mode}")
    k, l = pair.both("get", "cm", "dry", *ns)
    assert k.returncode == l.returncode == 1
    pair.same("apply", "-f", str(f), "--dry-run=bogus")


def test_server_side_apply(pair, namespace):
    ns = ["-n", namespace]
    l = pair.lite("apply", "--server-side", *ns, "-f", "-", input=CONFIG.format(name="ssa", value="1"))
    assert (l.returncode, l.stdout) == (0, "configmap/ssa serverside-applied\n"), l.stderr
    k = pair.kubectl("apply", "--server-side", *ns, "-f", "-", input=CONFIG.format(name="ssa", value="2"))
    assert k.stdout == "configmap/ssa serverside-applied\n"
    live = json.loads(pair.kubectl("get", "cm", "ssa", *ns, "-o", "json", "--show-managed-fields").stdout)
    assert live["data"] == {"key": "2"}
    assert {m["manager"] for m in live["metadata"]["managedFields"]} == {"kubectl"}


def test_directories_recursive_and_prune(pair, namespace, tmp_path):
    ns = ["-n", namespace]
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.yaml").write_text(CONFIG.format(name="a", value="1"))
    (tmp_path / "sub" / "b.yml").write_text(CONFIG.format(name="b", value="1"))
    (tmp_path / "notes.txt").write_text("not a manifest")
    pair.same("apply", *ns, "-f", str(tmp_path), "--dry-run=client")
    pair.same("apply", *ns, "-R", "-f", str(tmp_path), "--dry-run=client")
    l = pair.lite("apply", *ns, "-R", "-f", str(tmp_path))
    assert l.stdout == "configmap/a created\nconfigmap/b created\n", l.stderr
    (tmp_path / "sub" / "b.yml").unlink()
    l = pair.lite("apply", *ns, "-R", "-f", str(tmp_path), "--prune", "-l", "owner=apply-test")
    assert l.stdout == "configmap/a unchanged\nconfigmap/b pruned\n", l.stderr
    k, _ = pair.both("get", "cm", "b", *ns)
    assert k.returncode == 1


def test_create_and_its_errors(pair, namespace, tmp_path):
    ns = ["-n", namespace]
    f = tmp_path / "c.yaml"
    f.write_text(CONFIG.format(name="created", value="1"))
    l = pair.lite("create", *ns, "-f", str(f))
    assert (l.returncode, l.stdout) == (0, "configmap/created created\n")
    pair.same("create", *ns, "-f", str(f))  # AlreadyExists, exit 1, same text
    pair.same("apply", *ns, "-f", str(tmp_path / "missing.yaml"))
    pair.same("create", *ns, "-f", "-", input="apiVersion: v1\nkind: Nope\nmetadata: {name: x}\n")
    # apply on an object made without the annotation warns, then patches it in.
    g = tmp_path / "g.yaml"
    g.write_text(CONFIG.format(name="plain", value="1"))
    pair.kubectl("create", *ns, "-f", str(g))
    k = pair.kubectl("apply", *ns, "-f", str(f))
    l = pair.lite("apply", *ns, "-f", str(g))
    assert l.stdout == "configmap/plain configured\n" and k.stdout == "configmap/created configured\n"
    assert l.stderr == k.stderr.replace("configmaps/created", "configmaps/plain")


@pytest.mark.parametrize("args", [
    ["create", "configmap", "gen-cm", "--from-literal=a=1", "--from-literal=b=two"],
    ["create", "secret", "generic", "gen-secret", "--from-literal=password=s3cret"],
    ["create", "serviceaccount", "gen-sa"],
    ["create", "deployment", "gen-deploy", "--image=caravel/demo-app:1.0", "--replicas=2", "--port=8080"],
])
def test_create_generators_make_the_same_objects(pair, namespace, args):
    ns = ["-n", namespace]
    pair.same(*args, *ns, "--dry-run=client", "-o", "yaml")
    pair.same(*args, *ns, "--dry-run=client")
    l = pair.lite(*args, *ns)
    assert l.returncode == 0 and l.stdout.endswith(" created\n"), l.stderr
    pair.same(*args, *ns)  # now both say AlreadyExists


def test_create_namespace_and_token(pair):
    l = pair.lite("create", "namespace", "lite-made-ns")
    assert (l.returncode, l.stdout) == (0, "namespace/lite-made-ns created\n")
    pair.same("create", "namespace", "lite-made-ns")
    assert pair.lite("delete", "namespace", "lite-made-ns", "--wait=false").stdout == "namespace \"lite-made-ns\" deleted\n"
    l = pair.lite("create", "token", "default", "-n", "default")
    assert l.returncode == 0 and l.stdout.count(".") == 2, l.stderr


def test_delete_forms(pair, namespace, tmp_path):
    ns = ["-n", namespace]
    for name in ("d1", "d2", "d3", "d4"):
        pair.kubectl("apply", *ns, "-f", "-", input=CONFIG.format(name=name, value="1"))
    l = pair.lite("delete", "cm", "d1", *ns)
    assert (l.returncode, l.stdout) == (0, "configmap \"d1\" deleted\n")
    pair.same("delete", "cm", "d1", *ns)  # NotFound
    pair.same("delete", "cm", "d1", "--ignore-not-found", *ns)
    pair.same("delete", "cm", *ns)  # no name
    pair.same("delete", *ns)  # nothing at all
    pair.same("delete", "cm", "x", "--cascade=bogus", *ns)
    f = tmp_path / "d2.yaml"
    f.write_text(CONFIG.format(name="d2", value="1"))
    l = pair.lite("delete", "-f", str(f), *ns)
    assert l.stdout == "configmap \"d2\" deleted\n"
    l = pair.lite("delete", "cm", "-l", "owner=apply-test", "--cascade=background", *ns)
    assert l.stdout == "configmap \"d3\" deleted\nconfigmap \"d4\" deleted\n", l.stderr
    pair.same("delete", "cm", "-l", "owner=apply-test", *ns)  # No resources found
    pair.lite("apply", *ns, "-f", "-", input=deploy("gone"))
    l = pair.lite("delete", "deploy", "--all", "--cascade=orphan", "--wait=false", *ns)
    assert l.stdout == "deployment.apps \"gone\" deleted\n"
    # The suite runs without controllers, so nothing drops the orphan finalizer: the delete
    # is recorded as an orphaning one and the object waits for the garbage collector.
    k = pair.kubectl("get", "deploy", "gone", *ns, "-o", "jsonpath={.metadata.deletionTimestamp} {.metadata.finalizers}")
    stamp, finalizers = k.stdout.split(" ", 1)
    assert stamp and "orphan" in finalizers, k.stdout
