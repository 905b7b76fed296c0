"""Rotating a fleet: find the rotator secrets, rotate them on a bounded thread pool.

Discovery is ListSecrets with its server-side filters (name prefix, tags), then one cheap check
per secret: its AWSCURRENT value, read once by version id, must parse as a rotator secret.
Metadata alone cannot tell (the admin-key secret under the same prefix looks just like a key
secret), and the read is free later: the run's :class:`VersionValueCache` serves it again to
the rotation's first read. The checks run on the same pool as the rotations.

A rotation that fails in createSecret with a throttling or transient error (nothing promoted,
rolled back by ``rotate_locally``) is tried again with a fresh token, at most ``attempts``
times; any other failure, whatever its exception, is final for that secret only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from rotator.domain.protocol import AWSCURRENT, Step
from rotator.domain.secret_value import RotatorSecret
from rotator.errors import RotatorError, SecretFormatError, TransientServiceError
from rotator.ports import SecretDescription
from rotator.rotation.local import RotationFailure, RotationReport

#: Rotates one secret (by ARN) and returns its report; raises RotatorError on failure.
RotateOne = Callable[[SecretDescription], RotationReport]


@dataclass(frozen=True)
class FleetResult:
    """How one secret of the fleet ended."""

    name: str
    status: str  # "rotated" | "failed"
    report: Mapping[str, object]
    attempts: int = 1

    def to_json(self) -> dict[str, object]:
        return {**self.report, "secret_id": self.name, "attempts": self.attempts}


@dataclass(frozen=True)
class Candidate:
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
        if description.deleted or description.version_with(AWSCURRENT) is None:
            return Candidate(description, None, "no AWSCURRENT value")
        try:
            return Candidate(description, read_current(description))
        except SecretFormatError as error:
            return Candidate(description, None, str(error))
        except RotatorError as error:
            return Candidate(description, None, f"could not be read: {error}")

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="check") as pool:
        return list(pool.map(check, descriptions))


def _retryable(failure: RotationFailure) -> bool:
    cause = failure.cause
    return failure.report.step == Step.CREATE.value and isinstance(cause, TransientServiceError)


def _failed_json(error: Exception) -> dict[str, object]:
    """A failed secret's report; a foreign exception is named by type only (no secret text)."""
    if isinstance(error, RotatorError):
        return {"status": "failed", "error": str(error), "step": error.step}
    return {"status": "failed", "error": f"unexpected {type(error).__name__}", "step": None}


def rotate_fleet(
    secrets: Iterable[SecretDescription],
    rotate_one: RotateOne,
    *,
    concurrency: int,
    listener: FleetListener | None = None,
    attempts: int = 3,
    retry_pause: Callable[[int], None] = lambda attempt: time.sleep(0.5 * attempt),
    deadline: float | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> list[FleetResult]:
    """Rotate every secret with at most ``concurrency`` in flight; results in finishing order.

    After ``deadline`` seconds no further secret starts (those fail as not started); the
    rotations in flight finish, each bounded by its own timeouts.
    """
    listener = listener or FleetListener()
    started = monotonic()
    results: list[FleetResult] = []
    lock = threading.Lock()

    def run(description: SecretDescription) -> None:
        if deadline is not None and monotonic() - started > deadline:
            late = {"status": "failed", "error": f"not started: the run's {deadline:g} s passed"}
            result = FleetResult(description.name, "failed", late, 0)
            with lock:
                results.append(result)
            listener.finished(result)
            return
        listener.started(description.name)
        attempt = 1
        while True:
            try:
                report = rotate_one(description)
                result = FleetResult(description.name, "rotated", report.to_json(), attempt)
            except RotationFailure as failure:
                if _retryable(failure) and attempt < attempts:
                    retry_pause(attempt)
                    attempt += 1
                    continue
                result = FleetResult(description.name, "failed", failure.report.to_json(), attempt)
            except Exception as error:  # noqa: BLE001 - one secret's failure never ends the run
                report_json = _failed_json(error)
                result = FleetResult(description.name, "failed", report_json, attempt)
            break
        with lock:
            results.append(result)
        listener.finished(result)

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="rotate") as pool:
        for future in [pool.submit(run, description) for description in secrets]:
            future.result()
    return results
