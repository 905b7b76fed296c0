"""Rotating a fleet: find the rotator secrets, rotate them on a bounded thread pool.

Discovery is ListSecrets with its server-side filters (name prefix, tags), then one cheap check
per secret: its AWSCURRENT value must parse as a rotator secret. Metadata alone cannot tell
(the admin-key secret under the same prefix looks just like a key secret). The values are read
20 at a time with BatchGetSecretValue (:mod:`rotator.fleet.discovery`), falling back to one
GetSecretValue by version id where a batch has no answer; the run's :class:`VersionValueCache`
holds them, so the rotation's first read is free. Replicas are skipped unread.

A rotation that fails in createSecret with a throttling or transient error (nothing promoted,
rolled back by ``rotate_locally``) is tried again with a fresh token, at most ``attempts``
times; any other failure, whatever its exception, is final for that secret only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from rotator.adapters.cached_store import VersionValueCache
from rotator.clock import Clock
from rotator.domain.models import AWSCURRENT, SecretDescription
from rotator.domain.protocol import Step
from rotator.domain.secret_value import RotatorSecret
from rotator.errors import RotationFailure, RotatorError, SecretFormatError, TransientServiceError
from rotator.fleet.discovery import prefetch_current, replica_note, replica_of
from rotator.fleet.rate_budget import BudgetStats, RateBudget
from rotator.ports import SecretLister
from rotator.rotation.engine import RotationEngine
from rotator.rotation.local import rotate_locally
from rotator.rotation.remote import choose_mode, rotate_remotely
from rotator.rotation.results import RotationReport, RotationStatus

#: Rotates one secret (by ARN) and returns its report; raises RotatorError on failure.
RotateOne = Callable[[SecretDescription], RotationReport]


@dataclass(frozen=True)
class FleetResult:
    """How one secret of the fleet ended."""

    name: str
    status: RotationStatus
    report: Mapping[str, object]
    attempts: int = 1

    def to_json(self) -> dict[str, object]:
        return {**self.report, "secret_id": self.name, "attempts": self.attempts}


@dataclass(frozen=True)
class Candidate:
    """A discovered secret and its parsed value (None, with the problem, when not rotator's)."""

    description: SecretDescription
    secret: RotatorSecret | None
    problem: str | None = None


class FleetListener:
    """Hears a fleet run's events (the CLI draws progress from them). Called from workers."""

    def started(self, name: str) -> None:
        """A worker began rotating ``name``."""

    def finished(self, result: FleetResult) -> None:
        """``name`` ended (rotated or failed)."""


def check_candidates(
    descriptions: Iterable[SecretDescription],
    read_current: Callable[[SecretDescription], RotatorSecret | None],
    *,
    concurrency: int,
) -> list[Candidate]:
    """Read and parse each secret's AWSCURRENT value, ``concurrency`` at a time."""

    def check(description: SecretDescription) -> Candidate:
        primary = replica_of(description)
        if primary is not None:
            return Candidate(description, None, replica_note(primary))
        if description.deleted or description.version_with(AWSCURRENT) is None:
            return Candidate(description, None, "no AWSCURRENT value")
        try:
            return Candidate(description, read_current(description))
        except SecretFormatError as error:
            return Candidate(description, None, str(error))
        except RotatorError as error:
            return Candidate(description, None, f"could not be read: {error}")
        except Exception as error:  # noqa: BLE001 - one secret's odd failure never ends the run
            return Candidate(
                description, None, f"could not be read: unexpected {type(error).__name__}"
            )

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="check") as pool:
        return list(pool.map(check, descriptions))


def _retryable(failure: RotationFailure) -> bool:
    cause = failure.cause
    return failure.report.step == Step.CREATE.value and isinstance(cause, TransientServiceError)


def _failed_json(error: Exception) -> dict[str, object]:
    """A failed secret's report; a foreign exception is named by type only (no secret text)."""
    if isinstance(error, RotatorError):
        return {"status": RotationStatus.FAILED, "error": str(error), "step": error.step}
    return {
        "status": RotationStatus.FAILED,
        "error": f"unexpected {type(error).__name__}",
        "step": None,
    }


