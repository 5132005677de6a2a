"""CustomResourceDefinition webhook conversion with the real kubectl: a definition with two
versions whose field is renamed (v1 `spec.hostPort`, v2 `spec.host`), stored in v1 and
converted by an HTTPS ConversionReview webhook of this test (on loopback, trusted through the
definition's caBundle). Objects written in one version read back in the other, lists and
watches come converted, and a webhook that fails or answers wrongly makes the request a 500
with its message."""

from __future__ import annotations

import base64
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from admission_webhook import make_certificates
from e2eutil import free_port, serve, unique, wait_for

GROUP = "stable.conversion.example.com"


def convert(obj: dict, desired: str) -> dict:
    """v1 `hostPort` <-> v2 `host`; the test's labels choose a misbehaviour."""
    out = json.loads(json.dumps(obj))
    spec = out.setdefault("spec", {})
    if desired.endswith("/v2") and "hostPort" in spec:
        spec["host"] = spec.pop("hostPort")
    if desired.endswith("/v1") and "host" in spec:
        spec["hostPort"] = spec.pop("host")
    out["apiVersion"] = desired
    mode = (obj.get("metadata", {}).get("labels") or {}).get("mode")
    if mode == "rename":
        out["metadata"]["name"] = "renamed"  # not a label or annotation: taken back by the server
        out["metadata"].setdefault("labels", {})["converted"] = "yes"
    if mode == "wrong-version":
        out["apiVersion"] = f"{GROUP}/v9"
    return out


class ConversionWebhook:
    def __init__(self, cert: str, key: str, port: int):
        self.reviews: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                req = review["request"]
                hook.reviews.append(req)
                modes = {(o["metadata"].get("labels") or {}).get("mode") for o in req["objects"]}
                response = {"uid": req["uid"], "result": {"status": "Success"},
                            "convertedObjects": [convert(o, req["desiredAPIVersion"]) for o in req["objects"]]}
                if "fail" in modes:
                    response = {"uid": req["uid"], "result": {"status": "Failure", "message": "this object cannot be converted"}}
                if "wrong-uid" in modes:
                    response["uid"] = "not-the-request"
                if "drop" in modes:
                    response["convertedObjects"] = []
                data = json.dumps({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview", "response": response}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"https://127.0.0.1:{port}/convert"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def cserver(tmp_path_factory):
    with serve(tmp_path_factory, "caravel-conversion") as s:
        yield s


@pytest.fixture(scope="module")
def webhook(tmp_path_factory):
    ca, cert, key = make_certificates(tmp_path_factory.mktemp("conversion-certs"))
    w = ConversionWebhook(cert, key, free_port())
    w.ca_bundle = base64.b64encode(open(ca, "rb").read()).decode()
    yield w
    w.close()


def schema(field: str) -> dict:
    return {"openAPIV3Schema": {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {field: {"type": "string"}}}}}}


@pytest.fixture(scope="module")
def crd(cserver, webhook):
    body = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"backends.{GROUP}"},
            "spec": {"group": GROUP, "scope": "Namespaced",
                     "names": {"plural": "backends", "singular": "backend", "kind": "Backend"},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema("hostPort")},
                                  {"name": "v2", "served": True, "storage": False, "schema": schema("host")}],
                     "conversion": {"strategy": "Webhook", "webhook": {
                         "conversionReviewVersions": ["v1"],
                         "clientConfig": {"url": webhook.url, "caBundle": webhook.ca_bundle}}}}}
    cserver.kubectl("apply", "-f", "-", input=json.dumps(body))
    wait_for(lambda: "backends" in cserver.kubectl("api-resources", "--api-group", GROUP).stdout, timeout=30, what="backends served")
    ns = unique("conv")
    cserver.kubectl("create", "namespace", ns)
    yield ns
    cserver.kubectl("delete", "namespace", ns, "--wait=false")


def backend(version: str, name: str, field: str, value: str, **labels) -> str:
    return json.dumps({"apiVersion": f"{GROUP}/{version}", "kind": "Backend",
                       "metadata": {"name": name, "labels": labels}, "spec": {field: value}})


def get(cserver, ns: str, version: str, name: str) -> dict:
    return json.loads(cserver.kubectl("get", f"backends.{version}.{GROUP}", name, "-n", ns, "-o", "json").stdout)


