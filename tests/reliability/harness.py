"""Fault injection at every external call of a rotation, and the invariants checked around it.

A clean rotation is recorded first: every Secrets Manager operation (through a store wrapper)
and every OpenAI call (through wrappers of the admin client and the key probe) becomes a call
site, named by its phase (the rotation step, or the local run's ``start``/``end``) and its
occurrence within that phase. Each scenario then re-runs the same rotation with one fault armed
at one call site, recovers the way Secrets Manager or an operator would, and reports which
invariants held:

* the AWSCURRENT key answers ``GET /models`` after every single external call;
* after eventual success, the live keys of the project are exactly the current key and the
  retiring keys not yet due;
* no rotator-made service account is left that no version records (after a prune if needed);
* AWSPENDING ends on AWSCURRENT's version or on none;
* no key value (old, new or admin) appears in a captured log event or an error message.

Everything runs in memory on one :class:`ManualClock`, so backoff sleeps are instant.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any, Literal

import structlog

from rotator.app import Mode as AppMode
from rotator.app import build_app
from rotator.config import Settings
from rotator.domain.models import (
    AWSCURRENT,
    AWSPENDING,
    AdminKeyInfo,
    ApiKeyInfo,
    CreatedAdminKey,
    CreatedKey,
    DeleteOutcome,
    ProbeResult,
    Project,
    SecretDescription,
    ServiceAccount,
    UpdateOutcome,
)
from rotator.domain.naming import parse_service_account_name
from rotator.domain.protocol import RotationEvent, Step
from rotator.domain.secret_value import RotatorSecret
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    ResponseLostError,
    RotationInProgressError,
    RotatorError,
    TransientServiceError,
)
from rotator.ports import KeyProbe, OpenAIAdmin
from rotator.rotation.engine import RotationEngine
from rotator.rotation.local import rotate_locally
from rotator.rotation.results import StepResult
from tests.reliability import recovery
from tests.rotation.conftest import World, make_world

Mode = Literal["lambda", "local"]
MODES: tuple[Mode, ...] = ("lambda", "local")
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:rotator"
#: Secrets Manager replays a failed rotation with the same token; we model this many replays.
REPLAYS = 3
GRACE = timedelta(hours=1)


class ProcessDied(BaseException):
    """The process running the rotation died right after a call (rotator never catches this)."""


#: Fault kinds, in table order, with their column headings.
FAULTS: dict[str, str] = {
    "a": "(a) error before",
    "b": "(b) answer lost",
    "c": "(c) 429 Retry-After",
    "d500": "(d) 500",
    "d503": "(d) 503",
    "e": "(e) process dies",
}

_SM_WRITES = frozenset({"PutSecretValue", "UpdateSecretVersionStage"})


@dataclass(frozen=True, order=True)
class CallSite:
    """One external call of a clean rotation: its phase, its name, its occurrence in the phase."""

    phase: str
    call: str
    occurrence: int = 1

    def label(self) -> str:
        suffix = f" #{self.occurrence}" if self.occurrence > 1 else ""
        return f"{self.phase}: {self.call}{suffix}"


class Tracker:
    """Names each external call, fires the armed fault at its site, checks the key after it."""

    def __init__(self, world: World, *, site: CallSite | None = None, fault: str | None = None):
        self.world = world
        self.site = site
        self.fault = fault
        self.fired = False
        self.phase = "start"
        self.sites: list[CallSite] = []
        self.key_lost_at: list[str] = []
        self.seen_keys: set[str] = set()
        self._counts: Counter[tuple[str, str]] = Counter()

    def enter_phase(self, phase: str) -> None:
        self.phase = phase
        self._counts = Counter()

    def arm(self, site: CallSite | None, fault: str | None) -> None:
        self.site, self.fault, self.fired = site, fault, False

    def disarm(self) -> None:
        self.site = self.fault = None

    def enter(self, call: str) -> str | None:
        """Record a call; the fault to inject now, if this is the armed site."""
        self._counts[(self.phase, call)] += 1
        here = CallSite(self.phase, call, self._counts[(self.phase, call)])
        self.sites.append(here)
        if self.fault is not None and not self.fired and here == self.site:
            self.fired = True
            return self.fault
        return None

    def after_call(self) -> None:
        """The every-moment invariant: AWSCURRENT's key answers GET /models."""
        if not current_key_works(self.world):
            where = self.sites[-1].label() if self.sites else "?"
            if where not in self.key_lost_at:
                self.key_lost_at.append(where)


