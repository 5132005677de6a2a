"""CustomResourceDefinitions with the real kubectl: a definition applied with kubectl becomes
a served kind (discovery, short names, printer columns, explain), its objects are pruned,
defaulted and validated by the schema with kube-apiserver's messages, the status subresource
works, and deleting the definition deletes its objects and the kind."""

from __future__ import annotations

import json

import pytest

from e2eutil import serve, unique, wait_for

GROUP = unique("stable", 4) + ".example.com"

CRD = f"""\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.{GROUP}
spec:
  group: {GROUP}
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {{}}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.selector
    additionalPrinterColumns:
    - name: Spec
      type: string
      jsonPath: .spec.cronSpec
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [cronSpec]
            properties:
              cronSpec:
                type: string
                pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){{4}}$'
              image:
                type: string
                default: busybox
              replicas:
                type: integer
                minimum: 1
                maximum: 10
              mode:
                type: string
                enum: [Fast, Safe]
          status:
            type: object
            properties:
              lastRun:
                type: string
              replicas:
                type: integer
              selector:
                type: string
"""


def crontab(name: str, **spec) -> str:
    return json.dumps({"apiVersion": f"{GROUP}/v1", "kind": "CronTab", "metadata": {"name": name}, "spec": spec})


@pytest.fixture(scope="module")
def crd(server):
    server.kubectl("apply", "-f", "-", input=CRD)
    try:
        server.kubectl("wait", "--for=condition=Established", f"crd/crontabs.{GROUP}", "--timeout=30s")
        yield f"crontabs.{GROUP}"
    finally:
        server.kubectl("delete", f"crd/crontabs.{GROUP}", "--ignore-not-found", "--timeout=60s", check=False)


def test_definition_is_established_and_listed(server, crd):
    got = json.loads(server.kubectl("get", "crd", crd, "-o", "json").stdout)
    conditions = {c["type"]: c["status"] for c in got["status"]["conditions"]}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}, got["status"]
    assert got["status"]["acceptedNames"]["kind"] == "CronTab"
    assert got["status"]["storedVersions"] == ["v1"]
    resources = server.kubectl("api-resources", "--api-group", GROUP).stdout
    assert "crontabs" in resources and "ct" in resources and "CronTab" in resources, resources


def test_objects_are_defaulted_pruned_and_shown_with_printer_columns(server, crd, namespace):
    server.kubectl("apply", "-n", namespace, "--validate=false", "-f", "-",
                   input=crontab("nightly", cronSpec="0 3 * * *", replicas=2, unknownField="dropped"))
    obj = json.loads(server.kubectl("get", "ct", "nightly", "-n", namespace, "-o", "json").stdout)
    assert obj["spec"]["image"] == "busybox"  # the schema's default
    assert "unknownField" not in obj["spec"]  # pruned
    table = server.kubectl("get", "crontabs", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "SPEC", "REPLICAS", "AGE"], table
    assert table[1].split()[:6] == ["nightly", "0", "3", "*", "*", "*"], table
    assert table[1].split()[6] == "2", table


def test_strict_field_validation_names_the_unknown_field(server, crd, namespace):
    r = server.kubectl("apply", "-n", namespace, "-f", "-", input=crontab("strict", cronSpec="* * * * *", bogus=1), check=False)
    assert r.returncode != 0
    assert 'unknown field "spec.bogus"' in r.stderr, r.stderr


@pytest.mark.parametrize("spec,message", [
    ({"cronSpec": "* * * * *", "replicas": 11}, "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10"),
    ({"cronSpec": "* * * * *", "replicas": "two"}, "spec.replicas in body must be of type integer"),
    ({"cronSpec": "not a cron"}, "spec.cronSpec in body should match"),
    ({"cronSpec": "* * * * *", "mode": "Slow"}, 'spec.mode: Unsupported value: "Slow": supported values: "Fast", "Safe"'),
    ({"replicas": 1}, "spec.cronSpec: Required value"),
])
def test_schema_violations_are_refused_with_the_field(server, crd, namespace, spec, message):
    r = server.kubectl("create", "-n", namespace, "-f", "-", input=crontab("bad", **spec), check=False)
    assert r.returncode != 0
    assert message in r.stderr, r.stderr
    assert "is invalid" in r.stderr, r.stderr
    assert server.kubectl("get", "ct", "bad", "-n", namespace, check=False).returncode != 0


