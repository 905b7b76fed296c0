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


def test_repeated_shared_pauses_leave_no_abandoned_slots_behind() -> None:
    """GIVEN a worker waiting for its slot while five 429s in a row each pause every worker
    WHEN the pauses end THEN it goes when the last pause ends and the next request one pacing
    slot later: the slots it gave up on the way are not kept reserved (L17)."""
    clock = ManualClock()
    pause_ends: list[float] = []

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if len(pause_ends) < 5:  # another worker's 429 arrives while this one waits
            budget.throttled(1.0)
            pause_ends.append(clock.monotonic() + 1.0)

    budget = RateBudget(5, monotonic=clock.monotonic, sleep=sleep, shared_pause="every")
    budget.acquire()
    budget.accepted()
    budget.acquire()
    waited_out = clock.monotonic()
    rate = budget.rate
    assert rate is not None
    budget.acquire()
    assert len(pause_ends) == 5
    assert waited_out == pytest.approx(pause_ends[-1])
    assert clock.monotonic() - waited_out == pytest.approx(1 / rate)
    assert budget.stats().requests == 3
