"""Running the real kubectl against a kubeconfig, and reading its table output."""

from __future__ import annotations

import os
import re
import subprocess
from typing import TYPE_CHECKING, Optional

from e2eenv import KUBECTL

if TYPE_CHECKING:
    import pexpect


class KubectlError(AssertionError):
    pass


def kubectl_cmd(kubeconfig: str, *args: str, cache_dir: Optional[str] = None) -> list[str]:
    if not KUBECTL.exists():
        raise KubectlError(f"{KUBECTL} not found: run scripts/fetch-tools.sh")
    cmd = [str(KUBECTL), "--kubeconfig", str(kubeconfig)]
    if cache_dir:
        cmd += ["--cache-dir", cache_dir]
    return cmd + [str(a) for a in args]


def run_kubectl(kubeconfig: str, *args: str, input: Optional[str] = None, check: bool = True,
                timeout: float = 60, cache_dir: Optional[str] = None) -> subprocess.CompletedProcess:
    cmd = kubectl_cmd(kubeconfig, *args, cache_dir=cache_dir)
    env = dict(os.environ)
    env.pop("KUBECONFIG", None)
    env["KUBECTL_KUBERC"] = "false"  # ignore any ~/.kube/kuberc of the person running the tests
    try:
        cp = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout,
                            env=env, stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise KubectlError(f"kubectl {' '.join(args)} timed out after {timeout}s\n"
                           f"stdout: {e.stdout}\nstderr: {e.stderr}") from None
    if check and cp.returncode != 0:
        raise KubectlError(f"kubectl {' '.join(args)} exited {cp.returncode}\n"
                           f"stdout:\n{cp.stdout}\nstderr:\n{cp.stderr}")
    return cp


def parse_table(text: str) -> list[dict[str, str]]:
    """Parses kubectl's column output (first line = header) into dicts, using the
    header's column offsets (values may be empty, e.g. SHORTNAMES)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return []
    header = lines[0]
    cols = list(re.finditer(r"\S+(?: \S+)*", header))
    starts = [m.start() for m in cols]
    names = [m.group() for m in cols]
    rows = []
    for ln in lines[1:]:
        row = {}
        for i, (s, n) in enumerate(zip(starts, names)):
            e = starts[i + 1] if i + 1 < len(starts) else len(ln)
            row[n] = ln[s:e].strip() if s < len(ln) else ""
        rows.append(row)
    return rows


def kubectl_pty(srv, *args: str, rows: int = 24, cols: int = 80) -> "pexpect.spawn":
    """kubectl on a pseudo-terminal of `rows` x `cols`, as a person at a terminal runs it."""
    import pexpect
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"} | {"KUBECTL_KUBERC": "false", "TERM": "xterm"}
    return pexpect.spawn(str(KUBECTL), ["--kubeconfig", str(srv.kubeconfig), "--cache-dir", str(srv.kube_cache), *args],
                         env=env, encoding="utf-8", timeout=60, dimensions=(rows, cols))


def finish(child: "pexpect.spawn") -> int:
    """Waits for a terminal kubectl to end; its exit status."""
    import pexpect
    child.expect(pexpect.EOF, timeout=60)
    child.close()
    return child.exitstatus
