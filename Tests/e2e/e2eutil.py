"""Shared helpers for Caravel's end-to-end tests.

Everything here talks to the server only through the kubeconfig it writes, so
the tests keep working when the server switches from plain HTTP to TLS.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import re
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional
from urllib.parse import urlparse

import requests

REPO = Path(__file__).resolve().parents[2]

# The servers under test are on loopback: never send that through a proxy from the environment.
for _var in ("NO_PROXY", "no_proxy"):
    os.environ[_var] = ",".join(filter(None, [os.environ.get(_var, ""), "127.0.0.1,localhost,::1"]))
KUBECTL = Path(os.environ.get("CARAVEL_KUBECTL", REPO / ".tools" / "bin" / "kubectl"))
READY_TIMEOUT = float(os.environ.get("CARAVEL_READY_TIMEOUT", "60"))


def caravel_bin() -> Path:
    p = Path(os.environ.get("CARAVEL_BIN", ".build/debug/caravel"))
    if not p.is_absolute():
        p = REPO / p
    return p


_HELP_CACHE: dict[str, str] = {}


def server_help() -> str:
    """`caravel server --help`, to pass only flags this build knows."""
    key = str(caravel_bin())
    if key not in _HELP_CACHE:
        try:
            cp = subprocess.run([key, "server", "--help"], capture_output=True, text=True, timeout=60)
            _HELP_CACHE[key] = cp.stdout + cp.stderr
        except (OSError, subprocess.TimeoutExpired):
            _HELP_CACHE[key] = ""
    return _HELP_CACHE[key]


def default_server_args() -> list[str]:
    """The API tests check API-server semantics with no controller writing to the objects
    (a Deployment creates no pods). Set CARAVEL_E2E_CONTROLLERS=1 to keep them running."""
    if os.environ.get("CARAVEL_E2E_CONTROLLERS") == "1":
        return []
    return ["--disable-controllers"] if "--disable-controllers" in server_help() else []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique(prefix: str, n: int = 6) -> str:
    suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=n))
    return f"{prefix}-{suffix}"


def wait_for(pred: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1,
             what: str = "condition") -> Any:
    """Polls pred() until it returns a truthy value; returns that value.
    Exceptions from pred count as 'not yet'; the last one is reported."""
    deadline = time.monotonic() + timeout
    last_exc: Optional[BaseException] = None
    last_val: Any = None
    while True:
        try:
            last_val = pred()
            if last_val:
                return last_val
            last_exc = None
        except Exception as e:  # noqa: BLE001 - polling
            last_exc = e
        if time.monotonic() >= deadline:
            msg = f"timed out after {timeout:.0f}s waiting for {what}"
            if last_exc is not None:
                msg += f"; last error: {last_exc!r}"
            else:
                msg += f"; last value: {last_val!r}"
            raise AssertionError(msg)
        time.sleep(interval)
        interval = min(interval * 1.5, 1.0)


# --------------------------------------------------------------------------- kubeconfig


@dataclass
class ClientConfig:
    """What a raw HTTP client needs, read from a kubeconfig with the official loader."""
    url: str
    verify: Any = True
    cert: Any = None
    headers: dict = field(default_factory=dict)
    auth: Any = None

    @classmethod
    def from_kubeconfig(cls, path: str) -> "ClientConfig":
        from kubernetes import client as kclient
        from kubernetes import config as kconfig

        cfg = kclient.Configuration()
        kconfig.load_kube_config(config_file=str(path), client_configuration=cfg,
                                 persist_config=False)
        url = cfg.host.rstrip("/")
        verify: Any = True
        if url.startswith("https"):
            verify = cfg.ssl_ca_cert if cfg.ssl_ca_cert else bool(cfg.verify_ssl)
        cert = (cfg.cert_file, cfg.key_file) if cfg.cert_file and cfg.key_file else None
        headers = {}
        auth = None
        for setting in (cfg.auth_settings() or {}).values():
            if setting.get("in") != "header" or not setting.get("value"):
                continue
            if setting.get("type") == "basic":
                auth = (cfg.username, cfg.password)
            else:
                headers[setting["key"].title()] = setting["value"]
        return cls(url=url, verify=verify, cert=cert, headers=headers, auth=auth)

    def session(self) -> requests.Session:
        s = requests.Session()
        s.verify = self.verify
        s.cert = self.cert
        s.auth = self.auth
        s.headers.update(self.headers)
        s.headers["Accept"] = "application/json"
        s.trust_env = False  # never route loopback through a proxy
        return s


# --------------------------------------------------------------------------- server


class ServerStartError(RuntimeError):
    pass


# Every server a test starts, so a failing test can print the part of their logs it caused.
SERVERS: list["CaravelServer"] = []


@contextlib.contextmanager
def serve(tmp_path_factory, name: str, *, controllers: bool = False, kubelet: bool = False,
          extra_args: Iterable[str] = (), prepare: Optional[Callable[["CaravelServer"], None]] = None):
    """A started server for a module-scoped fixture: `prepare(server)` runs before the start
    (e.g. to write DIR/tokens.csv, which is read at start); stopped and removed afterwards."""
    import pytest
    base = tmp_path_factory.mktemp(name)
    s = CaravelServer(base / "data", log_path=base / "server.log", name=name, controllers=controllers,
                      kubelet=kubelet, extra_args=extra_args)
    if prepare is not None:
        prepare(s)
    SERVERS.append(s)
    try:
        try:
            s.start()
        except Exception as e:  # noqa: BLE001
            pytest.fail(f"could not start the caravel server {name}: {e}", pytrace=False)
        yield s
    finally:
        s.stop()
        s.cleanup()
        if s in SERVERS:
            SERVERS.remove(s)


class CaravelServer:
    """One `caravel server` process on a data dir, driven through its kubeconfig."""

    def __init__(self, data_dir: Path | str, port: Optional[int] = None,
                 extra_args: Iterable[str] = (), log_path: Optional[Path] = None,
                 name: str = "caravel", controllers: bool = False, kubelet: bool = False):
        self.controllers = controllers
        # The built-in kubelet (node `self.node_name`) runs pods; API tests leave it off so
        # that no node acts on their objects.
        self.kubelet = kubelet
        self.node_name = f"node-{name.lower().replace('_', '-')}"[:40].rstrip("-")
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.extra_args = list(extra_args)
        self.name = name
        self.log_path = Path(log_path) if log_path else self.data_dir.parent / f"{self.data_dir.name}.log"
        self.kubeconfig = str(self.data_dir / "kubeconfig.yaml")
        self.proc: Optional[subprocess.Popen] = None
        self._log = None
        self._client: Optional[ClientConfig] = None
        self.starts = 0
        self.kube_cache = Path(tempfile.mkdtemp(prefix="kubectl-cache-"))

    # -- lifecycle
    def command(self) -> list[str]:
        defaults = [a for a in default_server_args() if not (self.controllers and a == "--disable-controllers")]
        help_text = server_help()
        if self.kubelet:
            defaults += ["--kubelet-port", "0", "--node-name", self.node_name]
        elif "--disable-kubelet" in help_text:
            defaults.append("--disable-kubelet")
        return [str(caravel_bin()), "server", "--data-dir", str(self.data_dir),
                "--port", str(self.port), *defaults, *self.extra_args]

    @property
    def controllers_running(self) -> bool:
        """Whether this server runs its controllers (then the root-CA publisher and the
        service-account controller add objects to every namespace and controllers write status)."""
        return "--disable-controllers" not in self.command()

    def start(self, timeout: float = READY_TIMEOUT) -> "CaravelServer":
        """Starts the server and waits for /readyz. On a first start that fails because the
        free port was taken in the meantime, retries on another port."""
        for attempt in range(3):
            since = self.log_size()
            try:
                return self._start(timeout)
            except ServerStartError:
                tail = self.log_tail(since=since).lower()
                first_start = self.starts == attempt + 1
                if first_start and attempt < 2 and ("in use" in tail or "eaddrinuse" in tail):
                    self.port = free_port()
                    continue
                raise
        raise AssertionError("unreachable")

    def _start(self, timeout: float) -> "CaravelServer":
        binary = caravel_bin()
        if not binary.exists():
            raise ServerStartError(
                f"server binary {binary} not found: run `swift build` or set CARAVEL_BIN")
        self._log = open(self.log_path, "ab")
        self.starts += 1
        self._log.write(f"\n===== start #{self.starts}: {' '.join(self.command())}\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self._client = None
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.kill()
            raise
        return self

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last = "kubeconfig not written yet"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise ServerStartError(
                    f"{self.name} exited with code {self.proc.returncode} before becoming ready\n"
                    f"--- log {self.log_path} ---\n{self.log_tail()}")
            if os.path.exists(self.kubeconfig):
                try:
                    cc = ClientConfig.from_kubeconfig(self.kubeconfig)
                    if urlparse(cc.url).port not in (None, self.port):
                        last = f"kubeconfig names {cc.url}, not port {self.port} (stale?)"
                        time.sleep(0.2)
                        continue
                    with cc.session() as s:
                        r = s.get(cc.url + "/readyz", timeout=5)
                    if r.status_code == 200:
                        self._client = cc
                        return
                    last = f"/readyz answered {r.status_code}: {r.text[:200]}"
                except Exception as e:  # noqa: BLE001 - polling
                    last = repr(e)
            time.sleep(0.2)
        raise ServerStartError(
            f"{self.name} not ready after {timeout:.0f}s ({last})\n"
            f"--- log {self.log_path} ---\n{self.log_tail()}")

    def stop(self, grace: float = 10.0) -> Optional[int]:
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit code."""
        p = self.proc
        if p is None:
            return None
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
            except ProcessLookupError:
                pass
        self._close_log()
        return p.returncode

    def kill(self) -> None:
        """kill -9, as a crash."""
        p = self.proc
        if p is None:
            return
        if p.poll() is None:
            try:
                p.kill()
            except ProcessLookupError:
                pass
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self._close_log()

    def restart(self, timeout: float = READY_TIMEOUT) -> "CaravelServer":
        self.stop()
        return self.start(timeout)

    def _close_log(self):
        if self._log is not None:
            try:
                self._log.flush()
                self._log.close()
            except Exception:  # noqa: BLE001
                pass
            self._log = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- logs
    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_tail(self, since: int = 0, max_lines: int = 150) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                data = f.read().decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        lines = data.splitlines()
        if len(lines) > max_lines:
            lines = [f"... ({len(lines) - max_lines} earlier lines omitted)"] + lines[-max_lines:]
        return "\n".join(lines)

    # -- clients
    @property
    def client_config(self) -> ClientConfig:
        if self._client is None:
            self._client = ClientConfig.from_kubeconfig(self.kubeconfig)
        return self._client

    @property
    def url(self) -> str:
        return self.client_config.url

    def session(self) -> requests.Session:
        return self.client_config.session()

    def api_client(self):
        from kubernetes import config as kconfig
        return kconfig.new_client_from_config(config_file=self.kubeconfig, persist_config=False)

    def kubectl(self, *args: str, input: Optional[str] = None, check: bool = True,
                timeout: float = 60) -> subprocess.CompletedProcess:
        return run_kubectl(self.kubeconfig, *args, input=input, check=check, timeout=timeout,
                           cache_dir=str(self.kube_cache))

    def kubectl_popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(kubectl_cmd(self.kubeconfig, *args, cache_dir=str(self.kube_cache)),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True, bufsize=1)

    def cleanup(self):
        shutil.rmtree(self.kube_cache, ignore_errors=True)


