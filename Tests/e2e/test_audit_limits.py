"""Audit log (DIR/audit.log) and request limits: a wait in line, then 429 TooManyRequests with Retry-After."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import time
from urllib.parse import urlparse

from e2eutil import RawWatch, unique, wait_for


def audit_events(data_dir) -> list[dict]:
    path = data_dir / "audit.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_audit_log_records_secret_create_without_its_value(server, kubectl, namespace):
    value = "sup3rs3cret"
    kubectl("create", "secret", "generic", "s", "--from-literal=password=" + value, "-n", namespace)

    def created():
        return [e for e in audit_events(server.data_dir)
                if e.get("verb") == "create" and (e.get("objectRef") or {}).get("resource") == "secrets"
                and (e.get("objectRef") or {}).get("namespace") == namespace]

    events = wait_for(created, timeout=15, what="the secret's create in audit.log")
    e = events[-1]
    assert e["apiVersion"] == "audit.k8s.io/v1" and e["kind"] == "Event"
    assert e["level"] == "Metadata" and e["stage"] == "ResponseComplete"
    assert e["user"]["username"] == "caravel-admin"
    assert "system:masters" in e["user"]["groups"]
    assert e["responseStatus"]["code"] == 201
    assert e["objectRef"]["apiVersion"] == "v1"
    assert e["requestReceivedTimestamp"] and e["stageTimestamp"] and e["latency"]
    assert e["sourceIPs"] and e["auditID"]
    raw = (server.data_dir / "audit.log").read_bytes()
    assert value.encode() not in raw
    assert base64.b64encode(value.encode()) not in raw


def test_watches_per_user_are_capped(start_server):
    srv = start_server("caravel-limits", extra_args=["--max-watches-per-user", "2"])
    url = f"{srv.url}/api/v1/namespaces/default/configmaps"
    with srv.session() as s1, srv.session() as s2, srv.session() as s3:
        w1 = RawWatch(s1, url, {"watch": "true", "timeoutSeconds": "3"})
        w2 = RawWatch(s2, url, {"watch": "true"})
        try:
            assert (w1.status_code, w2.status_code) == (200, 200)
            w3 = RawWatch(s3, url, {"watch": "true"})
            assert w3.status_code == 429, w3.body
            assert w3.headers.get("Retry-After") == "1"
            body = json.loads(w3.body)
            assert body["kind"] == "Status" and body["reason"] == "TooManyRequests" and body["code"] == 429
            # Watches take no in-flight slot: plain requests still go through.
            assert s3.get(url, timeout=10).status_code == 200
        finally:
            w1.close()
            w2.close()
        # A watch that ended (here by its timeout) gives its slot back.
        assert w1.wait_closed(15)
        wait_for(lambda: s3.get(url, params={"watch": "true", "timeoutSeconds": "1"}, timeout=10).status_code == 200,
                 timeout=15, what="a watch slot to be released")


def _held_post(srv, path: str, body: bytes) -> ssl.SSLSocket:
    """Opens a POST whose headers are sent but whose body is not: the request is executing
    (waiting for its body) and holds a mutating slot until the body follows. A request just
    before it may not have given its slot back yet: a POST answered at once (429) is opened again."""
    for _ in range(50):
        sock = _post_headers(srv, path, body)
        sock.settimeout(0.3)
        try:
            answered = sock.recv(1)
        except (socket.timeout, TimeoutError):
            sock.settimeout(30)
            return sock  # no answer: it waits for its body, holding the slot
        sock.close()
        if not answered:
            break
        time.sleep(0.1)
    raise AssertionError("the held POST was answered at once every time")


def _post_headers(srv, path: str, body: bytes) -> ssl.SSLSocket:
    cfg = srv.client_config
    u = urlparse(cfg.url)
    ctx = ssl.create_default_context(cafile=cfg.verify if isinstance(cfg.verify, str) else None)
    if cfg.cert:
        ctx.load_cert_chain(*cfg.cert)
    sock = ctx.wrap_socket(socket.create_connection((u.hostname, u.port), timeout=30), server_hostname=u.hostname)
    head = (f"POST {path} HTTP/1.1\r\nHost: {u.netloc}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    sock.sendall(head.encode())
    return sock


def test_mutating_requests_over_the_cap_get_429(start_server):
    srv = start_server("caravel-inflight", extra_args=["--max-mutating-requests-inflight", "1",
                                                       "--max-requests-inflight", "2"])
    path = "/api/v1/namespaces/default/configmaps"
    cm = lambda name: {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}  # noqa: E731
    held_name = unique("held")
    held = _held_post(srv, path, json.dumps(cm(held_name)).encode())
    with srv.session() as s:
        try:
            def rejected():
                r = s.post(srv.url + path, json=cm(unique("other")), timeout=10)
                return [r] if r.status_code == 429 else None  # a 429 Response is falsy
            [r] = wait_for(rejected, timeout=15, what="a 429 while the held request runs")
            assert r.headers.get("Retry-After") == "1"
            assert r.json()["reason"] == "TooManyRequests"
            # Reads have their own pool.
            assert s.get(srv.url + path, timeout=10).status_code == 200
            held.sendall(json.dumps(cm(held_name)).encode())
            reply = b""
            while b"\r\n" not in reply:
                chunk = held.recv(4096)
                if not chunk:
                    break
                reply += chunk
            assert reply.startswith(b"HTTP/1.1 201"), reply[:200]
        finally:
            held.close()
        # The slot is free again.
        assert s.post(srv.url + path, json=cm(unique("after")), timeout=10).status_code == 201
        wait_for(lambda: 429 in [e["responseStatus"]["code"] for e in audit_events(srv.data_dir)], timeout=15,
                 what="the 429 in audit.log")
