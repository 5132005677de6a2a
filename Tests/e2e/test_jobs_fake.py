"""Jobs on the fake runtime (as kwok): a Job's pods complete by themselves, so a Job of 6
completions 3 at a time finishes on a fake node with the real kubectl waiting for it; a pod
annotated to exit with a failure code makes its Job fail at its backoff limit."""

from __future__ import annotations

import json

import pytest

from e2eutil import serve, wait_for


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with serve(tmp_path_factory, "jobs-fake", controllers=True, kubelet=True, extra_args=["--runtime", "fake"]) as s:
        wait_for(lambda: "True" in s.kubectl("get", "nodes", "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"Ready\")].status}").stdout,
                 timeout=60, what="the fake node to be Ready")
        yield s


def job(name: str, annotations: dict | None = None, **spec) -> str:
    return json.dumps({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
                       "spec": {**spec, "template": {"metadata": {"annotations": annotations or {}},
                                                     "spec": {"restartPolicy": "Never",
                                                              "containers": [{"name": "main", "image": "busybox"}]}}}})


def test_job_completes_on_fake_nodes(srv):
    srv.kubectl("apply", "-f", "-", input=job("batch", completions=6, parallelism=3))
    srv.kubectl("wait", "--for=condition=complete", "job/batch", "--timeout=120s", timeout=150)
    got = json.loads(srv.kubectl("get", "job", "batch", "-o", "json").stdout)
    assert got["status"]["succeeded"] == 6, got["status"]
    srv.kubectl("delete", "job", "batch", "--wait=true", "--timeout=60s")
    wait_for(lambda: not json.loads(srv.kubectl("get", "pods", "-o", "json").stdout)["items"], timeout=60, what="the pods to go")


def test_job_of_failing_fake_pods_reaches_its_backoff_limit(srv):
    srv.kubectl("apply", "-f", "-", input=job("failing", {"caravel.dev/fake-exit-code": "2"}, backoffLimit=0))
    srv.kubectl("wait", "--for=condition=failed", "job/failing", "--timeout=120s", timeout=150)
    got = json.loads(srv.kubectl("get", "job", "failing", "-o", "json").stdout)
    reasons = [c.get("reason") for c in got["status"]["conditions"] if c["type"] == "Failed"]
    assert reasons == ["BackoffLimitExceeded"], got["status"]
    srv.kubectl("delete", "job", "failing", "--wait=true", "--timeout=60s")
    wait_for(lambda: not json.loads(srv.kubectl("get", "pods", "-o", "json").stdout)["items"], timeout=60, what="the pods to go")
