"""The real kubectl (v1.33) with default flags against Caravel: client-side apply of a
directory (idempotence, removals through last-applied-configuration), kubectl diff,
server-side apply (conflicts, --force-conflicts), server dry-run, explain, validation,
get -w, edit, label/annotate, set image and the imperative `create` commands."""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from e2eutil import LineReader, kubectl_cmd, unique

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  labels: {app: app, tier: backend, team: blue}
spec:
  replicas: 2
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
      - name: main
        image: nginx:1.25
        ports:
        - {name: http, containerPort: 8080}
        - {name: metrics, containerPort: 9090}
        env:
        - {name: MODE, value: prod}
        - {name: DEBUG, value: "false"}
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: app
  labels: {app: app, tier: backend}
spec:
  selector: {app: app}
  ports:
  - {name: http, port: 80, targetPort: 8080}
  - {name: metrics, port: 9090, targetPort: 9090}
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  labels: {app: app, stage: test}
data:
  greeting: hello
  color: blue
"""

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: app-secret
  labels: {app: app}
type: Opaque
stringData:
  password: s3cr3t
"""


def write_dir(d: Path, deployment=DEPLOYMENT, service=SERVICE, configmap=CONFIGMAP,
              secret=SECRET) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "deployment.yaml").write_text(deployment)
    (d / "service.yaml").write_text(service)
    (d / "configmap.yaml").write_text(configmap)
    (d / "secret.yaml").write_text(secret)
    return d


def get_json(kubectl, *args) -> dict:
    return json.loads(kubectl("get", *args, "-o", "json").stdout)


def action_lines(out: str) -> dict[str, str]:
    """'deployment.apps/app unchanged' lines -> {'deployment.apps/app': 'unchanged'}"""
    res = {}
    for ln in out.splitlines():
        parts = ln.split()
        if len(parts) >= 2:
            res[parts[0]] = " ".join(parts[1:])
    return res


# The edited manifests: a container port, an env var and a label removed, others changed.
DEPLOYMENT_V2 = (DEPLOYMENT
                 .replace("labels: {app: app, tier: backend, team: blue}",
                          "labels: {app: app, tier: frontend}")
                 .replace("        - {name: metrics, containerPort: 9090}\n", "")
                 .replace("{name: http, containerPort: 8080}", "{name: http, containerPort: 8081}")
                 .replace('        - {name: DEBUG, value: "false"}\n', "")
                 .replace("{name: MODE, value: prod}", "{name: MODE, value: staging}"))
SERVICE_V2 = (SERVICE
              .replace("  - {name: metrics, port: 9090, targetPort: 9090}\n", "")
              .replace("labels: {app: app, tier: backend}", "labels: {app: app}"))
CONFIGMAP_V2 = (CONFIGMAP
                .replace("labels: {app: app, stage: test}", "labels: {app: app}")
                .replace("  color: blue\n", "")
                .replace("greeting: hello", "greeting: bonjour"))


