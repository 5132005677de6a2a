"""Secrets encrypted at rest: a Secret's value reads back through kubectl, but
neither it nor its base64 is in the SQLite files; it survives a restart; a key rotation
re-encrypts it and it still reads back."""

from __future__ import annotations

import base64
import json
import os

import pytest
import yaml

from e2eutil import unique


def _db_bytes(data_dir) -> bytes:
    out = b""
    for suffix in ("", "-wal", "-shm"):
        p = data_dir / f"state.db{suffix}"
        if p.exists():
            out += p.read_bytes()
    return out


def _secret_value(srv, ns: str, name: str) -> str:
    out = yaml.safe_load(srv.kubectl("get", "secret", name, "-n", ns, "-o", "yaml").stdout)
    return base64.b64decode(out["data"]["password"]).decode()


@pytest.mark.timeout(240)
def test_secret_is_encrypted_at_rest_and_survives_restart(start_server):
    srv = start_server("caravel-enc")
    plain = unique("s3cr3t-plaintext-zq", 8)
    encoded = base64.b64encode(plain.encode())
    ns = "default"
    name = unique("enc", 5)
    srv.kubectl("create", "secret", "generic", name, "-n", ns, f"--from-literal=password={plain}")
    assert _secret_value(srv, ns, name) == plain

    keyfile = srv.data_dir / "encryption-keys.json"
    assert keyfile.exists() and (os.stat(keyfile).st_mode & 0o777) == 0o600
    assert [k["id"] for k in json.loads(keyfile.read_text())["keys"]] == ["k1"]

    raw = _db_bytes(srv.data_dir)
    assert raw, "no state.db bytes"
    assert plain.encode() not in raw
    assert encoded not in raw
    assert b"caravel.io/encrypted" in raw

    srv.restart()
    assert _secret_value(srv, ns, name) == plain

    # Rotation: a new key first, every Secret rewritten with it, still readable.
    srv.stop()
    srv.extra_args.append("--rotate-encryption-key")
    srv.start()
    assert [k["id"] for k in json.loads(keyfile.read_text())["keys"]] == ["k2", "k1"]
    assert _secret_value(srv, ns, name) == plain
    raw = _db_bytes(srv.data_dir)
    assert b'"caravel.io/encrypted":"k2:' in raw
    assert plain.encode() not in raw and encoded not in raw
