"""Fault injection at every external call of an admin-key secret's rotation.

Reuses :mod:`tests.reliability.harness` (its tracker, store wrapper, fault kinds (a)-(e) and
replay rules) on the admin-key secret of the in-memory world. Invariants:

* the admin-key secret's AWSCURRENT admin key authenticates after every single external call;
* after eventual success, and the next rotation a day later, the organization's live admin keys
  are exactly the current one (the old key deleted, no key a lost create or a crashed run made
  left alive);
* AWSPENDING ends on AWSCURRENT's version or on none;
* no admin key value (old or new) appears in a captured log event or an error message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from rotator.app import Mode as AppMode
from rotator.app import build_app
from rotator.domain.admin_secret import AdminKeySecret
from rotator.domain.models import AWSCURRENT, AWSPENDING
from rotator.domain.protocol import RotationEvent, Step
from rotator.domain.sensitive import Sensitive
from rotator.errors import RotationInProgressError, RotatorError
from rotator.rotation.local import rotate_locally
from rotator.rotation.results import StepResult
from tests.reliability.harness import (
    FAULTS,
    LAMBDA_ARN,
    MODES,
    REPLAYS,
    CallSite,
    FaultyAdmin,
    FaultyProbe,
    FaultyStore,
    Mode,
    ProcessDied,
    TrackedEngine,
    Tracker,
    captured_logs,
)
from tests.rotation.conftest import ADMIN_SECRET, World, make_world

#: The admin-key secret's value before the rotation under test.
Shape = str
SHAPES: tuple[Shape, ...] = ("bare", "json")
NEXT_ROTATION_AFTER = 86400.0


def admin_current(world: World) -> AdminKeySecret:
    raw = world.store.get_value(ADMIN_SECRET, stage=AWSCURRENT)
    assert raw is not None
    return AdminKeySecret.parse(raw)


class AdminTracker(Tracker):
    """The every-moment invariant for this table: the admin-key secret's key authenticates."""

    def after_call(self) -> None:
        if not self.world.emulator.admin_key_works(admin_current(self.world).admin_key.reveal()):
            where = self.sites[-1].label() if self.sites else "?"
            if where not in self.key_lost_at:
                self.key_lost_at.append(where)


def build_engine(world: World, tracker: Tracker, mode: Mode) -> TrackedEngine:
    """A fresh process wired by build_app through the wrappers (as harness.build_engine)."""
    app_mode = AppMode.LAMBDA if mode == "lambda" else AppMode.CLI
    plain = world.app(mode=app_mode)
    app = build_app(
        world.settings(test_timeout=5.0, revocation_timeout=3.0),
        mode=app_mode,
        store=FaultyStore(world.store, tracker),
        http=world.http,
        admin_factory=lambda key: FaultyAdmin(plain.admin_factory(key), tracker),
        probe=FaultyProbe(plain.probe, tracker),
        clock=world.retry_clock(),
        engine_type=TrackedEngine,
    )
    engine = app.engine
    assert isinstance(engine, TrackedEngine)
    engine.tracker = tracker
    return engine


@dataclass(frozen=True, order=True)
class Scenario:
    mode: Mode
    shape: Shape
    site: CallSite
    fault: str

    @property
    def id(self) -> str:
        site = re.sub(r"[^A-Za-z0-9#/]+", "_", self.site.label()).strip("_")
        return f"admin-{self.mode}-{self.shape}-{site}-{self.fault}"


@dataclass
class Outcome:
    scenario: Scenario
    fired: bool = False
    first_error: str | None = None
    recoveries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def survived(self) -> bool:
        return not self.problems


class Run:
    """One scenario's world: the stack's admin-key secret, bare or JSON with its id."""

    def __init__(self, mode: Mode, shape: Shape) -> None:
        self.mode = mode
        self.world = make_world()
        self.arn = self.world.store.describe(ADMIN_SECRET).arn
        admin_key = self.world.admin_key
        if shape == "bare":
            self.world.store.put_current(self.arn, Sensitive(admin_key))
        else:
            key_id = self.world.emulator.admin_key_id(admin_key)
            value = {"admin_key": admin_key, "admin_key_id": key_id}
            self.world.store.put_current(self.arn, Sensitive(json.dumps(value)))
        self.tracker = AdminTracker(self.world)
        self.tracker.seen_keys.add(admin_key)
        self.errors: list[str] = []
        self.recoveries = 0
        if mode == "lambda":
            self.world.store.enable_rotation(self.arn, LAMBDA_ARN)

    def attempt(self, token: str | None) -> BaseException | None:
        engine = build_engine(self.world, self.tracker, self.mode)
        self.tracker.enter_phase("start")
        try:
            if self.mode == "lambda":
                assert token is not None
                for step in Step:
                    result: StepResult = engine.run_step(
                        RotationEvent(step=step, secret_id=self.arn, token=token)
                    )
                    if step is Step.CREATE and result.key_id:
                        self._remember_pending(token)
            else:
                rotate_locally(engine, self.arn)
        except RotatorError as error:
            self.errors.append(str(error))
            return error
        except ProcessDied as died:
            self.errors.append(f"process died {died}")
            return died
        finally:
            self.tracker.enter_phase("start")
        return None

    def _remember_pending(self, token: str) -> None:
        raw = self.world.store.value_of(self.arn, token)
        if raw is not None:
            self.tracker.seen_keys.add(AdminKeySecret.parse(raw).admin_key.reveal())

    def start(self) -> str | None:
        if self.mode == "local":
            return None
        try:
            return self.world.store.start_rotation(self.arn)
        except RotationInProgressError:
            self.recover()
            return self.world.store.start_rotation(self.arn)

    def recover(self) -> None:
        """The operator clears a stuck AWSPENDING (`aws secretsmanager update-secret-version-
        stage --remove-from-version-id`); a key made for it is deleted by the next rotation
        only if it used the same token, so it is left for the end-state check to find."""
        self.recoveries += 1
        for vid, stages in self.world.store.versions(self.arn).items():
            if AWSPENDING in stages and AWSCURRENT not in stages:
                self.world.store.move_stage(self.arn, AWSPENDING, to_version=None, from_version=vid)

    def rotate_until_done(self, *, token: str | None = None, tries: int = 1 + REPLAYS) -> bool:
        token = token or self.start()
        for _ in range(tries):
            error = self.attempt(token)
            if isinstance(error, RotationInProgressError) and self.mode == "local":
                self.recover()
                error = self.attempt(token)
            if error is None:
                return True
        return False


