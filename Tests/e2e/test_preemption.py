"""Preemption with the real kubectl on a fake node (as kwok): a Deployment of low-priority pods
fills the node; a pod of a higher PriorityClass is nominated to the node, one low pod is marked
DisruptionTarget, gets a Preempted event and goes, and the urgent pod runs in its place; the
replacement low pod waits, told that preemption found no victims for it."""

from __future__ import annotations

import json

import pytest

from e2eutil import serve, wait_for


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with serve(tmp_path_factory, "preemption", controllers=True, kubelet=True, extra_args=["--runtime", "fake"]) as s:
        wait_for(lambda: "True" in s.kubectl("get", "nodes", "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"Ready\")].status}").stdout,
                 timeout=60, what="the fake node to be Ready")
        yield s


def millicores(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else int(float(quantity) * 1000)


def pods(srv) -> list[dict]:
    return json.loads(srv.kubectl("get", "pods", "-o", "json").stdout)["items"]


def test_a_higher_priority_pod_preempts_a_lower_one(srv):
    node = json.loads(srv.kubectl("get", "nodes", "-o", "json").stdout)["items"][0]
    half = millicores(node["status"]["allocatable"]["cpu"]) // 2
    srv.kubectl("create", "priorityclass", "low", "--value=10")
    srv.kubectl("create", "priorityclass", "urgent", "--value=1000")
    container = {"name": "main", "image": "busybox", "resources": {"requests": {"cpu": f"{half}m"}}}
    srv.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "filler"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "filler"}},
                 "template": {"metadata": {"labels": {"app": "filler"}},
                              "spec": {"priorityClassName": "low", "terminationGracePeriodSeconds": 0,
                                       "containers": [container]}}}}))
    srv.kubectl("rollout", "status", "deployment/filler", "--timeout=90s", timeout=120)
    first = {p["metadata"]["name"] for p in pods(srv)}

    srv.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "urgent"},
        "spec": {"priorityClassName": "urgent", "terminationGracePeriodSeconds": 0, "containers": [container]}}))
    srv.kubectl("wait", "--for=condition=Ready", "pod/urgent", "--timeout=90s", timeout=120)
    urgent = json.loads(srv.kubectl("get", "pod", "urgent", "-o", "json").stdout)
    assert urgent["spec"]["priority"] == 1000
    assert urgent["spec"]["nodeName"] == node["metadata"]["name"]

    events = json.loads(srv.kubectl("get", "events", "--field-selector", "reason=Preempted", "-o", "json").stdout)["items"]
    assert len(events) == 1, events
    victim = events[0]["involvedObject"]["name"]
    assert victim in first
    assert events[0]["message"] == f"Preempted by pod {urgent['metadata']['uid']} on node {node['metadata']['name']}"

    def replacement_waits():
        waiting = [p for p in pods(srv) if p["metadata"]["name"] not in first | {"urgent"}]
        conds = [c for p in waiting for c in p["status"].get("conditions") or [] if c["type"] == "PodScheduled"]
        return conds[0]["message"] if conds and conds[0]["reason"] == "Unschedulable" else None

    message = wait_for(replacement_waits, timeout=60, what="the replacement low pod to be Unschedulable")
    assert message == ("0/1 nodes are available: 1 Insufficient cpu. "
                       "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."), message

    srv.kubectl("delete", "deployment", "filler")
    srv.kubectl("delete", "pod", "urgent")
    wait_for(lambda: not pods(srv), timeout=60, what="the pods to go")
    srv.kubectl("delete", "priorityclass", "low", "urgent")
