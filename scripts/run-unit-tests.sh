#!/usr/bin/env bash
# `swift test --skip-build` under a watchdog, used by scripts/test.sh.
#
#   scripts/run-unit-tests.sh LOG [swift test arguments...]
#
# The output goes to LOG (a file, never a pipe: a child process that outlives its test cannot
# hold the run open) and is followed on stdout. A run that goes past UNIT_TEST_TIMEOUT seconds
# (default 900; a full run takes under three minutes on two cores) is a hang: the script prints
# the tests that started and never finished and every thread's stack (gdb), kills the run and
# runs it once more, so one hang is diagnosed loudly without costing the whole CI run. A run
# still going after UNIT_TEST_STACKS_AFTER seconds (default 270, before a test's five-minute
# time limit ends it) has its unfinished tests and stacks printed once and goes on. When the
# only failures are tests that ran past their time limit (hangs too), those tests run once
# more on their own and decide the result. Exit status: swift test's, or 124 when the second
# run hangs too.
set -uo pipefail

log="$1"; shift
limit="${UNIT_TEST_TIMEOUT:-900}"
stacks_after="${UNIT_TEST_STACKS_AFTER:-270}"

unfinished() {
  # "◇ Test name() started." lines without a matching "✔/✘ Test name() passed/failed" line.
  # Parameterized tests end as "Test name(_:) with N test cases passed"; their cases are left out.
  comm -23 <(sed -n 's/^◇ Test \(.*\) started\.$/\1/p' "$log" | grep -v '^case passing \|^run$' | sort -u) \
           <(sed -n 's/^[✔✘] Test \(.*\) \(passed\|failed\|recorded\).*/\1/p' "$log" | sed 's/ with [0-9]* test cases\{0,1\}$//' | sort -u)
}

# Every process below PID (swift test runs the test binary as its child).
descendants() {
  local child
  for child in $(pgrep -P "$1"); do echo "$child"; descendants "$child"; done
}

diagnose() {
  local run="$1" after="$2"
  echo
  echo "run-unit-tests.sh: the unit tests are still running after ${after} s; started and not finished:"
  unfinished | sed 's/^/    /'
  local pid
  for pid in $(descendants "$run"); do
    grep -q 'xctest' "/proc/$pid/cmdline" 2>/dev/null || continue
    echo "run-unit-tests.sh: threads of $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) (pid $pid):"
    if command -v gdb >/dev/null; then
      timeout 120 gdb -p "$pid" -batch -nx -ex 'set pagination off' -ex 'thread apply all bt 25' 2>/dev/null \
        | grep -E '^(Thread|#)' | cut -c1-240
    else
      for task in /proc/"$pid"/task/*; do echo "    $(basename "$task") $(cat "$task/comm") $(cat "$task/wchan" 2>/dev/null)"; done
    fi
  done
}

run_once() {
  : > "$log"
  # Line-buffered, so the log is current when the watchdog reads it (a file is otherwise
  # written in 4 KiB blocks, and a killed run loses its last block).
  stdbuf -oL -eL swift test --skip-build "$@" > "$log" 2>&1 &
  local pid=$!
  tail -n +1 -f --pid="$pid" "$log" &
  local follower=$! started=$SECONDS deadline=$((SECONDS + limit)) stacks_at=$((SECONDS + stacks_after))
  while kill -0 "$pid" 2>/dev/null; do
    if (( stacks_at > 0 && SECONDS > stacks_at && SECONDS <= deadline )); then
      # A slow test, or a hang a time limit is about to end without a trace: show where it is.
      stacks_at=0
      diagnose "$pid" $((SECONDS - started))
    fi
    if (( SECONDS > deadline )); then
      sleep 1; kill "$follower" 2>/dev/null
      diagnose "$pid" "$limit"
      kill -KILL $(descendants "$pid") "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null
      wait "$follower" 2>/dev/null
      return 124
    fi
    sleep 2
  done
  wait "$pid"
  local status=$?
  wait "$follower" 2>/dev/null
  return "$status"
}

# Names (without their argument lists) of the tests in LOG that failed, and of those that
# failed by running past their time limit.
failed_tests() { sed -n 's/^✘ Test \([^(]*\)(.*) failed after .*/\1/p' "$1" | sort -u; }
timed_out_tests() { sed -n 's/^✘ Test \([^(]*\)(.*) recorded an issue .*Time limit was exceeded.*/\1/p' "$1" | sort -u; }

run_once "$@"
status=$?
if [ "$status" -eq 124 ]; then
  echo "run-unit-tests.sh: the run above hung; running the unit tests once more" >&2
  run_once "$@"
  status=$?
elif [ "$status" -ne 0 ]; then
  failed="$(failed_tests "$log")"
  if [ -n "$failed" ] && [ "$failed" = "$(timed_out_tests "$log")" ]; then
    echo "run-unit-tests.sh: these tests hung until their time limit; running them once more on their own:" >&2
    echo "$failed" | sed 's/^/    /' >&2
    first="$log"; log="$log.again"
    run_once "$@" --filter "$(echo "$failed" | paste -sd'|')"
    status=$?
    cat "$log" >> "$first"; rm -f "$log"; log="$first"
  fi
fi
exit "$status"
