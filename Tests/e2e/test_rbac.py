"""RBAC over TLS: a bearer-token user `bob` (added to DIR/tokens.csv before the server starts)
is forbidden until bound, then bound to `view` in one namespace can read there and nothing
else; `kubectl auth can-i` (SelfSubjectAccessReview, with and without `--as`) answers
correctly; the in-process controllers, authorized by their own default role, still work."""

from __future__ import annotations

import json

import pytest
import requests

from e2eutil import serve, unique, wait_for

BOB_TOKEN = "bob-" + unique("t", 16)


@pytest.fixture(scope="module")
def rserver(tmp_path_factory):
    # The token file is read at start; the controllers stay on (they must pass RBAC too).
    def write_tokens(s):
        (s.data_dir / "tokens.csv").write_text(f'{BOB_TOKEN},bob,1001,"readers"\n')

    with serve(tmp_path_factory, "caravel-rbac", controllers=True, prepare=write_tokens) as s:
        yield s


@pytest.fixture
def bob(rserver):
    """A session as bob: the server's CA, bob's bearer token, no client certificate."""
    cc = rserver.client_config
    s = requests.Session()
    s.verify = cc.verify
    s.trust_env = False
    s.headers["Authorization"] = f"Bearer {BOB_TOKEN}"
    s.headers["Accept"] = "application/json"
    yield s
    s.close()


@pytest.fixture
def two_namespaces(rserver):
    a, b = unique("e2e-rbac-a", 5), unique("e2e-rbac-b", 5)
    for ns in (a, b):
        rserver.kubectl("create", "namespace", ns)
        rserver.kubectl("create", "configmap", "cm", "-n", ns, "--from-literal=k=v")
    yield a, b
    for ns in (a, b):
        rserver.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def can_i(rserver, *args: str) -> str:
    cp = rserver.kubectl("auth", "can-i", *args, check=False)
    return cp.stdout.strip()


def test_default_roles_exist(rserver):
    names = json.loads(rserver.kubectl("get", "clusterroles", "-o", "json").stdout)["items"]
    have = {o["metadata"]["name"] for o in names}
    assert {"cluster-admin", "admin", "edit", "view", "system:discovery", "system:basic-user",
            "system:kube-controller-manager", "system:kube-scheduler"} <= have
    crbs = rserver.kubectl("get", "clusterrolebindings", "-o", "wide").stdout
    assert "ClusterRole/cluster-admin" in crbs and "system:masters" in crbs


def test_bob_is_forbidden_until_bound_then_reads_one_namespace(rserver, bob, two_namespaces):
    a, b = two_namespaces
    url = rserver.url
    # Authenticated, but no binding: discovery works, resources do not.
    assert bob.get(f"{url}/api").status_code == 200
    r = bob.get(f"{url}/api/v1/namespaces/{a}/configmaps")
    assert r.status_code == 403, r.text
    st = r.json()
    assert st["kind"] == "Status" and st["reason"] == "Forbidden" and st["code"] == 403
    assert st["message"] == (f'configmaps is forbidden: User "bob" cannot list resource "configmaps" '
                             f'in API group "" in the namespace "{a}"')
    assert st["details"]["kind"] == "configmaps"

    assert can_i(rserver, "list", "pods", "-n", a, "--as", "bob") == "no"
    rserver.kubectl("create", "rolebinding", "bob-view", "-n", a, "--clusterrole=view", "--user=bob")

    wait_for(lambda: bob.get(f"{url}/api/v1/namespaces/{a}/configmaps").status_code == 200,
             timeout=10, what="bob may list configmaps once bound to view")
    items = bob.get(f"{url}/api/v1/namespaces/{a}/configmaps").json()["items"]
    # kube-root-ca.crt is in every namespace (the root CA publisher), as in Kubernetes.
    assert [o["metadata"]["name"] for o in items if o["metadata"]["name"] != "kube-root-ca.crt"] == ["cm"]
    assert bob.get(f"{url}/api/v1/namespaces/{a}/configmaps/cm").status_code == 200
    # Elsewhere, on writes, and on Secrets (view does not include them): forbidden.
    r = bob.get(f"{url}/api/v1/namespaces/{b}/configmaps")
    assert r.status_code == 403 and f'in the namespace "{b}"' in r.json()["message"]
    assert bob.get(f"{url}/api/v1/configmaps").status_code == 403
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    r = bob.post(f"{url}/api/v1/namespaces/{a}/configmaps", json=body)
    assert r.status_code == 403 and 'cannot create resource "configmaps"' in r.json()["message"]
    assert bob.get(f"{url}/api/v1/namespaces/{a}/secrets").status_code == 403

    # kubectl auth can-i as the admin, impersonating bob.
    assert can_i(rserver, "list", "pods", "-n", a, "--as", "bob") == "yes"
    assert can_i(rserver, "list", "pods", "-n", b, "--as", "bob") == "no"
    assert can_i(rserver, "create", "configmaps", "-n", a, "--as", "bob") == "no"
    # `--list` (SelfSubjectRulesReview) shows what view grants, and no Secrets.
    listed = rserver.kubectl("auth", "can-i", "--list", "-n", a, "--as", "bob").stdout
    rows = {line.split()[0] for line in listed.splitlines()[1:] if line.strip()}
    assert "configmaps" in rows and "deployments.apps" in rows and "secrets" not in rows, listed
    # Bob may not impersonate anyone himself.
    r = bob.get(f"{url}/api/v1/namespaces/{a}/configmaps", headers={"Impersonate-User": "caravel-admin"})
    assert r.status_code == 403 and 'cannot impersonate resource "users"' in r.json()["message"]


