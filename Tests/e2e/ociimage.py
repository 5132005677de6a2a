"""Builds small OCI images by hand for the OCI runtime tests, and runs Debian's
docker-registry on loopback to push them to.

An image is an OCI layout directory (oci-layout, index.json, blobs/sha256/...) written here:
gzip tar layers, an image config and a manifest. `skopeo copy` pushes it; `caravel images
import` reads it (or a tar of it).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Iterable, Optional

from e2eutil import REPO, free_port

TOOLS = {"runc": "runc", "crun": "crun", "skopeo": "skopeo", "docker-registry": "docker-registry", "htpasswd": "apache2-utils",
         "busybox": "busybox-static"}


def missing_tools() -> list[str]:
    return [f"{tool} (Debian package {pkg})" for tool, pkg in TOOLS.items() if shutil.which(tool) is None]


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer(files: Iterable[tuple[str, Path | bytes | None, int]], symlinks: Iterable[tuple[str, str]] = ()) -> bytes:
    """A gzip tar of (path in image, source file or bytes or None for a directory, mode)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        seen = set()
        def parents(path: str):
            parts = path.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in seen:
                    seen.add(d)
                    info = tarfile.TarInfo(d)
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
        for path, source, mode in files:
            parents(path)
            info = tarfile.TarInfo(path.strip("/"))
            if source is None:
                info.type = tarfile.DIRTYPE
                info.mode = mode
                tar.addfile(info)
                continue
            data = source if isinstance(source, bytes) else Path(source).read_bytes()
            info.size = len(data)
            info.mode = mode
            tar.addfile(info, io.BytesIO(data))
        for path, target in symlinks:
            parents(path)
            info = tarfile.TarInfo(path.strip("/"))
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return gzip.compress(raw.getvalue(), compresslevel=1)


def demo_app_files() -> list[tuple[str, Path, int]]:
    """The demo app and every shared library it loads (it is not static), at their host paths."""
    app = REPO / ".build" / "debug" / "demo-app"
    files = [("/app/demo-app", app, 0o755)]
    out = subprocess.run(["ldd", str(app)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        path = parts[2] if "=>" in parts and len(parts) > 2 else (parts[0] if parts and parts[0].startswith("/") else None)
        if path and path.startswith("/"):
            real = os.path.realpath(path)
            files.append((path, Path(real), 0o755))
    return files


def busybox_layer() -> bytes:
    busybox = shutil.which("busybox")
    assert busybox, "busybox-static is needed"
    links = [(f"/bin/{name}", "busybox") for name in ("sh", "sleep", "cat", "echo", "ls", "wget", "touch", "test", "id", "env", "hostname", "true", "false", "ps", "mount",
                                                          "date", "mkdir")]
    files = [("/bin/busybox", Path(busybox), 0o755), ("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n", 0o644),
             ("/etc/group", b"root:x:0:\nnogroup:x:65534:\n", 0o644), ("/tmp", None, 0o1777)]
    return _layer(files, links)


def write_layout(directory: Path, layers: list[bytes], config: dict, tag: str, full_name: Optional[str] = None) -> str:
    """An OCI layout with one image tagged `tag`; returns the manifest digest."""
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    def put(data: bytes) -> str:
        d = _digest(data)
        (blobs / d.split(":")[1]).write_bytes(data)
        return d
    diff_ids = [_digest(gzip.decompress(layer)) for layer in layers]
    image_config = {"architecture": "amd64", "os": "linux", "config": config,
                    "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    config_bytes = json.dumps(image_config).encode()
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(config_bytes), "size": len(config_bytes)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(l), "size": len(l)} for l in layers]}
    manifest_bytes = json.dumps(manifest).encode()
    manifest_digest = put(manifest_bytes)
    (directory / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
                                                "size": len(manifest_bytes), "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    if full_name:
        index["manifests"][0]["annotations"]["io.containerd.image.name"] = full_name
    (directory / "index.json").write_text(json.dumps(index))
    return manifest_digest


def demo_image(directory: Path, tag: str, version: str) -> str:
    """busybox in one layer, the demo app and its libraries in another; VERSION in the env."""
    return write_layout(directory, [busybox_layer(), _layer(demo_app_files())],
                        {"Entrypoint": ["/app/demo-app"], "Env": ["PATH=/bin:/app", f"DEMO_VERSION={version}"], "WorkingDir": "/"}, tag)


def busybox_image(directory: Path, tag: str, full_name: Optional[str] = None) -> str:
    return write_layout(directory, [busybox_layer()], {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]}, tag, full_name)


def tar_directory(directory: Path, output: Path) -> Path:
    with tarfile.open(output, "w") as tar:
        for entry in sorted(directory.iterdir()):
            tar.add(entry, arcname=entry.name)
    return output


class Registry:
    """Debian's docker-registry on a free loopback port with a temporary storage directory,
    optionally requiring htpasswd logins."""

    def __init__(self, base: Path, users: Optional[dict[str, str]] = None):
        self.base = base
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.users = users or {}
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> "Registry":
        storage = self.base / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        auth = ""
        if self.users:
            htpasswd = self.base / "htpasswd"
            for i, (user, password) in enumerate(self.users.items()):
                flags = "-Bbc" if i == 0 else "-Bb"
                subprocess.run(["htpasswd", flags, str(htpasswd), user, password], check=True, capture_output=True)
            auth = f"auth:\n  htpasswd:\n    realm: caravel-test\n    path: {htpasswd}\n"
        config = self.base / "config.yml"
        config.write_text(f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {storage}\n"
                          f"  delete:\n    enabled: true\nhttp:\n  addr: {self.host}\n{auth}")
        self.log = open(self.base / "registry.log", "wb")
        self.proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=self.log, stderr=subprocess.STDOUT)
        import requests
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                r = requests.get(f"http://{self.host}/v2/", timeout=2, proxies={"http": None, "https": None})
                if r.status_code in (200, 401):
                    return self
            except requests.RequestException:
                pass
            assert self.proc.poll() is None, (self.base / "registry.log").read_text()
            time.sleep(0.2)
        raise RuntimeError("docker-registry did not start: " + (self.base / "registry.log").read_text())

    def push(self, layout: Path, tag: str, repository: str, as_tag: str) -> None:
        cmd = ["skopeo", "copy", "--dest-tls-verify=false", "--insecure-policy"]
        if self.users:
            user, password = next(iter(self.users.items()))
            cmd += ["--dest-creds", f"{user}:{password}"]
        cmd += [f"oci:{layout}:{tag}", f"docker://{self.host}/{repository}:{as_tag}"]
        subprocess.run(cmd, check=True, capture_output=True, timeout=300)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if getattr(self, "log", None):
            self.log.close()
