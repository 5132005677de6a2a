"""A small kopf operator used by the end-to-end tests: for each Echo it creates a Deployment
(adopted, so it is garbage-collected with the Echo), records what it did in the Echo's status,
and on deletion writes a ConfigMap before kopf releases its finalizer."""

import os

import kopf
import kubernetes

GROUP = os.environ["ECHO_GROUP"]


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_):
    settings.posting.level = 0
    settings.watching.server_timeout = 30


def deployment(name: str, replicas: int, message: str) -> dict:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "echo", "image": "busybox",
                                                       "command": ["sh", "-c", f"echo {message}; sleep 3600"]}]}}},
    }


@kopf.on.create(GROUP, "v1", "echoes")
def create(spec, name, namespace, body, **_):
    child = deployment(f"{name}-echo", spec.get("replicas", 1), spec.get("message", ""))
    kopf.adopt(child, owner=body)
    kubernetes.config.load_kube_config()
    kubernetes.client.AppsV1Api().create_namespaced_deployment(namespace, child)
    return {"deployment": child["metadata"]["name"]}


@kopf.on.delete(GROUP, "v1", "echoes")
def delete(name, namespace, **_):
    kubernetes.config.load_kube_config()
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{name}-deleted"}, "data": {"by": "echo-operator"}}
    kubernetes.client.CoreV1Api().create_namespaced_config_map(namespace, cm)
