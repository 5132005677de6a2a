"""Fault drills with misbehaving clients, each bounded in time (docs/reliability.md sums them
up): a client that sends its request slowly, one that never reads its watch, and one opening a
thousand watches: the others are served as usual (429 past the per-user watch cap)."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from urllib.parse import urlparse

import pytest

from e2eutil import CaravelServer, SERVERS, unique

NOISY_TOKEN = "noisy-" + unique("t", 12)


class RawClient:
    """HTTP/1.1 over TLS by hand, as user `noisy` (a bearer token from DIR/tokens.csv)."""

    def __init__(self, srv: CaravelServer):
        u = urlparse(srv.url)
        self.host, self.port = u.hostname, u.port
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE

    def connect(self) -> ssl.SSLSocket:
        raw = socket.create_connection((self.host, self.port), timeout=30)
        return self.ctx.wrap_socket(raw, server_hostname=self.host)

    def request_head(self, path: str) -> bytes:
        return (f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {NOISY_TOKEN}\r\n"
                f"Accept: application/json\r\n\r\n").encode()

    @staticmethod
    def status(sock: ssl.SSLSocket) -> int:
        line = b""
        while not line.endswith(b"\r\n"):
            b = sock.recv(1)
            if not b:
                return 0
            line += b
        return int(line.split()[1])


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("fault-clients")
    s = CaravelServer(base / "data", log_path=base / "server.log", name="fault-clients",
                      extra_args=["--max-watches-per-user", "300"])
    (s.data_dir / "tokens.csv").write_text(f'{NOISY_TOKEN},noisy,uid-noisy,"system:masters"\n')
    SERVERS.append(s)
    s.start()
    yield s
    s.stop()
    s.cleanup()


def others_served(srv: CaravelServer, ns: str, rounds: int = 10) -> None:
    """The admin's reads, writes and a watch all work."""
    with srv.session() as s:
        url = f"{srv.url}/api/v1/namespaces/{ns}/configmaps"
        rv = s.get(url, timeout=30).json()["metadata"]["resourceVersion"]
        names = []
        for i in range(rounds):
            name = unique("ok", 5)
            assert s.post(url, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}},
                          timeout=30).status_code == 201
            assert s.get(f"{url}/{name}", timeout=30).status_code == 200
            names.append(name)
        r = s.get(url, params={"watch": "1", "resourceVersion": rv, "timeoutSeconds": "5"}, timeout=60, stream=True)
        seen = {json.loads(line)["object"]["metadata"]["name"] for line in r.iter_lines() if line}
        assert set(names) <= seen, f"the admin's watch missed {set(names) - seen}"


@pytest.mark.timeout(240)
def test_slow_sending_client_does_not_hold_up_others(busy_server):
    ns = unique("fault-slow", 5)
    busy_server.kubectl("create", "namespace", ns)
    rc = RawClient(busy_server)
    sock = rc.connect()
    head = rc.request_head(f"/api/v1/namespaces/{ns}/configmaps")
    done = threading.Event()

    def trickle():
        try:
            for b in head[:-4]:
                if done.is_set():
                    return
                sock.send(bytes([b]))
                time.sleep(0.1)
        except OSError:
            pass  # the server may cut a client that takes too long over its headers
    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    try:
        others_served(busy_server, ns)
    finally:
        done.set()
        t.join(30)
        sock.close()


@pytest.mark.timeout(240)
def test_client_that_never_reads_its_watch_does_not_hold_up_others(busy_server):
    ns = unique("fault-noread", 5)
    busy_server.kubectl("create", "namespace", ns)
    rc = RawClient(busy_server)
    sock = rc.connect()
    sock.sendall(rc.request_head(f"/api/v1/namespaces/{ns}/configmaps?watch=1"))
    assert rc.status(sock) == 200
    try:
        # Far more than the socket buffers hold: the server's writes to this client block.
        blob = "y" * 60_000
        with busy_server.session() as s:
            url = f"{busy_server.url}/api/v1/namespaces/{ns}/configmaps"
            for i in range(150):
                r = s.post(url, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"big-{i}"},
                                      "data": {"v": blob}}, timeout=60)
                assert r.status_code == 201, r.text
        others_served(busy_server, ns)
    finally:
        sock.close()


@pytest.mark.timeout(300)
def test_thousand_watches_from_one_client_get_429_past_the_cap(busy_server):
    ns = unique("fault-many", 5)
    busy_server.kubectl("create", "namespace", ns)
    rc = RawClient(busy_server)
    socks, codes = [], []
    try:
        for _ in range(1000):
            sock = rc.connect()
            sock.sendall(rc.request_head(f"/api/v1/namespaces/{ns}/configmaps?watch=1"))
            code = rc.status(sock)
            codes.append(code)
            if code == 200:
                socks.append(sock)
            else:
                sock.close()
        assert codes.count(200) == 300, f"{codes.count(200)} watches accepted, cap 300"
        assert codes.count(429) == 700, f"answers past the cap: {sorted(set(codes))}"
        others_served(busy_server, ns)
    finally:
        for sock in socks:
            sock.close()
