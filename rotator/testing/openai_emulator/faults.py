"""Injected faults, the admin rate limit, and a manual clock for tests.

A fault matches a method and a regular expression searched in the request path (without the
``/v1`` prefix and the query string) and fires ``times`` times:

* ``status``: answer ``status`` (429 with ``Retry-After``, 500, 503, ...) without acting;
* ``drop_before``: drop the connection before acting (nothing happened);
* ``drop_after``: act, then drop the connection (it happened, but the answer is lost).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["status", "drop_before", "drop_after"]
FAULT_KINDS: tuple[FaultKind, ...] = ("status", "drop_before", "drop_after")


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    kind: FaultKind
    remaining: int
    status: int = 500
    retry_after: int | None = None
    retry_after_ms: int | None = None

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method.upper()) and self.path.search(path) is not None


class FaultBook:
    """The faults still armed, in the order they were injected."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}, not {fault.kind!r}")
        if fault.remaining < 1:
            raise ValueError("a fault fires at least once (times >= 1)")
        self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """The first armed fault matching this request, consuming one of its firings."""
        for fault in self._faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    def __len__(self) -> int:
        return len(self._faults)


class TokenBucket:
    """Admits ``rate`` requests per second with a burst of ``max(1, rate)``."""

    def __init__(self) -> None:
        self._rate: float | None = None
        self._tokens = 0.0
        self._updated = 0.0

    def take(self, rate: float | None, now: float) -> int | None:
        """None when admitted, else the whole seconds to wait (``Retry-After``, at least 1)."""
        if rate is None or rate <= 0:
            self._rate = None
            return None
        capacity = max(1.0, rate)
        if self._rate != rate:
            self._rate, self._tokens, self._updated = rate, capacity, now
        self._tokens = min(capacity, self._tokens + (now - self._updated) * rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - self._tokens) / rate))


class ManualClock:
    """Wall and monotonic time that only move when told to; ``sleep`` moves them too.

    ``OpenAIEmulator(now=clock.now, monotonic=clock.monotonic, sleep=clock.sleep)``
    """

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self._wall = start
        self._mono = 0.0

    def now(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self._wall += seconds
        self._mono += seconds
