"""demo-app (Sources/demo-app) and the manifests in Manifests/ that run it.

The app runs directly as a subprocess here, no kubelet involved: every endpoint, the env
settings, the Prometheus text, the request log and a graceful SIGTERM. Then every manifest
must pass `kubectl apply --dry-run=server` against a caravel server, and the demo-app
containers in them must use settings and probe paths the app really has.

The binary is looked up next to CARAVEL_BIN (`swift build` builds both).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Optional

import pytest
import requests
import yaml

from e2eutil import REPO, caravel_bin, free_port, serve, wait_for

MANIFESTS = REPO / "Manifests"
DEMO_IMAGE = "caravel/demo-app:1.0"


def demo_bin() -> Path:
    p = caravel_bin().parent / "demo-app"
    if not p.exists():
        pytest.fail(f"{p} not found: run `swift build` (it builds demo-app next to caravel)",
                    pytrace=False)
    return p


# Settings of the app that the environment of the test run must not leak into it.
APP_SETTINGS = ("PORT", "HOST", "STARTUP_DELAY_SECONDS", "READY_FILE", "FAIL_LIVENESS_AFTER_SECONDS",
                "GREETING", "CONFIG_DIR", "SECRET_DIR", "POD_NAME")


class DemoApp:
    """One demo-app process on a free port; stdout and stderr go to a log file."""

    def __init__(self, tmp_path: Path, env: dict, args: tuple = ()):
        self.env = {k: v for k, v in os.environ.items() if k not in APP_SETTINGS} | env
        self.args = list(args)
        self.log_path = tmp_path / f"demo-app-{time.monotonic_ns()}.log"
        self.proc: Optional[subprocess.Popen] = None
        self.port = 0

    def start(self) -> "DemoApp":
        for _ in range(3):  # the free port may be taken before the app binds it: retry
            self.port = free_port()
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen([str(demo_bin()), *self.args], env=self.env | {"PORT": str(self.port)},
                                             stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + 30
            while self.proc.poll() is None and time.monotonic() < deadline:
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", self.port)) == 0:
                        return self
                time.sleep(0.05)
            if self.proc.poll() is None or "in use" not in self.log():
                self.stop(signal.SIGKILL)
                raise AssertionError(f"demo-app did not start:\n{self.log()}")
        raise AssertionError(f"demo-app could not bind a port:\n{self.log()}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str, timeout: float = 15, **kw) -> requests.Response:
        return requests.get(self.url(path), timeout=timeout, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return requests.post(self.url(path), timeout=15, **kw)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> Optional[int]:
        p = self.proc
        if p is not None and p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
        return p.returncode if p is not None else None


@pytest.fixture
def demo(tmp_path):
    """demo(**env) -> a started DemoApp; all are stopped after the test."""
    apps: list[DemoApp] = []

    def start(*args: str, **env: str) -> DemoApp:
        app = DemoApp(tmp_path, env=env, args=args)
        apps.append(app)
        return app.start()

    yield start
    for app in apps:
        app.stop(signal.SIGKILL)


def metric_samples(text: str) -> dict[str, float]:
    """`name{labels}` -> value, after checking the text exposition format: every family has
    # HELP and # TYPE before its samples (prometheus_client's parser when installed)."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        text_string_to_metric_families = None
    if text_string_to_metric_families is not None:
        out = {}
        for fam in text_string_to_metric_families(text):
            assert fam.documentation, fam.name
            for s in fam.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                out[s.name + (f"{{{labels}}}" if labels else "")] = s.value
        return out
    assert text.endswith("\n")
    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? '
                        r'([-+]?(?:[0-9.]+(?:[eE][-+]?\d+)?|NaN|[+-]Inf))$')
    label = re.compile(r'([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)",?')
    helped, typed, out = set(), set(), {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            typed.add(name)
        else:
            m = sample.match(line)
            assert m, f"not a sample line: {line!r}"
            name, raw_labels, value = m.groups()
            assert name in helped and name in typed, f"{name} without # HELP/# TYPE"
            pairs = label.findall(raw_labels or "")
            assert "".join(f'{k}="{v}",' for k, v in pairs).rstrip(",") == (raw_labels or "").rstrip(","), line
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(pairs))
            out[name + (f"{{{labels}}}" if labels else "")] = float(value)
    return out