def test_apply_directory_idempotent_and_removals(kubectl, namespace, tmp_path):
    d = write_dir(tmp_path / "m")
    out = kubectl("apply", "-n", namespace, "-f", str(d)).stdout
    acts = action_lines(out)
    assert acts.get("deployment.apps/app") == "created", out
    assert acts.get("service/app") == "created", out
    assert acts.get("configmap/app-config") == "created", out
    assert acts.get("secret/app-secret") == "created", out

    out = kubectl("apply", "-n", namespace, "-f", str(d)).stdout
    acts = action_lines(out)
    assert acts.get("deployment.apps/app") == "unchanged", out
    assert acts.get("service/app") == "unchanged", out
    assert acts.get("configmap/app-config") == "unchanged", out
    assert "secret/app-secret" in acts, out

    # kubectl diff: nothing to show -> exit 0
    cp = kubectl("diff", "-n", namespace, "-f", str(d), check=False)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)

    write_dir(d, DEPLOYMENT_V2, SERVICE_V2, CONFIGMAP_V2)
    cp = kubectl("diff", "-n", namespace, "-f", str(d), check=False)
    assert cp.returncode == 1, (cp.returncode, cp.stdout, cp.stderr)
    assert "-        - containerPort: 9090" in cp.stdout or re.search(r"^-.*9090", cp.stdout, re.M), cp.stdout
    assert re.search(r"^\+.*staging", cp.stdout, re.M), cp.stdout
    assert re.search(r"^-.*DEBUG", cp.stdout, re.M), cp.stdout
    assert re.search(r"^-.*team: blue", cp.stdout, re.M), cp.stdout
    # diff changed nothing
    dep = get_json(kubectl, "-n", namespace, "deploy/app")
    assert dep["metadata"]["labels"].get("team") == "blue"

    out = kubectl("apply", "-n", namespace, "-f", str(d)).stdout
    acts = action_lines(out)
    assert acts.get("deployment.apps/app") == "configured", out
    assert acts.get("service/app") == "configured", out
    assert acts.get("configmap/app-config") == "configured", out

    dep = get_json(kubectl, "-n", namespace, "deploy/app")
    assert dep["metadata"]["labels"] == {"app": "app", "tier": "frontend"}, dep["metadata"]["labels"]
    c = dep["spec"]["template"]["spec"]["containers"][0]
    assert [p["containerPort"] for p in c["ports"]] == [8081], c["ports"]
    assert [(e["name"], e.get("value")) for e in c["env"]] == [("MODE", "staging")], c["env"]
    assert c["image"] == "nginx:1.25"
    assert dep["spec"]["replicas"] == 2

    svc = get_json(kubectl, "-n", namespace, "svc/app")
    assert [p["name"] for p in svc["spec"]["ports"]] == ["http"], svc["spec"]["ports"]
    assert svc["metadata"]["labels"] == {"app": "app"}

    cm = get_json(kubectl, "-n", namespace, "cm/app-config")
    assert cm["data"] == {"greeting": "bonjour"}, cm["data"]
    assert cm["metadata"]["labels"] == {"app": "app"}

    sec = get_json(kubectl, "-n", namespace, "secret/app-secret")
    assert base64.b64decode(sec["data"]["password"]).decode() == "s3cr3t"

    # applied again: no diff, all unchanged
    cp = kubectl("diff", "-n", namespace, "-f", str(d), check=False)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    acts = action_lines(kubectl("apply", "-n", namespace, "-f", str(d)).stdout)
    assert acts.get("deployment.apps/app") == "unchanged", acts
    assert acts.get("service/app") == "unchanged", acts
    assert acts.get("configmap/app-config") == "unchanged", acts


def test_server_side_apply_conflicts(kubectl, namespace, tmp_path):
    d = write_dir(tmp_path / "m")
    out = kubectl("apply", "--server-side", "-n", namespace, "-f", str(d)).stdout
    assert "deployment.apps/app serverside-applied" in out, out
    out = kubectl("apply", "--server-side", "-n", namespace, "-f", str(d)).stdout
    assert "deployment.apps/app serverside-applied" in out, out
    dep = get_json(kubectl, "-n", namespace, "deploy/app", "--show-managed-fields")
    managers = {m["manager"] for m in dep["metadata"].get("managedFields", [])}
    assert "kubectl" in managers, dep["metadata"].get("managedFields")

    kubectl("scale", "-n", namespace, "deploy/app", "--replicas=5")
    assert get_json(kubectl, "-n", namespace, "deploy/app")["spec"]["replicas"] == 5

    cp = kubectl("apply", "--server-side", "-n", namespace, "-f", str(d / "deployment.yaml"),
                 check=False)
    assert cp.returncode != 0, cp.stdout
    err = cp.stderr
    assert "conflict" in err.lower(), err
    assert ".spec.replicas" in err, err
    assert '"kubectl"' in err or "kubectl" in err, err
    assert get_json(kubectl, "-n", namespace, "deploy/app")["spec"]["replicas"] == 5

    out = kubectl("apply", "--server-side", "--force-conflicts", "-n", namespace,
                  "-f", str(d / "deployment.yaml")).stdout
    assert "serverside-applied" in out, out
    assert get_json(kubectl, "-n", namespace, "deploy/app")["spec"]["replicas"] == 2