def clean_run(mode: Mode, shape: Shape) -> Run:
    with captured_logs():
        run = Run(mode, shape)
        assert run.rotate_until_done(tries=1), run.errors
    return run


@cache
def record_sites(mode: Mode, shape: Shape) -> tuple[CallSite, ...]:
    return tuple(clean_run(mode, shape).tracker.sites)


@cache
def scenarios() -> tuple[Scenario, ...]:
    return tuple(
        Scenario(mode, shape, site, fault)
        for mode in MODES
        for shape in SHAPES
        for site in record_sites(mode, shape)
        for fault in FAULTS
    )


@cache
def run_scenario(scenario: Scenario) -> Outcome:
    outcome = Outcome(scenario)
    with captured_logs() as logs:
        run = Run(scenario.mode, scenario.shape)
        token = run.start()
        run.tracker.arm(scenario.site, scenario.fault)
        ok = run.attempt(token) is None
        outcome.fired = run.tracker.fired
        run.tracker.disarm()
        if not ok:
            outcome.first_error = run.errors[-1]
            ok = run.rotate_until_done(token=token, tries=REPLAYS)
        # The next rotation, a day later with a new token: it deletes what a crashed run made
        # (older than the 15-minute margin) and must itself succeed.
        run.world.advance(NEXT_ROTATION_AFTER)
        ok = run.rotate_until_done() and ok
        if not ok:
            outcome.problems.append("never rotated: " + run.errors[-1][:160])
        outcome.problems.extend(final_problems(run))
    outcome.recoveries = run.recoveries
    if run.tracker.key_lost_at:
        lost = ", ".join(run.tracker.key_lost_at)
        outcome.problems.insert(0, f"AWSCURRENT admin key dead after {lost}")
    leak = leaked(run, logs)
    if leak:
        outcome.problems.append(f"admin key value in {leak}")
    return outcome


def live_admin_keys(world: World) -> set[str]:
    current = admin_current(world).admin_key
    admin = world.app().admin_factory(current)
    return {info.id for info in admin.list_admin_keys()}


def final_problems(run: Run) -> list[str]:
    problems: list[str] = []
    current = admin_current(run.world)
    if current.admin_key_id is None:
        problems.append("AWSCURRENT is still the bare value")
    live = live_admin_keys(run.world)
    if live != {current.admin_key_id}:
        problems.append(f"{len(live - {current.admin_key_id})} admin key(s) live beyond current")
    versions = run.world.store.versions(run.arn)
    pending = [vid for vid, s in versions.items() if AWSPENDING in s]
    if pending and AWSCURRENT not in versions[pending[0]]:
        problems.append("AWSPENDING stuck on a non-current version")
    return problems


def leaked(run: Run, logs: Sequence[Mapping[str, Any]]) -> str | None:
    values = set(run.tracker.seen_keys)
    for vid in run.world.store.versions(run.arn):
        raw = run.world.store.value_of(run.arn, vid)
        if raw is not None:
            values.add(AdminKeySecret.parse(raw).admin_key.reveal())
    text_logs = json.dumps(logs, default=repr)
    text_errors = "\n".join(run.errors)
    for value in values:
        if value in text_logs:
            return "a log event"
        if value in text_errors:
            return "an error message"
    return None


def totals(outcomes: Sequence[Outcome]) -> tuple[int, int, int, list[str]]:
    """(scenarios, reached, survived, broken ids)."""
    reached = [o for o in outcomes if o.fired]
    broken = [o.scenario.id for o in reached if not o.survived]
    return len(outcomes), len(reached), len(reached) - len(broken), broken


def table(outcomes: Sequence[Outcome], mode: Mode, shape: Shape) -> str:
    rows: dict[CallSite, dict[str, str]] = {}
    for outcome in outcomes:
        s = outcome.scenario
        if s.mode == mode and s.shape == shape:
            cell = "n/a" if not outcome.fired else ("ok" if outcome.survived else "BROKE")
            rows.setdefault(s.site, {})[s.fault] = cell
    lines = ["| call site | " + " | ".join(FAULTS.values()) + " |", "|" + "---|" * 7]
    for site in record_sites(mode, shape):
        if site in rows:
            cells = " | ".join(rows[site].get(f, "") for f in FAULTS)
            lines.append(f"| {site.label()} | {cells} |")
    return "\n".join(lines)


Runner = Callable[[Scenario], Outcome]
