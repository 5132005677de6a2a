"""What the kubectl e2e files share: the sample app manifest and small output helpers."""

from __future__ import annotations

import base64
import json

MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  labels: {app: web}
data:
  greeting: hello
  mode: test
---
apiVersion: v1
kind: Secret
metadata:
  name: web-secret
  labels: {app: web}
type: Opaque
stringData:
  user: admin
  password: s3cr3t
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Pod
metadata:
  name: web-pod
  labels: {app: web, role: standalone}
spec:
  containers:
  - name: web
    image: nginx:1.27
"""

CREATED = ["configmap/web-config", "secret/web-secret", "service/web",
           "deployment.apps/web", "pod/web-pod"]


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def names(cp) -> set[str]:
    """Names from `-o name` output ('configmap/x' -> 'x'), ignoring controller-made objects."""
    out = {ln.split("/", 1)[1] for ln in cp.stdout.split() if "/" in ln}
    return out - {"kube-root-ca.crt"}


def get_json(kubectl, *args):
    return json.loads(kubectl("get", *args, "-o", "json").stdout)


def output_lines(cp) -> list[str]:
    return [ln.strip() for ln in cp.stdout.splitlines() if ln.strip()]
