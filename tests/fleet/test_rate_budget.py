"""The shared admin rate budget, on a manual clock (no sleeping, no timing asserts)."""

from __future__ import annotations

import pytest

from rotator.fleet.rate_budget import RateBudget
from rotator.testing.openai_emulator import ManualClock


def _budget(max_rps: float | None, clock: ManualClock, **kwargs: float) -> RateBudget:
    return RateBudget(max_rps, monotonic=clock.monotonic, sleep=clock.sleep, **kwargs)


def _send_times(budget: RateBudget, clock: ManualClock, count: int) -> list[float]:
    times = []
    for _ in range(count):
        budget.acquire()
        times.append(round(clock.monotonic(), 6))
        budget.accepted()
    return times


def test_max_rps_spaces_requests_one_slot_apart() -> None:
    """At 5 req/s the requests leave 0.2 s apart, starting at once."""
    clock = ManualClock()
    assert _send_times(_budget(5, clock), clock, 4) == [0.0, 0.2, 0.4, 0.6]


def test_without_max_rps_nothing_waits_until_a_429() -> None:
    """No limit given and no 429 seen: no request waits."""
    clock = ManualClock()
    assert _send_times(_budget(None, clock), clock, 5) == [0.0] * 5


def test_max_rps_must_be_positive() -> None:
    """A zero rate is refused at construction."""
    with pytest.raises(ValueError, match="max_rps"):
        RateBudget(0)
