"""Local persistent volumes with the real kubectl and real processes on the built-in kubelet:
a claim of the default `local-path` class is provisioned on the pod's node and bound; data a
pod writes survives the pod and is read by a new pod of the same claim; `kubectl get pv,pvc`
and `kubectl describe` as kubectl shows them; deleting the claim deletes the volume and its
directory (reclaim Delete) or leaves the volume Released and the data in place (Retain); a
claim in use is kept until its pod is gone; an unbound Immediate claim without a provisioner
keeps its pod Pending with the scheduler's message."""

from __future__ import annotations

import json
import os

import pytest

from e2eutil import serve, unique, wait_for
from kubeletutil import (KubeletProcess, apply, get_json, node_fixtures, node_kubeconfig, node_ready, pod_spec,
                         sh_container, wait_gone, wait_pod, wait_running_ready)

TOKEN = unique("e2e-storage", 8)
ENV = [{"name": "E2E_TOKEN", "value": TOKEN}]
JOINED = unique("storage-joined", 4)

srv, ns = node_fixtures("storage", TOKEN, before_ns=("joined",))


@pytest.fixture(scope="module")
def joined(srv, tmp_path_factory):
    """A second node: a separate `caravel kubelet` process with its own root directory."""
    base = tmp_path_factory.mktemp(JOINED)
    kubelet = KubeletProcess(node_kubeconfig(srv, JOINED, base / "node.kubeconfig"), JOINED, base / "root",
                             base / "kubelet.log").start()
    try:
        wait_for(lambda: node_ready(get_json(srv, "node", JOINED)), timeout=60, what=f"node {JOINED} Ready")
        yield kubelet
    finally:
        kubelet.stop()
        kubelet.clean_up_node()


def claim(name: str, storage: str = "64Mi", storage_class: str | None = None) -> dict:
    spec: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


def claim_pod(name: str, claim_name: str, script: str, read_only: bool = False, node: str | None = None) -> dict:
    mount = {"name": "data", "mountPath": "/data", **({"readOnly": True} if read_only else {})}
    placement = {"nodeSelector": {"kubernetes.io/hostname": node}} if node else {}
    return pod_spec(name, [sh_container("main", script, env=ENV, volumeMounts=[mount])],
                    terminationGracePeriodSeconds=1, **placement,
                    volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}])


def bound_volume(srv, ns, claim_name: str) -> dict:
    def bound():
        c = get_json(srv, "pvc", claim_name, ns)
        return c if c.get("status", {}).get("phase") == "Bound" else None
    c = wait_for(bound, timeout=90, interval=0.5, what=f"claim {claim_name} Bound")
    return get_json(srv, "pv", c["spec"]["volumeName"])


def delete_pod(srv, ns, name):
    srv.kubectl("delete", "pod", name, "-n", ns, "--wait=false")
    wait_gone(srv, "pod", name, ns)


def table_row(srv, *args) -> list[str]:
    lines = srv.kubectl("get", *args).stdout.splitlines()
    assert len(lines) == 2, lines
    return lines[0].split(), lines[1].split()


def test_default_class_is_local_path(srv):
    header, row = table_row(srv, "storageclass")
    assert header == ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"]
    assert row[:6] == ["local-path", "(default)", "caravel.dev/local-path", "Delete", "WaitForFirstConsumer", "false"], row


def test_explain_and_discovery(srv):
    explained = srv.kubectl("explain", "pvc.spec").stdout
    assert "PersistentVolumeClaimSpec" in explained and "accessModes" in explained, explained
    resources = srv.kubectl("api-resources", "--no-headers").stdout.splitlines()
    rows = {line.split()[0]: line.split() for line in resources}
    assert rows["persistentvolumeclaims"][1:] == ["pvc", "v1", "true", "PersistentVolumeClaim"]
    assert rows["persistentvolumes"][1:] == ["pv", "v1", "false", "PersistentVolume"]
    assert rows["storageclasses"][1:] == ["sc", "storage.k8s.io/v1", "false", "StorageClass"]


