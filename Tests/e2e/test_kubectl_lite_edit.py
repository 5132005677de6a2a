"""kubectl-lite edit with EDITOR set to scripts, compared with the real kubectl: each tool
edits its own twin ConfigMap; output, exit code, how often the editor opened and the result
must match."""

from __future__ import annotations

import json
import re

import pytest

from e2eutil import unique
from liteutil import Pair, clean_env

CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {key: one}
"""

CHANGE = "sed -i 's/key: one/key: two/' \"$1\""
INVALID_YAML = "printf 'a: b\\n c: d\\n' > \"$1\""
INVALID_OBJECT = "sed -i 's/^data:/data: 7\\nx:/' \"$1\""
INVALID_KEY = "sed -i 's/key: one/bad key!: one/' \"$1\""
NO_CHANGE = "true"
TRAILING_LINE = "echo >> \"$1\""
REFORMAT = "sed -i 's/key: one/key: \\\"one\\\"/' \"$1\""
DROP_FIELD = "sed -i '/^  key: one/a\\  other: two' \"$1\""


@pytest.fixture(scope="module")
def pair(server):
    return Pair(server)


def edit_with(pair, tool, tmp_path, script: str):
    """Runs `edit configmap/cm` with an editor that counts its runs and then runs `script`."""
    ns = unique("lite-edit", 5)
    pair.kubectl("create", "namespace", ns)
    try:
        pair.kubectl("apply", "-n", ns, "-f", "-", input=CONFIGMAP)
        count = tmp_path / f"{ns}.count"
        editor = tmp_path / f"{ns}.sh"
        editor.write_text(f"#!/bin/sh\necho run >> {count}\n{script}\n")
        editor.chmod(0o755)
        r = tool("edit", "configmap/cm", "-n", ns, env=clean_env({"EDITOR": str(editor)}))
        runs = len(count.read_text().splitlines()) if count.exists() else 0
        data = json.loads(pair.kubectl("get", "configmap", "cm", "-n", ns, "-o", "json").stdout).get("data")
        # kubectl keeps a rejected edit in a temporary file and names it.
        stderr = re.sub(r"\S*/(kubectl|kubectl-lite)-edit-\S+\.yaml", "<file>", r.stderr.replace(ns, "<ns>"))
        return r.returncode, r.stdout, stderr, runs, data
    finally:
        pair.kubectl("delete", "namespace", ns, "--wait=false")


@pytest.mark.parametrize("script", [CHANGE, INVALID_YAML, INVALID_OBJECT, INVALID_KEY, NO_CHANGE, TRAILING_LINE, REFORMAT, DROP_FIELD],
                         ids=["change", "invalid-yaml", "invalid-object", "invalid-key", "no-change", "trailing-line", "reformat", "add-field"])
def test_edit_matches(pair, tmp_path, script):
    k = edit_with(pair, pair.kubectl, tmp_path, script)
    l = edit_with(pair, pair.lite, tmp_path, script)
    assert l == k, f"\n--- kubectl\n{k}\n--- lite\n{l}"
    if script == CHANGE:
        assert k[:2] == (0, "configmap/cm edited\n") and k[4] == {"key": "two"}
