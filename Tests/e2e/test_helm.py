"""Helm v4 (.tools/bin/helm; server-side apply by default) against Caravel: install, list,
status, get manifest, upgrade, rollback, history, template --validate and uninstall of the
small chart in Tests/e2e/charts/demo. The session server runs without controllers, so no
pods appear; helm is told not to wait for readiness."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from e2eutil import REPO, wait_for

HELM = Path(os.environ.get("CARAVEL_HELM", REPO / ".tools" / "bin" / "helm"))
CHART = Path(__file__).resolve().parent / "charts" / "demo"


@pytest.fixture(scope="module")
def helm_env(tmp_path_factory):
    if not HELM.exists():
        pytest.skip(f"{HELM} not found: run scripts/fetch-tools.sh")
    base = tmp_path_factory.mktemp("helm-home")
    env = dict(os.environ)
    env.pop("KUBECONFIG", None)
    for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        d = base / var.lower()
        d.mkdir()
        env[var] = str(d)
    env["HELM_NO_PLUGINS"] = "1"
    return env


@pytest.fixture
def helm(server, helm_env, namespace):
    def run(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [str(HELM), "--kubeconfig", server.kubeconfig, "-n", namespace, *map(str, args)]
        cp = subprocess.run(cmd, env=helm_env, capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL)
        if check and cp.returncode != 0:
            raise AssertionError(f"helm {' '.join(map(str, args))} exited {cp.returncode}\n"
                                 f"stdout:\n{cp.stdout}\nstderr:\n{cp.stderr}")
        return cp
    return run


def get_json(kubectl, ns, *args) -> dict:
    return json.loads(kubectl("get", *args, "-n", ns, "-o", "json").stdout)


def release_secrets(kubectl, ns, name="demo") -> list[dict]:
    items = get_json(kubectl, ns, "secrets", "-l", f"owner=helm,name={name}")["items"]
    return sorted(items, key=lambda s: int(s["metadata"]["labels"]["version"]))


@pytest.mark.timeout(120)
def test_helm_install_upgrade_uninstall(helm, kubectl, namespace):
    ns = namespace
    cp = helm("install", "demo", CHART, "--wait=false")
    assert "STATUS: deployed" in cp.stdout, cp.stdout

    dep = get_json(kubectl, ns, "deploy/demo-web")
    assert dep["spec"]["replicas"] == 1
    assert dep["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    assert dep["metadata"]["annotations"].get("meta.helm.sh/release-name") == "demo"
    assert dep["metadata"]["annotations"].get("meta.helm.sh/release-namespace") == ns
    svc = get_json(kubectl, ns, "svc/demo-web")
    assert svc["spec"]["ports"][0]["port"] == 80 and svc["spec"]["ports"][0]["targetPort"] == "http"
    assert get_json(kubectl, ns, "cm/demo-config")["data"] == {"GREETING": "hello"}
    sec = get_json(kubectl, ns, "secret/demo-secret")
    assert sec["data"] == {"password": "czNjcjN0"}

    # Helm v4 applies server-side: its field manager owns the fields
    dep = get_json(kubectl, ns, "deploy/demo-web", "--show-managed-fields")
    managers = {(m["manager"], m["operation"]) for m in dep["metadata"]["managedFields"]}
    assert any(op == "Apply" for _, op in managers), managers

    rel = release_secrets(kubectl, ns)
    assert [s["type"] for s in rel] == ["helm.sh/release.v1"], rel
    assert rel[0]["metadata"]["labels"]["status"] == "deployed"

    rows = json.loads(helm("list", "-o", "json").stdout)
    assert [(r["name"], r["status"], str(r["revision"])) for r in rows] == [("demo", "deployed", "1")], rows
    out = helm("list").stdout
    assert "demo" in out and "deployed" in out, out
    out = helm("status", "demo").stdout
    assert "STATUS: deployed" in out, out
    out = helm("get", "manifest", "demo").stdout
    assert "kind: Deployment" in out and "name: demo-web" in out, out
    assert json.loads(helm("get", "values", "demo", "-o", "json").stdout) in (None, {})

    # upgrade with a new value
    cp = helm("upgrade", "demo", CHART, "--set", "replicas=3", "--set", "greeting=bonjour",
              "--wait=false")
    assert "has been upgraded" in cp.stdout, cp.stdout
    dep = get_json(kubectl, ns, "deploy/demo-web")
    assert dep["spec"]["replicas"] == 3
    assert dep["metadata"]["generation"] == 2
    assert get_json(kubectl, ns, "cm/demo-config")["data"] == {"GREETING": "bonjour"}
    rows = json.loads(helm("list", "-o", "json").stdout)
    assert [(r["status"], str(r["revision"])) for r in rows] == [("deployed", "2")], rows
    rel = release_secrets(kubectl, ns)
    assert [s["metadata"]["labels"]["status"] for s in rel] == ["superseded", "deployed"], \
        [s["metadata"]["labels"] for s in rel]
    hist = json.loads(helm("history", "demo", "-o", "json").stdout)
    assert [h["revision"] for h in hist] == [1, 2], hist

    # rollback to revision 1
    cp = helm("rollback", "demo", "1", "--wait=false", check=False)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert get_json(kubectl, ns, "deploy/demo-web")["spec"]["replicas"] == 1
    assert get_json(kubectl, ns, "cm/demo-config")["data"] == {"GREETING": "hello"}

    # uninstall: objects and release secrets gone
    cp = helm("uninstall", "demo")
    assert 'release "demo" uninstalled' in cp.stdout, cp.stdout
    for obj in ("deploy/demo-web", "svc/demo-web", "cm/demo-config", "secret/demo-secret"):
        wait_for(lambda: kubectl("get", obj, "-n", ns, check=False).returncode != 0, 30,
                 what=f"{obj} deleted")
    wait_for(lambda: not release_secrets(kubectl, ns), 30, what="release secrets deleted")
    assert json.loads(helm("list", "-o", "json").stdout) == []


def test_helm_template_validate_and_dry_run(helm, kubectl, namespace):
    out = helm("template", "demo", CHART, "--validate").stdout
    assert "kind: Deployment" in out, out
    out = helm("install", "demo", CHART, "--dry-run=server").stdout
    assert "STATUS: pending-install" in out, out
    assert kubectl("get", "deploy/demo-web", "-n", namespace, check=False).returncode != 0
    assert not release_secrets(kubectl, namespace)


def test_helm_client_side_apply(helm, kubectl, namespace):
    cp = helm("install", "demo", CHART, "--server-side=false", "--wait=false")
    assert "STATUS: deployed" in cp.stdout, cp.stdout
    cp = helm("upgrade", "demo", CHART, "--server-side=false", "--set", "replicas=2", "--wait=false")
    assert "has been upgraded" in cp.stdout, cp.stdout
    assert get_json(kubectl, namespace, "deploy/demo-web")["spec"]["replicas"] == 2
    helm("uninstall", "demo")
    wait_for(lambda: kubectl("get", "deploy/demo-web", "-n", namespace, check=False).returncode != 0,
             30, what="deployment deleted")