def current_value(world: World) -> dict[str, Any]:
    versions = world.store.versions(world.arn)
    current = next(vid for vid, stages in versions.items() if AWSCURRENT in stages)
    raw = world.store.value_of(world.arn, current)
    assert raw is not None
    data: dict[str, Any] = json.loads(raw.reveal())
    return data


def current_key_works(world: World) -> bool:
    return world.emulator.key_works(current_value(world)["api_key"])


# -- Secrets Manager faults -------------------------------------------------------------------


def _sm_error(fault: str, operation: str) -> RotatorError:
    """What the Secrets Manager adapter raises for each fault (see ``translate_error``)."""
    if fault == "a":
        return TransientServiceError(f"{operation} could not reach Secrets Manager (injected)")
    if fault == "b":
        if operation in _SM_WRITES:
            return ResponseLostError(f"{operation} sent but no answer came back (injected)")
        return TransientServiceError(f"{operation}: read timeout (injected)")
    if fault == "c":
        return TransientServiceError(
            f"Secrets Manager {operation} failed (ThrottlingException: Rate exceeded, injected)",
            status=400,
        )
    status = 500 if fault == "d500" else 503
    code = "InternalServiceError" if status == 500 else "ServiceUnavailable"
    return TransientServiceError(f"Secrets Manager {operation} failed ({code})", status=status)


class FaultyStore:
    """A :class:`~rotator.ports.SecretStore` that injects the armed fault, then checks the key."""

    def __init__(self, inner: Any, tracker: Tracker) -> None:
        self.inner = inner
        self.tracker = tracker

    def _run(self, operation: str, call: Callable[[], Any]) -> Any:
        fault = self.tracker.enter(operation)
        try:
            if fault in ("a", "c", "d500", "d503"):
                raise _sm_error(fault, operation)
            result = call()
            if fault == "b":
                raise _sm_error(fault, operation)
            if fault == "e":
                raise ProcessDied(f"after {operation}")
            return result
        finally:
            self.tracker.after_call()

    def describe(self, secret_id: str) -> SecretDescription:
        described: SecretDescription = self._run(
            "DescribeSecret", lambda: self.inner.describe(secret_id)
        )
        return described

    def get_value(
        self, secret_id: str, *, version_id: str | None = None, stage: str | None = None
    ) -> Sensitive | None:
        value: Sensitive | None = self._run(
            "GetSecretValue",
            lambda: self.inner.get_value(secret_id, version_id=version_id, stage=stage),
        )
        return value

    def put_pending(
        self,
        secret_id: str,
        token: str,
        value: Sensitive,
        *,
        rotation_token: Sensitive | None = None,
    ) -> None:
        self._run(
            "PutSecretValue",
            lambda: self.inner.put_pending(secret_id, token, value, rotation_token=rotation_token),
        )

    def move_stage(
        self, secret_id: str, stage: str, *, to_version: str | None, from_version: str | None
    ) -> None:
        self._run(
            "UpdateSecretVersionStage",
            lambda: self.inner.move_stage(
                secret_id, stage, to_version=to_version, from_version=from_version
            ),
        )

    def start_rotation(self, secret_id: str) -> str:
        token: str = self._run("RotateSecret", lambda: self.inner.start_rotation(secret_id))
        return token


# -- OpenAI faults ----------------------------------------------------------------------------

_PROJECT = "/organization/projects/"
_ADMIN_KEYS = "/organization/admin_api_keys"


def _arm_emulator(tracker: Tracker, fault: str, method: str, path: str) -> None:
    emulator = tracker.world.emulator
    regex = "^" + path.replace(".", r"\.") + "$"
    if fault == "a":
        emulator.inject(method, regex, "drop_before")
    elif fault == "b":
        emulator.inject(method, regex, "drop_after")
    elif fault == "c":
        emulator.inject(method, regex, "status", status=429, retry_after=2)
    elif fault in ("d500", "d503"):
        emulator.inject(method, regex, "status", status=int(fault[1:]))


def _openai_call(
    tracker: Tracker, method: str, path: str, label: str, call: Callable[[], Any]
) -> Any:
    fault = tracker.enter(f"{method} {label}")
    try:
        if fault is not None and fault != "e":
            _arm_emulator(tracker, fault, method, path)
        result = call()
        if fault == "e":
            raise ProcessDied(f"after {method} {label}")
        return result
    finally:
        tracker.world.emulator.clear_faults()
        tracker.after_call()


