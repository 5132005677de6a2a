"""PriorityClass with the real kubectl: the system classes exist, `kubectl create priorityclass`
and `kubectl get pc` as on Kubernetes, pods take their class's priority (or the global
default's), and the Priority admission plugin refuses unknown classes, a second default, a
user class above one billion and deleting a system class."""

from __future__ import annotations

import json

import pytest

from e2eutil import parse_table, serve, unique


@pytest.fixture(scope="module")
def pserver(tmp_path_factory):
    with serve(tmp_path_factory, "caravel-priority") as s:
        yield s


def pod_yaml(name: str, ns: str, priority_class: str | None = None) -> str:
    line = f"  priorityClassName: {priority_class}\n" if priority_class else ""
    return f"""apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: {ns}
spec:
{line}  containers:
  - name: c
    image: busybox
"""


def pod_spec(s, name: str, ns: str) -> dict:
    return json.loads(s.kubectl("get", "pod", name, "-n", ns, "-o", "json").stdout)["spec"]


def test_system_classes_are_listed_as_kubectl_shows_them(pserver):
    out = pserver.kubectl("get", "pc").stdout
    rows = parse_table(out)
    assert out.splitlines()[0].split() == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    by_name = {r["NAME"]: r for r in rows}
    assert by_name["system-node-critical"]["VALUE"] == "2000001000"
    assert by_name["system-cluster-critical"]["VALUE"] == "2000000000"
    assert by_name["system-cluster-critical"]["GLOBAL-DEFAULT"] == "false"
    assert by_name["system-cluster-critical"]["PREEMPTIONPOLICY"] == "PreemptLowerPriority"
    cp = pserver.kubectl("delete", "pc", "system-node-critical", check=False)
    assert cp.returncode != 0
    assert "this is a system priority class and cannot be deleted" in cp.stderr


def test_pods_take_their_class_priority(pserver):
    ns = unique("prio")
    pserver.kubectl("create", "namespace", ns)
    out = pserver.kubectl("create", "priorityclass", "batch-low", "--value=100", "--description=batch work",
                          "--preemption-policy=Never").stdout
    assert "priorityclass.scheduling.k8s.io/batch-low created" in out
    pserver.kubectl("apply", "-f", "-", input=pod_yaml("worker", ns, "batch-low"))
    spec = pod_spec(pserver, "worker", ns)
    assert spec["priority"] == 100 and spec["preemptionPolicy"] == "Never"
    pserver.kubectl("apply", "-f", "-", input=pod_yaml("agent", ns, "system-node-critical"))
    assert pod_spec(pserver, "agent", ns)["priority"] == 2000001000

    cp = pserver.kubectl("apply", "-f", "-", input=pod_yaml("lost", ns, "no-such-class"), check=False)
    assert cp.returncode != 0
    assert 'pods "lost" is forbidden: no PriorityClass with name no-such-class was found' in cp.stderr

    cp = pserver.kubectl("patch", "pc", "batch-low", "--type=merge", "-p", '{"value": 200}', check=False)
    assert cp.returncode != 0 and "value: Forbidden: may not be changed in an update." in cp.stderr
    cp = pserver.kubectl("create", "priorityclass", "huge", "--value=1000000001", check=False)
    assert cp.returncode != 0
    assert "maximum allowed value of a user defined priority is 1000000000" in cp.stderr
    pserver.kubectl("delete", "namespace", ns, "--wait=false")


def test_the_global_default_applies_and_is_unique(pserver):
    ns = unique("prio")
    pserver.kubectl("create", "namespace", ns)
    pserver.kubectl("create", "priorityclass", "everyday", "--value=10", "--global-default")
    try:
        cp = pserver.kubectl("create", "priorityclass", "another", "--value=20", "--global-default", check=False)
        assert cp.returncode != 0
        assert "PriorityClass everyday is already marked as default. Only one default can exist" in cp.stderr
        row = {r["NAME"]: r for r in parse_table(pserver.kubectl("get", "pc").stdout)}["everyday"]
        assert row["GLOBAL-DEFAULT"] == "true"
        pserver.kubectl("apply", "-f", "-", input=pod_yaml("plain", ns))
        spec = pod_spec(pserver, "plain", ns)
        assert spec["priority"] == 10 and spec["priorityClassName"] == "everyday"
    finally:
        pserver.kubectl("delete", "pc", "everyday")
    pserver.kubectl("apply", "-f", "-", input=pod_yaml("after", ns))
    assert pod_spec(pserver, "after", ns)["priority"] == 0
    pserver.kubectl("delete", "namespace", ns, "--wait=false")
