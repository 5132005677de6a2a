"""A small aggregated API server for the aggregation tests: `wardle.example.com/v1alpha1`
with one namespaced kind, Flunder (`flunders`: list, get, create, watch), kept in memory. It serves
HTTPS on loopback, asks for a client certificate signed by the cluster CA (the API server's
front-proxy identity) and appends each request it gets (method, path, X-Remote-* headers,
client certificate CN) as a JSON line to a log file the test reads.

Run as `python3 wardle_apiserver.py PORT CERT KEY CLIENT_CA LOG`."""

from __future__ import annotations

import json
import ssl
import sys
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GROUP, VERSION = "wardle.example.com", "v1alpha1"
GV = f"{GROUP}/{VERSION}"
RESOURCES = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": GV, "resources": [
    {"name": "flunders", "singularName": "flunder", "namespaced": True, "kind": "Flunder",
     "verbs": ["create", "get", "list"], "shortNames": ["fl"]}]}


def status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


class Wardle:
    def __init__(self, port: int, cert: str, key: str, client_ca: str, log: str):
        self.flunders: dict[tuple[str, str], dict] = {}
        self.lock = threading.Lock()
        # Watches wait on this for new flunders (ADDED events).
        self.changed = threading.Condition(self.lock)
        self.log = open(log, "a", buffering=1)
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def record(self):
                peer = self.connection.getpeercert() or {}
                cn = next((v for rdn in peer.get("subject", ()) for k, v in rdn if k == "commonName"), "")
                extra = {k: v for k, v in self.headers.items() if k.lower().startswith("x-remote-extra-")}
                app.log.write(json.dumps({"method": self.command, "path": self.path, "user": self.headers.get("X-Remote-User"),
                                          "groups": self.headers.get_all("X-Remote-Group") or [], "extra": extra,
                                          "authorization": self.headers.get("Authorization"), "client_cn": cn}) + "\n")

            def send(self, code: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def route(self):
                path = self.path.split("?")[0].rstrip("/")
                parts = path.split("/")[1:]
                if parts[:3] != ["apis", GROUP, VERSION]:
                    if parts == ["apis", GROUP]:
                        return None, None
                    return "404", None
                rest = parts[3:]
                if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] == "flunders":
                    return rest[1], rest[3] if len(rest) > 3 else ""
                if rest == ["flunders"]:
                    return "", ""
                return ("discovery", None) if not rest else ("404", None)

            def do_GET(self):
                self.record()
                ns, name = self.route()
                if ns == "discovery":
                    return self.send(200, RESOURCES)
                if ns is None:
                    v = {"groupVersion": GV, "version": VERSION}
                    return self.send(200, {"kind": "APIGroup", "apiVersion": "v1", "name": GROUP, "versions": [v], "preferredVersion": v})
                if ns == "404":
                    return self.send(404, status(404, "NotFound", "the server could not find the requested resource"))
                if "watch=true" in self.path or "watch=1" in self.path:
                    return self.watch(ns)
                with app.lock:
                    if name:
                        found = app.flunders.get((ns, name))
                        if found is None:
                            return self.send(404, status(404, "NotFound", f'flunders.{GROUP} "{name}" not found'))
                        return self.send(200, found)
                    items = [f for (n, _), f in sorted(app.flunders.items()) if not ns or n == ns]
                return self.send(200, {"kind": "FlunderList", "apiVersion": GV, "metadata": {"resourceVersion": "1"}, "items": items})

            def watch(self, ns: str):
                """Streams ADDED events (chunked JSON lines) for the flunders there are and those to come."""
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                sent: set = set()
                try:
                    while True:
                        with app.lock:
                            fresh = [(k, f) for k, f in sorted(app.flunders.items()) if k not in sent and (not ns or k[0] == ns)]
                            if not fresh:
                                app.changed.wait(1)
                                continue
                        for k, f in fresh:
                            sent.add(k)
                            line = json.dumps({"type": "ADDED", "object": f}).encode() + b"\n"
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                            self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                    return

            def do_POST(self):
                self.record()
                ns, name = self.route()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if not ns or ns in ("404", "discovery") or name:
                    return self.send(405, status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"))
                meta = body.setdefault("metadata", {})
                name = meta.get("name", "")
                if not name:
                    return self.send(422, status(422, "Invalid", "metadata.name: Required value"))
                with app.lock:
                    if (ns, name) in app.flunders:
                        return self.send(409, status(409, "AlreadyExists", f'flunders.{GROUP} "{name}" already exists'))
                    meta.update({"namespace": ns, "uid": str(uuid.uuid4()), "resourceVersion": "1",
                                 "creationTimestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")})
                    body.update({"apiVersion": GV, "kind": "Flunder"})
                    # Who asked, as the API server said: proves the front-proxy headers arrived.
                    meta.setdefault("annotations", {})["wardle.example.com/created-by"] = self.headers.get("X-Remote-User", "")
                    app.flunders[(ns, name)] = body
                    app.changed.notify_all()
                return self.send(201, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_OPTIONAL
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)


if __name__ == "__main__":
    port, cert, key, client_ca, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
    Wardle(port, cert, key, client_ca, log).httpd.serve_forever()
