"""Admission with the real kubectl: Pod Security Standards by namespace label (enforce refuses,
warn warns), LimitRange defaults filled into a created pod, and a ResourceQuota that refuses
the pod over its limit while the quota controller reports usage in `kubectl describe quota`;
updates admitted as Kubernetes admits them."""

from __future__ import annotations

import json

import pytest

from e2eutil import serve, unique, wait_for


@pytest.fixture(scope="module")
def aserver(tmp_path_factory):
    # The quota controller keeps status.used current; the scheduler has no nodes to bind to.
    with serve(tmp_path_factory, "caravel-admission", controllers=True) as s:
        yield s


def namespace(s, labels: dict[str, str] | None = None) -> str:
    ns = unique("adm")
    s.kubectl("create", "namespace", ns)
    if labels:
        s.kubectl("label", "namespace", ns, *[f"{k}={v}" for k, v in labels.items()])
    return ns


def pod_yaml(name: str, ns: str, security: str = "", resources: str = "") -> str:
    return f"""apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: {ns}
spec:
  containers:
  - name: c
    image: busybox
{security}{resources}"""


COMPLIANT = """    securityContext:
      allowPrivilegeEscalation: false
      runAsNonRoot: true
      runAsUser: 1000
      capabilities:
        drop: ["ALL"]
      seccompProfile:
        type: RuntimeDefault
"""


def test_restricted_namespace_rejects_root_pod_and_accepts_compliant(aserver):
    ns = namespace(aserver, {"pod-security.kubernetes.io/enforce": "restricted"})
    cp = aserver.kubectl("apply", "-f", "-", input=pod_yaml("root", ns), check=False)
    assert cp.returncode != 0
    assert 'pods "root" is forbidden: violates PodSecurity "restricted:latest"' in cp.stderr
    assert "runAsNonRoot != true" in cp.stderr
    assert 'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)' in cp.stderr
    ok = aserver.kubectl("apply", "-f", "-", input=pod_yaml("ok", ns, COMPLIANT))
    assert "pod/ok created" in ok.stdout


def test_warn_label_gives_kubectl_warning(aserver):
    ns = namespace(aserver, {"pod-security.kubernetes.io/warn": "baseline"})
    priv = "    securityContext:\n      privileged: true\n"
    cp = aserver.kubectl("apply", "-f", "-", input=pod_yaml("priv", ns, priv))
    assert "pod/priv created" in cp.stdout
    assert 'Warning: would violate PodSecurity "baseline:latest": privileged' in cp.stderr


def test_limitrange_defaults_appear_on_pod(aserver):
    ns = namespace(aserver)
    aserver.kubectl("apply", "-f", "-", input=f"""apiVersion: v1
kind: LimitRange
metadata:
  name: defaults
  namespace: {ns}
spec:
  limits:
  - type: Container
    default: {{cpu: 500m, memory: 256Mi}}
    defaultRequest: {{cpu: 100m}}
    max: {{cpu: "1"}}
""")
    lr = json.loads(aserver.kubectl("get", "limitrange", "defaults", "-n", ns, "-o", "json").stdout)
    assert lr["spec"]["limits"][0]["defaultRequest"] == {"cpu": "100m", "memory": "256Mi"}
    aserver.kubectl("apply", "-f", "-", input=pod_yaml("p", ns))
    pod = json.loads(aserver.kubectl("get", "pod", "p", "-n", ns, "-o", "json").stdout)
    res = pod["spec"]["containers"][0]["resources"]
    assert res["limits"] == {"cpu": "500m", "memory": "256Mi"}
    assert res["requests"] == {"cpu": "100m", "memory": "256Mi"}
    assert "LimitRanger plugin set" in pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"]
    big = '    resources:\n      limits: {cpu: "2"}\n'
    cp = aserver.kubectl("apply", "-f", "-", input=pod_yaml("big", ns, resources=big), check=False)
    assert cp.returncode != 0
    assert 'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2' in cp.stderr


def test_quota_refuses_third_pod_and_describe_shows_used(aserver):
    ns = namespace(aserver)
    aserver.kubectl("create", "quota", "q", "-n", ns, "--hard=pods=2,configmaps=5")
    for i in range(2):
        aserver.kubectl("apply", "-f", "-", input=pod_yaml(f"p{i}", ns))
    cp = aserver.kubectl("apply", "-f", "-", input=pod_yaml("p2", ns), check=False)
    assert cp.returncode != 0
    assert 'pods "p2" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2' in cp.stderr
    # The raw API answers 403 Forbidden, as Kubernetes does.
    raw = aserver.kubectl("create", "--raw", f"/api/v1/namespaces/{ns}/pods", "-f", "-",
                          input=json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p3"},
                                            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}), check=False)
    assert raw.returncode != 0 and "exceeded quota" in raw.stderr

    def described():
        out = aserver.kubectl("describe", "quota", "q", "-n", ns).stdout
        rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith(("pods", "configmaps"))}
        return out if rows.get("pods") == ["2", "2"] and rows.get("configmaps", [None])[0] is not None else None

    out = wait_for(described, timeout=30)
    assert "Used" in out and "Hard" in out


def test_quota_requires_compute_resources(aserver):
    ns = namespace(aserver)
    aserver.kubectl("create", "quota", "compute", "-n", ns, "--hard=limits.cpu=1")
    cp = aserver.kubectl("apply", "-f", "-", input=pod_yaml("bare", ns), check=False)
    assert cp.returncode != 0
    assert 'pods "bare" is forbidden: failed quota: compute: must specify limits.cpu for: c' in cp.stderr


def test_updates_are_admitted(aserver):
    """Updates go through admission as in Kubernetes: PodSecurity judges a new image, not a new
    label; ResourceQuota charges what an update adds."""
    ns = namespace(aserver)
    try:
        aserver.kubectl("apply", "-f", "-", input=pod_yaml("host", ns, "  hostNetwork: true\n"))
        aserver.kubectl("label", "namespace", ns, "pod-security.kubernetes.io/enforce=baseline")
        assert "pod/host labeled" in aserver.kubectl("label", "pod", "host", "-n", ns, "tier=web").stdout
        cp = aserver.kubectl("set", "image", "pod/host", "c=busybox:1.36", "-n", ns, check=False)
        assert cp.returncode != 0
        assert 'pods "host" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)' in cp.stderr

        aserver.kubectl("create", "quota", "np", "-n", ns, "--hard=services.nodeports=1")
        aserver.kubectl("create", "service", "nodeport", "a", "--tcp=80:80", "-n", ns)
        aserver.kubectl("create", "service", "clusterip", "b", "--tcp=80:80", "-n", ns)
        cp = aserver.kubectl("patch", "service", "b", "-n", ns, "-p", '{"spec":{"type":"NodePort"}}', check=False)
        assert cp.returncode != 0
        assert ('services "b" is forbidden: exceeded quota: np, requested: services.nodeports=1, '
                'used: services.nodeports=1, limited: services.nodeports=1') in cp.stderr
        assert "service/a labeled" in aserver.kubectl("label", "service", "a", "-n", ns, "tier=web").stdout
    finally:
        aserver.kubectl("delete", "pod", "host", "-n", ns, "--timeout=60s", check=False)
        aserver.kubectl("delete", "namespace", ns, "--wait=false", check=False)
