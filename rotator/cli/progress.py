"""Fleet progress: a one-line bar on a terminal, JSON lines for programs.

The bar (stderr) shows done / failed / in flight, the rate in secrets per second and an ETA,
redrawn at most ten times a second. JSON lines (stdout) carry one object per secret as it
finishes, then a summary object. Both are fed from worker threads, so both take a lock.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import TextIO

from rotator.fleet.run import FleetListener, FleetResult
from rotator.rotation.results import RotationStatus


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class FleetProgress(FleetListener):
    """Counts a run's events; draws a bar on ``bar`` and/or writes JSON lines to ``lines``."""

    def __init__(
        self,
        total: int,
        *,
        bar: TextIO | None,
        lines: TextIO | None,
        monotonic: Callable[[], float] = time.monotonic,
        width: int = 24,
    ) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.in_flight = 0
        self._bar = bar
        self._lines = lines
        self._monotonic = monotonic
        self._width = width
        self._started = monotonic()
        self._drawn_at = float("-inf")
        self._lock = threading.Lock()

    def started(self, name: str) -> None:
        with self._lock:
            self.in_flight += 1
            self._draw()

    def finished(self, result: FleetResult) -> None:
        with self._lock:
            self.in_flight -= 1
            if result.status is RotationStatus.ROTATED:
                self.done += 1
            else:
                self.failed += 1
            if self._lines is not None:
                self._lines.write(json.dumps(result.to_json(), default=str) + "\n")
                self._lines.flush()
            self._draw(force=self.done + self.failed == self.total)

    def render(self) -> str:
        """The bar's text: ``[####----] 12/40 done 11 failed 1 in flight 8 · 2.3/s · ETA 12s``."""
        finished = self.done + self.failed
        elapsed = max(self._monotonic() - self._started, 1e-9)
        rate = finished / elapsed
        filled = round(self._width * finished / self.total) if self.total else self._width
        eta = _clock((self.total - finished) / rate) if rate > 0 else "?"
        return (
            f"[{'#' * filled}{'-' * (self._width - filled)}] {finished}/{self.total} "
            f"done {self.done} failed {self.failed} in flight {self.in_flight} "
            f"· {rate:.1f}/s · ETA {eta}"
        )

    def _draw(self, *, force: bool = False) -> None:
        if self._bar is None:
            return
        now = self._monotonic()
        if not force and now - self._drawn_at < 0.1:
            return
        self._drawn_at = now
        self._bar.write("\r\x1b[2K" + self.render())
        if force:
            self._bar.write("\n")
        self._bar.flush()

    def summary(self, extra: dict[str, object]) -> dict[str, object]:
        elapsed = self._monotonic() - self._started
        return {
            "summary": True,
            "total": self.total,
            "rotated": self.done,
            "failed": self.failed,
            "duration_ms": round(elapsed * 1000),
            "secrets_per_second": round((self.done + self.failed) / elapsed, 3) if elapsed else 0,
            **extra,
        }