def test_status_subresource_and_explain(server, crd, namespace):
    server.kubectl("apply", "-n", namespace, "-f", "-", input=crontab("with-status", cronSpec="*/5 * * * *"))
    server.kubectl("patch", "ct", "with-status", "-n", namespace, "--subresource=status", "--type=merge",
                   "-p", '{"status":{"lastRun":"2026-12-05T00:00:00Z"}}')
    obj = json.loads(server.kubectl("get", "ct", "with-status", "-n", namespace, "-o", "json").stdout)
    assert obj["status"]["lastRun"] == "2026-12-05T00:00:00Z"
    # The main resource does not change status.
    server.kubectl("patch", "ct", "with-status", "-n", namespace, "--type=merge", "-p", '{"status":{"lastRun":"never"}}')
    obj = json.loads(server.kubectl("get", "ct", "with-status", "-n", namespace, "-o", "json").stdout)
    assert obj["status"]["lastRun"] == "2026-12-05T00:00:00Z"
    explain = server.kubectl("explain", "crontab.spec").stdout
    assert "cronSpec" in explain and "replicas" in explain, explain


def test_deleting_the_definition_deletes_its_objects(server, namespace):
    group = unique("gone", 4) + ".example.com"
    server.kubectl("apply", "-f", "-", input=CRD.replace(GROUP, group))
    server.kubectl("wait", "--for=condition=Established", f"crd/crontabs.{group}", "--timeout=30s")
    server.kubectl("apply", "-n", namespace, "-f", "-", input=crontab("doomed", cronSpec="* * * * *").replace(GROUP, group))
    server.kubectl("delete", f"crd/crontabs.{group}", "--timeout=60s")
    with server.session() as http:
        wait_for(lambda: http.get(server.url + f"/apis/{group}/v1/namespaces/{namespace}/crontabs").status_code == 404,
                 timeout=30, what="the kind to be gone")
    assert server.kubectl("get", "crd", f"crontabs.{group}", check=False).returncode != 0


def test_scale_subresource_at_the_definitions_paths(server, crd, namespace):
    server.kubectl("apply", "-n", namespace, "-f", "-", input=crontab("scaled", cronSpec="* * * * *", replicas=1))
    server.kubectl("patch", "ct", "scaled", "-n", namespace, "--subresource=status", "--type=merge",
                   "-p", '{"status":{"replicas":1,"selector":"app=scaled"}}')
    server.kubectl("scale", "ct", "scaled", "-n", namespace, "--replicas=3")
    obj = json.loads(server.kubectl("get", "ct", "scaled", "-n", namespace, "-o", "json").stdout)
    assert obj["spec"]["replicas"] == 3
    scale = json.loads(server.kubectl("get", "--raw",
                                      f"/apis/{GROUP}/v1/namespaces/{namespace}/crontabs/scaled/scale").stdout)
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 3
    assert scale["status"] == {"replicas": 1, "selector": "app=scaled"}
    # The schema still holds behind the scale subresource.
    r = server.kubectl("scale", "ct", "scaled", "-n", namespace, "--replicas=11", check=False)
    assert r.returncode != 0 and "less than or equal to 10" in r.stderr, r.stderr


@pytest.fixture(scope="module")
def controlled(tmp_path_factory):
    with serve(tmp_path_factory, "crd-hpa", controllers=True) as s:
        yield s


def test_hpa_scales_a_custom_resource_to_its_minimum(controlled):
    controlled.kubectl("apply", "-f", "-", input=CRD)
    controlled.kubectl("wait", "--for=condition=Established", f"crd/crontabs.{GROUP}", "--timeout=30s")
    controlled.kubectl("apply", "-f", "-", input=crontab("autoscaled", cronSpec="* * * * *", replicas=1))
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "autoscaled"},
           "spec": {"scaleTargetRef": {"apiVersion": f"{GROUP}/v1", "kind": "CronTab", "name": "autoscaled"},
                    "minReplicas": 4, "maxReplicas": 6,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}}
    controlled.kubectl("apply", "-f", "-", input=json.dumps(hpa))

    def replicas():
        return json.loads(controlled.kubectl("get", "ct", "autoscaled", "-o", "json").stdout)["spec"].get("replicas")

    wait_for(lambda: replicas() == 4, timeout=60, what="the HPA to raise the custom resource to minReplicas")
    controlled.kubectl("delete", "hpa", "autoscaled")
    controlled.kubectl("delete", f"crd/crontabs.{GROUP}", "--timeout=60s")
