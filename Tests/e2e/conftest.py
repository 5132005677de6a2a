"""pytest fixtures for Caravel's end-to-end tests.

Fixtures:
  server      (session)  a `caravel server` on a free port and a temporary data dir;
                         has .port .kubeconfig .data_dir .url, .session() for raw HTTP
  kubectl     (session)  kubectl(*args, input=None, check=True) -> CompletedProcess,
                         the real kubectl from .tools/bin with --kubeconfig of `server`
  k8s         (session)  the official Python client's ApiClient for `server`
  http        (function) a requests.Session set up from the kubeconfig (base URL: server.url)
  namespace   (function) a fresh namespace (unique name), deleted afterwards; with the
                         controllers on, ready with its `default` ServiceAccount and
                         `kube-root-ca.crt` ConfigMap
  start_server(function) factory: start_server(name, **kw) -> a separate CaravelServer

Servers run with --disable-controllers when the binary knows it: these tests check the API
server, with no controller writing to their objects (CARAVEL_E2E_CONTROLLERS=1 keeps them on).

Env: CARAVEL_BIN (server binary, default .build/debug/caravel), CARAVEL_KUBECTL,
CARAVEL_READY_TIMEOUT (default 60 s), CARAVEL_TEST_TIMEOUT (per test, default 300 s),
CARAVEL_E2E_CONTROLLERS, CARAVEL_E2E_DATASTORE (=etcd: the shared server stores its state in
a one-member etcd the session starts), CI (=true: a skipped test fails).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal

import pytest

from e2eutil import SERVERS, CaravelServer, new_server, serve, unique, wait_for
from etcdprocess import single_member_etcd

# Every server started by the tests, so that a failing test shows their logs.
DEFAULT_TEST_TIMEOUT = int(os.environ.get("CARAVEL_TEST_TIMEOUT", "300"))


def pytest_configure(config):
    config.addinivalue_line("markers", "timeout(seconds): per-test time limit (SIGALRM)")


# ----------------------------------------------------------------------------- logs on failure


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item._caravel_log_offsets = {id(s): s.log_size() for s in SERVERS}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    # CI (CI=true) runs as root with every tool installed: a skip there is a test that did not
    # run, which must not pass quietly.
    if rep.skipped and os.environ.get("CI") == "true" and not hasattr(rep, "wasxfail"):
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        rep.outcome = "failed"
        rep.longrepr = f"skipped in CI (CI=true), where it must run: {reason}"
    if rep.failed and rep.when in ("setup", "call"):
        offsets = getattr(item, "_caravel_log_offsets", {})
        for s in SERVERS:
            tail = s.log_tail(since=offsets.get(id(s), 0))
            if tail.strip():
                rep.sections.append((f"{s.name} log ({s.log_path})", tail))


# ----------------------------------------------------------------------------- per-test timeout


@pytest.fixture(autouse=True)
def _time_limit(request):
    marker = request.node.get_closest_marker("timeout")
    seconds = int(marker.args[0]) if marker else DEFAULT_TEST_TIMEOUT
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def on_alarm(signum, frame):
        pytest.fail(f"test exceeded its time limit of {seconds}s", pytrace=True)

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# ----------------------------------------------------------------------------- servers


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    # CARAVEL_E2E_DATASTORE=etcd: the shared server keeps its state in a one-member etcd.
    with contextlib.ExitStack() as stack:
        extra: list[str] = []
        if os.environ.get("CARAVEL_E2E_DATASTORE") == "etcd":
            endpoint = stack.enter_context(single_member_etcd(tmp_path_factory.mktemp("etcd")))
            extra = ["--datastore-endpoint", endpoint]
        with serve(tmp_path_factory, "caravel", extra_args=extra) as s:
            yield s


@pytest.fixture
def start_server(tmp_path_factory):
    """Factory for extra servers (crash tests, small watch caches). Stopped afterwards."""
    started: list[CaravelServer] = []

    def start(name: str = "extra", *, extra_args=(), start: bool = True) -> CaravelServer:
        s = new_server(tmp_path_factory, name, extra_args=extra_args)
        started.append(s)
        if start:
            s.start()
        return s

    yield start
    for s in started:
        s.stop()
        s.cleanup()


@pytest.fixture(scope="session")
def kubectl(server):
    """kubectl(*args, input=None, check=True, timeout=60) -> subprocess.CompletedProcess"""
    return server.kubectl


@pytest.fixture(scope="session")
def k8s(server):
    from kubernetes import config as kconfig
    client = kconfig.new_client_from_config(config_file=server.kubeconfig, persist_config=False)
    yield client
    try:
        client.close()
    except Exception:  # noqa: BLE001
        pass


@pytest.fixture
def http(server):
    s = server.session()
    yield s
    s.close()


def _ns_name(nodename: str) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", nodename.lower()).strip("-")
    base = re.sub(r"^test-", "", base)[:40].strip("-") or "t"
    return unique(f"e2e-{base}", 5)


@pytest.fixture
def namespace(request, server, k8s):
    """With the controllers on, waits (as Kubernetes' e2e framework does) until the namespace
    has the objects controllers add to every namespace: the `default` ServiceAccount and the
    `kube-root-ca.crt` ConfigMap. Tests then see those as already there, not as later writes."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    core = client.CoreV1Api(k8s)
    name = _ns_name(request.node.name)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    if server.controllers_running:
        wait_for(lambda: core.read_namespaced_service_account("default", name), timeout=60,
                 what=f"ServiceAccount default in namespace {name}")
        wait_for(lambda: core.read_namespaced_config_map("kube-root-ca.crt", name), timeout=60,
                 what=f"ConfigMap kube-root-ca.crt in namespace {name}")
    yield name
    try:
        core.delete_namespace(name)
    except ApiException as e:
        if e.status != 404:
            raise