# --------------------------------------------------------------------------- kubectl


class KubectlError(AssertionError):
    pass


def kubectl_cmd(kubeconfig: str, *args: str, cache_dir: Optional[str] = None) -> list[str]:
    if not KUBECTL.exists():
        raise KubectlError(f"{KUBECTL} not found: run scripts/fetch-tools.sh")
    cmd = [str(KUBECTL), "--kubeconfig", str(kubeconfig)]
    if cache_dir:
        cmd += ["--cache-dir", cache_dir]
    return cmd + [str(a) for a in args]


def run_kubectl(kubeconfig: str, *args: str, input: Optional[str] = None, check: bool = True,
                timeout: float = 60, cache_dir: Optional[str] = None) -> subprocess.CompletedProcess:
    cmd = kubectl_cmd(kubeconfig, *args, cache_dir=cache_dir)
    env = dict(os.environ)
    env.pop("KUBECONFIG", None)
    env["KUBECTL_KUBERC"] = "false"  # ignore any ~/.kube/kuberc of the person running the tests
    try:
        cp = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout,
                            env=env, stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise KubectlError(f"kubectl {' '.join(args)} timed out after {timeout}s\n"
                           f"stdout: {e.stdout}\nstderr: {e.stderr}") from None
    if check and cp.returncode != 0:
        raise KubectlError(f"kubectl {' '.join(args)} exited {cp.returncode}\n"
                           f"stdout:\n{cp.stdout}\nstderr:\n{cp.stderr}")
    return cp