def test_create_in_v1_read_in_v2_and_back(cserver, webhook, crd):
    ns = crd
    cserver.kubectl("create", "-n", ns, "-f", "-", input=backend("v1", "one", "hostPort", "db:5432"))
    v2 = get(cserver, ns, "v2", "one")
    assert v2["apiVersion"] == f"{GROUP}/v2" and v2["spec"] == {"host": "db:5432"}
    before = len(webhook.reviews)
    v1 = get(cserver, ns, "v1", "one")
    assert v1["spec"] == {"hostPort": "db:5432"}
    assert len(webhook.reviews) == before, "a read in the storage version needs no conversion"

    cserver.kubectl("create", "-n", ns, "-f", "-", input=backend("v2", "two", "host", "cache:6379"))
    # Written in v2: converted to the storage version v1 (and the answer back to v2).
    to_storage = [r for r in webhook.reviews if r["desiredAPIVersion"] == f"{GROUP}/v1"]
    assert to_storage and to_storage[-1]["objects"][0]["spec"] == {"host": "cache:6379"}
    assert get(cserver, ns, "v1", "two")["spec"] == {"hostPort": "cache:6379"}
    assert get(cserver, ns, "v2", "two")["spec"] == {"host": "cache:6379"}

    # A list in v2 is one review with every object.
    before = len(webhook.reviews)
    items = json.loads(cserver.kubectl("get", f"backends.v2.{GROUP}", "-n", ns, "-o", "json").stdout)["items"]
    assert {i["metadata"]["name"]: i["spec"] for i in items} == {"one": {"host": "db:5432"}, "two": {"host": "cache:6379"}}
    assert len(webhook.reviews) == before + 1 and len(webhook.reviews[-1]["objects"]) == 2

    # An update in v2 goes back to storage through the webhook.
    cserver.kubectl("patch", f"backends.v2.{GROUP}", "two", "-n", ns, "--type=merge", "-p", '{"spec":{"host":"cache:6380"}}')
    assert get(cserver, ns, "v1", "two")["spec"] == {"hostPort": "cache:6380"}


def test_watch_in_v2_is_converted(cserver, webhook, crd):
    ns = crd
    cserver.kubectl("create", "-n", ns, "-f", "-", input=backend("v1", "watched", "hostPort", "w:1"))
    proc = cserver.kubectl_popen("get", f"backends.v2.{GROUP}", "watched", "-n", ns, "--watch", "-o", "json")
    lines: list[str] = []

    def reader():
        for line in proc.stdout:
            lines.append(line if isinstance(line, str) else line.decode())
    threading.Thread(target=reader, daemon=True).start()
    try:
        wait_for(lambda: '"host": "w:1"' in "".join(lines), timeout=30, what="the listed object in v2")
        # Once listed, the watch is open: the change arrives as a watch event, converted.
        cserver.kubectl("patch", f"backends.v1.{GROUP}", "watched", "-n", ns, "--type=merge", "-p", '{"spec":{"hostPort":"w:2"}}')
        wait_for(lambda: '"host": "w:2"' in "".join(lines), timeout=30, what="the watch event in v2")
        assert '"hostPort"' not in "".join(lines)
    finally:
        proc.terminate()
        proc.wait(10)


def test_metadata_other_than_labels_is_kept(cserver, webhook, crd):
    ns = crd
    cserver.kubectl("create", "-n", ns, "-f", "-", input=backend("v1", "meta", "hostPort", "m:1", mode="rename"))
    v2 = get(cserver, ns, "v2", "meta")
    assert v2["metadata"]["name"] == "meta" and v2["metadata"]["labels"]["converted"] == "yes"
    assert v2["spec"] == {"host": "m:1"}


@pytest.mark.parametrize("mode,message", [
    ("fail", "this object cannot be converted"),
    ("wrong-uid", "expected response uid"),
    ("drop", "returned 0 objects, expected 1"),
    ("wrong-version", f"expected apiVersion {GROUP}/v2, got {GROUP}/v9"),
])
def test_bad_answers_are_500_with_the_message(cserver, webhook, crd, mode, message):
    ns = crd
    name = f"bad-{mode}"
    cserver.kubectl("create", "-n", ns, "-f", "-", input=backend("v1", name, "hostPort", "x:1", mode=mode))
    cp = cserver.kubectl("get", f"backends.v2.{GROUP}", name, "-n", ns, "-o", "json", check=False)
    assert cp.returncode != 0 and "Internal error occurred" in cp.stderr, cp.stderr
    assert f"conversion webhook for backends.{GROUP} failed" in cp.stderr and message in cp.stderr, cp.stderr
    # Nothing changed: the stored object still reads in its own version.
    assert get(cserver, ns, "v1", name)["spec"] == {"hostPort": "x:1"}
    cserver.kubectl("delete", f"backends.v1.{GROUP}", name, "-n", ns)


def test_conversion_settings_are_validated(cserver):
    def crd_with(conversion: dict):
        body = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": f"others.{GROUP}"},
                "spec": {"group": GROUP, "scope": "Namespaced", "names": {"plural": "others", "kind": "Other"},
                         "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema("a")}],
                         "conversion": conversion}}
        return cserver.kubectl("create", "-f", "-", input=json.dumps(body), check=False)

    cp = crd_with({"strategy": "Webhook"})
    assert "spec.conversion.webhook: Required value" in cp.stderr, cp.stderr
    cp = crd_with({"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v1beta1"], "clientConfig": {"url": "https://127.0.0.1:1/x"}}})
    assert "spec.conversion.webhook.conversionReviewVersions" in cp.stderr, cp.stderr
    cp = crd_with({"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v1"], "clientConfig": {}}})
    assert "spec.conversion.webhook.clientConfig: Required value" in cp.stderr, cp.stderr
    cp = crd_with({"strategy": "None", "webhook": {"conversionReviewVersions": ["v1"], "clientConfig": {"url": "https://127.0.0.1:1/x"}}})
    assert "spec.conversion.webhook: Forbidden" in cp.stderr, cp.stderr
    cp = crd_with({"strategy": "Sideways"})
    assert "spec.conversion.strategy: Unsupported value" in cp.stderr, cp.stderr