# ----------------------------------------------------------------------------- the app


def test_greeting_env_and_defaults(demo):
    app = demo(GREETING="ahoy", POD_NAME="demo-abc", EXTRA_SETTING="x=1 y")
    r = app.get("/")
    assert (r.status_code, r.text) == (200, "ahoy from demo-abc\n")
    assert r.headers["Content-Type"].startswith("text/plain")
    r = app.get("/env", params={"name": "EXTRA_SETTING"})
    assert (r.status_code, r.text) == (200, "x=1 y\n")
    assert app.get("/env", params={"name": "SURELY_NOT_SET_123"}).status_code == 404
    assert app.get("/env").status_code == 400
    assert app.get("/no/such/path").status_code == 404

    plain = demo()  # no settings: greets with the hostname, and everything is healthy
    assert plain.get("/").text == f"hello from {socket.gethostname()}\n"
    assert plain.get("/healthz").text == "ok\n"
    for path in ("/healthz", "/readyz", "/startupz"):
        assert plain.get(path).status_code == 200, path


def test_startup_delay(demo):
    app = demo(STARTUP_DELAY_SECONDS="2")
    t0 = time.monotonic()
    assert app.get("/startupz").status_code == 503
    assert app.get("/readyz").status_code == 503  # not ready before started
    assert app.get("/healthz").status_code == 200  # but alive
    wait_for(lambda: app.get("/startupz").status_code == 200, timeout=10, what="/startupz 200")
    assert time.monotonic() - t0 >= 1.5
    assert app.get("/readyz").status_code == 200


def test_readiness_ready_file_and_toggle(demo, tmp_path):
    ready_file = tmp_path / "ready"
    app = demo(READY_FILE=str(ready_file))
    r = app.get("/readyz")
    assert r.status_code == 503 and str(ready_file) in r.text
    ready_file.touch()
    assert app.get("/readyz").status_code == 200
    assert metric_samples(app.get("/metrics").text)["demo_ready"] == 1

    r = app.post("/ready", params={"value": "false"})
    assert (r.status_code, r.text) == (200, "ready=false\n")
    assert app.get("/readyz").status_code == 503
    assert metric_samples(app.get("/metrics").text)["demo_ready"] == 0
    assert app.post("/ready", params={"value": "maybe"}).status_code == 400
    assert app.post("/ready").status_code == 400
    assert app.post("/ready", params={"value": "true"}).status_code == 200
    assert app.get("/readyz").status_code == 200

    ready_file.unlink()
    assert app.get("/readyz").status_code == 503
    assert app.get("/healthz").status_code == 200  # readiness never touches liveness


def test_liveness_fails_on_post_fail_and_after_seconds(demo):
    app = demo()
    assert app.get("/healthz").status_code == 200
    assert app.post("/fail").status_code == 200
    assert [app.get("/healthz").status_code for _ in range(3)] == [500] * 3
    assert app.get("/readyz").status_code == 200  # liveness never touches readiness

    timed = demo(FAIL_LIVENESS_AFTER_SECONDS="1.5")
    assert timed.get("/healthz").status_code == 200
    wait_for(lambda: timed.get("/healthz").status_code == 500, timeout=10, what="/healthz 500")


def test_burn_counts_cpu_and_leaves_probes_responsive(demo):
    app = demo()
    result: dict = {}

    def burn():
        t0 = time.monotonic()
        r = app.get("/burn", params={"ms": "3000"}, timeout=60)
        result.update(status=r.status_code, text=r.text, took=time.monotonic() - t0)

    t = threading.Thread(target=burn)
    t.start()
    time.sleep(0.3)
    # Behaviour, not speed: /healthz is answered while the burn is still going.
    assert app.get("/healthz", timeout=30).status_code == 200
    assert t.is_alive() and not result, "/healthz was answered only after the burn ended"
    t.join(60)
    assert result["status"] == 200
    assert int(result["text"].strip()) >= 3000
    assert result["took"] >= 3.0
    burned = metric_samples(app.get("/metrics").text)["demo_cpu_burn_seconds_total"]
    assert burned > 0, burned  # CPU seconds: how many depends on the machine's load

    assert app.get("/burn", params={"ms": "abc"}).status_code == 400
    assert app.get("/burn", params={"ms": "-5"}).status_code == 400
    assert int(app.get("/burn", params={"ms": "0"}).text) < 100


