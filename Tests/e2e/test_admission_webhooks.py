"""Admission webhooks with the real kubectl: a validating webhook that refuses labelled
ConfigMaps in the namespaces its selector picks, a mutating webhook whose JSON patch and
warnings reach the stored object and kubectl, failure policies against a webhook that is not
there, dry-run and DELETE reviews, the configurations' own validation and table, and a webhook
behind a Service whose pod runs on the built-in node. The webhook is an HTTPS server of this
test (on loopback, or as that pod), with a certificate from a CA the test makes and hands to
the server in `caBundle`."""

from __future__ import annotations

import base64
import json
import sys

import pytest

from admission_webhook import Webhook, make_certificates
from e2eutil import REPO, free_port, serve, unique, wait_for


@pytest.fixture(scope="module")
def wserver(tmp_path_factory):
    with serve(tmp_path_factory, "caravel-webhooks") as s:
        yield s


@pytest.fixture(scope="module")
def webhook(tmp_path_factory):
    ca, cert, key = make_certificates(tmp_path_factory.mktemp("webhook-certs"))
    w = Webhook(cert, key, free_port()).start()
    w.ca_bundle = base64.b64encode(open(ca, "rb").read()).decode()
    yield w
    w.close()


def configuration(kind: str, name: str, hook: dict) -> str:
    return json.dumps({"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name}, "webhooks": [hook]})


def hook(name: str, client: dict, operations=("CREATE",), **extra) -> dict:
    h = {"name": name, "clientConfig": client, "sideEffects": "None", "admissionReviewVersions": ["v1"],
         "rules": [{"operations": list(operations), "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}]}
    h.update(extra)
    return h


def create_cm(s, ns: str, name: str, *labels: str, check: bool = False, extra=()):
    cp = s.kubectl("create", "configmap", name, "-n", ns, *extra, check=check)
    if cp.returncode == 0 and labels:
        s.kubectl("label", "configmap", name, "-n", ns, *labels)
    return cp


def apply_cm(s, ns: str, name: str, labels: dict, check: bool = False):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns, "labels": labels}}
    return s.kubectl("apply", "-f", "-", input=json.dumps(body), check=check)


def test_configurations_are_validated_and_listed(wserver, webhook):
    bad = hook("two.segments", {"url": "http://127.0.0.1:1/x"})
    bad["sideEffects"] = "Some"
    cp = wserver.kubectl("apply", "-f", "-", input=configuration("ValidatingWebhookConfiguration", unique("bad"), bad), check=False)
    assert cp.returncode != 0
    assert "is invalid" in cp.stderr
    assert "should be a domain with at least three segments separated by dots" in cp.stderr
    assert "'https' is the only allowed URL scheme" in cp.stderr
    assert 'Unsupported value: "Some"' in cp.stderr

    name = unique("listed")
    good = hook("listed.caravel.test", {"url": webhook.url("/allow"), "caBundle": webhook.ca_bundle},
                namespaceSelector={"matchLabels": {"nobody": "here"}})
    wserver.kubectl("apply", "-f", "-", input=configuration("ValidatingWebhookConfiguration", name, good))
    out = wserver.kubectl("get", "validatingwebhookconfigurations", name).stdout
    assert out.split("\n")[0].split() == ["NAME", "WEBHOOKS", "AGE"]
    assert out.split("\n")[1].split()[:2] == [name, "1"]
    stored = json.loads(wserver.kubectl("get", "validatingwebhookconfiguration", name, "-o", "json").stdout)
    defaulted = stored["webhooks"][0]
    assert (defaulted["failurePolicy"], defaulted["matchPolicy"], defaulted["timeoutSeconds"]) == ("Fail", "Equivalent", 10)
    assert defaulted["rules"][0]["scope"] == "*"
    assert "ValidatingWebhookConfiguration" in wserver.kubectl("explain", "validatingwebhookconfigurations").stdout
    wserver.kubectl("delete", "validatingwebhookconfiguration", name)


def test_validating_webhook_refuses_in_the_namespaces_it_selects(wserver, webhook):
    watched, other = unique("hooked"), unique("plain")
    for ns in (watched, other):
        wserver.kubectl("create", "namespace", ns)
    wserver.kubectl("label", "namespace", watched, "webhooks=on")
    name = unique("deny")
    h = hook("deny.caravel.test", {"url": webhook.url("/deny"), "caBundle": webhook.ca_bundle},
             operations=("CREATE", "UPDATE"), namespaceSelector={"matchLabels": {"webhooks": "on"}})
    wserver.kubectl("apply", "-f", "-", input=configuration("ValidatingWebhookConfiguration", name, h))
    try:
        refused = wait_for(lambda: (lambda cp: cp if cp.returncode != 0 else None)(
            apply_cm(wserver, watched, unique("cm"), {"deny": "true"})), what="the webhook to refuse")
        assert 'admission webhook "deny.caravel.test" denied the request: ConfigMaps labelled deny=true are refused' in refused.stderr
        assert "Forbidden" in refused.stderr or "forbidden" in refused.stderr
        assert apply_cm(wserver, watched, unique("ok"), {"deny": "false"}).returncode == 0
        assert apply_cm(wserver, other, unique("elsewhere"), {"deny": "true"}).returncode == 0
        # An update is reviewed with the old object alongside.
        cm = unique("later")
        assert apply_cm(wserver, watched, cm, {"deny": "false"}).returncode == 0
        cp = apply_cm(wserver, watched, cm, {"deny": "true"})
        assert cp.returncode != 0 and "denied the request" in cp.stderr
        update = [r["request"] for r in webhook.reviews if r["request"]["name"] == cm and r["request"]["operation"] == "UPDATE"]
        assert update and update[-1]["oldObject"]["metadata"]["labels"] == {"deny": "false"}
        assert update[-1]["userInfo"]["username"] == "caravel-admin"
        assert json.loads(wserver.kubectl("get", "cm", cm, "-n", watched, "-o", "json").stdout)["metadata"]["labels"] == {"deny": "false"}
    finally:
        wserver.kubectl("delete", "validatingwebhookconfiguration", name)
        wserver.kubectl("delete", "namespace", watched, other, "--wait=false")


def test_mutating_webhook_patches_the_object_and_warns(wserver, webhook):
    ns = unique("mutated")
    wserver.kubectl("create", "namespace", ns)
    name = unique("mutate")
    h = hook("mutate.caravel.test", {"url": webhook.url("/mutate"), "caBundle": webhook.ca_bundle},
             objectSelector={"matchExpressions": [{"key": "skip", "operator": "DoesNotExist"}]})
    wserver.kubectl("apply", "-f", "-", input=configuration("MutatingWebhookConfiguration", name, h))
    try:
        def mutated():
            cm = unique("cm")
            cp = wserver.kubectl("create", "configmap", cm, "-n", ns)
            labels = json.loads(wserver.kubectl("get", "cm", cm, "-n", ns, "-o", "json").stdout)["metadata"].get("labels", {})
            return cp if labels.get("mutated") == "yes" else None
        cp = wait_for(mutated, what="the mutating webhook's label")
        assert "Warning: labelled by the test webhook" in cp.stderr
        skipped = unique("skipped")
        apply_cm(wserver, ns, skipped, {"skip": "1"}, check=True)
        labels = json.loads(wserver.kubectl("get", "cm", skipped, "-n", ns, "-o", "json").stdout)["metadata"]["labels"]
        assert labels == {"skip": "1"}
    finally:
        wserver.kubectl("delete", "mutatingwebhookconfiguration", name)
        wserver.kubectl("delete", "namespace", ns, "--wait=false")


def test_match_conditions_decide_which_requests_reach_the_webhook(wserver, webhook):
    ns = unique("conditions")
    wserver.kubectl("create", "namespace", ns)
    name = unique("conditions")
    conditions = [
        {"name": "not-skipped", "expression": "!object.metadata.name.startsWith('skip-')"},
        {"name": "by-admin", "expression": "request.userInfo.username == 'caravel-admin'"},
    ]
    h = hook("conditions.caravel.test", {"url": webhook.url("/deny"), "caBundle": webhook.ca_bundle},
             namespaceSelector={"matchLabels": {"kubernetes.io/metadata.name": ns}}, matchConditions=conditions)
    bad = dict(h, matchConditions=[{"name": "broken", "expression": "object.metadata.name =="}])
    cp = wserver.kubectl("apply", "-f", "-", input=configuration("ValidatingWebhookConfiguration", name, bad), check=False)
    assert cp.returncode != 0
    assert "webhooks[0].matchConditions[0].expression: Invalid value" in cp.stderr, cp.stderr
    assert "compilation failed: ERROR: <input>:1:" in cp.stderr, cp.stderr
    wserver.kubectl("apply", "-f", "-", input=configuration("ValidatingWebhookConfiguration", name, h))
    try:
        refused = wait_for(lambda: (lambda cp: cp if cp.returncode != 0 else None)(
            apply_cm(wserver, ns, unique("cm"), {"deny": "true"})), what="the webhook to refuse")
        assert 'admission webhook "conditions.caravel.test" denied the request' in refused.stderr
        before = len(webhook.reviews)
        assert apply_cm(wserver, ns, unique("skip-cm"), {"deny": "true"}).returncode == 0
        assert not [r for r in webhook.reviews[before:] if r["request"]["name"].startswith("skip-")]
        # A condition that fails to evaluate refuses the request under failurePolicy Fail.
        h["matchConditions"] = [{"name": "needs-data", "expression": "object.data.mode == 'strict'"}]
        wserver.kubectl("apply", "-f", "-", input=configuration("ValidatingWebhookConfiguration", name, h))
        cp = wait_for(lambda: (lambda cp: cp if "match condition" in cp.stderr else None)(
            apply_cm(wserver, ns, unique("nodata"), {"deny": "false"})), what="the condition's error to refuse")
        assert cp.returncode != 0
        assert "failed to evaluate match condition 'needs-data': no such key: data" in cp.stderr, cp.stderr
    finally:
        wserver.kubectl("delete", "validatingwebhookconfiguration", name)
        wserver.kubectl("delete", "namespace", ns, "--wait=false")


def test_failure_policies_against_a_webhook_that_is_not_there(wserver, webhook):
    ns = unique("absent")
    wserver.kubectl("create", "namespace", ns)
    wserver.kubectl("label", "namespace", ns, "absent=webhook")
    closed = free_port()
    name = unique("absent")
    selector = {"matchLabels": {"absent": "webhook"}}
    h = hook("absent.caravel.test", {"url": f"https://127.0.0.1:{closed}/x", "caBundle": webhook.ca_bundle},
             namespaceSelector=selector, failurePolicy="Fail", timeoutSeconds=2)
    wserver.kubectl("apply", "-f", "-", input=configuration("ValidatingWebhookConfiguration", name, h))
    try:
        cp = wait_for(lambda: (lambda cp: cp if cp.returncode != 0 else None)(
            wserver.kubectl("create", "configmap", unique("cm"), "-n", ns, check=False)), what="failurePolicy Fail to refuse")
        assert 'Internal error occurred: failed calling webhook "absent.caravel.test"' in cp.stderr
        h["failurePolicy"] = "Ignore"
        wserver.kubectl("apply", "-f", "-", input=configuration("ValidatingWebhookConfiguration", name, h))
        wait_for(lambda: wserver.kubectl("create", "configmap", unique("cm"), "-n", ns, check=False).returncode == 0,
                 what="failurePolicy Ignore to let the write through")
    finally:
        wserver.kubectl("delete", "validatingwebhookconfiguration", name)
        wserver.kubectl("delete", "namespace", ns, "--wait=false")


def test_dry_run_and_delete_reach_the_webhook(wserver, webhook):
    ns = unique("deletes")
    wserver.kubectl("create", "namespace", ns)
    wserver.kubectl("label", "namespace", ns, "protect=on")
    name = unique("protect")
    h = hook("protect.caravel.test", {"url": webhook.url("/deny-plain"), "caBundle": webhook.ca_bundle},
             operations=("CREATE", "DELETE"), namespaceSelector={"matchLabels": {"protect": "on"}})
    wserver.kubectl("apply", "-f", "-", input=configuration("ValidatingWebhookConfiguration", name, h))
    try:
        dry = unique("dry")
        wait_for(lambda: wserver.kubectl("create", "configmap", dry, "-n", ns, "--dry-run=server", check=False).returncode == 0
                 and any(r["request"]["name"] == dry for r in webhook.reviews), what="a dry-run review")
        review = [r["request"] for r in webhook.reviews if r["request"]["name"] == dry][-1]
        assert review["dryRun"] is True and review["options"]["dryRun"] == ["All"]
        assert wserver.kubectl("get", "cm", dry, "-n", ns, check=False).returncode != 0

        kept = unique("kept")
        apply_cm(wserver, ns, kept, {"protect": "false"}, check=True)
        wserver.kubectl("label", "cm", kept, "-n", ns, "protect=true", "--overwrite")
        cp = wserver.kubectl("delete", "cm", kept, "-n", ns, check=False)
        assert cp.returncode != 0
        # No code in the webhook's Status: kube-apiserver answers 400.
        assert 'admission webhook "protect.caravel.test" denied the request: this ConfigMap is protected' in cp.stderr
        deletes = [r["request"] for r in webhook.reviews if r["request"]["name"] == kept and r["request"]["operation"] == "DELETE"]
        assert deletes and deletes[-1].get("object") is None and deletes[-1]["oldObject"]["metadata"]["name"] == kept
        assert wserver.kubectl("get", "cm", kept, "-n", ns).returncode == 0
    finally:
        wserver.kubectl("delete", "validatingwebhookconfiguration", name)
        wserver.kubectl("delete", "namespace", ns, "--wait=false")


def test_a_webhook_behind_a_service_is_called_at_its_ready_endpoint(tmp_path_factory):
    """The webhook runs as a pod of the built-in node (a real process); the configuration names
    its Service, the server dials the pod's address and checks the certificate for
    `hook.NS.svc`."""
    with serve(tmp_path_factory, "caravel-webhook-svc", controllers=True, kubelet=True) as s:
        ns, target = unique("hooksvc"), unique("hooked")
        for n in (ns, target):
            s.kubectl("create", "namespace", n)
        s.kubectl("label", "namespace", target, "service-webhooks=on")
        ca, cert, key = make_certificates(tmp_path_factory.mktemp("svc-certs"), san=f"DNS:hook.{ns}.svc")
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "hook", "namespace": ns, "labels": {"app": "hook"}},
               "spec": {"containers": [{
                   "name": "hook", "image": "python:3", "command": [sys.executable, str(REPO / "Tests/e2e/admission_webhook.py"), "8443", cert, key],
                   "ports": [{"name": "https", "containerPort": 8443}],
                   "readinessProbe": {"tcpSocket": {"port": "https"}, "periodSeconds": 1}}]}}
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "hook", "namespace": ns},
               "spec": {"selector": {"app": "hook"}, "ports": [{"name": "https", "port": 443, "targetPort": "https"}]}}
        name = unique("svc-hook")
        try:
            s.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": [pod, svc]}))
            wait_for(lambda: (json.loads(s.kubectl("get", "endpoints", "hook", "-n", ns, "-o", "json").stdout).get("subsets") or [{}])[0]
                     .get("addresses"), timeout=120, interval=0.5, what="the webhook pod behind its Service")
            ca_bundle = base64.b64encode(open(ca, "rb").read()).decode()
            h = hook("service.caravel.test", {"service": {"namespace": ns, "name": "hook", "path": "/deny"}, "caBundle": ca_bundle},
                     namespaceSelector={"matchLabels": {"service-webhooks": "on"}})
            s.kubectl("apply", "-f", "-", input=configuration("ValidatingWebhookConfiguration", name, h))
            refused = wait_for(lambda: (lambda cp: cp if cp.returncode != 0 else None)(
                apply_cm(s, target, unique("cm"), {"deny": "true"})), timeout=60, what="the Service's webhook to refuse")
            assert 'admission webhook "service.caravel.test" denied the request: ConfigMaps labelled deny=true are refused' in refused.stderr
            assert apply_cm(s, target, unique("ok"), {"deny": "false"}).returncode == 0
        finally:
            s.kubectl("delete", "validatingwebhookconfiguration", name, "--ignore-not-found")
            s.kubectl("delete", "pod", "hook", "-n", ns, "--wait=true", "--timeout=90s", check=False)
            wait_for(lambda: s.kubectl("get", "pod", "hook", "-n", ns, check=False).returncode != 0, timeout=90, what="the pod to go")
