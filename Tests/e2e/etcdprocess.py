"""One etcd member on free loopback ports and a temporary data dir, for the tests that
store the cluster in etcd. etcd comes from Debian's etcd-server; without it the tests fail,
they do not skip."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

from serverprocess import free_port
from waiting import wait_for


def etcdctl(endpoints: str, *args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("etcdctl")
    assert binary, "etcdctl is not installed (apt-get install etcd-client)"
    return subprocess.run([binary, "--endpoints", endpoints, *args], capture_output=True, text=True, timeout=30,
                          env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"})


@contextlib.contextmanager
def single_member_etcd(data: Path) -> Iterator[str]:
    """Starts one member with its data under `data`; yields its client URL; stops it."""
    binary = shutil.which("etcd")
    assert binary, "etcd is not installed (apt-get install etcd-server): the etcd store cannot be tested"
    client, peer = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    log = open(data / "etcd.log", "wb")
    proc = subprocess.Popen([binary, "--name", "e2e", "--data-dir", str(data / "member"),
                             "--listen-client-urls", client, "--advertise-client-urls", client,
                             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                             "--initial-cluster", f"e2e={peer}", "--logger", "zap", "--log-level", "error"],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: etcdctl(client, "endpoint", "health").returncode == 0, timeout=60, what="etcd to be healthy")
        yield client
    finally:
        stop(proc)
        log.close()


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if the member is still there after 30 s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