def test_metrics_exposition(demo):
    app = demo()
    for _ in range(3):
        app.get("/healthz")
    app.get("/nope/1")
    app.get("/nope/2")
    r = app.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    for line in ("# TYPE http_requests_total counter", "# TYPE demo_cpu_burn_seconds_total counter",
                 "# TYPE demo_ready gauge", "# TYPE process_start_time_seconds gauge"):
        assert line in r.text.splitlines()
    samples = metric_samples(r.text)
    assert samples['http_requests_total{code="200",path="/healthz"}'] == 3
    # Unknown paths share one label value, so the label set stays bounded.
    assert samples['http_requests_total{code="404",path="other"}'] == 2
    assert samples["demo_cpu_burn_seconds_total"] == 0
    assert samples["demo_ready"] == 1
    assert abs(samples["process_start_time_seconds"] - time.time()) < 120


def test_config_lists_config_and_secret_sizes(demo, tmp_path):
    cfg, sec = tmp_path / "config", tmp_path / "secret"
    cfg.mkdir()
    sec.mkdir()
    (cfg / "greeting").write_text("hi there\n")
    (cfg / "app.properties").write_text("color=blue\nlog.level=info\n")
    # What Kubernetes' atomic writer leaves next to the keys: not listed.
    (cfg / "..2025_01_01_00_00_00.123").mkdir()
    (cfg / "..data").symlink_to("..2025_01_01_00_00_00.123")
    (cfg / "subdir").mkdir()
    (sec / "token").write_text("s3cr3t-demo-token")
    (sec / "empty").write_text("")
    app = demo(CONFIG_DIR=str(cfg), SECRET_DIR=str(sec))
    r = app.get("/config")
    assert r.status_code == 200
    assert r.text.splitlines() == [
        "app.properties=color=blue\\nlog.level=info",
        "greeting=hi there",
        "empty: 0 bytes",
        "token: 17 bytes",
    ]
    assert "s3cr3t" not in r.text

    none = demo()
    assert (none.get("/config").status_code, none.get("/config").text) == (200, "")


def test_sigterm_finishes_in_flight_request_and_exits_zero(demo):
    app = demo()
    app.get("/")
    result: dict = {}
    t = threading.Thread(target=lambda: result.update(r=app.get("/burn", params={"ms": "1500"}, timeout=30)))
    t.start()
    time.sleep(0.4)  # the burn is in flight (it is logged only when it ends)
    assert app.proc is not None and "GET /burn" not in app.log()
    app.proc.send_signal(signal.SIGTERM)
    assert app.proc.wait(20) == 0
    t.join(20)
    assert result["r"].status_code == 200, "the request in flight at SIGTERM was cut off"
    log = app.log()
    assert "shutting down" in log
    assert re.search(r"GET / 200 ", log), log
    assert re.search(r"GET /burn\?ms=1500 200 ", log), log
    assert log.index("shutting down") < log.index("GET /burn")  # logged when it finished


def test_bad_settings_exit_2(tmp_path):
    for env, args in (({"PORT": "http"}, ()), ({"STARTUP_DELAY_SECONDS": "-1"}, ()), ({}, ("--bogus",))):
        cp = subprocess.run([str(demo_bin()), *args], env={**os.environ, **env}, capture_output=True,
                            text=True, timeout=30)
        assert cp.returncode == 2, (env, args, cp.stdout, cp.stderr)
        assert "usage: demo-app" in cp.stderr
    cp = subprocess.run([str(demo_bin()), "--help"], capture_output=True, text=True, timeout=30)
    assert cp.returncode == 0 and "STARTUP_DELAY_SECONDS" in cp.stdout


# ----------------------------------------------------------------------------- manifests


def manifest_docs() -> list[tuple[Path, dict]]:
    files = sorted(p for p in MANIFESTS.rglob("*") if p.suffix in (".yaml", ".yml"))
    return [(path, doc) for path in files for doc in yaml.safe_load_all(path.read_text()) if doc]


