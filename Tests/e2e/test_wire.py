"""Wire fidelity over raw HTTP: media types and field order as kube-apiserver writes them."""

from __future__ import annotations

import threading
import time

import yaml

YAML = {"Accept": "application/yaml"}


def cms(server, ns):
    return f"{server.url}/api/v1/namespaces/{ns}/configmaps"


def test_accept_yaml_serves_objects_lists_and_errors_as_yaml(server, http, namespace):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "y"}, "data": {"a": "1", "b": "two\nlines"}}
    assert http.post(cms(server, namespace), json=cm, timeout=30).status_code == 201

    r = http.get(f"{cms(server, namespace)}/y", headers=YAML, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/yaml"), r.headers
    assert not r.text.lstrip().startswith("{"), r.text
    obj = yaml.safe_load(r.text)
    assert obj["kind"] == "ConfigMap" and obj["data"] == cm["data"], obj

    r = http.get(cms(server, namespace), headers=YAML, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/yaml"), r.text
    lst = yaml.safe_load(r.text)
    # (with the controllers on, the namespace also holds kube-root-ca.crt)
    assert lst["kind"] == "ConfigMapList" and "y" in [i["metadata"]["name"] for i in lst["items"]], lst

    r = http.get(f"{cms(server, namespace)}/missing", headers=YAML, timeout=30)
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/yaml"), r.text
    status = yaml.safe_load(r.text)
    assert status["kind"] == "Status" and status["reason"] == "NotFound" and status["code"] == 404, status

    # JSON stays the answer when the client prefers it
    r = http.get(f"{cms(server, namespace)}/y", headers={"Accept": "application/json, application/yaml"}, timeout=30)
    assert r.headers["Content-Type"].startswith("application/json") and r.json()["kind"] == "ConfigMap"


def _stops_within(stop, seconds: float) -> bool:
    """Runs `stop` on a thread; whether it returned within `seconds` (a hang is a failure)."""
    t = threading.Thread(target=stop, daemon=True)
    t.start()
    t.join(seconds)
    return not t.is_alive()


def test_python_watch_stop_ends_a_blocked_watch(k8s, namespace):
    from kubernetes import client, watch

    core = client.CoreV1Api(k8s)
    w = watch.Watch()
    seen = threading.Event()
    ended = threading.Event()

    def run():
        # stop() shuts the socket down under the blocked read: the stream ends, by urllib3's
        # "Response ended prematurely" when the read was mid-stream (as against kube-apiserver).
        try:
            for ev in w.stream(core.list_namespaced_config_map, namespace, timeout_seconds=600):
                if ev["object"].metadata.name == "wake":
                    seen.set()
        except Exception:  # noqa: BLE001
            pass
        finally:
            ended.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="wake")))
    assert seen.wait(60), "the watch never delivered the ConfigMap"
    # Now the watch is blocked reading an idle stream: stop() must end it (it shuts the
    # socket down, which works only while the response keeps its connection).
    assert _stops_within(w.stop, 60), "Watch.stop() hung"
    assert ended.wait(60), "the watch stream did not end after Watch.stop()"


def test_python_shared_informer_stop_returns(k8s, namespace):
    from kubernetes import client
    from kubernetes.informer import ADDED, SharedInformer

    core = client.CoreV1Api(k8s)
    informer = SharedInformer(core.list_namespaced_config_map, namespace=namespace)
    added = threading.Event()
    informer.add_event_handler(ADDED, lambda obj: added.set() if obj.metadata.name == "seen" else None)
    informer.start()
    try:
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="seen")))
        assert added.wait(60), "the informer never saw the ConfigMap"
        time.sleep(1)  # let the informer's watch block on the idle stream
    finally:
        assert _stops_within(informer.stop, 60), "SharedInformer.stop() hung on a blocked watch"


def test_watch_keeps_the_connection_for_the_next_request(server, http, namespace):
    # A watch that ends by its timeout leaves a connection the client may reuse.
    r = http.get(cms(server, namespace), params={"watch": "1", "timeoutSeconds": "1"}, timeout=60)
    assert r.status_code == 200 and r.headers.get("Connection", "").lower() != "close", r.headers
    for _ in range(3):
        assert http.get(cms(server, namespace), timeout=30).status_code == 200


def test_json_is_written_in_kubernetes_field_order(server, http, namespace):
    cm = {"data": {"b": "2", "a": "1"}, "metadata": {"name": "order"}, "kind": "ConfigMap", "apiVersion": "v1"}
    r = http.post(cms(server, namespace), json=cm, timeout=30)
    assert r.status_code == 201, r.text
    assert r.text.startswith('{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"order","namespace":'), r.text
    assert r.text.index('"data":{"a":"1","b":"2"}') > r.text.index('"metadata"'), r.text
    r = http.post(cms(server, namespace), json=cm, timeout=30)
    assert r.status_code == 409
    assert r.text.rstrip("\n") == (
        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        '"message":"configmaps \\"order\\" already exists","reason":"AlreadyExists",'
        '"details":{"name":"order","kind":"configmaps"},"code":409}'), r.text
    r = http.get(cms(server, namespace), timeout=30)
    assert r.text.startswith('{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":'), r.text
