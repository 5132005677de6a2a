"""ServiceAccount tokens end to end: `kubectl create token` gives a JWT that authenticates as
system:serviceaccount:NS:NAME (forbidden until bound by RBAC), a pod-bound token dies with its
pod, and with the kubelet a pod sees its token, CA and namespace under
/var/run/secrets/kubernetes.io/serviceaccount, and that token works against the API."""

from __future__ import annotations

import json

import pytest
import requests

from e2eutil import serve, unique, wait_for
from kubeletutil import apply, kill_pids, namespace_on, pod_spec, sh_container, wait_running_ready

MARK = unique("e2e-sa", 8)
ENV = [{"name": "E2E_TOKEN", "value": MARK}]
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    with serve(tmp_path_factory, "caravel-sa") as s:
        yield s


def session(server, token: str) -> requests.Session:
    s = requests.Session()
    s.verify = server.client_config.verify
    s.trust_env = False
    s.headers["Authorization"] = f"Bearer {token}"
    s.headers["Accept"] = "application/json"
    return s


def whoami(server, token: str) -> requests.Response:
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": "list", "resource": "pods", "namespace": "default"}}}
    return session(server, token).post(server.url + "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", json=body)


def kubectl_as(server, token: str, *args: str, check: bool = False):
    # Only the token: the kubeconfig's client certificate would win over it.
    return server.kubectl("--kubeconfig=/dev/null", f"--server={server.url}",
                          f"--certificate-authority={server.data_dir / 'pki' / 'ca.crt'}",
                          f"--token={token}", *args, check=check)


def test_create_token_authenticates_and_rbac_applies(api):
    token = api.kubectl("create", "token", "default", "--duration", "1h").stdout.strip()
    assert token.count(".") == 2
    header = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == "ES256"
    s = session(api, token)
    r = s.get(api.url + "/api/v1/namespaces/default/pods")
    assert r.status_code == 403, r.text
    assert "system:serviceaccount:default:default" in r.json()["message"]
    assert kubectl_as(api, token, "get", "pods").returncode != 0
    # Bound to `view` in default: reads work there, writes do not.
    api.kubectl("create", "rolebinding", "sa-view", "--clusterrole=view", "--serviceaccount=default:default")
    wait_for(lambda: s.get(api.url + "/api/v1/namespaces/default/pods").status_code == 200, timeout=10, what="RBAC")
    cp = kubectl_as(api, token, "get", "pods", "-n", "default")
    assert cp.returncode == 0, cp.stderr
    assert s.post(api.url + "/api/v1/namespaces/default/configmaps",
                  json={"metadata": {"name": "x"}}).status_code == 403
    # The Python client with only the bearer token.
    from kubernetes import client as kclient
    cfg = kclient.Configuration()
    cfg.host = api.url
    cfg.ssl_ca_cert = str(api.data_dir / "pki" / "ca.crt")
    cfg.api_key = {"authorization": "Bearer " + token}
    with kclient.ApiClient(cfg) as c:
        pods = kclient.CoreV1Api(c).list_namespaced_pod("default")
        assert pods.items is not None
    api.kubectl("delete", "rolebinding", "sa-view")


def test_bad_tokens_and_validation(api):
    token = api.kubectl("create", "token", "default").stdout.strip()
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert session(api, forged).get(api.url + "/api/v1/namespaces").status_code == 401
    cp = api.kubectl("create", "token", "default", "--duration", "5m", check=False)
    assert cp.returncode != 0 and "10 minutes" in cp.stderr, cp.stderr
    cp = api.kubectl("create", "token", "nobody-" + unique("x", 4), check=False)
    assert cp.returncode != 0 and "not found" in cp.stderr


