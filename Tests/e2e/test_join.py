"""Joining a node with the command `caravel server` prints (join token + kubelet TLS
bootstrap): the kubelet finds the CA in the anonymous cluster-info, pins it by hash, gets a
client certificate through an auto-approved CertificateSigningRequest made with the bootstrap
token, and runs as system:node:NAME. A wrong CA hash or token stops it with a clear error."""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import signal
import subprocess
import time

import pytest
import requests
import yaml

from e2eutil import caravel_bin, serve, wait_for


@pytest.fixture(scope="module")
def jserver(tmp_path_factory):
    with serve(tmp_path_factory, "caravel-join", controllers=True) as s:
        yield s


def join_args(server) -> list[str]:
    text = (server.data_dir / "join-command.txt").read_text().strip()
    args = shlex.split(text)
    assert args[:2] == ["caravel", "kubelet"], text
    return args[2:]


def kubelet(args: list[str], node: str, root, **kw) -> subprocess.Popen:
    cmd = [str(caravel_bin()), "kubelet", *args, "--node-name", node, "--root-dir", str(root), "--port", "0", "--runtime", "fake"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                            start_new_session=True, **kw)


def stop(p: subprocess.Popen) -> str:
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
    return p.stdout.read() if p.stdout else ""


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_join_command_is_written_and_pins_the_ca(jserver):
    text = (jserver.data_dir / "join-command.txt").read_text()
    m = re.fullmatch(r"caravel kubelet --server (https://\S+) --token ([a-z0-9]{6})\.([a-z0-9]{16}) "
                     r"--ca-cert-hash sha256:([0-9a-f]{64})\n", text)
    assert m, text
    assert oct(os.stat(jserver.data_dir / "join-command.txt").st_mode & 0o777) == "0o600"
    secret = json.loads(jserver.kubectl("get", "secret", "-n", "kube-system", f"bootstrap-token-{m.group(2)}", "-o", "json").stdout)
    assert secret["type"] == "bootstrap.kubernetes.io/token"
    assert base64.b64decode(secret["data"]["token-secret"]).decode() == m.group(3)
    # cluster-info is readable without credentials, and only it.
    s = requests.Session()
    s.verify = False
    s.trust_env = False
    r = s.get(f"{m.group(1)}/api/v1/namespaces/kube-public/configmaps/cluster-info", timeout=10)
    assert r.status_code == 200, r.text
    kc = yaml.safe_load(r.json()["data"]["kubeconfig"])
    assert kc["clusters"][0]["cluster"]["server"] == m.group(1)
    assert s.get(f"{m.group(1)}/api/v1/namespaces/kube-public/configmaps", timeout=10).status_code == 401
    assert s.put(f"{m.group(1)}/api/v1/namespaces/kube-public/configmaps/cluster-info", json={}, timeout=10).status_code == 401


def test_kubelet_joins_with_the_printed_command(jserver, tmp_path):
    p = kubelet(join_args(jserver), "joined-1", tmp_path / "k1")
    try:
        def ready():
            assert p.poll() is None, f"kubelet exited {p.returncode}: {p.stdout.read() if p.stdout else ''}"
            cp = jserver.kubectl("get", "node", "joined-1", "-o", "json", check=False)
            if cp.returncode != 0:
                return False
            conds = json.loads(cp.stdout).get("status", {}).get("conditions") or []
            return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)
        wait_for(ready, timeout=90, what="node joined-1 Ready")
        csrs = jserver.kubectl("get", "csr").stdout
        assert re.search(r"kube-apiserver-client-kubelet\s+system:bootstrap:[a-z0-9]{6}\s+\S+\s+Approved,Issued", csrs), csrs
        kc_path = tmp_path / "k1" / "kubelet.kubeconfig"
        assert oct(os.stat(kc_path).st_mode & 0o777) == "0o600"
        kc = yaml.safe_load(kc_path.read_text())
        assert kc["users"][0]["name"] == "system:node:joined-1"
        cert = base64.b64decode(kc["users"][0]["user"]["client-certificate-data"])
        subject = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253"], input=cert,
                                 capture_output=True, timeout=30).stdout.decode()
        assert "CN=system:node:joined-1" in subject and "O=system:nodes" in subject, subject
    finally:
        stop(p)
    # A restart reuses the certificate: no second CSR.
    before = len(json.loads(jserver.kubectl("get", "csr", "-o", "json").stdout)["items"])
    p = kubelet(join_args(jserver), "joined-1", tmp_path / "k1")
    try:
        time.sleep(5)
        assert p.poll() is None, "the restarted kubelet exited"
    finally:
        out = stop(p)
    assert "reusing the kubelet's client certificate" in out, out
    assert len(json.loads(jserver.kubectl("get", "csr", "-o", "json").stdout)["items"]) == before


def test_wrong_ca_hash_is_refused(jserver, tmp_path):
    args = join_args(jserver)
    i = args.index("--ca-cert-hash")
    args[i + 1] = "sha256:" + "0" * 64
    p = kubelet(args, "joined-bad-ca", tmp_path / "k")
    out = p.communicate(timeout=60)[0]
    assert p.returncode != 0
    assert "does not match --ca-cert-hash" in out, out
    assert not (tmp_path / "k" / "kubelet.kubeconfig").exists()


def test_wrong_token_is_refused(jserver, tmp_path):
    args = join_args(jserver)
    i = args.index("--token")
    args[i + 1] = "zzzzzz.0123456789abcdef"
    p = kubelet(args, "joined-bad-token", tmp_path / "k")
    out = p.communicate(timeout=60)[0]
    assert p.returncode != 0
    assert "refused the join token" in out, out
