"""ValidatingAdmissionPolicy and its bindings with the real kubectl: a CEL policy bound to
labelled namespaces refuses Deployments with too many replicas with the policy's message, a Warn
binding turns the same failure into a kubectl warning, a param (a ConfigMap) carries the limit,
and a policy whose expression does not compile is refused."""

from __future__ import annotations

import json

import pytest

from e2eutil import unique


def deployment(name: str, replicas: int) -> str:
    return json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "c", "image": "caravel/demo-app"}]}}},
    })


def policy(name: str, expression: str, *, message: str = "", message_expression: str = "", param_kind=None) -> str:
    validation = {"expression": expression}
    if message:
        validation["message"] = message
    if message_expression:
        validation["messageExpression"] = message_expression
    spec = {
        "failurePolicy": "Fail",
        "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
                                                "operations": ["CREATE", "UPDATE"], "resources": ["deployments"]}]},
        "validations": [validation],
    }
    if param_kind:
        spec["paramKind"] = param_kind
    return json.dumps({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
                       "metadata": {"name": name}, "spec": spec})


def binding(name: str, policy_name: str, actions: list[str], label: str, param_ref=None) -> str:
    spec = {"policyName": policy_name, "validationActions": actions,
            "matchResources": {"namespaceSelector": {"matchLabels": {label: "true"}}}}
    if param_ref:
        spec["paramRef"] = param_ref
    return json.dumps({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
                       "metadata": {"name": name}, "spec": spec})


@pytest.fixture
def cleanup(server):
    made: list[tuple[str, str]] = []
    yield made
    for kind, name in reversed(made):
        server.kubectl("delete", kind, name, "--ignore-not-found", check=False)


def test_deny_binding_refuses_with_the_policy_message(server, namespace, cleanup):
    label = unique("limited", 4)
    name = unique("max-replicas", 4)
    server.kubectl("label", "namespace", namespace, f"{label}=true")
    server.kubectl("apply", "-f", "-", input=policy(name, "object.spec.replicas <= 5", message="replicas must be at most 5"))
    cleanup.append(("validatingadmissionpolicy", name))
    server.kubectl("apply", "-f", "-", input=binding(name, name, ["Deny"], label))
    cleanup.append(("validatingadmissionpolicybinding", name))

    r = server.kubectl("create", "-n", namespace, "-f", "-", input=deployment("big", 6), check=False)
    assert r.returncode != 0
    assert (f"ValidatingAdmissionPolicy '{name}' with binding '{name}' denied request: replicas must be at most 5"
            in r.stderr), r.stderr
    assert server.kubectl("get", "deployment", "big", "-n", namespace, check=False).returncode != 0
    server.kubectl("create", "-n", namespace, "-f", "-", input=deployment("small", 5))
    # Scaling past the limit is an update the policy also takes.
    r = server.kubectl("scale", "deployment", "small", "-n", namespace, "--replicas=9", check=False)
    assert r.returncode != 0 and "replicas must be at most 5" in r.stderr, r.stderr
    # A namespace without the label is not bound.
    other = unique("unbound", 4)
    server.kubectl("create", "namespace", other)
    try:
        server.kubectl("create", "-n", other, "-f", "-", input=deployment("big", 6))
    finally:
        server.kubectl("delete", "namespace", other, "--wait=false", check=False)


def test_warn_binding_shows_a_kubectl_warning(server, namespace, cleanup):
    label = unique("warned", 4)
    name = unique("warn-replicas", 4)
    server.kubectl("label", "namespace", namespace, f"{label}=true")
    server.kubectl("apply", "-f", "-", input=policy(
        name, "object.spec.replicas <= 2",
        message_expression="'replicas is ' + string(object.spec.replicas) + ', more than 2'"))
    cleanup.append(("validatingadmissionpolicy", name))
    server.kubectl("apply", "-f", "-", input=binding(name, name, ["Warn"], label))
    cleanup.append(("validatingadmissionpolicybinding", name))

    r = server.kubectl("create", "-n", namespace, "-f", "-", input=deployment("warned", 3))
    assert (f"Warning: Validation failed for ValidatingAdmissionPolicy '{name}' with binding '{name}': "
            "replicas is 3, more than 2") in r.stderr, r.stderr
    assert server.kubectl("get", "deployment", "warned", "-n", namespace).returncode == 0