def test_pod_bound_token_dies_with_pod(api):
    sa = unique("robot", 5)
    api.kubectl("create", "serviceaccount", sa)
    api.kubectl("run", "holder-" + sa, "--image=busybox", f"--overrides={json.dumps({'spec': {'serviceAccountName': sa}})}",
                "--", "sleep", "3600")
    token = api.kubectl("create", "token", sa, "--bound-object-kind", "Pod",
                        "--bound-object-name", "holder-" + sa).stdout.strip()
    assert whoami(api, token).status_code == 201
    api.kubectl("delete", "pod", "holder-" + sa, "--grace-period=0", "--force", "--wait=true")
    # Successful authentications are remembered for 10 s: a revocation lands within that.
    wait_for(lambda: whoami(api, token).status_code == 401, timeout=20, what="token revoked with its pod")
    # Deleting the account revokes its plain tokens too.
    plain = api.kubectl("create", "token", sa).stdout.strip()
    assert whoami(api, plain).status_code == 201
    api.kubectl("delete", "serviceaccount", sa)
    wait_for(lambda: whoami(api, plain).status_code == 401, timeout=20, what="token revoked with its account")


def test_admission_defaults_the_account_and_mounts_the_token(api):
    api.kubectl("run", "plain", "--image=busybox", "--", "sleep", "1")
    pod = json.loads(api.kubectl("get", "pod", "plain", "-o", "json").stdout)
    assert pod["spec"]["serviceAccountName"] == "default"
    vol = [v for v in pod["spec"]["volumes"] if v["name"].startswith("kube-api-access-")]
    assert len(vol) == 1
    mounts = pod["spec"]["containers"][0]["volumeMounts"]
    assert {"name": vol[0]["name"], "mountPath": SA_DIR, "readOnly": True} in mounts
    cp = api.kubectl("run", "ghost", "--image=busybox", "--overrides",
                     json.dumps({"spec": {"serviceAccountName": "ghost"}}), check=False)
    assert cp.returncode != 0 and 'serviceaccount "ghost" not found' in cp.stderr, cp.stderr


# -- with controllers and the kubelet


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with serve(tmp_path_factory, "caravel-sa-node", controllers=True, kubelet=True) as s:
        yield s
    kill_pids(MARK)


def test_controllers_publish_default_account_and_root_ca(node):
    ns = unique("e2e-sa-ns", 5)
    node.kubectl("create", "namespace", ns)
    wait_for(lambda: node.kubectl("get", "sa", "default", "-n", ns, check=False).returncode == 0,
             timeout=30, what="default ServiceAccount")
    wait_for(lambda: node.kubectl("get", "cm", "kube-root-ca.crt", "-n", ns, check=False).returncode == 0,
             timeout=30, what="kube-root-ca.crt")
    cm = json.loads(node.kubectl("get", "cm", "kube-root-ca.crt", "-n", ns, "-o", "json").stdout)
    assert cm["data"]["ca.crt"] == (node.data_dir / "pki" / "ca.crt").read_text()
    node.kubectl("delete", "sa", "default", "-n", ns)
    wait_for(lambda: node.kubectl("get", "sa", "default", "-n", ns, check=False).returncode == 0,
             timeout=30, what="default ServiceAccount recreated")
    node.kubectl("delete", "namespace", ns, "--wait=false")


def test_pod_reads_its_token(node):
    with namespace_on(node, "e2e-sa") as ns:
        apply(node, pod_spec("reader", [sh_container("main", "exec sleep 3600", env=ENV)]), ns)
        wait_running_ready(node, "reader", ns)
        for f in ("token", "ca.crt", "namespace"):
            cp = node.kubectl("exec", "reader", "-n", ns, "--", "cat", f"{SA_DIR}/{f}")
            assert cp.stdout.strip(), f
        assert node.kubectl("exec", "reader", "-n", ns, "--", "cat", f"{SA_DIR}/namespace").stdout == ns
        ca = node.kubectl("exec", "reader", "-n", ns, "--", "cat", f"{SA_DIR}/ca.crt").stdout
        assert ca == (node.data_dir / "pki" / "ca.crt").read_text()
        token = node.kubectl("exec", "reader", "-n", ns, "--", "cat", f"{SA_DIR}/token").stdout.strip()
        r = whoami(node, token)
        assert r.status_code == 201, r.text
        node.kubectl("delete", "pod", "reader", "-n", ns, "--wait=true", timeout=120)
        wait_for(lambda: whoami(node, token).status_code == 401, timeout=30, what="token revoked with its pod")
