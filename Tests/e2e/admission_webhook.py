"""The admission webhook the webhook tests talk to: an HTTPS server answering AdmissionReviews,
each path its own way, recording every review. It runs in the test process on loopback, or as
a pod's program: `python3 admission_webhook.py PORT CERT KEY`."""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_certificates(d, san: str = "IP:127.0.0.1") -> tuple[str, str, str]:
    """A CA and a serving certificate for `san` signed by it: (ca.pem, cert, key)."""
    if shutil.which("openssl") is None:
        raise RuntimeError("openssl is needed to make the webhook's certificate")
    ca_key, ca, key, csr, cert, ext = (str(d / n) for n in ("ca.key", "ca.pem", "tls.key", "tls.csr", "tls.pem", "ext.cnf"))
    (d / "ext.cnf").write_text(f"subjectAltName={san}\n")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "1", "-subj", "/CN=webhook-test-ca")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=webhook")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "1", "-extfile", ext)
    return ca, cert, key


def answer(path: str, req: dict) -> dict:
    """The webhook's verdict by path: /deny refuses ConfigMaps labelled deny=true (403),
    /deny-plain refuses those labelled protect=true (no code), /mutate labels the object
    mutated=yes with a warning, anything else allows."""
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


class Webhook:
    """The server; `reviews` holds every review received, with its path."""

    def __init__(self, cert: str, key: str, port: int, host: str = "127.0.0.1"):
        self.reviews: list[dict] = []
        self.port = port
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                req = body["request"]
                hook.reviews.append({"path": self.path, "request": req})
                response = answer(self.path.split("?")[0], req)
                response["uid"] = req["uid"]
                data = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> "Webhook":
        self.thread.start()
        return self

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


if __name__ == "__main__":
    port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    Webhook(cert, key, port, host="0.0.0.0").httpd.serve_forever()
