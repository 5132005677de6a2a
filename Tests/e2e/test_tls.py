"""TLS by default and authentication: the generated kubeconfig works for
the real kubectl over HTTPS; requests without credentials get a 401 Status; tokens from
DIR/tokens.csv authenticate; plain HTTP to the TLS port gets nowhere."""

from __future__ import annotations

import base64

import pytest
import requests
import yaml

from e2eutil import assert_status_body


def _kubeconfig(server) -> dict:
    with open(server.kubeconfig) as f:
        return yaml.safe_load(f)


def _anonymous(server) -> requests.Session:
    """Trusts the cluster CA but presents neither a client certificate nor a token."""
    s = requests.Session()
    s.verify = server.client_config.verify
    s.trust_env = False
    s.headers["Accept"] = "application/json"
    return s


def test_kubeconfig_is_https_with_admin_certificate(server, kubectl):
    cfg = _kubeconfig(server)
    cluster = cfg["clusters"][0]["cluster"]
    assert cluster["server"] == f"https://127.0.0.1:{server.port}"
    assert b"BEGIN CERTIFICATE" in base64.b64decode(cluster["certificate-authority-data"])
    user = cfg["users"][0]["user"]
    assert b"BEGIN CERTIFICATE" in base64.b64decode(user["client-certificate-data"])
    assert b"PRIVATE KEY" in base64.b64decode(user["client-key-data"])
    out = kubectl("get", "ns", "-o", "name").stdout
    assert "namespace/default" in out
    who = kubectl("get", "--raw", "/api/v1/namespaces/kube-system").stdout
    assert '"kube-system"' in who


def test_no_credentials_is_401_status(server):
    with _anonymous(server) as s:
        r = s.get(server.url + "/api/v1/namespaces", timeout=10)
        assert r.status_code == 401, r.text
        assert_status_body(r.json(), 401, "Unauthorized")
        r = s.get(server.url + "/api/v1/namespaces", headers={"Authorization": "Bearer not-a-token"}, timeout=10)
        assert r.status_code == 401, r.text
        # Health and version stay public.
        for path in ("/readyz", "/livez", "/healthz", "/version"):
            assert s.get(server.url + path, timeout=10).status_code == 200, path


def test_admin_certificate_is_200(http, server):
    r = http.get(server.url + "/api/v1/namespaces", timeout=10)
    assert r.status_code == 200, r.text


def test_plain_http_to_tls_port_fails(server):
    with requests.Session() as s:
        s.trust_env = False
        try:
            r = s.get(f"http://127.0.0.1:{server.port}/api/v1/namespaces", timeout=10)
        except requests.exceptions.RequestException:
            return
        assert r.status_code != 200, r.text


@pytest.mark.timeout(180)
def test_static_token_file_authenticates(start_server):
    s = start_server("tokens", start=False)
    s.data_dir.mkdir(parents=True, exist_ok=True)
    (s.data_dir / "tokens.csv").write_text('s3cret-token,alice,uid-alice,"dev,ops"\n')
    s.start()
    with _anonymous(s) as session:
        # Authenticated: discovery is open to every authenticated user; resources need an RBAC binding.
        r = session.get(s.url + "/api", headers={"Authorization": "Bearer s3cret-token"}, timeout=10)
        assert r.status_code == 200, r.text
        r = session.get(s.url + "/api/v1/namespaces", headers={"Authorization": "Bearer s3cret-token"}, timeout=10)
        assert r.status_code == 403, r.text
        r = session.get(s.url + "/api/v1/namespaces", headers={"Authorization": "Bearer wrong"}, timeout=10)
        assert r.status_code == 401, r.text
    # The token file keeps the operator's entries across restarts.
    assert "s3cret-token" in (s.data_dir / "tokens.csv").read_text()


@pytest.mark.timeout(180)
def test_tls_false_serves_plain_http(start_server):
    s = start_server("plain", extra_args=["--tls=false"])
    assert _kubeconfig(s)["clusters"][0]["cluster"]["server"].startswith("http://")
    out = s.kubectl("get", "ns", "-o", "name").stdout
    assert "namespace/default" in out


def test_kubectl_certificate_approve_and_deny(server, kubectl, tmp_path):
    """kubectl's typed client PUTs the approval subresource as protobuf."""
    import json
    import subprocess

    from e2eutil import unique

    def request(name: str) -> str:
        key, csr = tmp_path / f"{name}.key", tmp_path / f"{name}.csr"
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}"], check=True, capture_output=True)
        return base64.b64encode(csr.read_bytes()).decode()

    names = [unique("e2e-csr-approve", 5), unique("e2e-csr-deny", 5)]
    for name in names:
        manifest = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": {"name": name},
                    "spec": {"request": request(name), "signerName": "example.com/e2e", "usages": ["client auth"]}}
        kubectl("create", "-f", "-", input=json.dumps(manifest))
    try:
        kubectl("certificate", "approve", names[0])
        kubectl("certificate", "deny", names[1])
        for name, want in zip(names, ["Approved", "Denied"]):
            csr = json.loads(kubectl("get", "csr", name, "-o", "json").stdout)
            conditions = csr["status"]["conditions"]
            assert [(c["type"], c["status"]) for c in conditions] == [(want, "True")], conditions
            assert conditions[0]["reason"] in ("KubectlApprove", "KubectlDeny")
        # Approving a denied request is refused, as Kubernetes refuses it.
        cp = kubectl("certificate", "approve", names[1], check=False)
        assert cp.returncode != 0
        assert "Denied" in cp.stderr or "mutually exclusive" in cp.stderr, cp.stderr
    finally:
        kubectl("delete", "csr", *names, check=False)