class FaultyAdmin:
    """An :class:`~rotator.ports.OpenAIAdmin` whose calls go through the fault tracker."""

    def __init__(self, inner: OpenAIAdmin, tracker: Tracker) -> None:
        self.inner = inner
        self.tracker = tracker

    def _do(self, method: str, path: str, label: str, call: Callable[[], Any]) -> Any:
        return _openai_call(self.tracker, method, path, label, call)

    def get_project(self, project_id: str) -> Project:
        project: Project = self._do(
            "GET", _PROJECT + project_id, "…/{project}", lambda: self.inner.get_project(project_id)
        )
        return project

    def list_service_accounts(self, project_id: str) -> list[ServiceAccount]:
        accounts: list[ServiceAccount] = self._do(
            "GET",
            f"{_PROJECT}{project_id}/service_accounts",
            "…/service_accounts",
            lambda: self.inner.list_service_accounts(project_id),
        )
        return accounts

    def create_service_account(
        self, project_id: str, name: str, *, expires_in_seconds: int | None = None
    ) -> CreatedKey:
        created: CreatedKey = self._do(
            "POST",
            f"{_PROJECT}{project_id}/service_accounts",
            "…/service_accounts",
            lambda: self.inner.create_service_account(
                project_id, name, expires_in_seconds=expires_in_seconds
            ),
        )
        self.tracker.seen_keys.add(created.value.reveal())
        return created

    def create_service_account_key(
        self,
        project_id: str,
        service_account_id: str,
        *,
        name: str,
        scopes: Sequence[str] | None,
        expires_in_seconds: int | None,
    ) -> CreatedKey:
        created: CreatedKey = self._do(
            "POST",
            f"{_PROJECT}{project_id}/service_accounts/{service_account_id}/api_keys",
            "…/service_accounts/{id}/api_keys",
            lambda: self.inner.create_service_account_key(
                project_id,
                service_account_id,
                name=name,
                scopes=scopes,
                expires_in_seconds=expires_in_seconds,
            ),
        )
        self.tracker.seen_keys.add(created.value.reveal())
        return created

    def update_api_key(
        self,
        project_id: str,
        key_id: str,
        *,
        expires_in_seconds: int | None = None,
        scopes: Sequence[str] | None = None,
    ) -> UpdateOutcome:
        outcome: UpdateOutcome = self._do(
            "POST",
            f"{_PROJECT}{project_id}/api_keys/{key_id}",
            "…/api_keys/{id}",
            lambda: self.inner.update_api_key(
                project_id, key_id, expires_in_seconds=expires_in_seconds, scopes=scopes
            ),
        )
        return outcome

    def delete_service_account(self, project_id: str, service_account_id: str) -> DeleteOutcome:
        outcome: DeleteOutcome = self._do(
            "DELETE",
            f"{_PROJECT}{project_id}/service_accounts/{service_account_id}",
            "…/service_accounts/{id}",
            lambda: self.inner.delete_service_account(project_id, service_account_id),
        )
        return outcome

    def delete_api_key(self, project_id: str, key_id: str) -> DeleteOutcome:
        outcome: DeleteOutcome = self._do(
            "DELETE",
            f"{_PROJECT}{project_id}/api_keys/{key_id}",
            "…/api_keys/{id}",
            lambda: self.inner.delete_api_key(project_id, key_id),
        )
        return outcome

    def list_api_keys(self, project_id: str) -> list[ApiKeyInfo]:
        keys: list[ApiKeyInfo] = self._do(
            "GET",
            f"{_PROJECT}{project_id}/api_keys",
            "…/api_keys",
            lambda: self.inner.list_api_keys(project_id),
        )
        return keys

    def list_admin_keys(self) -> list[AdminKeyInfo]:
        keys: list[AdminKeyInfo] = self._do(
            "GET", _ADMIN_KEYS, "…/admin_api_keys", self.inner.list_admin_keys
        )
        return keys

    def create_admin_key(self, name: str, *, expires_in_seconds: int | None) -> CreatedAdminKey:
        created: CreatedAdminKey = self._do(
            "POST",
            _ADMIN_KEYS,
            "…/admin_api_keys",
            lambda: self.inner.create_admin_key(name, expires_in_seconds=expires_in_seconds),
        )
        self.tracker.seen_keys.add(created.value.reveal())
        return created

    def delete_admin_key(self, key_id: str) -> DeleteOutcome:
        outcome: DeleteOutcome = self._do(
            "DELETE",
            f"{_ADMIN_KEYS}/{key_id}",
            "…/admin_api_keys/{id}",
            lambda: self.inner.delete_admin_key(key_id),
        )
        return outcome


