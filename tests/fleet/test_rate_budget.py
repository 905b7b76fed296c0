"""The shared admin rate budget, on a manual clock (no sleeping, no timing asserts)."""

from __future__ import annotations

import pytest

from rotator.fleet.rate_budget import MIN_RPS, RateBudget
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


def test_a_429_pauses_every_worker_for_retry_after() -> None:
    """After a 429 with Retry-After 3, the next request of any worker waits until it passes."""
    clock = ManualClock()
    budget = _budget(None, clock)
    budget.acquire()
    budget.throttled(3.0)
    budget.acquire()
    assert clock.monotonic() == pytest.approx(3.0)
    assert budget.stats().throttled == 1


def test_a_429_without_retry_after_pauses_one_second() -> None:
    """A 429 naming no wait pauses for the default second."""
    clock = ManualClock()
    budget = _budget(2, clock)
    budget.throttled(None)
    budget.acquire()
    assert clock.monotonic() == pytest.approx(1.0)


def test_the_first_429_learns_a_rate_from_what_the_server_accepted() -> None:
    """Ten answers accepted in the last second, then a 429: pacing starts at 8 req/s."""
    clock = ManualClock(start=0)
    clock.advance(10)
    budget = _budget(None, clock)
    for _ in range(10):
        budget.accepted()
    budget.throttled(1.0)
    assert budget.rate == pytest.approx(8.0)


def test_the_learnt_rate_never_drops_below_the_floor_nor_rises_above_max_rps() -> None:
    """Repeated 429s stop at MIN_RPS; quiet periods raise the rate back, capped at max_rps."""
    clock = ManualClock()
    clock.advance(10)
    budget = _budget(2, clock, probe_interval=1.0)
    for _ in range(5):
        clock.advance(2)
        budget.throttled(0.1)
    assert budget.rate == MIN_RPS
    for _ in range(20):
        clock.advance(1.5)
        budget.accepted()
    assert budget.rate == 2


def test_max_rps_must_be_positive() -> None:
    """A zero rate is refused at construction."""
    with pytest.raises(ValueError, match="max_rps"):
        RateBudget(0)