def test_apply_dry_run_server_changes_nothing(kubectl, namespace, tmp_path):
    d = write_dir(tmp_path / "m")
    kubectl("apply", "-n", namespace, "-f", str(d))
    before = get_json(kubectl, "-n", namespace, "cm/app-config")
    write_dir(d, configmap=CONFIGMAP_V2)
    out = kubectl("apply", "--dry-run=server", "-n", namespace, "-f", str(d / "configmap.yaml")).stdout
    assert "configmap/app-config configured (server dry run)" in out, out
    after = get_json(kubectl, "-n", namespace, "cm/app-config")
    assert after["data"] == before["data"] == {"greeting": "hello", "color": "blue"}
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]

    # a new object under dry-run is not created
    new_cm = CONFIGMAP.replace("name: app-config", "name: dry-only")
    (d / "configmap.yaml").write_text(new_cm)
    out = kubectl("apply", "--dry-run=server", "-n", namespace, "-f", str(d / "configmap.yaml")).stdout
    assert "configmap/dry-only created (server dry run)" in out, out
    cp = kubectl("get", "-n", namespace, "cm/dry-only", check=False)
    assert cp.returncode != 0 and "NotFound" in cp.stderr, (cp.stdout, cp.stderr)

    out = kubectl("apply", "--server-side", "--dry-run=server", "-n", namespace,
                  "-f", str(d / "configmap.yaml")).stdout
    assert "(server dry run)" in out, out
    assert kubectl("get", "-n", namespace, "cm/dry-only", check=False).returncode != 0


def test_explain_deployment_strategy(kubectl):
    out = kubectl("explain", "deployment.spec.strategy").stdout
    assert "KIND:" in out and "Deployment" in out, out
    assert "FIELDS:" in out, out
    assert re.search(r"^\s+rollingUpdate\s", out, re.M), out
    assert re.search(r"^\s+type\s", out, re.M), out


def test_unknown_field_refused(kubectl, namespace, tmp_path):
    bad = CONFIGMAP.replace("\ndata:", "\ndatta:")
    f = tmp_path / "bad.yaml"
    f.write_text(bad)
    cp = kubectl("apply", "-n", namespace, "-f", str(f), check=False)
    assert cp.returncode != 0, cp.stdout
    assert "unknown field" in cp.stderr and "datta" in cp.stderr, cp.stderr
    cp = kubectl("create", "-n", namespace, "-f", str(f), check=False)
    assert cp.returncode != 0, cp.stdout
    assert "unknown field" in cp.stderr, cp.stderr
    cp = kubectl("apply", "--server-side", "-n", namespace, "-f", str(f), check=False)
    assert cp.returncode != 0, cp.stdout
    assert "unknown field" in cp.stderr or "field not declared in schema" in cp.stderr, cp.stderr
    assert kubectl("get", "-n", namespace, "cm/app-config", check=False).returncode != 0

    # misspelled nested field in a Deployment
    bad_dep = DEPLOYMENT.replace("containerPort: 8080", "containerPrt: 8080")
    f.write_text(bad_dep)
    cp = kubectl("apply", "-n", namespace, "-f", str(f), check=False)
    assert cp.returncode != 0, cp.stdout
    assert "unknown field" in cp.stderr and "containerPrt" in cp.stderr, cp.stderr


