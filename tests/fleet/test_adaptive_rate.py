"""Adaptive rate control of the fleet's shared admin budget (CUBIC-style), and review finding M2.

The budget runs on a manual clock (no sleeping, no timing asserts); the end-to-end tests drive
a fleet over moto's server and the emulator, with a small httpx transport in front of the
emulator for answers it cannot give (``Retry-After: inf``, a foreign exception).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from rotator.adapters.openai_wire import retry_after
from rotator.app import Mode, build_app
from rotator.clock import Clock
from rotator.config import Settings
from rotator.domain.models import SecretDescription
from rotator.fleet.rate_budget import (
    BETA,
    MAX_RETRY_AFTER,
    RECOVERY,
    Cubic,
    RateBudget,
    clamp_retry_after,
)
from rotator.fleet.rate_budget import (
    MEASURE_WINDOW as SETTLE,
)
from rotator.fleet.run import rotate_fleet
from rotator.rotation.results import RotationReport, RotationStatus
from rotator.testing.moto_server import MotoServer
from rotator.testing.openai_emulator import ManualClock, OpenAIEmulator
from tests.fleet.conftest import seed_fleet


def _budget(clock: ManualClock, max_rps: float | None = None, **kwargs: object) -> RateBudget:
    return RateBudget(max_rps, monotonic=clock.monotonic, sleep=clock.sleep, **kwargs)  # type: ignore[arg-type]


def _steady(budget: RateBudget, clock: ManualClock, rps: float, seconds: float = 1.0) -> None:
    """Requests accepted at ``rps`` for ``seconds`` (each acquired, then answered at once)."""
    for _ in range(round(rps * seconds)):
        budget.acquire()
        budget.accepted()
        clock.advance(1.0 / rps)


def _throttled_budget(clock: ManualClock, max_rps: float | None = None) -> RateBudget:
    """A budget answered at 10 req/s for a second (the last answer a 429): cut at t=1.05."""
    budget = _budget(clock, max_rps)
    _steady(budget, clock, 10)
    clock.advance(0.05)  # the window [0.05, 1.05] holds nine accepted answers and the 429
    budget.acquire()
    budget.throttled(1.0)
    return budget


# -- the cut ---------------------------------------------------------------------------------


def test_a_429_cuts_the_shared_rate_to_beta_times_the_answered_rate() -> None:
    """Answered at 10 req/s, then a 429: every worker is paced at 7 req/s."""
    clock = ManualClock()
    budget = _throttled_budget(clock)
    assert budget.rate == pytest.approx(10 * BETA)
    assert budget.stats().cuts == 1


def test_a_lone_429_pauses_no_other_worker() -> None:
    """After one 429 with Retry-After 1, the next request leaves at once (only paced)."""
    clock = ManualClock()
    budget = _throttled_budget(clock)
    before = clock.monotonic()
    budget.acquire()
    assert clock.monotonic() == before
    assert budget.stats().shared_pauses == 0


def test_429s_for_requests_sent_before_the_cut_do_not_cut_again() -> None:
    """A second 429 for a request that left before the cut is the same congestion event."""
    clock = ManualClock()
    budget = _budget(clock)
    _steady(budget, clock, 10)
    budget.acquire()  # this worker's request leaves ...
    clock.advance(0.01)
    budget.throttled(1.0)  # ... and another one's 429 cuts the rate meanwhile
    cut = budget.rate
    budget.throttled(1.0)  # then this worker's own 429 arrives
    assert (budget.stats().cuts, budget.stats().throttled) == (1, 2)
    assert budget.rate == cut


def test_429s_within_a_second_of_the_cut_do_not_cut_again() -> None:
    """Requests sent just after the cut still meet the server's emptied bucket: same event."""
    clock = ManualClock()
    budget = _throttled_budget(clock)
    cut = budget.rate
    clock.advance(0.2)
    budget.acquire()
    budget.throttled(1.0)
    assert (budget.rate, budget.stats().cuts, budget.stats().shared_pauses) == (cut, 1, 0)


def test_a_429_the_cut_did_not_cure_pauses_every_worker() -> None:
    """A 429 for a request sent after the cut settled, with nothing accepted since: all wait."""
    clock = ManualClock()
    budget = _throttled_budget(clock)
    clock.advance(SETTLE)
    budget.acquire()
    budget.throttled(2.0)
    started = clock.monotonic()
    budget.acquire()
    assert clock.monotonic() - started == pytest.approx(2.0)
    assert (budget.stats().cuts, budget.stats().shared_pauses) == (2, 1)


def test_an_answer_accepted_after_the_cut_keeps_the_next_429_local() -> None:
    """Once the cut rate is accepted, a later 429 cuts again but pauses no other worker."""
    clock = ManualClock()
    budget = _throttled_budget(clock)
    budget.acquire()
    budget.accepted()
    clock.advance(SETTLE)
    budget.acquire()
    budget.throttled(5.0)
    started = clock.monotonic()
    budget.acquire()
    assert clock.monotonic() - started < 1.0  # paced, not paused for 5 s
    assert budget.stats().shared_pauses == 0