def test_admin_can_i_and_reviews(rserver):
    assert can_i(rserver, "create", "deployments") == "yes"
    assert can_i(rserver, "*", "*") == "yes"
    sar = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
           "spec": {"user": "nobody", "resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "default"}}}
    out = json.loads(rserver.kubectl("create", "-f", "-", "-o", "json", input=json.dumps(sar)).stdout)
    assert out["status"]["allowed"] is False
    sar["spec"] = {"user": "x", "groups": ["system:masters"], "nonResourceAttributes": {"verb": "get", "path": "/metrics"}}
    out = json.loads(rserver.kubectl("create", "-f", "-", "-o", "json", input=json.dumps(sar)).stdout)
    assert out["status"]["allowed"] is True


def test_node_pod_list_review_reads_every_pod_through_the_node_role(rserver):
    def review(field_selector=None):
        attrs = {"verb": "list", "resource": "pods"}
        if field_selector is not None:
            attrs["fieldSelector"] = {"rawSelector": field_selector}
        sar = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
               "spec": {"user": "system:node:n1", "groups": ["system:nodes", "system:authenticated"],
                        "resourceAttributes": attrs}}
        out = json.loads(rserver.kubectl("create", "-f", "-", "-o", "json", input=json.dumps(sar)).stdout)
        return out["status"]["allowed"]

    # NetworkPolicy enforcement needs every pod's labels and IP: the system:node role reads them.
    assert review() is True
    assert review("spec.nodeName=n2") is True
    assert review("spec.nodeName=n1") is True
    sar = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
           "spec": {"user": "system:node:n1", "groups": ["system:nodes", "system:authenticated"],
                    "resourceAttributes": {"verb": "delete", "resource": "pods", "namespace": "default", "name": "x"}}}
    out = json.loads(rserver.kubectl("create", "-f", "-", "-o", "json", input=json.dumps(sar)).stdout)
    assert out["status"]["allowed"] is False


def test_controllers_still_work(rserver):
    ns = unique("e2e-rbac-ctl", 5)
    rserver.kubectl("create", "namespace", ns)
    try:
        rserver.kubectl("create", "deployment", "web", "-n", ns, "--image=nginx", "--replicas=2")

        def rs():
            items = json.loads(rserver.kubectl("get", "replicasets", "-n", ns, "-o", "json").stdout)["items"]
            return items if items else None

        items = wait_for(rs, timeout=30, what="the Deployment's ReplicaSet")
        assert items[0]["metadata"]["ownerReferences"][0]["name"] == "web"
        wait_for(lambda: len(json.loads(rserver.kubectl("get", "pods", "-n", ns, "-o", "json").stdout)["items"]) == 2,
                 timeout=30, what="the ReplicaSet's pods")
    finally:
        rserver.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_no_privilege_escalation(rserver, bob, two_namespaces):
    a, _ = two_namespaces
    url = rserver.url
    rserver.kubectl("create", "rolebinding", "bob-admin", "-n", a, "--clusterrole=admin", "--user=bob")
    rbs = f"{url}/apis/rbac.authorization.k8s.io/v1/namespaces/{a}/rolebindings"

    def binding(name, role):
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": [{"kind": "User", "name": "carol"}]}

    # A namespace admin may hand out what they hold...
    wait_for(lambda: bob.post(rbs, json=binding("carol-view", "view")).status_code == 201, timeout=10,
             what="bob, admin of the namespace, may bind view")
    # ...but not cluster-admin, nor a Role with rules beyond their own.
    r = bob.post(rbs, json=binding("carol-root", "cluster-admin"))
    assert r.status_code == 403 and "attempting to grant RBAC permissions not currently held" in r.json()["message"], r.text
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}
    roles = f"{url}/apis/rbac.authorization.k8s.io/v1/namespaces/{a}/roles"
    assert bob.post(roles, json=role).status_code == 201
    role["metadata"]["name"] = "r2"
    role["rules"].append({"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]})
    r = bob.post(roles, json=role)
    assert r.status_code == 403 and 'Resources:["nodes"]' in r.json()["message"], r.text
    r = bob.patch(f"{roles}/r", json={"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]},
                  headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 403, r.text