def rotate_fleet(
    secrets: Iterable[SecretDescription],
    rotate_one: RotateOne,
    *,
    concurrency: int,
    listener: FleetListener | None = None,
    attempts: int = 3,
    clock: Clock | None = None,
    deadline: float | None = None,
) -> list[FleetResult]:
    """Rotate every secret with at most ``concurrency`` in flight; results in finishing order.

    After ``deadline`` seconds no further secret starts (those fail as not started); the
    rotations in flight finish, each bounded by its own timeouts.
    """
    listener = listener or FleetListener()
    clock = clock or Clock()
    started = clock.monotonic()
    results: list[FleetResult] = []
    lock = threading.Lock()

    def run(description: SecretDescription) -> None:
        if deadline is not None and clock.monotonic() - started > deadline:
            late = {"status": "failed", "error": f"not started: the run's {deadline:g} s passed"}
            result = FleetResult(description.name, RotationStatus.FAILED, late, 0)
            with lock:
                results.append(result)
            listener.finished(result)
            return
        listener.started(description.name)
        attempt = 1
        while True:
            try:
                report = rotate_one(description)
                result = FleetResult(
                    description.name, RotationStatus.ROTATED, report.to_json(), attempt
                )
            except RotationFailure as failure:
                if _retryable(failure) and attempt < attempts:
                    clock.sleep(0.5 * attempt)
                    attempt += 1
                    continue
                result = FleetResult(
                    description.name, RotationStatus.FAILED, failure.report.to_json(), attempt
                )
            except Exception as error:  # noqa: BLE001 - one secret's failure never ends the run
                result = FleetResult(
                    description.name, RotationStatus.FAILED, _failed_json(error), attempt
                )
            break
        with lock:
            results.append(result)
        listener.finished(result)

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="rotate") as pool:
        for future in [pool.submit(run, description) for description in secrets]:
            future.result()
    return results


class Fleet:
    """One ``--all`` run over an app's store and engine (built by :attr:`rotator.app.App.fleet`)."""

    def __init__(
        self,
        lister: SecretLister,
        store: VersionValueCache,
        engine: RotationEngine,
        budget: RateBudget,
        *,
        remote_poll_interval: float,
        clock: Clock,
    ) -> None:
        self._lister = lister
        self._store = store
        self._engine = engine
        self._budget = budget
        self._remote_poll_interval = remote_poll_interval
        self._clock = clock

    def budget_stats(self) -> BudgetStats:
        """Admin requests sent and throttled so far in this run."""
        return self._budget.stats()

    def discover(
        self, *, prefix: str | None, tags: Mapping[str, str], concurrency: int
    ) -> list[Candidate]:
        """ListSecrets with the filters, the values in batches, then the check per secret."""
        found = self._lister.list_secrets(name_prefix=prefix, tags=tags)
        for description in found:
            self._store.seen(description)
        prefetch_current(self._lister, self._store, found, concurrency=concurrency)
        return check_candidates(found, self._read_current, concurrency=concurrency)

    def _read_current(self, description: SecretDescription) -> RotatorSecret | None:
        raw = self._store.get_value(
            description.arn, version_id=description.version_with(AWSCURRENT), stage=AWSCURRENT
        )
        return RotatorSecret.parse_or_none(raw)

    def rotate_all(
        self,
        secrets: list[SecretDescription],
        *,
        mode: str | None,
        concurrency: int,
        timeout: float,
        listener: FleetListener | None = None,
        deadline: float | None = None,
    ) -> list[FleetResult]:
        """Rotate ``secrets`` (here, or by their Lambda) with ``concurrency`` in flight.

        After ``deadline`` seconds no further secret starts (they fail as not started).
        """

        def rotate_one(description: SecretDescription) -> RotationReport:
            try:
                if choose_mode(description, mode) == "remote":
                    return rotate_remotely(
                        self._store,
                        description.arn,
                        timeout=timeout,
                        poll_interval=self._remote_poll_interval,
                        clock=self._clock,
                    )
                return rotate_locally(self._engine, description.arn)
            finally:
                self._store.forget(description.arn)

        return rotate_fleet(
            secrets,
            rotate_one,
            concurrency=concurrency,
            listener=listener,
            clock=self._clock,
            deadline=deadline,
        )
