"""Helpers for the kubectl-lite end-to-end tests: run kubectl-lite and the real kubectl on the
same arguments against the same server and compare what they print.

Env: KUBECTL_LITE_BIN (default .build/debug/kubectl-lite).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Optional

from e2eutil import REPO, kubectl_cmd

# A Deployment both tools act on in the workload and rollout comparisons.
WEB_DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: caravel/demo-app:1.0
        ports: [{containerPort: 8080}]
        env: [{name: MODE, value: demo}]
        resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 128Mi}}
        readinessProbe: {httpGet: {path: /ready, port: 8080}}
"""

LITE = Path(os.environ.get("KUBECTL_LITE_BIN", REPO / ".build" / "debug" / "kubectl-lite"))


def clean_env(extra: Optional[dict] = None) -> dict:
    env = dict(os.environ)
    env.pop("KUBECONFIG", None)
    env["KUBECTL_KUBERC"] = "false"
    env.update(extra or {})
    return env


def lite_cmd(kubeconfig: Optional[str], *args: str, cache_dir: Optional[str] = None) -> list[str]:
    if not LITE.exists():
        raise AssertionError(f"{LITE} not found: run `swift build` or set KUBECTL_LITE_BIN")
    cmd = [str(LITE)]
    if kubeconfig:
        cmd += ["--kubeconfig", str(kubeconfig)]
    if cache_dir:
        cmd += ["--cache-dir", cache_dir]
    return cmd + [str(a) for a in args]


def run(cmd: list[str], input: Optional[str] = None, env: Optional[dict] = None,
        timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout,
                          env=env or clean_env(), stdin=None if input is not None else subprocess.DEVNULL)


class Pair:
    """Runs both tools against one server (same kubeconfig, same discovery cache dir)."""

    def __init__(self, server):
        self.server = server

    def lite(self, *args: str, input: Optional[str] = None, env: Optional[dict] = None) -> subprocess.CompletedProcess:
        return run(lite_cmd(self.server.kubeconfig, *args, cache_dir=str(self.server.kube_cache)), input, env)

    def kubectl(self, *args: str, input: Optional[str] = None, env: Optional[dict] = None) -> subprocess.CompletedProcess:
        return run(kubectl_cmd(self.server.kubeconfig, *args, cache_dir=str(self.server.kube_cache)), input,
                   env or clean_env())

    def both(self, *args: str, input: Optional[str] = None):
        return self.kubectl(*args, input=input), self.lite(*args, input=input)

    def same(self, *args: str, tables: bool = False, input: Optional[str] = None):
        """Asserts both tools print the same (tables modulo AGE) with the same exit code."""
        k, l = self.both(*args, input=input)
        where = f"kubectl {' '.join(args)}"
        assert l.returncode == k.returncode, f"{where}: exit {l.returncode} != {k.returncode}\nlite: {l.stderr}\nkubectl: {k.stderr}"
        if tables:
            assert table(l.stdout) == table(k.stdout), f"{where}\n--- kubectl\n{k.stdout}\n--- lite\n{l.stdout}"
        else:
            assert l.stdout == k.stdout, f"{where}\n--- kubectl\n{k.stdout}\n--- lite\n{l.stdout}"
        assert l.stderr == k.stderr, f"{where} stderr\n--- kubectl\n{k.stderr}\n--- lite\n{l.stderr}"
        return k


def table(text: str, age_columns=("AGE",)) -> list[list[str]]:
    """Cells of a printed table (cut at the header's column starts), AGE values blanked, plus
    the column widths other than AGE's (so alignment is compared too). Several tables separated
    by blank lines are parsed one by one."""
    out: list[list[str]] = []
    for block in text.split("\n\n"):
        lines = [ln for ln in block.split("\n") if ln]
        if not lines:
            continue
        header = lines[0]
        starts = [m.start() for m in re.finditer(r"\S+(?: \S+)*", header)]
        names = [header[s:e].strip() for s, e in zip(starts, starts[1:] + [None])]
        age = [i for i, n in enumerate(names) if n in age_columns]
        # Columns left of AGE keep their exact widths; AGE's own width depends on the values.
        widths = [starts[i + 1] - starts[i] for i in range(len(starts) - 1) if not age or i < age[0]]
        out.append(["#widths", *map(str, widths)])
        for line in lines:
            cells = [line[s:e].strip() if e else line[s:].strip() for s, e in zip(starts, starts[1:] + [None])]
            for i in age:
                if line is not header:
                    cells[i] = "<age>"
            out.append(cells)
    return out


def rows_without_header(text: str, age_index: int) -> list[list[str]]:
    """`--no-headers` output: cells split on runs of 3+ spaces, the AGE cell dropped."""
    rows = []
    for line in text.splitlines():
        cells = re.split(r" {3,}", line.strip())
        if 0 <= age_index < len(cells):
            cells[age_index] = "<age>"
        rows.append(cells)
    return rows