@pytest.mark.timeout(60)
def test_get_watch_shows_new_objects(server, kubectl, namespace):
    kubectl("create", "configmap", "-n", namespace, "before", "--from-literal=a=1")
    p = server.kubectl_popen("get", "cm", "-n", namespace, "-w")
    try:
        r = LineReader(p.stdout)
        r.wait_for(lambda ls: any(ln.startswith("before ") for ln in ls), 20, "initial list")
        names = [f"watched-{i}" for i in range(3)]
        for n in names:
            kubectl("create", "configmap", "-n", namespace, n, "--from-literal=k=v")
        r.wait_for(lambda ls: all(any(ln.startswith(n + " ") for ln in ls) for n in names), 20,
                   "lines for created configmaps")
        kubectl("delete", "configmap", "-n", namespace, "watched-0", "--wait=false")
        # a deletion shows as another line for the object
        r.wait_for(lambda ls: sum(1 for ln in ls if ln.startswith("watched-0 ")) >= 2, 20,
                   "a line for the deleted configmap")
        assert p.poll() is None, p.stderr.read()
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def test_edit_with_sed_editor(server, namespace, tmp_path):
    server.kubectl("create", "configmap", "-n", namespace, "ed", "--from-literal=color=blue")
    env = dict(os.environ)
    env.pop("KUBECONFIG", None)
    env["KUBECTL_KUBERC"] = "false"
    env["KUBE_EDITOR"] = "sed -i -e s/color:\\ blue/color:\\ green/"
    env.pop("EDITOR", None)
    cmd = kubectl_cmd(server.kubeconfig, "edit", "-n", namespace, "configmap/ed",
                      cache_dir=str(server.kube_cache))
    cp = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60,
                        stdin=subprocess.DEVNULL)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert "configmap/ed edited" in cp.stdout, cp.stdout
    cm = get_json(server.kubectl, "-n", namespace, "cm/ed")
    assert cm["data"] == {"color": "green"}, cm

    # an editor that changes nothing -> "Edit cancelled, no changes made."
    env["KUBE_EDITOR"] = "true"
    cp = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60,
                        stdin=subprocess.DEVNULL)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert "no changes" in (cp.stdout + cp.stderr).lower(), (cp.stdout, cp.stderr)


def test_label_and_annotate(kubectl, namespace):
    kubectl("create", "configmap", "-n", namespace, "lab", "--from-literal=a=1")
    out = kubectl("label", "-n", namespace, "cm/lab", "env=dev", "tier=web").stdout
    assert "configmap/lab labeled" in out, out
    cp = kubectl("label", "-n", namespace, "cm/lab", "env=prod", check=False)
    assert cp.returncode != 0 and "already has a value" in cp.stderr, (cp.stdout, cp.stderr)
    kubectl("label", "-n", namespace, "cm/lab", "env=prod", "--overwrite")
    kubectl("label", "-n", namespace, "cm/lab", "tier-")
    labels = get_json(kubectl, "-n", namespace, "cm/lab")["metadata"].get("labels", {})
    assert labels == {"env": "prod"}, labels
    # selector sees the new label
    out = kubectl("get", "cm", "-n", namespace, "-l", "env=prod", "-o", "name").stdout
    assert out.split() == ["configmap/lab"], out

    out = kubectl("annotate", "-n", namespace, "cm/lab", "note=first", "owner=me").stdout
    assert "configmap/lab annotated" in out, out
    cp = kubectl("annotate", "-n", namespace, "cm/lab", "note=second", check=False)
    assert cp.returncode != 0 and "already has a value" in cp.stderr, (cp.stdout, cp.stderr)
    kubectl("annotate", "-n", namespace, "cm/lab", "note=second", "--overwrite")
    kubectl("annotate", "-n", namespace, "cm/lab", "owner-")
    ann = get_json(kubectl, "-n", namespace, "cm/lab")["metadata"].get("annotations", {})
    assert ann == {"note": "second"}, ann


def test_set_image(kubectl, namespace):
    kubectl("create", "deployment", "-n", namespace, "x", "--image=img:1")
    dep = get_json(kubectl, "-n", namespace, "deploy/x")
    cname = dep["spec"]["template"]["spec"]["containers"][0]["name"]
    assert cname == "img", dep["spec"]["template"]["spec"]["containers"]
    out = kubectl("set", "image", "-n", namespace, "deploy/x", f"{cname}=img:2").stdout
    assert "deployment.apps/x image updated" in out, out
    dep2 = get_json(kubectl, "-n", namespace, "deploy/x")
    assert dep2["spec"]["template"]["spec"]["containers"][0]["image"] == "img:2"
    assert dep2["metadata"]["generation"] == dep["metadata"]["generation"] + 1
    cp = kubectl("set", "image", "-n", namespace, "deploy/x", "nosuch=img:3", check=False)
    assert cp.returncode != 0, cp.stdout