def parse_table(text: str) -> list[dict[str, str]]:
    """Parses kubectl's column output (first line = header) into dicts, using the
    header's column offsets (values may be empty, e.g. SHORTNAMES)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return []
    header = lines[0]
    cols = list(re.finditer(r"\S+(?: \S+)*", header))
    starts = [m.start() for m in cols]
    names = [m.group() for m in cols]
    rows = []
    for ln in lines[1:]:
        row = {}
        for i, (s, n) in enumerate(zip(starts, names)):
            e = starts[i + 1] if i + 1 < len(starts) else len(ln)
            row[n] = ln[s:e].strip() if s < len(ln) else ""
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- watch


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


# --------------------------------------------------------------------------- misc


def assert_status_body(body: Any, code: int, reason: Optional[str] = None) -> dict:
    """Checks a Kubernetes Status error body (dict or JSON text)."""
    if isinstance(body, (str, bytes)):
        try:
            body = json.loads(body)
        except ValueError:
            raise AssertionError(f"error body is not JSON: {body[:300]!r}") from None
    assert isinstance(body, dict), body
    assert body.get("kind") == "Status", body
    assert body.get("apiVersion") == "v1", body
    assert body.get("status") == "Failure", body
    assert body.get("code") == code, body
    assert isinstance(body.get("message"), str) and body["message"], body
    assert isinstance(body.get("reason"), str) and body["reason"], body
    if reason is not None:
        assert body["reason"] == reason, body
    return body


class LineReader:
    """Reads a text stream line by line on a thread (for `kubectl get -w`)."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self._q: "queue.Queue[Optional[str]]" = queue.Queue()
        self._cond = threading.Condition()
        self._t = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._t.start()

    def _run(self, stream):
        for line in stream:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_for(self, pred: Callable[[list[str]], Any], timeout: float = 30, what: str = "output"):
        deadline = time.monotonic() + timeout
        with self._cond:
            while not pred(self.lines):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out waiting for {what}; output so far:\n"
                                         + "\n".join(self.lines))
                self._cond.wait(min(remaining, 1.0))
            return list(self.lines)
