#!/usr/bin/env bash
# kubectl-lite against the real kubectl, side by side in one hyperfine run per command, on
# one server: `version --client`, `get pods` over 1,000 pods, `apply -f Manifests/`,
# `get deploy -o yaml`. Prints hyperfine's tables and the ratio kubectl / kubectl-lite.
#
#   scripts/bench-kubectl-lite.sh
#
# Env: LITE (default .build/release/kubectl-lite), KUBECTL (default .tools/bin/kubectl),
#      CARAVEL_BIN (default .build/release/caravel if built, else .build/debug/caravel),
#      PODS (default 1000), RUNS (default 20).
# Needs hyperfine (apt-get install hyperfine). Pods are created with no node (the server
# runs without its kubelet and controllers), so only the API and the clients are measured.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LITE="${LITE:-.build/release/kubectl-lite}"
KUBECTL="${KUBECTL:-.tools/bin/kubectl}"
if [ -z "${CARAVEL_BIN:-}" ]; then
  CARAVEL_BIN=.build/release/caravel
  [ -x "$CARAVEL_BIN" ] || CARAVEL_BIN=.build/debug/caravel
fi
PODS="${PODS:-1000}"
RUNS="${RUNS:-20}"
command -v hyperfine >/dev/null || { echo "bench: hyperfine not found (apt-get install hyperfine)" >&2; exit 1; }
for b in "$LITE" "$KUBECTL" "$CARAVEL_BIN"; do [ -x "$b" ] || { echo "bench: $b not found" >&2; exit 1; }; done

WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$CARAVEL_BIN" server --data-dir "$WORK/data" --port "$PORT" --disable-controllers --disable-kubelet \
  > "$WORK/server.log" 2>&1 &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 1 300); do
  [ -f "$WORK/data/kubeconfig.yaml" ] && "$KUBECTL" --kubeconfig "$WORK/data/kubeconfig.yaml" get --raw /readyz >/dev/null 2>&1 && break
  sleep 0.2
done
export KUBECONFIG="$WORK/data/kubeconfig.yaml" KUBECTL_KUBERC=false
K="$KUBECTL --cache-dir $WORK/cache-kubectl"
L="$LITE --cache-dir $WORK/cache-lite"

echo "bench: creating $PODS pods (no node) in namespace bench"
$KUBECTL create namespace bench >/dev/null
python3 - "$PODS" > "$WORK/pods.yaml" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    print(f"""---
apiVersion: v1
kind: Pod
metadata: {{name: pod-{i:04d}, labels: {{app: bench}}}}
spec:
  containers: [{{name: app, image: caravel/demo-app:1.0}}]""")
PY
$KUBECTL create -n bench -f "$WORK/pods.yaml" >/dev/null
$KUBECTL create namespace manifests >/dev/null
$KUBECTL apply -n manifests -f Manifests/ >/dev/null

COMMIT="$(git rev-parse --short HEAD)"
echo "bench: commit $COMMIT, server $CARAVEL_BIN, $RUNS runs each"
declare -a NAMES=("version --client" "get pods ($PODS pods)" "apply -f Manifests/" "get deploy -o yaml")
declare -a ARGS=("version --client" "get pods -n bench" "apply -n manifests -f Manifests/" "get deploy -n manifests -o yaml")
SUMMARY=""
for i in "${!NAMES[@]}"; do
  args="${ARGS[$i]}"
  hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/r$i.json" \
    -n "kubectl $args" "$K $args" -n "kubectl-lite $args" "$L $args"
  line="$(python3 - "$WORK/r$i.json" "${NAMES[$i]}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
k, l = r[0], r[1]
ms = lambda x: x * 1000
print(f"| {sys.argv[2]} | {ms(k['mean']):.1f} ± {ms(k['stddev']):.1f} | {ms(l['mean']):.1f} ± {ms(l['stddev']):.1f} | {k['mean'] / l['mean']:.1f}x |")
PY
)"
  SUMMARY+="$line"$'\n'
done
echo
echo "commit $COMMIT; wall time per command, mean ± stddev in ms over $RUNS runs (hyperfine -N, 3 warm-ups); ratio = kubectl / kubectl-lite"
echo "| command | kubectl ms | kubectl-lite ms | ratio |"
echo "|---|---|---|---|"
printf "%s" "$SUMMARY"
