"""What the official-client e2e files share: error helpers, a conflict-retrying update and
small object builders."""

from __future__ import annotations

import json
import time

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

def api_error(fn, *args, **kwargs) -> ApiException:
    with pytest.raises(ApiException) as ei:
        fn(*args, **kwargs)
    return ei.value


def body_of(e: ApiException) -> dict:
    assert e.body, f"ApiException {e.status} without a body"
    return json.loads(e.body)


def update_with_retry(read, mutate, write, attempts=10):
    """Read-modify-write, retrying on 409 Conflict (as client-go's RetryOnConflict): with the
    controllers on, they write the same objects (status, scheduling, node conditions)."""
    for i in range(attempts):
        obj = read()
        mutate(obj)
        try:
            return write(obj)
        except ApiException as e:
            if e.status != 409 or i == attempts - 1:
                raise
            time.sleep(0.1 * (i + 1))


def cm(name, data=None, labels=None, **meta):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels, **meta),
                              data=data)


def deployment(name, replicas=1, image="nginx:1.27", labels=None):
    labels = labels or {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image=image)]))))


def pod(name, labels=None, restart_policy=None):
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name, labels=labels),
                        spec=client.V1PodSpec(restart_policy=restart_policy,
                                              containers=[client.V1Container(name="c", image="busybox")]))


# ----------------------------------------------------------------------------- CRUD