def test_create_imperative(kubectl, namespace, tmp_path):
    (tmp_path / "file.txt").write_text("from a file\n")
    out = kubectl("create", "configmap", "-n", namespace, "cm1", "--from-literal=a=1",
                  "--from-literal=b=two", f"--from-file={tmp_path / 'file.txt'}").stdout
    assert "configmap/cm1 created" in out, out
    cm = get_json(kubectl, "-n", namespace, "cm/cm1")
    assert cm["data"] == {"a": "1", "b": "two", "file.txt": "from a file\n"}, cm["data"]

    out = kubectl("create", "secret", "generic", "-n", namespace, "s1",
                  "--from-literal=user=admin", "--from-literal=pw=p@ss").stdout
    assert "secret/s1 created" in out, out
    s = get_json(kubectl, "-n", namespace, "secret/s1")
    assert s["type"] == "Opaque"
    assert {k: base64.b64decode(v).decode() for k, v in s["data"].items()} == {"user": "admin", "pw": "p@ss"}

    out = kubectl("create", "secret", "docker-registry", "-n", namespace, "reg",
                  "--docker-server=r.example.com", "--docker-username=u", "--docker-password=p").stdout
    assert "secret/reg created" in out, out
    s = get_json(kubectl, "-n", namespace, "secret/reg")
    assert s["type"] == "kubernetes.io/dockerconfigjson"
    assert "r.example.com" in base64.b64decode(s["data"][".dockerconfigjson"]).decode()

    out = kubectl("create", "deployment", "-n", namespace, "d1", "--image=nginx:1.27",
                  "--replicas=2", "--port=80").stdout
    assert "deployment.apps/d1 created" in out, out
    d = get_json(kubectl, "-n", namespace, "deploy/d1")
    assert d["spec"]["replicas"] == 2
    assert d["spec"]["selector"]["matchLabels"] == {"app": "d1"}
    c = d["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == "nginx:1.27" and c["ports"][0]["containerPort"] == 80
    # defaults filled in by the server
    assert d["spec"]["strategy"]["type"] == "RollingUpdate", d["spec"]
    assert d["spec"]["template"]["spec"]["restartPolicy"] == "Always"

    out = kubectl("create", "service", "clusterip", "-n", namespace, "svc1", "--tcp=80:8080").stdout
    assert "service/svc1 created" in out, out
    svc = get_json(kubectl, "-n", namespace, "svc/svc1")
    assert svc["spec"]["ports"][0]["targetPort"] == 8080

    # duplicate create -> AlreadyExists
    cp = kubectl("create", "configmap", "-n", namespace, "cm1", check=False)
    assert cp.returncode != 0 and "already exists" in cp.stderr, cp.stderr


def test_apply_prune_with_allowlist(kubectl, namespace, tmp_path):
    two = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p1, labels: {grp: pr}}\ndata: {x: '1'}\n"
           "---\n"
           "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p2, labels: {grp: pr}}\ndata: {x: '1'}\n")
    d = tmp_path / "pr"
    d.mkdir()
    (d / "a.yaml").write_text(two)
    kubectl("apply", "-n", namespace, "-f", str(d), "-l", "grp=pr")
    (d / "a.yaml").write_text(two.split("---\n")[0])
    out = kubectl("apply", "-n", namespace, "-f", str(d), "-l", "grp=pr", "--prune",
                  "--prune-allowlist=core/v1/ConfigMap").stdout
    acts = action_lines(out)
    assert acts == {"configmap/p1": "unchanged", "configmap/p2": "pruned"}, out
    names = kubectl("get", "cm", "-n", namespace, "-l", "grp=pr", "-o", "name").stdout.split()
    assert names == ["configmap/p1"], names


def test_debug_without_ephemeral_containers_fails_cleanly(kubectl, namespace):
    """Caravel has no pods/ephemeralcontainers subresource yet. kubectl then must print its
    own error ("ephemeral containers are disabled for this cluster"), which it does when
    the 404 Status carries `details` (kube-apiserver always sets them); without `details`
    kubectl 1.33 dereferences nil and panics."""
    kubectl("run", "-n", namespace, "dbg", "--image=busybox")
    cp = kubectl("debug", "-n", namespace, "dbg", "--image=busybox", "--profile=general",
                 check=False)
    assert cp.returncode != 0, cp.stdout
    assert "panic" not in cp.stderr, cp.stderr[:800]
    assert "ephemeral containers are disabled" in cp.stderr, cp.stderr
