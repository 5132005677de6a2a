"""A watch read over raw HTTP on a background thread, and short summaries of its events."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any, Callable, Optional

import requests


class RawWatch:
    """A watch over raw HTTP (requests), read by a background thread.

    .status_code, .headers; .events (parsed JSON lines); .closed once the server ended
    the stream; .error for a broken stream; .bad_lines for lines that were not JSON."""

    def __init__(self, session: requests.Session, url: str, params: dict,
                 read_timeout: float = 120):
        self.t0 = time.monotonic()
        self.resp = session.get(url, params=params, stream=True, timeout=(10, read_timeout))
        self.status_code = self.resp.status_code
        self.headers = self.resp.headers
        self.events: list[dict] = []
        self.bad_lines: list[bytes] = []
        self.closed = False
        self.closed_at: Optional[float] = None
        self.error: Optional[BaseException] = None
        self._cond = threading.Condition()
        self._stopping = False
        if self.status_code != 200:
            self.body = self.resp.text
            self.closed = True
            self.closed_at = time.monotonic()
            return
        self.body = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        chunked = "chunked" in self.resp.headers.get("Transfer-Encoding", "").lower()
        try:
            for line in self.resp.iter_lines(chunk_size=None if chunked else 1):
                if not line.strip():
                    continue
                try:
                    ev = json.loads(line)
                except ValueError:
                    with self._cond:
                        self.bad_lines.append(line)
                    continue
                with self._cond:
                    self.events.append(ev)
                    self._cond.notify_all()
        except Exception as e:  # noqa: BLE001
            if not self._stopping:
                self.error = e
        finally:
            with self._cond:
                self.closed = True
                self.closed_at = time.monotonic()
                self._cond.notify_all()

    def wait_for(self, pred: Callable[[list[dict]], Any], timeout: float = 30,
                 what: str = "events") -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if pred(self.events):
                    return list(self.events)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    if pred(self.events):
                        return list(self.events)
                    raise AssertionError(
                        f"watch: {'stream closed' if self.closed else 'timed out'} waiting for {what}; "
                        f"error={self.error!r}; got {summarize(self.events)}")
                self._cond.wait(min(remaining, 1.0))

    def wait_count(self, n: int, timeout: float = 30) -> list[dict]:
        return self.wait_for(lambda evs: len(evs) >= n, timeout, what=f"{n} events")

    def wait_closed(self, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self.closed and time.monotonic() < deadline:
                self._cond.wait(min(deadline - time.monotonic(), 1.0))
            return self.closed

    def close(self):
        """Ends the stream now. A plain close() would wait for the reader thread's
        blocking read (the buffered reader's lock), so shut the socket down first."""
        self._stopping = True
        sock = _response_socket(self.resp)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        t = getattr(self, "_thread", None)
        if t is not None:
            t.join(10)
        try:
            self.resp.close()
        except Exception:  # noqa: BLE001
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _response_socket(resp: requests.Response):
    raw = resp.raw
    conn = getattr(raw, "_connection", None) or getattr(raw, "connection", None)
    sock = getattr(conn, "sock", None)
    if sock is not None:
        return sock
    fp = getattr(raw, "_fp", None)  # http.client.HTTPResponse
    try:
        return fp.fp.raw._sock  # BufferedReader -> SocketIO -> socket
    except AttributeError:
        return None


def ev_name(ev: dict) -> str:
    return ((ev.get("object") or {}).get("metadata") or {}).get("name", "")


def ev_rv(ev: dict) -> str:
    return ((ev.get("object") or {}).get("metadata") or {}).get("resourceVersion", "")


def summarize(events: list[dict]) -> list[str]:
    return [f"{e.get('type')} {ev_name(e)}@{ev_rv(e)}" for e in events]
