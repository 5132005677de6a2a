"""Waiting without timing assumptions: polling a condition with a generous bound, reading a
process's output lines as they come, and unique names for what a test creates."""

from __future__ import annotations

import queue
import random
import string
import threading
import time
from typing import Any, Callable, Optional


def unique(prefix: str, n: int = 6) -> str:
    suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=n))
    return f"{prefix}-{suffix}"


def wait_for(pred: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1,
             what: str = "condition") -> Any:
    """Polls pred() until it returns a truthy value; returns that value.
    Exceptions from pred count as 'not yet'; the last one is reported."""
    deadline = time.monotonic() + timeout
    last_exc: Optional[BaseException] = None
    last_val: Any = None
    while True:
        try:
            last_val = pred()
            if last_val:
                return last_val
            last_exc = None
        except Exception as e:  # noqa: BLE001 - polling
            last_exc = e
        if time.monotonic() >= deadline:
            msg = f"timed out after {timeout:.0f}s waiting for {what}"
            if last_exc is not None:
                msg += f"; last error: {last_exc!r}"
            else:
                msg += f"; last value: {last_val!r}"
            raise AssertionError(msg)
        time.sleep(interval)
        interval = min(interval * 1.5, 1.0)


class LineReader:
    """Reads a text stream line by line on a thread (for `kubectl get -w`)."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self._q: "queue.Queue[Optional[str]]" = queue.Queue()
        self._cond = threading.Condition()
        self._t = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._t.start()

    def _run(self, stream):
        for line in stream:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_for(self, pred: Callable[[list[str]], Any], timeout: float = 30, what: str = "output"):
        deadline = time.monotonic() + timeout
        with self._cond:
            while not pred(self.lines):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out waiting for {what}; output so far:\n"
                                         + "\n".join(self.lines))
                self._cond.wait(min(remaining, 1.0))
            return list(self.lines)