def test_every_mode_pauses_all_workers_on_a_lone_429() -> None:
    """shared_pause="every" (the old behaviour, kept for comparison) pauses on any 429."""
    clock = ManualClock()
    budget = _budget(clock, shared_pause="every")
    budget.acquire()
    budget.throttled(3.0)
    budget.acquire()
    assert clock.monotonic() == pytest.approx(3.0)


# -- Retry-After bounds (M2) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_retry_after", "expected"), [(MAX_RETRY_AFTER, MAX_RETRY_AFTER), (5.0, 5.0)]
)
def test_a_day_long_retry_after_pauses_at_most_the_cap(
    max_retry_after: float, expected: float
) -> None:
    """Retry-After 86400 (a proxy, an outage page) holds the fleet for the cap, not a day."""
    clock = ManualClock()
    budget = _budget(clock, shared_pause="every", max_retry_after=max_retry_after)
    budget.acquire()
    budget.throttled(86400.0)
    budget.acquire()
    assert clock.monotonic() == pytest.approx(expected)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, -1.0, None])
def test_unusable_retry_after_pauses_the_default_second(value: float | None) -> None:
    """inf, nan, a negative or no Retry-After: the default one-second pause, no crash."""
    clock = ManualClock()
    budget = _budget(clock, shared_pause="every")
    budget.acquire()
    budget.throttled(value)
    budget.acquire()
    assert clock.monotonic() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), (math.inf, None), (math.nan, None), (-0.5, None), (0.0, 0.0), (90.0, 60.0)],
)
def test_clamp_retry_after(value: float | None, expected: float | None) -> None:
    """Only finite, non-negative values survive, limited to the cap."""
    assert clamp_retry_after(value, 60.0) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "inf"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "1e400"}, None),
        ({"retry-after": "-5"}, None),
        ({"retry-after-ms": "inf"}, None),
        ({"retry-after-ms": "-1"}, None),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"}, "large"),
    ],
)
def test_retry_after_header_accepts_only_finite_non_negative_seconds(
    headers: dict[str, str], expected: float | str | None
) -> None:
    """The wire parser turns inf, nan, overflow and negatives into "no Retry-After"."""
    parsed = retry_after(headers)
    if expected == "large":
        assert parsed is not None
        assert math.isfinite(parsed)
        assert parsed > 86400
    else:
        assert parsed == expected


def test_retry_after_http_date_counts_seconds_from_now() -> None:
    """An HTTP-date a minute ahead asks for about a minute."""
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    parsed = retry_after({"retry-after": when})
    assert parsed is not None
    assert 50 < parsed <= 60


# -- recovery and the ceiling ----------------------------------------------------------------


def test_the_rate_is_back_at_the_last_good_rate_after_the_recovery_time() -> None:
    """Cut from 10 to 7 req/s: near 10 halfway, 10 at RECOVERY s, probing above it later."""
    clock = ManualClock()
    budget = _throttled_budget(clock)
    clock.advance(RECOVERY / 2)
    budget.accepted()
    halfway = budget.rate
    clock.advance(RECOVERY / 2)
    budget.accepted()
    recovered = budget.rate
    clock.advance(RECOVERY)
    budget.accepted()
    assert halfway is not None
    assert 9.0 < halfway < 10.0
    assert recovered == pytest.approx(10.0)
    assert budget.rate == pytest.approx(10.0 * (2 - BETA))


def test_max_rps_stays_a_hard_ceiling_through_cut_and_recovery() -> None:
    """With --max-rps 8 the cut starts from 8, and recovery never passes 8."""
    clock = ManualClock()
    budget = _throttled_budget(clock, max_rps=8)
    assert budget.rate == pytest.approx(8 * BETA)
    clock.advance(60)
    budget.accepted()
    assert budget.rate == 8


def test_repeated_cuts_stop_at_the_floor() -> None:
    """However many 429s, the budget keeps sending at least MIN_RPS (0.5 req/s)."""
    clock = ManualClock()
    budget = _budget(clock)
    for _ in range(30):
        budget.acquire()
        clock.advance(SETTLE)
        budget.throttled(0.0)
    assert budget.rate == pytest.approx(0.5)


def test_cubic_curve_is_flat_at_the_last_good_rate() -> None:
    """The curve meets w_max at RECOVERY with zero slope (cubic, not linear)."""
    curve = Cubic(w_max=20.0, cut_at=0.0, recovery=2.0)
    assert curve.rate(0.0) == pytest.approx(20.0 * BETA)
    assert curve.rate(2.0) == pytest.approx(20.0)
    assert curve.rate(1.9) == pytest.approx(20.0, rel=1e-3)


@pytest.mark.parametrize(
    "kwargs", [{"max_retry_after": math.inf}, {"max_retry_after": -1.0}, {"recovery": 0.0}]
)
def test_bad_limits_are_refused_at_construction(kwargs: dict[str, float]) -> None:
    """A non-finite or negative cap, or a zero recovery time, is a programming error."""
    with pytest.raises(ValueError, match="must be"):
        RateBudget(None, **kwargs)  # type: ignore[arg-type]


