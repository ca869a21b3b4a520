"""Progress on stderr: a redrawn bar with files/s and ETA on a terminal, plain log lines otherwise."""
from __future__ import annotations

import sys
import time

_BAR = 24


def format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    def __init__(self, total: int, stream=None, enabled: bool = True, log_every: float = 10.0):
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.log_every = log_every
        self.done = 0
        self.failed = 0
        self._first: tuple[float, int] | None = None  # the rate counts from the first finished file, not start-up
        self._last = 0.0

    def update(self, done: int = 1, failed: int = 0) -> None:
        self.done += done
        self.failed += failed
        now = time.monotonic()
        if self._first is None:
            self._first = (now, self.done)
        interval = 0.1 if self.tty else self.log_every
        if now - self._last >= interval or self.done >= self.total:
            self._last = now
            self._show(now)

    def line(self, now: float | None = None) -> str:
        now = now or time.monotonic()
        since, done_then = self._first or (now, self.done)
        rate = (self.done - done_then) / (now - since) if now > since and self.done > done_then else 0.0
        eta = f"ETA {format_seconds((self.total - self.done) / rate)}" if rate > 0 else "ETA ?"
        percent = 100 * self.done / self.total if self.total else 100.0
        return (f"{self.done}/{self.total} files ({percent:.0f}%), {rate:.1f} files/s, "
                f"{eta}, {self.failed} failed")

    def _show(self, now: float) -> None:
        if not self.enabled:
            return
        if self.tty:
            filled = int(_BAR * self.done / self.total) if self.total else _BAR
            self.stream.write(f"\r[{'#' * filled}{'.' * (_BAR - filled)}] {self.line(now)}\x1b[K")
        else:
            self.stream.write(f"batch: {self.line(now)}\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def note(self, message: str) -> None:
        if self.enabled:
            self.stream.write(("\r\x1b[K" if self.tty else "") + f"batch: {message}\n")
            self.stream.flush()
