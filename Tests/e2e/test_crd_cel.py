"""CEL validation rules (`x-kubernetes-validations`) of CustomResourceDefinitions with the real
kubectl: a rule that does not compile refuses the definition, rules run at every schema level
with `self` bound to the node, transition rules compare with `oldSelf` on updates, and failures
are 422s naming the field with the rule's message or messageExpression."""

from __future__ import annotations

import json

import pytest

from e2eutil import unique

GROUP = unique("cel", 4) + ".example.com"

CRD = f"""\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: scalers.{GROUP}
spec:
  group: {GROUP}
  scope: Namespaced
  names:
    plural: scalers
    singular: scaler
    kind: Scaler
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: self.minReplicas <= self.maxReplicas
              message: minReplicas must not exceed maxReplicas
              fieldPath: .minReplicas
            properties:
              storageClass:
                type: string
                x-kubernetes-validations:
                - rule: self == oldSelf
                  message: storageClass is immutable
              minReplicas:
                type: integer
              maxReplicas:
                type: integer
                x-kubernetes-validations:
                - rule: self <= 5
                  messageExpression: "'maxReplicas is ' + string(self) + ', at most 5 allowed'"
              tags:
                type: array
                items:
                  type: string
                  x-kubernetes-validations:
                  - rule: self.matches('^[a-z]+$')
                    message: tags are lowercase words
"""


def scaler(name: str, **spec) -> str:
    return json.dumps({"apiVersion": f"{GROUP}/v1", "kind": "Scaler", "metadata": {"name": name}, "spec": spec})


@pytest.fixture(scope="module")
def crd(server):
    server.kubectl("apply", "-f", "-", input=CRD)
    try:
        server.kubectl("wait", "--for=condition=Established", f"crd/scalers.{GROUP}", "--timeout=30s")
        yield f"scalers.{GROUP}"
    finally:
        server.kubectl("delete", f"crd/scalers.{GROUP}", "--ignore-not-found", "--timeout=60s", check=False)


def test_valid_objects_are_accepted(server, crd, namespace):
    server.kubectl("create", "-n", namespace, "-f", "-",
                   input=scaler("ok", storageClass="fast", minReplicas=1, maxReplicas=3, tags=["web"]))
    obj = json.loads(server.kubectl("get", crd, "ok", "-n", namespace, "-o", "json").stdout)
    assert obj["spec"]["maxReplicas"] == 3


@pytest.mark.parametrize("spec,message", [
    ({"minReplicas": 4, "maxReplicas": 2},
     'spec.minReplicas: Invalid value: "object": minReplicas must not exceed maxReplicas'),
    ({"minReplicas": 1, "maxReplicas": 9},
     'spec.maxReplicas: Invalid value: "integer": maxReplicas is 9, at most 5 allowed'),
    ({"minReplicas": 1, "maxReplicas": 2, "tags": ["ok", "Not-OK"]},
     'spec.tags[1]: Invalid value: "string": tags are lowercase words'),
])
def test_rules_refuse_with_the_field_and_message(server, crd, namespace, spec, message):
    r = server.kubectl("create", "-n", namespace, "-f", "-", input=scaler("bad", **spec), check=False)
    assert r.returncode != 0
    assert message in r.stderr, r.stderr
    assert "is invalid" in r.stderr, r.stderr
    assert server.kubectl("get", crd, "bad", "-n", namespace, check=False).returncode != 0


def test_transition_rule_keeps_a_field_immutable(server, crd, namespace):
    server.kubectl("create", "-n", namespace, "-f", "-",
                   input=scaler("fixed", storageClass="fast", minReplicas=1, maxReplicas=2))
    r = server.kubectl("patch", crd, "fixed", "-n", namespace, "--type=merge",
                       "-p", '{"spec":{"storageClass":"slow"}}', check=False)
    assert r.returncode != 0
    assert 'spec.storageClass: Invalid value: "string": storageClass is immutable' in r.stderr, r.stderr
    # Other fields still change, and the unchanged storage class passes the rule.
    server.kubectl("patch", crd, "fixed", "-n", namespace, "--type=merge", "-p", '{"spec":{"maxReplicas":4}}')
    obj = json.loads(server.kubectl("get", crd, "fixed", "-n", namespace, "-o", "json").stdout)
    assert obj["spec"]["storageClass"] == "fast" and obj["spec"]["maxReplicas"] == 4


def test_a_rule_that_does_not_compile_refuses_the_definition(server):
    group = unique("badcel", 4) + ".example.com"
    bad = CRD.replace(GROUP, group).replace("rule: self <= 5", "rule: self <=")
    r = server.kubectl("apply", "-f", "-", input=bad, check=False)
    assert r.returncode != 0
    assert ("spec.validation.openAPIV3Schema.properties[spec].properties[maxReplicas]"
            ".x-kubernetes-validations[0].rule") in r.stderr, r.stderr
    assert "compilation failed: ERROR: <input>:1:8: Syntax error" in r.stderr, r.stderr
    assert server.kubectl("get", "crd", f"scalers.{group}", check=False).returncode != 0
    undeclared = CRD.replace(GROUP, group).replace("rule: self <= 5", "rule: other <= 5")
    r = server.kubectl("apply", "-f", "-", input=undeclared, check=False)
    assert r.returncode != 0 and "undeclared reference to 'other'" in r.stderr, r.stderr
