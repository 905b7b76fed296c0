"""The only two loops: :func:`call_with_retry` (retry on transient errors) and :func:`poll_until`.

Retrying idempotent calls: exponential backoff with full jitter under an overall deadline (and,
optionally, a number of attempts). Polling: ask again until an answer is the one wanted or the
time is up. Both wait on the one :class:`~rotator.clock.Clock`.

Only calls that are safe to repeat go through here (GETs, DELETEs, Secrets Manager reads, the
probe of a new key). Creates are never retried blindly: a lost answer is reconciled by name.
A ``Retry-After`` from the server is honoured (and wins over the computed delay).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from rotator.clock import Clock
from rotator.errors import TransientServiceError

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Delay policy: ``base * 2**attempt`` capped at ``cap``, with full jitter."""

    base: float = 0.25
    cap: float = 8.0
    deadline: float = 30.0

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        ceiling: float = min(self.cap, self.base * (2**attempt))
        return ceiling * (0.5 + float(rng()) / 2)


def call_with_retry(
    operation: Callable[[], T],
    *,
    backoff: Backoff,
    clock: Clock | None = None,
    on_retry: Callable[[int, TransientServiceError, float], None] | None = None,
    attempts: int | None = None,
    max_retry_after: float = math.inf,
) -> T:
    """Run ``operation``; on :class:`TransientServiceError` wait and try again until the deadline.

    The last error is re-raised when the next wait would cross the deadline, or after
    ``attempts`` calls. A server's ``Retry-After`` wins over the computed delay, up to
    ``max_retry_after`` seconds.
    """
    clock = clock or Clock()
    start = clock.monotonic()
    attempt = 0
    while True:
        try:
            return operation()
        except TransientServiceError as error:
            if attempts is not None and attempt + 1 >= attempts:
                raise
            wait = backoff.delay(attempt, clock.rng)
            if error.retry_after is not None:
                wait = max(wait, min(error.retry_after, max_retry_after))
            if clock.monotonic() - start + wait > backoff.deadline:
                raise
            if on_retry is not None:
                on_retry(attempt, error, wait)
            clock.sleep(wait)
            attempt += 1


def poll_until(
    check: Callable[[], T],
    *,
    done: Callable[[T], bool],
    timeout: float,
    delay: Callable[[int], float],
    clock: Clock,
    on_wait: Callable[[int, T, float], None] | None = None,
) -> T:
    """Call ``check`` until ``done(answer)`` or the next wait would pass ``timeout``.

    Returns the last answer (the caller decides what a timeout means). ``delay(attempt)`` is
    the wait before the next call.
    """
    start = clock.monotonic()
    attempt = 0
    while True:
        answer = check()
        if done(answer):
            return answer
        wait = delay(attempt)
        if clock.monotonic() - start + wait > timeout:
            return answer
        if on_wait is not None:
            on_wait(attempt, answer, wait)
        clock.sleep(wait)
        attempt += 1
