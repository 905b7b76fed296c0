"""One OpenAI admin rate budget shared by every worker of a run.

OpenAI limits the Administration API per organization, not per connection, so workers that
each back off alone keep tripping the limit for one another. :class:`RateBudget` is the one
place they all pass through before an admin request:

* a pacer (GCRA / virtual scheduling: each request reserves the next free slot ``1/rate``
  after the previous one), so requests never leave faster than ``max_rps``;
* a shared "pause until": a 429 with ``Retry-After`` stops *every* worker until it passes;
* without ``max_rps``, the first 429 switches pacing on at a rate learnt from the answers the
  server accepted in the last second; every further 429 lowers it, and each quiet
  ``probe_interval`` raises it a little (additive increase, multiplicative decrease).

Pure standard library and thread-safe; time is injected so tests run without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

MIN_RPS = 0.5
DEFAULT_PAUSE = 1.0


@dataclass(frozen=True)
class BudgetStats:
    """What the budget did during a run, for summaries and benchmarks."""

    requests: int
    throttled: int
    waited_s: float
    rate: float | None


class RateBudget:
    """Paces admin requests under ``max_rps`` and pauses everyone on a 429."""

    def __init__(
        self,
        max_rps: float | None = None,
        *,
        probe_interval: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_rps is not None and max_rps <= 0:
            raise ValueError("max_rps must be more than 0")
        self.max_rps = max_rps
        self._rate = max_rps
        self._probe_interval = probe_interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._pause_until = 0.0
        self._changed_at = 0.0
        self._accepted: deque[float] = deque()
        self._requests = 0
        self._throttled = 0
        self._waited = 0.0

    @property
    def rate(self) -> float | None:
        """Requests per second the budget paces at now (None: not pacing)."""
        with self._lock:
            return self._rate

    def acquire(self) -> None:
        """Block until this worker may send one admin request."""
        while True:
            with self._lock:
                now = self._monotonic()
                slot = max(now, self._pause_until)
                if self._rate is not None:
                    slot = max(slot, self._next_slot)
                    self._next_slot = slot + 1.0 / self._rate
                wait = slot - now
                if wait <= 0:
                    self._requests += 1
                    return
                self._waited += wait
            self._sleep(wait)
            with self._lock:
                # Reserved slot reached and no 429 arrived meanwhile: go.
                if self._monotonic() >= self._pause_until:
                    self._requests += 1
                    return

    def accepted(self) -> None:
        """An admin answer that was not a 429: feeds the learnt rate, and probes upwards."""
        with self._lock:
            now = self._monotonic()
            self._accepted.append(now)
            while self._accepted and self._accepted[0] < now - 1.0:
                self._accepted.popleft()
            quiet = now - self._changed_at >= self._probe_interval
            if self._rate is not None and quiet and self._learning:
                self._rate = min(self._rate + MIN_RPS, self.max_rps or float("inf"))
                self._changed_at = now

    def throttled(self, retry_after: float | None) -> None:
        """A 429: every worker waits ``retry_after`` seconds (1 when the server names none)."""
        with self._lock:
            now = self._monotonic()
            self._throttled += 1
            pause = DEFAULT_PAUSE if retry_after is None else retry_after
            self._pause_until = max(self._pause_until, now + pause)
            # Answers already in flight when the first 429 came do not lower the rate twice.
            if now - self._changed_at < pause and self._rate is not None:
                return
            recent = sum(1 for moment in self._accepted if moment >= now - 1.0)
            learnt = max(MIN_RPS, 0.8 * recent)
            self._rate = learnt if self._rate is None else max(MIN_RPS, min(self._rate, learnt))
            if self.max_rps is not None:
                self._rate = min(self._rate, self.max_rps)
            self._changed_at = now

    @property
    def _learning(self) -> bool:
        return self.max_rps is None or (self._rate or 0.0) < self.max_rps

    def stats(self) -> BudgetStats:
        with self._lock:
            return BudgetStats(self._requests, self._throttled, round(self._waited, 3), self._rate)