class FaultyProbe:
    """The key probe (``GET /models``) through the fault tracker."""

    def __init__(self, inner: KeyProbe, tracker: Tracker) -> None:
        self.inner = inner
        self.tracker = tracker

    def check(self, key: Sensitive) -> ProbeResult:
        result: ProbeResult = _openai_call(
            self.tracker, "GET", "/models", "/models", lambda: self.inner.check(key)
        )
        return result


class TrackedEngine(RotationEngine):
    """The real engine; each step's calls are attributed to that step's phase."""

    tracker: Tracker

    def run_step(self, event: RotationEvent, *, token_may_be_new: bool = False) -> StepResult:
        self.tracker.enter_phase(event.step.value)
        try:
            result = super().run_step(event, token_may_be_new=token_may_be_new)
        except RotatorError:
            self.tracker.enter_phase("rollback")
            raise
        if event.step is Step.FINISH:
            self.tracker.enter_phase("end")
        return result


def settings_for(world: World, *, grace: bool) -> Settings:
    return world.settings(
        test_timeout=5.0,
        revocation_timeout=3.0,
        grace_period=GRACE if grace else timedelta(0),
    )


def build_engine(world: World, tracker: Tracker, mode: Mode, settings: Settings) -> TrackedEngine:
    """A fresh engine (a fresh process: empty caches), wired by build_app through the wrappers.

    Local runs get the CLI's wiring, version cache included: the faults hit the calls that
    really reach Secrets Manager.
    """
    app_mode = AppMode.LAMBDA if mode == "lambda" else AppMode.CLI
    plain = world.app(mode=app_mode)
    app = build_app(
        settings,
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


# -- scenarios --------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Scenario:
    mode: Mode
    grace: bool
    site: CallSite
    fault: str

    @property
    def id(self) -> str:
        grace = "grace" if self.grace else "nograce"
        site = re.sub(r"[^A-Za-z0-9#/]+", "_", self.site.label()).strip("_")
        return f"{self.mode}-{grace}-{site}-{self.fault}"


@dataclass
class Outcome:
    scenario: Scenario
    fired: bool = False
    first_error: str | None = None
    attempts: int = 0
    recoveries: int = 0
    prunes: int = 0
    key_lost_at: list[str] = field(default_factory=list)
    orphans_left: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def survived(self) -> bool:
        return not self.problems

    def cell(self) -> str:
        if not self.fired:
            return "n/a (not reached)"
        if self.problems:
            return "BROKE: " + "; ".join(self.problems)
        notes = []
        if self.recoveries:
            notes.append("recover")
        if self.prunes:
            notes.append("prune")
        if self.first_error is None:
            notes.append("absorbed")
        return "ok" + (f" ({', '.join(notes)})" if notes else "")


class Run:
    """One scenario's world, and the moves a rotation makes in it."""

    def __init__(self, mode: Mode, grace: bool) -> None:
        self.mode = mode
        self.grace = grace
        self.world = make_world()
        self.tracker = Tracker(self.world)
        self.settings = settings_for(self.world, grace=grace)
        self.errors: list[str] = []
        self.recoveries = 0
        self.prunes = 0
        self.attempts = 0
        self.tracker.seen_keys.update({self.world.seeded_value, self.world.admin_key})
        if mode == "lambda":
            self.world.store.enable_rotation(self.world.arn, LAMBDA_ARN)
        if grace:
            # A rotation already happened; its replaced key (the seeded one) is now due, the
            # key it made is mid-grace: the faulted rotation must delete one and keep the other.
            self.rotate_until_done()
            self.world.advance(GRACE.total_seconds() + 1)
        self.tracker.enter_phase("start")
        self.tracker.sites.clear()
        self.tracker.key_lost_at.clear()
        self.world.store.calls.clear()
        self.world.emulator.reset_calls()

    def engine(self) -> TrackedEngine:
        return build_engine(self.world, self.tracker, self.mode, self.settings)

    def attempt(self, token: str | None) -> BaseException | None:
        """One run of the four steps in a fresh process; the error that stopped it, if any."""
        self.attempts += 1
        engine = self.engine()
        self.tracker.enter_phase("start")
        try:
            if self.mode == "lambda":
                assert token is not None
                for step in Step:
                    engine.run_step(RotationEvent(step=step, secret_id=self.world.arn, token=token))
            else:
                rotate_locally(engine, self.world.arn)
        except RotatorError as error:
            self.errors.append(str(error))
            return error
        except ProcessDied as died:
            self.errors.append(f"process died {died}")
            return died
        finally:
            self.tracker.enter_phase("start")
        return None

    def start(self) -> str | None:
        """RotateSecret (the service, not rotator: never faulted); recover if stuck."""
        if self.mode == "local":
            return None
        try:
            return self.world.store.start_rotation(self.world.arn)
        except RotationInProgressError:
            self.recover()
            return self.world.store.start_rotation(self.world.arn)

    def recover(self) -> None:
        self.recoveries += 1
        recovery.recover(self.engine(), self.world.arn)

    def rotate_until_done(self, *, token: str | None = None, tries: int = 1 + REPLAYS) -> bool:
        """Replays as Secrets Manager does (same token), or local reruns (recover if refused)."""
        token = token or self.start()
        for _ in range(tries):
            error = self.attempt(token)
            if isinstance(error, RotationInProgressError) and self.mode == "local":
                self.recover()
                error = self.attempt(token)
            if error is None:
                return True
        return False


def clean_run(mode: Mode, *, grace: bool) -> Run:
    """One rotation with no fault, its calls recorded."""
    with captured_logs():
        run = Run(mode, grace)
        assert run.rotate_until_done(tries=1), run.errors
    return run


@cache
def record_sites(mode: Mode, *, grace: bool) -> tuple[CallSite, ...]:
    """The call sites of one clean rotation, in order."""
    return tuple(clean_run(mode, grace=grace).tracker.sites)


@cache
def scenarios() -> tuple[Scenario, ...]:
    found = [
        Scenario(mode, grace, site, fault)
        for mode in MODES
        for grace in (False, True)
        for site in record_sites(mode, grace=grace)
        for fault in FAULTS
    ]
    return tuple(found)


@contextmanager
def captured_logs() -> Iterator[list[MutableMapping[str, Any]]]:
    """Every log event rotator emits inside the block, before any processor runs."""
    with structlog.testing.capture_logs() as logs:
        yield logs


@cache
def run_scenario(scenario: Scenario) -> Outcome:
    """Inject one fault at one call site, recover as AWS or an operator would, check it all."""
    outcome = Outcome(scenario)
    with captured_logs() as logs:
        run = Run(scenario.mode, scenario.grace)
        token = run.start()
        run.tracker.arm(scenario.site, scenario.fault)
        ok = run.attempt(token) is None
        outcome.fired = run.tracker.fired
        run.tracker.disarm()
        if not ok:
            outcome.first_error = run.errors[-1]
            ok = run.rotate_until_done(token=token, tries=REPLAYS)
        if scenario.mode == "lambda":
            # Then the next scheduled rotation, with a new token.
            ok = run.rotate_until_done() and ok
        if not ok:
            outcome.problems.append("never rotated: " + run.errors[-1][:120])
        outcome.orphans_left = orphans(run.world)
        if outcome.orphans_left:
            run.prunes += 1
            recovery.prune(run.engine(), run.world.arn)
        outcome.problems.extend(final_problems(run.world))
    outcome.attempts = run.attempts
    outcome.recoveries = run.recoveries
    outcome.prunes = run.prunes
    outcome.key_lost_at = list(run.tracker.key_lost_at)
    if outcome.key_lost_at:
        outcome.problems.insert(0, "AWSCURRENT key dead after " + ", ".join(outcome.key_lost_at))
    leaks = leaked(run, logs)
    if leaks:
        outcome.problems.append(f"key value in {leaks}")
    return outcome


# -- the end-state invariants -----------------------------------------------------------------


def recorded_accounts(world: World) -> set[str]:
    """Service accounts named by AWSCURRENT (its key and retiring keys) or by AWSPENDING."""
    recorded: set[str] = set()
    for vid, stages in world.store.versions(world.arn).items():
        if not stages & {AWSCURRENT, AWSPENDING}:
            continue
        raw = world.store.value_of(world.arn, vid)
        if raw is None:
            continue
        secret = RotatorSecret.parse(raw)
        if secret.service_account_id:
            recorded.add(secret.service_account_id)
        if AWSCURRENT in stages:
            recorded.update(e.service_account_id for e in secret.retiring if e.service_account_id)
    return recorded


def orphans(world: World) -> list[str]:
    """Rotator-made accounts and keys of this secret that nothing records."""
    recorded = recorded_accounts(world)
    accounts = [
        account.id
        for account in world.emulator.service_accounts(world.project_id)
        if (parsed := parse_service_account_name(account.name)) is not None
        and parsed.belongs_to(world.arn)
        and account.id not in recorded
    ]
    keys = [
        key.id
        for key in world.emulator.keys(world.project_id)
        if (parsed := parse_service_account_name(key.name)) is not None
        and parsed.belongs_to(world.arn)
        and key.id not in recorded_key_ids(world)
    ]
    return sorted(accounts + keys)


def recorded_key_ids(world: World) -> set[str]:
    """Keys named by AWSCURRENT (its key and retiring keys) or by AWSPENDING."""
    recorded: set[str] = set()
    for vid, stages in world.store.versions(world.arn).items():
        if not stages & {AWSCURRENT, AWSPENDING}:
            continue
        raw = world.store.value_of(world.arn, vid)
        if raw is None:
            continue
        secret = RotatorSecret.parse(raw)
        recorded.add(secret.key_id)
        if AWSCURRENT in stages:
            recorded.update(e.key_id for e in secret.retiring)
    return recorded


def final_problems(world: World) -> list[str]:
    problems: list[str] = []
    current = current_value(world)
    now = world.now()
    allowed = {current["key_id"]}
    for entry in current.get("retiring", []):
        secret = RotatorSecret.parse(Sensitive(json.dumps({**current, "retiring": [entry]})))
        if secret.retiring[0].not_after > now:
            allowed.add(entry["key_id"])
    live = world.emulator.live_key_ids(world.project_id)
    if live - allowed:
        problems.append(f"{len(live - allowed)} key(s) live beyond the policy")
    if allowed - live:
        problems.append(f"{len(allowed - live)} key(s) deleted before their time")
    if world.seeded_account not in world.accounts():
        problems.append("the workload's service account was deleted")
    left = orphans(world)
    if left:
        problems.append(f"{len(left)} orphan account(s) left after prune")
    versions = world.store.versions(world.arn)
    pending = [vid for vid, s in versions.items() if AWSPENDING in s]
    if pending and AWSCURRENT not in versions[pending[0]]:
        problems.append("AWSPENDING stuck on a non-current version")
    return problems


def leaked(run: Run, logs: Sequence[Mapping[str, Any]]) -> str | None:
    values = set(run.tracker.seen_keys)
    for vid in run.world.store.versions(run.world.arn):
        raw = run.world.store.value_of(run.world.arn, vid)
        if raw is not None:
            values.add(json.loads(raw.reveal())["api_key"])
    text_logs = json.dumps(logs, default=repr)
    text_errors = "\n".join(run.errors)
    for value in values:
        if value in text_logs:
            return "a log event"
        if value in text_errors:
            return "an error message"
    return None


# -- the table --------------------------------------------------------------------------------


@dataclass
class Totals:
    scenarios: int = 0
    reached: int = 0
    survived: int = 0
    keys_lost: int = 0
    orphans_left: int = 0
    recoveries: int = 0
    prunes: int = 0
    broken: list[str] = field(default_factory=list)


def totals(outcomes: list[Outcome]) -> Totals:
    result = Totals()
    for outcome in outcomes:
        result.scenarios += 1
        if not outcome.fired:
            continue
        result.reached += 1
        result.survived += outcome.survived
        result.keys_lost += bool(outcome.key_lost_at)
        result.orphans_left += any("orphan" in p for p in outcome.problems)
        result.recoveries += outcome.recoveries
        result.prunes += outcome.prunes
        if not outcome.survived:
            result.broken.append(outcome.scenario.id)
    return result


def table(outcomes: list[Outcome], mode: Mode, grace: bool) -> str:
    """A Markdown table: one row per call site, one column per fault kind."""
    rows: dict[CallSite, dict[str, str]] = {}
    for outcome in outcomes:
        s = outcome.scenario
        if s.mode == mode and s.grace == grace:
            rows.setdefault(s.site, {})[s.fault] = outcome.cell()
    header = "| call site | " + " | ".join(FAULTS.values()) + " |"
    lines = [header, "|" + "---|" * (len(FAULTS) + 1)]
    order = [site for site in record_sites(mode, grace=grace) if site in rows]
    for site in order:
        cells = " | ".join(rows[site].get(f, "") for f in FAULTS)
        lines.append(f"| {site.label()} | {cells} |")
    return "\n".join(lines)


TITLES: dict[tuple[Mode, bool], str] = {
    ("lambda", False): "Lambda-style (RotateSecret, the four steps, replays with the same token)",
    ("lambda", True): "Lambda-style, grace period 1 h (one retiring key due, one not yet)",
    ("local", False): "Local (`rotator rotate --local`, rerun after a failure)",
    ("local", True): "Local, grace period 1 h (one retiring key due, one not yet)",
}


def render_doc(outcomes: list[Outcome]) -> str:
    """docs/reliability.md, generated from a run of the harness."""
    total = totals(outcomes)
    lines = [
        "# Reliability: every fault at every call",
        "",
        "Generated by `make reliability-doc` from `tests/reliability` (do not edit by hand).",
        "",
        "A clean rotation is recorded; each of its external calls (Secrets Manager operations",
        "through a store wrapper, OpenAI calls through wrappers of the admin client and the key",
        "probe, checked against the in-memory store's and the emulator's call logs) is a call",
        "site. Each scenario arms one fault at one call site:",
        "",
        "- (a) the call fails before it takes effect (Secrets Manager: unreachable; OpenAI: the",
        "  connection is dropped before the emulator acts);",
        "- (b) the call takes effect but its answer is lost;",
        "- (c) 429 (OpenAI with `Retry-After: 2`; Secrets Manager `ThrottlingException`);",
        "- (d) 500 or 503;",
        "- (e) the process dies right after the call (a `BaseException` rotator never catches).",
        "",
        "Then it recovers as AWS or an operator would: Lambda-style, Secrets Manager replays the",
        f"whole rotation with the same token up to {REPLAYS} times, then a fresh rotation runs",
        "with a new token; locally, `rotate_locally` is run again, and `rotator recover` is used",
        "only when it refuses because AWSPENDING is stuck. Leftover unrecorded keys and accounts",
        "are pruned (`rotator prune`) once the safety margin has passed.",
        "",
        "The secret names its workload's own service account, so every rotation mints the new",
        "key on that account (`POST …/service_accounts/{id}/api_keys`), proves the stored key",
        "first (`GET …/api_keys` and `GET /models`), and retires the old key alone",
        "(`DELETE …/api_keys/{id}`; with a grace period, `POST …/api_keys/{id}` sets its expiry).",
        "",
        "Checked in every scenario: the AWSCURRENT key answers `GET /models` after every single",
        "external call; after eventual success the live keys are exactly the current key plus",
        "retiring keys not yet due (no other live key anywhere in the project); no rotator-made",
        "key or service account is left unrecorded (after the final rotation, or after the",
        "prune); the workload's service account is never deleted; AWSPENDING ends on",
        "AWSCURRENT's version or on",
        "none; no key value (old, new, admin) appears in a captured log event or error message.",
        "",
        "Cell legend: `ok` survived; `absorbed` the fault was retried inside the call and the",
        "rotation never failed; `recover`/`prune` it survived but needed `rotator recover` /",
        "`rotator prune`; `BROKE: …` names the broken invariant.",
        "",
        "## Totals",
        "",
        "| scenarios | survived | keys lost | orphans left | manual recoveries needed "
        "| prunes needed |",
        "|---|---|---|---|---|---|",
        f"| {total.scenarios} | {total.survived} | {total.keys_lost} | {total.orphans_left} "
        f"| {total.recoveries} | {total.prunes} |",
        "",
    ]
    if total.scenarios != total.reached:
        missed = total.scenarios - total.reached
        lines += [f"{missed} scenarios never reached their call site.", ""]
    if total.broken:
        lines += ["Broken scenarios:", "", *(f"- `{name}`" for name in total.broken), ""]
    for (mode, grace), title in TITLES.items():
        lines += [f"## {title}", "", table(outcomes, mode, grace), ""]
    return "\n".join(lines)


def all_outcomes() -> list[Outcome]:
    return [run_scenario(scenario) for scenario in scenarios()]
