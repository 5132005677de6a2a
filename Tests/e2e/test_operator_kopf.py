"""An operator written with kopf (the real package from PyPI) runs against Caravel: it watches
its own custom resource, creates a child Deployment, writes the resource's status, and handles
deletion through its finalizer; the child then goes with the garbage collector."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from e2eutil import serve, unique, wait_for

GROUP = unique("echo", 4) + ".example.com"
OPERATOR = Path(__file__).parent / "operators" / "echo_operator.py"

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": f"echoes.{GROUP}"},
    "spec": {
        "group": GROUP, "scope": "Namespaced",
        "names": {"plural": "echoes", "singular": "echo", "kind": "Echo"},
        "versions": [{
            "name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {"message": {"type": "string"}, "replicas": {"type": "integer"}}},
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            }}},
        }],
    },
}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with serve(tmp_path_factory, "kopf", controllers=True) as s:
        yield s


@pytest.fixture(scope="module")
def operator(srv, tmp_path_factory):
    srv.kubectl("apply", "-f", "-", input=json.dumps(CRD))
    srv.kubectl("wait", "--for=condition=Established", f"crd/echoes.{GROUP}", "--timeout=30s")
    srv.kubectl("create", "namespace", "echoes")
    log = tmp_path_factory.mktemp("kopf") / "operator.log"
    env = dict(os.environ, KUBECONFIG=srv.kubeconfig, ECHO_GROUP=GROUP)
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "kopf", "run", "--standalone", "--namespace", "echoes", str(OPERATOR)],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def get(srv, *args):
    r = srv.kubectl("get", *args, "-n", "echoes", "-o", "json", check=False)
    return json.loads(r.stdout) if r.returncode == 0 else None


def test_operator_creates_child_writes_status_and_finalizes(srv, operator):
    echo = {"apiVersion": f"{GROUP}/v1", "kind": "Echo", "metadata": {"name": "hello"},
            "spec": {"message": "hi", "replicas": 2}}
    srv.kubectl("apply", "-n", "echoes", "-f", "-", input=json.dumps(echo))
    try:
        dep = wait_for(lambda: get(srv, "deployment", "hello-echo"), timeout=60,
                       what=f"the operator's Deployment (log: {operator.read_text()[-2000:] if operator.exists() else ''})")
        assert dep["spec"]["replicas"] == 2
        owner = dep["metadata"]["ownerReferences"][0]
        assert owner["kind"] == "Echo" and owner["name"] == "hello"
        obj = wait_for(lambda: (o := get(srv, f"echoes.{GROUP}", "hello")) and o.get("status", {}).get("create") and o,
                       timeout=60, what="the handler's result in status")
        assert obj["status"]["create"] == {"deployment": "hello-echo"}
        assert any("kopf" in f for f in obj["metadata"].get("finalizers", [])), obj["metadata"]
    finally:
        srv.kubectl("delete", "-n", "echoes", f"echoes.{GROUP}", "hello", "--timeout=60s", check=False)
    wait_for(lambda: get(srv, f"echoes.{GROUP}", "hello") is None, timeout=60, what="the Echo to be gone")
    cm = wait_for(lambda: get(srv, "configmap", "hello-deleted"), timeout=30, what="the deletion handler's ConfigMap")
    assert cm["data"] == {"by": "echo-operator"}
    wait_for(lambda: get(srv, "deployment", "hello-echo") is None, timeout=60, what="the child Deployment to be collected")