def test_param_from_a_configmap(server, namespace, cleanup):
    label = unique("params", 4)
    name = unique("param-replicas", 4)
    server.kubectl("label", "namespace", namespace, f"{label}=true")
    server.kubectl("create", "configmap", "limits", "-n", namespace, "--from-literal=max=3")
    server.kubectl("apply", "-f", "-", input=policy(
        name, "object.spec.replicas <= int(params.data.max)",
        message_expression="'at most ' + params.data.max + ' replicas'",
        param_kind={"apiVersion": "v1", "kind": "ConfigMap"}))
    cleanup.append(("validatingadmissionpolicy", name))
    server.kubectl("apply", "-f", "-", input=binding(name, name, ["Deny"], label,
                                                     param_ref={"name": "limits", "namespace": namespace,
                                                                "parameterNotFoundAction": "Deny"}))
    cleanup.append(("validatingadmissionpolicybinding", name))
    r = server.kubectl("create", "-n", namespace, "-f", "-", input=deployment("four", 4), check=False)
    assert r.returncode != 0 and "denied request: at most 3 replicas" in r.stderr, r.stderr
    server.kubectl("create", "-n", namespace, "-f", "-", input=deployment("three", 3))


def test_a_policy_that_does_not_compile_is_refused(server):
    name = unique("broken", 4)
    r = server.kubectl("apply", "-f", "-", input=policy(name, "object.spec.replicas <="), check=False)
    assert r.returncode != 0
    assert "spec.validations[0].expression: Invalid value" in r.stderr, r.stderr
    assert "compilation failed: ERROR: <input>:1:" in r.stderr, r.stderr
    r = server.kubectl("apply", "-f", "-", input=policy(name, "authorizer.requestResource.check('get').allowed()"), check=False)
    assert r.returncode != 0 and "undeclared reference to 'authorizer'" in r.stderr, r.stderr


def test_param_from_a_custom_resource(server, namespace, cleanup):
    group = unique("limits", 4) + ".example.com"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"replicalimits.{group}"},
        "spec": {"group": group, "scope": "Cluster",
                 "names": {"plural": "replicalimits", "singular": "replicalimit", "kind": "ReplicaLimit"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                     "type": "object", "properties": {"maxReplicas": {"type": "integer"}}}}}]},
    }
    server.kubectl("apply", "-f", "-", input=json.dumps(crd))
    cleanup.append(("crd", f"replicalimits.{group}"))
    server.kubectl("wait", "--for=condition=Established", f"crd/replicalimits.{group}", "--timeout=30s")
    server.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": f"{group}/v1", "kind": "ReplicaLimit",
                                                         "metadata": {"name": "two"}, "maxReplicas": 2}))
    label = unique("crparams", 4)
    name = unique("cr-replicas", 4)
    server.kubectl("label", "namespace", namespace, f"{label}=true")
    server.kubectl("apply", "-f", "-", input=policy(
        name, "object.spec.replicas <= params.maxReplicas && request.namespace == namespaceObject.metadata.name",
        message="over the ReplicaLimit", param_kind={"apiVersion": f"{group}/v1", "kind": "ReplicaLimit"}))
    cleanup.append(("validatingadmissionpolicy", name))
    server.kubectl("apply", "-f", "-", input=binding(name, name, ["Deny"], label, param_ref={"name": "two"}))
    cleanup.append(("validatingadmissionpolicybinding", name))
    r = server.kubectl("create", "-n", namespace, "-f", "-", input=deployment("three", 3), check=False)
    assert r.returncode != 0 and "denied request: over the ReplicaLimit" in r.stderr, r.stderr
    server.kubectl("create", "-n", namespace, "-f", "-", input=deployment("two", 2))
