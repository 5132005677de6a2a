"""A `caravel server` process under test: its command line, start (waiting for /readyz),
stop, kill and restart, its log, and clients for it. Everything talks to the server only
through the kubeconfig it writes, so the tests do not care whether it speaks HTTP or HTTPS."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, Optional
from urllib.parse import urlparse

import requests

from e2eenv import caravel_bin
from kubectlrun import kubectl_cmd, run_kubectl
from rawhttp import ClientConfig

READY_TIMEOUT = float(os.environ.get("CARAVEL_READY_TIMEOUT", "60"))


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


class ServerStartError(RuntimeError):
    pass


# Every server a test starts, so a failing test can print the part of their logs it caused.
SERVERS: list["CaravelServer"] = []


def new_server(tmp_path_factory, name: str, **kw) -> "CaravelServer":
    """A server, not started, in a fresh temporary directory (`data/`, `server.log`),
    registered in SERVERS so that a failing test prints its log."""
    base = tmp_path_factory.mktemp(name)
    s = CaravelServer(base / "data", log_path=base / "server.log", name=name, **kw)
    SERVERS.append(s)
    return s


@contextlib.contextmanager
def serve(tmp_path_factory, name: str, *, controllers: bool = False, kubelet: bool = False,
          extra_args: Iterable[str] = (), prepare: Optional[Callable[["CaravelServer"], None]] = None):
    """A started server for a fixture: `prepare(server)` runs before the start (e.g. to write
    DIR/tokens.csv, which is read at start); stopped and removed afterwards."""
    import pytest
    s = new_server(tmp_path_factory, name, controllers=controllers, kubelet=kubelet, extra_args=extra_args)
    if prepare is not None:
        prepare(s)
    try:
        try:
            s.start()
        except Exception as e:  # noqa: BLE001
            pytest.fail(f"could not start the caravel server {name}: {e}", pytrace=False)
        yield s
    finally:
        s.stop()
        if kubelet and hasattr(os, "geteuid") and os.geteuid() == 0:
            # The node's nftables tables (service proxy, masquerade) outlive the server, as its
            # pods do (the tests delete those first); killall removes what is left.
            subprocess.run([str(caravel_bin()), "killall", "--data-dir", str(s.data_dir)],
                           capture_output=True, timeout=120)
            # killall leaves the pod bridge; it goes once no pod is on it.
            from kubeletutil import remove_bridge  # imported here: kubeletutil imports this module
            remove_bridge(s)
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