def demo_containers() -> list[tuple[Path, dict]]:
    """The containers running demo-app; checks on the way that every container of every pod
    template in Manifests/ says imagePullPolicy IfNotPresent (no network needed)."""
    out = []
    for path, doc in manifest_docs():
        spec = doc["spec"] if doc["kind"] == "Pod" else doc.get("spec", {}).get("template", {}).get("spec", {})
        for c in spec.get("initContainers", []) + spec.get("containers", []):
            assert c.get("imagePullPolicy") == "IfNotPresent", f"{path}: {c['name']}"
            if c["image"] == DEMO_IMAGE:
                out.append((path, c))
    return out


@pytest.fixture(scope="module")
def manifest_server(tmp_path_factory):
    with serve(tmp_path_factory, "demo-manifests") as s:
        yield s


def test_manifests_pass_server_dry_run(manifest_server):
    expected = set()
    for _, doc in manifest_docs():
        expected.add(f"{doc['kind'].lower()}/{doc['metadata']['name']}")
    for target in (MANIFESTS, MANIFESTS / "examples"):
        cp = manifest_server.kubectl("apply", "--dry-run=server", "-f", str(target), "-o", "name")
        for line in cp.stdout.split():
            kind_group, name = line.split("/", 1)
            expected.discard(f"{kind_group.split('.')[0]}/{name}")
    assert not expected, f"not applied: {sorted(expected)}"
    # A dry run creates nothing.
    assert manifest_server.kubectl("get", "deployment", "demo", check=False).returncode != 0


def test_manifests_show_what_the_readme_says():
    docs = {(d["kind"], d["metadata"]["name"]): d for path, d in manifest_docs()
            if path.parent == MANIFESTS}
    assert {k for k, _ in docs} >= {"ConfigMap", "Secret", "Deployment", "Service",
                                    "HorizontalPodAutoscaler", "NetworkPolicy"}
    deploy = docs[("Deployment", "demo")]
    assert deploy["spec"]["replicas"] == 3
    spec = deploy["spec"]["template"]["spec"]
    (c,) = spec["containers"]
    assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    for probe, path in (("startupProbe", "/startupz"), ("livenessProbe", "/healthz"),
                        ("readinessProbe", "/readyz")):
        assert c[probe]["httpGet"] == {"path": path, "port": "http"}, probe
    assert c["resources"] == {"requests": {"cpu": "50m", "memory": "32Mi"},
                              "limits": {"cpu": "500m", "memory": "128Mi"}}
    env = {e["name"]: e for e in c["env"]}
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["GREETING"]["valueFrom"]["configMapKeyRef"]["name"] == "demo-config"
    assert env["API_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "demo-secret"
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["secret"]["secret"]["secretName"] == "demo-secret"
    assert env["SECRET_DIR"]["value"] == mounts["secret"] == "/etc/demo/secret"
    assert env["CONFIG_DIR"]["value"] == mounts["config"]
    assert all(p.startswith("/etc/demo/") for p in mounts.values())
    svc = docs[("Service", "demo")]["spec"]
    assert svc["ports"][0]["port"] == 80 and svc["ports"][0]["targetPort"] == "http"
    hpa = docs[("HorizontalPodAutoscaler", "demo")]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 5)
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 50
    np = docs[("NetworkPolicy", "demo-allow-frontend")]["spec"]
    assert np["ingress"][0]["from"][0]["podSelector"]["matchLabels"] == {"role": "frontend"}
    assert np["ingress"][0]["ports"][0]["port"] == 8080


def test_manifest_probes_hit_real_endpoints(demo):
    """Each demo-app container in Manifests/, started with its literal env, answers its probe
    paths (not 404) and listens on its declared container port's number."""
    checked = 0
    for path, c in demo_containers():
        literal = {e["name"]: e["value"] for e in c.get("env", []) if "value" in e}
        env = {k: v for k, v in literal.items() if k not in ("PORT", "CONFIG_DIR", "SECRET_DIR")}
        env["STARTUP_DELAY_SECONDS"] = "0"
        declared = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
        port_env = literal.get("PORT", "8080")
        assert int(port_env) in declared.values(), f"{path}: PORT {port_env} not a containerPort"
        app = demo(**env)
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            if probe in c:
                get = c[probe]["httpGet"]
                port = get["port"]
                assert port in declared or port in declared.values(), f"{path}: {probe} port {port}"
                assert app.get(get["path"]).status_code != 404, f"{path}: {probe} {get['path']}"
                checked += 1
        app.stop()
    assert checked >= 6