# -- the fleet: deadline, foreign exceptions, Retry-After: inf over HTTP ---------------------


def _description(name: str) -> SecretDescription:
    return SecretDescription(arn=f"arn:{name}", name=name, versions={})


def test_no_secret_starts_after_the_fleet_deadline() -> None:
    """With a 15 s deadline and 10 s per rotation, the third secret fails as not started."""
    clock = ManualClock()

    def rotate_one(description: SecretDescription) -> RotationReport:
        clock.advance(10)
        return RotationReport(
            secret_id=description.name, version_id="v", status=RotationStatus.ROTATED
        )

    names = ["a", "b", "c"]
    results = rotate_fleet(
        [_description(n) for n in names],
        rotate_one,
        concurrency=1,
        deadline=15,
        clock=Clock(monotonic=clock.monotonic, sleep=clock.sleep),
    )
    assert [(r.name, r.status) for r in results] == [
        ("a", "rotated"),
        ("b", "rotated"),
        ("c", "failed"),
    ]
    assert "not started" in str(results[2].report["error"])


def test_a_foreign_exception_fails_its_secret_only() -> None:
    """A worker raising something that is not a RotatorError fails that secret, not the run."""

    def rotate_one(description: SecretDescription) -> RotationReport:
        if description.name == "b":
            raise OverflowError("sk-not-to-be-quoted")
        return RotationReport(
            secret_id=description.name, version_id="v", status=RotationStatus.ROTATED
        )

    results = rotate_fleet([_description(n) for n in "abc"], rotate_one, concurrency=2)
    assert sorted((r.name, r.status) for r in results) == [
        ("a", "rotated"),
        ("b", "failed"),
        ("c", "rotated"),
    ]
    failed = next(r for r in results if r.name == "b")
    assert failed.report["error"] == "unexpected OverflowError"


Answer = Callable[[httpx.Request, int], httpx.Response | None]


def _fleet_over(
    moto_server: MotoServer, emulator: OpenAIEmulator, count: int, answer: Answer
) -> tuple[list[str], list[dict[str, object]], object]:
    """Rotate a seeded fleet through a transport that may answer instead of the emulator."""
    moto_server.reset()
    fleet = seed_fleet(moto_server, emulator, count)
    seen = {"n": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        seen["n"] += 1
        return answer(request, seen["n"]) or emulator.handle(request)

    http = httpx.Client(transport=httpx.MockTransport(handle))
    settings = Settings(openai_base_url="http://127.0.0.1:9/v1")
    app = build_app(settings, mode=Mode.FLEET, max_rps=None, concurrency=4, http=http)
    try:
        found = app.fleet.discover(prefix="openai/", tags={}, concurrency=4)
        secrets = [c.description for c in found if c.secret is not None]
        results = app.fleet.rotate_all(secrets, mode="local", concurrency=4, timeout=30)
    finally:
        app.close()
        http.close()
    return fleet.orphans(), [r.to_json() for r in results], fleet


def test_retry_after_inf_neither_crashes_the_fleet_nor_skips_rollback(
    moto_server: MotoServer, fleet_env: OpenAIEmulator
) -> None:
    """GIVEN a proxy answering the first create with 429 and Retry-After: inf WHEN the fleet
    rotates THEN the run completes, every secret rotates and no account is orphaned (M2)."""
    answered = {"done": False}

    def answer(request: httpx.Request, _: int) -> httpx.Response | None:
        if request.method == "POST" and not answered["done"]:
            answered["done"] = True
            body = {"error": {"message": "slow down", "type": "requests"}}
            return httpx.Response(429, headers={"retry-after": "inf"}, json=body)
        return None

    orphans, results, _ = _fleet_over(moto_server, fleet_env, 4, answer)
    assert answered["done"]
    assert [r["status"] for r in results] == ["rotated"] * 4
    assert orphans == []


def test_a_foreign_exception_mid_rotation_is_rolled_back(
    moto_server: MotoServer, fleet_env: OpenAIEmulator
) -> None:
    """GIVEN the new key's probe raising a non-rotator exception WHEN the fleet rotates
    THEN that secret fails after rollback (its account deleted, old key kept), others rotate."""
    raised = {"done": False}

    def answer(request: httpx.Request, _: int) -> httpx.Response | None:
        if request.url.path.endswith("/models") and not raised["done"]:
            raised["done"] = True
            raise OverflowError("cannot convert float infinity to integer")
        return None

    orphans, results, fleet = _fleet_over(moto_server, fleet_env, 3, answer)
    statuses = sorted(str(r["status"]) for r in results)
    assert statuses == ["failed", "rotated", "rotated"]
    failed = next(r for r in results if r["status"] == "failed")
    assert "unexpected OverflowError" in str(failed["error"])
    assert "rolled back" in str(failed["error"])
    assert orphans == []
    name = str(failed["secret_id"])
    assert fleet_env.key_works(fleet.old_keys[name])  # type: ignore[attr-defined]
    assert json.dumps(results).count("sk-") == 0
