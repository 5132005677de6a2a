"""The container runtimes the shared kubelet e2e tests run on, as a fixture parameter:
`process` (a container's command runs as a host process; its image only names a program)
and the OCI runtime with `runc` or `crun` (images built by ociimage.py and pushed to a
registry on loopback that lives as long as the fixture)."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

import pytest

import ociimage


@dataclass
class NodeRuntime:
    name: str
    # Flags for `caravel server` (its built-in node) or `caravel kubelet`.
    args: list[str] = field(default_factory=list)
    demo: str = "caravel/demo-app:1.0"
    busybox: str = "busybox:1.36"

    @property
    def oci(self) -> bool:
        return self.name != "process"

    @property
    def suffix(self) -> str:
        """For names of objects that both variants create in one namespace."""
        return "" if self.name == "process" else f"-{self.name}"


@contextlib.contextmanager
def node_runtime(name: str, tmp_path_factory):
    if name == "process":
        yield NodeRuntime("process")
        return
    if os.geteuid() != 0:
        pytest.fail("the OCI runtime variants need root (runc, overlay mounts, pod networks)", pytrace=False)
    missing = ociimage.missing_tools()
    if missing:
        pytest.fail("the OCI runtime variants need " + ", ".join(missing), pytrace=False)
    base = tmp_path_factory.mktemp(f"images-{name}")
    ociimage.demo_image(base / "demo", "1", "v1")
    ociimage.busybox_image(base / "busybox", "1")
    registry = ociimage.Registry(tmp_path_factory.mktemp(f"registry-{name}")).start()
    try:
        registry.push(base / "demo", "1", "demo", "1")
        registry.push(base / "busybox", "1", "busybox", "1")
        yield NodeRuntime(name, ["--runtime", "oci", "--oci-runtime", name, "--insecure-registry", registry.host],
                          demo=f"{registry.host}/demo:1", busybox=f"{registry.host}/busybox:1")
    finally:
        registry.stop()