def test_resource_quota_counts_claims_and_storage(srv):
    name = unique("storage-quota", 5)
    srv.kubectl("create", "namespace", name)
    try:
        srv.kubectl("create", "quota", "storage", "-n", name,
                    "--hard=persistentvolumeclaims=3,requests.storage=100Mi,local-path.storageclass.storage.k8s.io/requests.storage=80Mi")
        apply(srv, claim("first", storage="64Mi"), name)

        def used():
            return (get_json(srv, "resourcequota", "storage", name).get("status") or {}).get("used") or {}
        wait_for(lambda: used() == {"persistentvolumeclaims": "1", "requests.storage": "64Mi",
                                    "local-path.storageclass.storage.k8s.io/requests.storage": "64Mi"},
                 timeout=30, what="quota usage of the claim")
        cp = srv.kubectl("apply", "-n", name, "-f", "-", input=json.dumps(claim("second", storage="32Mi")), check=False)
        assert cp.returncode != 0
        assert ('persistentvolumeclaims "second" is forbidden: exceeded quota: storage, requested: '
                "local-path.storageclass.storage.k8s.io/requests.storage=32Mi, used: "
                "local-path.storageclass.storage.k8s.io/requests.storage=64Mi, limited: "
                "local-path.storageclass.storage.k8s.io/requests.storage=80Mi") in cp.stderr, cp.stderr
    finally:
        srv.kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_deleting_a_namespace_takes_its_claims_and_their_volumes(srv, joined):
    name = unique("storage-gone", 5)
    srv.kubectl("create", "namespace", name)
    apply(srv, [claim("data"), claim_pod("user", "data", "echo x > /data/x && exec sleep 3600", node=srv.node_name)], name)
    wait_running_ready(srv, "user", name)
    pv = bound_volume(srv, name, "data")
    srv.kubectl("delete", "namespace", name, "--wait=false")
    wait_for(lambda: srv.kubectl("get", "namespace", name, check=False).returncode != 0, timeout=120,
             what="the namespace gone")
    wait_for(lambda: srv.kubectl("get", "pv", pv["metadata"]["name"], check=False).returncode != 0, timeout=60,
             what="its volume deleted")
    wait_for(lambda: not os.path.exists(pv["spec"]["hostPath"]["path"]), timeout=60, what="its directory removed")


def test_data_survives_the_pod_and_the_claim_goes_with_its_volume(srv, ns):
    apply(srv, [claim("notes"), claim_pod("writer", "notes", "echo kept-across-pods > /data/note && exec sleep 3600",
                                          node=srv.node_name)], ns)
    wait_running_ready(srv, "writer", ns)
    pv = bound_volume(srv, ns, "notes")
    c = get_json(srv, "pvc", "notes", ns)
    assert c["spec"]["storageClassName"] == "local-path"
    assert c["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == srv.node_name
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert pv["spec"]["claimRef"]["name"] == "notes" and pv["spec"]["claimRef"]["uid"] == c["metadata"]["uid"]
    terms = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [srv.node_name]}]}]
    directory = pv["spec"]["hostPath"]["path"]
    assert directory.startswith(str(srv.data_dir)), directory
    wait_for(lambda: os.path.exists(os.path.join(directory, "note")), timeout=30, what="the file on the node")
    with open(os.path.join(directory, "note")) as f:
        assert f.read() == "kept-across-pods\n"

    header, row = table_row(srv, "pvc", "notes", "-n", ns)
    assert header == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS", "MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE"]
    assert row[:7] == ["notes", "Bound", pv["metadata"]["name"], "64Mi", "RWO", "local-path", "<unset>"], row
    header, row = table_row(srv, "pv", pv["metadata"]["name"])
    assert header == ["NAME", "CAPACITY", "ACCESS", "MODES", "RECLAIM", "POLICY", "STATUS", "CLAIM", "STORAGECLASS",
                      "VOLUMEATTRIBUTESCLASS", "REASON", "AGE"]
    assert row[:8] == [pv["metadata"]["name"], "64Mi", "RWO", "Delete", "Bound", f"{ns}/notes", "local-path", "<unset>"], row
    described = srv.kubectl("describe", "pvc", "notes", "-n", ns).stdout
    assert "Used By:       writer" in described and "ProvisioningSucceeded" in described, described

    # A new pod of the same claim, mounting it read-only, finds the data.
    delete_pod(srv, ns, "writer")
    apply(srv, claim_pod("reader", "notes", "cat /data/note; touch /data/x || echo read-only; exec sleep 3600",
                         read_only=True, node=srv.node_name), ns)
    wait_running_ready(srv, "reader", ns)
    wait_for(lambda: "read-only" in srv.kubectl("logs", "reader", "-n", ns).stdout, timeout=30, what="reader output")
    assert srv.kubectl("logs", "reader", "-n", ns).stdout.splitlines()[0] == "kept-across-pods"

    # Deleting the claim in use leaves it Terminating until its pod is gone; then the volume
    # (reclaim Delete) and its directory go.
    srv.kubectl("delete", "pvc", "notes", "-n", ns, "--wait=false")
    _, row = table_row(srv, "pvc", "notes", "-n", ns)
    assert row[1] == "Terminating", row
    assert get_json(srv, "pv", pv["metadata"]["name"])["status"]["phase"] == "Bound"
    delete_pod(srv, ns, "reader")
    wait_gone(srv, "pvc", "notes", ns)
    wait_for(lambda: srv.kubectl("get", "pv", pv["metadata"]["name"], check=False).returncode != 0, timeout=60,
             what="the volume deleted")
    wait_for(lambda: not os.path.exists(directory), timeout=60, what="the directory removed by the kubelet")


