"""One OpenAI admin rate budget shared by every worker of a run: adaptive, CUBIC-style.

OpenAI limits the Administration API per organization, not per connection, so workers that
each back off alone keep tripping the limit for one another. :class:`RateBudget` is the one
place they all pass through before an admin request. Modelled on botocore's adaptive retry
mode (a client-side token bucket whose rate follows TCP CUBIC), written for this budget:

* **Pacer.** GCRA / virtual scheduling: each request reserves the next free slot ``1/rate``
  after the previous one, so requests never leave faster than the pacing rate. ``max_rps`` is
  a hard ceiling on it; without ``max_rps`` nothing is paced until the first 429.
* **Multiplicative decrease.** A 429 cuts the shared rate to ``BETA`` (0.7) times the rate the
  server was accepting (measured over the last second, never above the pacing rate),
  so every worker slows at once. 429s for requests that left *before* the latest cut, or that
  arrive within ``settle`` (1 s) of it, belong to the same congestion event (the server's
  bucket is still empty) and do not cut again; without that, cuts cascade to a crawl.
  Only accepted answers are measured (botocore counts 429s too, which overstates the rate a
  token bucket admits).
* **Cubic recovery.** After a cut the rate grows along a cubic curve that is back at the last
  good rate ``recovery`` (2 s) after the cut, flat near it, then probing faster beyond; so a
  brief burst of throttling costs about a second of reduced pace, not the rest of the run.
* **Pauses.** The throttled request itself waits its ``Retry-After`` (the callers' retry loops
  do that). A lone 429 does not stop the other workers; only a *repeated* one does: a 429 for a
  request sent after the latest cut, with no answer accepted since that cut and within
  ``pause_window`` seconds of it (the cut did not help: the server refuses everything). Then
  every worker waits the ``Retry-After``. Every wait the budget imposes is capped at
  ``max_retry_after`` (60 s), and non-finite or negative values are ignored, so a proxy's
  ``Retry-After: 86400`` or ``inf`` can neither stall the fleet nor crash it.

Pure standard library and thread-safe; time is injected so tests run without sleeping. The
arithmetic lives in :class:`Cubic`, a pure value object.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

MIN_RPS = 0.5
DEFAULT_PAUSE = 1.0
#: The longest wait one ``Retry-After`` can impose (seconds).
MAX_RETRY_AFTER = 60.0
#: CUBIC's multiplicative decrease (botocore and RFC 8312 use 0.7).
BETA = 0.7
#: Seconds after a cut at which the cubic curve is back at the last good rate.
RECOVERY = 2.0
#: The window over which the answer rate is measured (seconds), and its shortest span.
MEASURE_WINDOW = 1.0
MIN_ELAPSED = 0.05

SharedPause = Literal["repeated", "every"]


def clamp_retry_after(value: float | None, cap: float = MAX_RETRY_AFTER) -> float | None:
    """``value`` limited to ``[0, cap]``; None for a missing, non-finite or negative value."""
    if value is None or not math.isfinite(value) or value < 0:
        return None
    return min(value, cap)


@dataclass(frozen=True)
class Cubic:
    """The rate curve after a cut: ``BETA * w_max`` at the cut, ``w_max`` at ``recovery``.

    ``rate(t) = w_max * (1 + (1 - BETA) * ((t - cut_at - K) / K) ** 3)`` with ``K = recovery``.
    The constant of RFC 8312 (0.4 in packets) is scaled by ``w_max / K**3`` so the recovery
    time is the same at 2 req/s as at 50 req/s.
    """

    w_max: float
    cut_at: float
    recovery: float = RECOVERY
    beta: float = BETA

    @property
    def floor(self) -> float:
        return self.w_max * self.beta

    def rate(self, now: float) -> float:
        k = self.recovery
        x = (max(0.0, now - self.cut_at) - k) / k
        return self.w_max * (1.0 + (1.0 - self.beta) * x**3)


@dataclass(frozen=True)
class BudgetStats:
    """What the budget did during a run, for summaries and benchmarks."""

    requests: int
    throttled: int
    waited_s: float
    rate: float | None
    cuts: int = 0
    shared_pauses: int = 0


class RateBudget:
    """Paces admin requests under ``max_rps``, adapting the pace to the server's 429s."""

    def __init__(
        self,
        max_rps: float | None = None,
        *,
        max_retry_after: float = MAX_RETRY_AFTER,
        recovery: float = RECOVERY,
        pause_window: float = 5.0,
        settle: float = MEASURE_WINDOW,
        shared_pause: SharedPause = "repeated",
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_rps is not None and not (max_rps > 0 and math.isfinite(max_rps)):
            raise ValueError("max_rps must be more than 0")
        if not (max_retry_after >= 0 and math.isfinite(max_retry_after)):
            raise ValueError("max_retry_after must be a finite number of seconds >= 0")
        if not (recovery > 0 and math.isfinite(recovery)):
            raise ValueError("recovery must be a finite number of seconds > 0")
        self.max_rps = max_rps
        self.max_retry_after = max_retry_after
        #: "repeated": only a 429 the latest cut did not cure pauses everyone; "every": any 429.
        self.shared_pause: SharedPause = shared_pause
        self._recovery = recovery
        self._pause_window = pause_window
        self._settle = settle
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent = threading.local()  # when this thread's request in flight left
        self._rate = max_rps
        self._curve: Cubic | None = None
        self._next_slot = 0.0
        self._pause_until = 0.0
        self._cut_at: float | None = None
        self._accepted_since_cut = 0
        self._started: float | None = None
        self._answers: deque[float] = deque()
        self._requests = 0
        self._throttled = 0
        self._cuts = 0
        self._shared_pauses = 0
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
                if self._started is None:
                    self._started = now
                slot = max(now, self._pause_until)
                if self._rate is not None:
                    slot = max(slot, self._next_slot)
                    self._next_slot = slot + 1.0 / self._rate
                wait = slot - now
                if wait <= 0:
                    self._sending(now)
                    return
                self._waited += wait
            self._sleep(wait)
            with self._lock:
                # Reserved slot reached and no shared pause began meanwhile: go.
                now = self._monotonic()
                if now >= self._pause_until:
                    self._sending(now)
                    return

    def _sending(self, now: float) -> None:
        self._requests += 1
        self._sent.at = now

    def _sent_at(self, now: float) -> float:
        sent: float = getattr(self._sent, "at", now)
        return sent

    def accepted(self) -> None:
        """An admin answer that was not a 429: measures the rate, and grows it along the curve."""
        with self._lock:
            now = self._monotonic()
            self._answered(now)
            if self._cut_at is not None and self._sent_at(now) >= self._cut_at:
                self._accepted_since_cut += 1
            if self._curve is not None:
                self._rate = min(max(MIN_RPS, self._curve.rate(now)), self._ceiling)

    def throttled(self, retry_after: float | None) -> None:
        """A 429: cut the shared rate once per congestion event; pause everyone if it repeats.

        ``retry_after`` is clamped to ``max_retry_after``; a non-finite or negative value
        counts as absent (``DEFAULT_PAUSE``).
        """
        with self._lock:
            now = self._monotonic()
            self._throttled += 1
            pause = clamp_retry_after(retry_after, self.max_retry_after)
            pause = min(DEFAULT_PAUSE, self.max_retry_after) if pause is None else pause
            same_event = self._cut_at is not None and (
                self._sent_at(now) < self._cut_at or now - self._cut_at < self._settle
            )
            if same_event and self.shared_pause == "repeated":
                return
            repeated = (
                self._cut_at is not None
                and not same_event
                and self._accepted_since_cut == 0
                and now - self._cut_at <= self._pause_window
            )
            if self.shared_pause == "every" or repeated:
                self._pause_until = max(self._pause_until, now + pause)
                self._shared_pauses += 1
            if not same_event:
                self._cut(now)

    def _cut(self, now: float) -> None:
        measured = self._measured(now)
        base = measured if self._rate is None else min(self._rate, measured)
        base = max(MIN_RPS / BETA, base)
        self._curve = Cubic(base, now, self._recovery)
        self._rate = min(max(MIN_RPS, self._curve.floor), self._ceiling)
        self._cut_at = now
        self._accepted_since_cut = 0
        self._cuts += 1

    def _answered(self, now: float) -> None:
        self._answers.append(now)
        while self._answers and self._answers[0] < now - MEASURE_WINDOW:
            self._answers.popleft()

    def _measured(self, now: float) -> float:
        """Answers accepted per second over the last second, or since the run's first send.

        botocore's ``RateClocker`` counts 429s too; at a token-bucket limit that overstates what
        the server admits (the cut then lands above the limit and cascades), so only accepted
        answers count here.
        """
        elapsed = MEASURE_WINDOW if self._started is None else now - self._started
        return len(self._answers) / max(MIN_ELAPSED, min(MEASURE_WINDOW, elapsed))

    @property
    def _ceiling(self) -> float:
        return self.max_rps if self.max_rps is not None else math.inf

    def stats(self) -> BudgetStats:
        with self._lock:
            return BudgetStats(
                self._requests,
                self._throttled,
                round(self._waited, 3),
                self._rate,
                self._cuts,
                self._shared_pauses,
            )
