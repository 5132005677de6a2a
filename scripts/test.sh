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
#   PYTHON             interpreter for pytest (default python3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
export CARAVEL_BIN="${CARAVEL_BIN:-.build/debug/caravel}"

section() { printf '\n==> %s\n' "$*"; }
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
  swift test --skip-build
fi

if [ "${SKIP_E2E:-0}" != "1" ]; then
  section "pytest Tests/e2e (CARAVEL_BIN=$CARAVEL_BIN)"
  "$PYTHON" -m pytest -q Tests/e2e "$@"
fi

section "all tests passed in $((SECONDS - start)) s"
