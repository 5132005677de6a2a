#!/usr/bin/env bash
# The one test command: tools, build, unit tests (swift test), end-to-end tests (pytest).
#
#   scripts/test.sh                      everything
#   scripts/test.sh -k watch             extra arguments go to pytest
#
# Env:
#   CARAVEL_BIN        server binary for the e2e tests (default .build/debug/caravel;
#                      a path under .build/release/ makes this script build in release)
#   SKIP_UNIT=1        skip `swift test`
#   SKIP_E2E=1         skip the pytest end-to-end tests
#   CI=true            fail if any test was skipped; run the API suites again with controllers on,
#                      and once more with the state in etcd
#   PYTHON             interpreter for pytest (default python3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
export CARAVEL_BIN="${CARAVEL_BIN:-.build/debug/caravel}"

section() { printf '\n==> %s\n' "$*"; }
# API e2e files run once more with the controllers on (CARAVEL_E2E_CONTROLLERS=1), as against a
# real cluster: the `namespace` fixture waits for the `default` ServiceAccount and kube-root-ca.crt
# the controllers add, watches expect those objects, and read-modify-writes retry on 409 where
# controllers write status.
CONTROLLER_SUITES=(Tests/e2e/test_kubectl_basic.py Tests/e2e/test_kubectl_verbs.py Tests/e2e/test_kubectl_apply.py Tests/e2e/test_errors.py
                   Tests/e2e/test_wire.py Tests/e2e/test_watch.py Tests/e2e/test_python_client.py
                   Tests/e2e/test_python_client_semantics.py)
start=$SECONDS

section "tools (kubectl, helm, python test deps)"
scripts/fetch-tools.sh

section "swift build"
swift build --build-tests
case "$CARAVEL_BIN" in
  *.build/release/*)
    section "swift build -c release (CARAVEL_BIN=$CARAVEL_BIN)"
    swift build -c release --product caravel
    ;;
esac
if [ ! -x "$CARAVEL_BIN" ]; then
  echo "test.sh: server binary $CARAVEL_BIN not found after the build" >&2
  exit 1
fi

if [ "${SKIP_UNIT:-0}" != "1" ]; then
  section "swift test (unit tests)"
  unit_log="$(mktemp)"
  scripts/run-unit-tests.sh "$unit_log"
  # CI runs as root with every tool installed: a test skipped there is one that did not run.
  if [ "${CI:-}" = "true" ] && grep -E "Test .*skipped|' skipped" "$unit_log" >&2; then
    echo "test.sh: the unit tests above were skipped in CI (CI=true); they must run there" >&2
    exit 1
  fi
  rm -f "$unit_log"
fi

if [ "${SKIP_E2E:-0}" != "1" ]; then
  section "pytest Tests/e2e (CARAVEL_BIN=$CARAVEL_BIN)"
  "$PYTHON" -m pytest -q -rs Tests/e2e "$@"
  if [ "${CI:-}" = "true" ] && [ "${SKIP_CONTROLLERS_RUN:-0}" != "1" ]; then
    # The API tests run with the controllers off (no controller writes to their objects);
    # once more with them on, as a server runs by default.
    section "pytest: API suites with the controllers on (CARAVEL_E2E_CONTROLLERS=1)"
    CARAVEL_E2E_CONTROLLERS=1 "$PYTHON" -m pytest -q -rs "${CONTROLLER_SUITES[@]}"
  fi
  if [ "${CI:-}" = "true" ] && [ "${SKIP_ETCD_RUN:-0}" != "1" ]; then
    # The same API suites once more with the server's state in etcd instead of SQLite.
    section "pytest: API suites on etcd (CARAVEL_E2E_DATASTORE=etcd)"
    CARAVEL_E2E_DATASTORE=etcd "$PYTHON" -m pytest -q -rs "${CONTROLLER_SUITES[@]}"
  fi
fi

section "all tests passed in $((SECONDS - start)) s"