def test_retain_keeps_a_released_volume_and_its_data(srv, ns):
    srv.kubectl("apply", "-f", "-", input="""
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: keep}
provisioner: caravel.dev/local-path
reclaimPolicy: Retain
volumeBindingMode: WaitForFirstConsumer
""")
    apply(srv, [claim("keep", storage_class="keep"),
                claim_pod("keeper", "keep", "echo precious > /data/f && exec sleep 3600", node=srv.node_name)], ns)
    wait_running_ready(srv, "keeper", ns)
    pv = bound_volume(srv, ns, "keep")
    name, directory = pv["metadata"]["name"], pv["spec"]["hostPath"]["path"]
    wait_for(lambda: os.path.exists(os.path.join(directory, "f")), timeout=30, what="the file on the node")
    delete_pod(srv, ns, "keeper")
    srv.kubectl("delete", "pvc", "keep", "-n", ns)

    wait_for(lambda: get_json(srv, "pv", name)["status"]["phase"] == "Released", timeout=60, what="volume Released")
    _, row = table_row(srv, "pv", name)
    assert row[3:6] == ["Retain", "Released", f"{ns}/keep"], row
    # The directory stays, also once the administrator deletes the volume.
    srv.kubectl("delete", "pv", name)
    wait_for(lambda: srv.kubectl("get", "pv", name, check=False).returncode != 0, timeout=60, what="the volume deleted")
    with open(os.path.join(directory, "f")) as f:
        assert f.read() == "precious\n"
    srv.kubectl("delete", "storageclass", "keep")


def test_unbound_immediate_claim_keeps_its_pod_pending(srv, ns):
    srv.kubectl("apply", "-f", "-", input="""
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: manual}
provisioner: kubernetes.io/no-provisioner
""")
    apply(srv, [claim("static", storage_class="manual"),
                claim_pod("waiter", "static", "cat /data/seed; exec sleep 3600", node=srv.node_name)], ns)
    pod = wait_pod(srv, "waiter", ns, lambda p: any(c.get("reason") == "Unschedulable"
                                                   for c in p["status"].get("conditions") or []), what="Unschedulable")
    message = [c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled"][0]["message"]
    assert message == "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims.", message

    # An administrator's volume that matches is bound, and the pod then runs on it.
    seed = f"/tmp/{unique('e2e-pv', 6)}"
    os.makedirs(seed)
    try:
        with open(os.path.join(seed, "seed"), "w") as f:
            f.write("from-the-admin\n")
        apply(srv, {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": os.path.basename(seed)},
                    "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "manual",
                             "hostPath": {"path": seed, "type": "Directory"}}})
        wait_running_ready(srv, "waiter", ns)
        wait_for(lambda: "from-the-admin" in srv.kubectl("logs", "waiter", "-n", ns).stdout, timeout=30, what="waiter output")
        assert get_json(srv, "pv", os.path.basename(seed))["status"]["phase"] == "Bound"
        delete_pod(srv, ns, "waiter")
        srv.kubectl("delete", "pvc", "static", "-n", ns)
        # Retain (the default of a static volume): Released, the directory untouched.
        wait_for(lambda: get_json(srv, "pv", os.path.basename(seed))["status"]["phase"] == "Released", timeout=60,
                 what="static volume Released")
        assert os.path.exists(os.path.join(seed, "seed"))
    finally:
        srv.kubectl("delete", "pv", os.path.basename(seed), "--wait=false", check=False)
        srv.kubectl("delete", "storageclass", "manual", check=False)
        import shutil
        shutil.rmtree(seed, ignore_errors=True)


def test_a_joined_node_holds_its_own_volumes(srv, ns, joined):
    apply(srv, [claim("remote"), claim_pod("far", "remote", "echo on-the-joined-node > /data/f && exec sleep 3600",
                                           node=JOINED)], ns)
    wait_running_ready(srv, "far", ns)
    pv = bound_volume(srv, ns, "remote")
    directory = pv["spec"]["hostPath"]["path"]
    assert directory.startswith(str(joined.root_dir / "storage")), directory
    values = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"]
    assert values == [JOINED]
    wait_for(lambda: os.path.exists(os.path.join(directory, "f")), timeout=30, what="the file on the joined node")

    # The data follows the claim to its node: a new pod of the claim lands there too.
    delete_pod(srv, ns, "far")
    apply(srv, claim_pod("again", "remote", "cat /data/f; exec sleep 3600"), ns)
    pod = wait_running_ready(srv, "again", ns)
    assert pod["spec"]["nodeName"] == JOINED
    wait_for(lambda: "on-the-joined-node" in srv.kubectl("logs", "again", "-n", ns).stdout, timeout=30, what="again output")

    delete_pod(srv, ns, "again")
    srv.kubectl("delete", "pvc", "remote", "-n", ns)
    wait_for(lambda: not os.path.exists(directory), timeout=90, what="the joined node's kubelet removed the directory")


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    with serve(tmp_path_factory, "storage-fake", controllers=True, kubelet=True, extra_args=["--runtime", "fake"]) as s:
        yield s


def test_fake_runtime_mounts_a_claim_without_touching_the_disk(fake):
    apply(fake, [claim("data"), claim_pod("sim", "data", "exec sleep 3600")], "default")
    wait_running_ready(fake, "sim", "default")
    pv = bound_volume(fake, "default", "data")
    assert pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == [fake.node_name]
    assert not os.path.exists(pv["spec"]["hostPath"]["path"])
    delete_pod(fake, "default", "sim")
    fake.kubectl("delete", "pvc", "data")
    wait_for(lambda: fake.kubectl("get", "pv", pv["metadata"]["name"], check=False).returncode != 0, timeout=60,
             what="the volume deleted")
