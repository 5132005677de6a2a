"""Where the end-to-end tests find things (the repository, the server binary, kubectl), and
the one environment rule they all need: loopback never goes through a proxy."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The servers under test are on loopback: never send that through a proxy from the environment.
for _var in ("NO_PROXY", "no_proxy"):
    os.environ[_var] = ",".join(filter(None, [os.environ.get(_var, ""), "127.0.0.1,localhost,::1"]))
KUBECTL = Path(os.environ.get("CARAVEL_KUBECTL", REPO / ".tools" / "bin" / "kubectl"))


def caravel_bin() -> Path:
    p = Path(os.environ.get("CARAVEL_BIN", ".build/debug/caravel"))
    if not p.is_absolute():
        p = REPO / p
    return p
