"""Admission webhooks with the real kubectl: a validating webhook that refuses labelled
ConfigMaps in the namespaces its selector picks, a mutating webhook whose JSON patch and
warnings reach the stored object and kubectl, failure policies against a webhook that is not
there, dry-run and DELETE reviews, and the configurations' own validation and table.
The webhook is an HTTPS server of this test on loopback, with a certificate from a CA the
test makes and hands to the server in `caBundle`."""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from e2eutil import free_port, serve, unique, wait_for


def make_certificates(d) -> tuple[str, str, str]:
    """A CA and a serving certificate for 127.0.0.1 signed by it: (ca.pem, cert, key)."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make the webhook's certificate", pytrace=False)
    ca_key, ca, key, csr, cert, ext = (str(d / n) for n in ("ca.key", "ca.pem", "tls.key", "tls.csr", "tls.pem", "ext.cnf"))
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "1", "-subj", "/CN=webhook-test-ca")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "1", "-extfile", ext)
    return ca, cert, key


class Webhook:
    """The test's webhook: every review is recorded; each path answers its own way."""

    def __init__(self, cert: str, key: str):
        self.reviews: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                req = body["request"]
                hook.reviews.append({"path": self.path, "request": req})
                response = hook.answer(self.path.split("?")[0], req)
                response["uid"] = req["uid"]
                data = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.port = free_port()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str, req: dict) -> dict:
        obj = req.get("object") or req.get("oldObject") or {}
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if path == "/deny":
            if labels.get("deny") == "true":
                return {"allowed": False, "status": {"code": 403, "reason": "Forbidden", "message": "ConfigMaps labelled deny=true are refused"}}
            return {"allowed": True}
        if path == "/deny-plain":
            return {"allowed": labels.get("protect") != "true", "status": {"message": "this ConfigMap is protected"}}
        if path == "/mutate":
            ops = [] if labels else [{"op": "add", "path": "/metadata/labels", "value": {}}]
            ops.append({"op": "add", "path": "/metadata/labels/mutated", "value": "yes"})
            patch = base64.b64encode(json.dumps(ops).encode()).decode()
            return {"allowed": True, "patchType": "JSONPatch", "patch": patch, "warnings": ["labelled by the test webhook"]}
        return {"allowed": True}

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def wserver(tmp_path_factory):
    with serve(tmp_path_factory, "caravel-webhooks") as s:
        yield s


@pytest.fixture(scope="module")
def webhook(tmp_path_factory):
    ca, cert, key = make_certificates(tmp_path_factory.mktemp("webhook-certs"))
    w = Webhook(cert, key)
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
