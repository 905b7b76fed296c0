"""A rotation run here (``rotator rotate --local``): the four steps with a fresh token.

A failure before promotion rolls back at once: the service account made for this token is
deleted (found by name even when the create's answer was lost) and AWSPENDING is removed, so
the next rotation can start straight away.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from rotator.domain import protocol
from rotator.domain.protocol import AWSCURRENT, AWSPENDING, RotationEvent, Step
from rotator.domain.secret_value import RotatorSecret
from rotator.errors import InputError, RotatorError, TransientServiceError
from rotator.rotation.engine import RotationEngine, StepResult

log = structlog.get_logger("rotator.local")

#: Called after each step with (step, result or None, duration in ms).
ProgressCallback = Callable[[Step, StepResult | None, int], None]


@dataclass(frozen=True)
class RotationReport:
    """The outcome of one rotation, as ``--output json`` prints it."""

    secret_id: str
    version_id: str
    status: str
    key_id: str | None = None
    service_account_id: str | None = None
    previous_key_id: str | None = None
    previous_key_deleted: bool = False
    #: "confirmed" when the deleted key now answers 401, "unconfirmed" when still accepted.
    previous_key_revocation: str | None = None
    duration_ms: int = 0
    error: str | None = None
    step: str | None = None

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "secret_id": self.secret_id,
            "version_id": self.version_id,
            "status": self.status,
            "key_id": self.key_id,
            "service_account_id": self.service_account_id,
            "previous_key_id": self.previous_key_id,
            "previous_key_deleted": self.previous_key_deleted,
            "previous_key_revocation": self.previous_key_revocation,
            "duration_ms": self.duration_ms,
        }
        if self.status != "rotated":
            data["error"] = self.error
            data["step"] = self.step
        return data


class RotationFailure(RotatorError):
    """A failed local rotation, carrying its report. ``cause`` is the step's error."""

    def __init__(self, report: RotationReport, cause: RotatorError) -> None:
        super().__init__(report.error or str(cause), step=report.step)
        self.report = report
        self.cause = cause
        self.exit_code = cause.exit_code


def rotate_locally(
    engine: RotationEngine,
    secret_id: str,
    *,
    token: str | None = None,
    progress: ProgressCallback | None = None,
) -> RotationReport:
    """Run createSecret → setSecret → testSecret → finishSecret here, rolling back on failure."""
    started = time.monotonic()
    description = engine.store.describe(secret_id)
    protocol.refuse_if_in_progress(description.versions, secret_name=description.name)
    current_id = protocol.current_version(description.versions, secret_name=description.name)
    previous = RotatorSecret.parse_or_none(
        engine.store.get_value(description.arn, version_id=current_id, stage=AWSCURRENT)
    )
    token = token or str(uuid.uuid4())
    results: dict[Step, StepResult] = {}
    step = Step.CREATE
    try:
        for step in Step:
            step_started = time.monotonic()
            event = RotationEvent(step=step, secret_id=description.arn, token=token)
            results[step] = _run_step(engine, event)
            if progress is not None:
                progress(step, results[step], _ms(step_started))
    except Exception as raised:  # noqa: BLE001 - any failure is rolled back (review M2)
        error = raised if isinstance(raised, RotatorError) else _unexpected(raised, step)
        if progress is not None:
            progress(step, None, 0)
        message = str(error)
        promoted = AWSCURRENT in engine.store.describe(description.arn).versions.get(token, ())
        if not promoted:
            message = f"{message}; {rollback(engine, description.arn, token, cause=error)}"
        created = results.get(Step.CREATE)
        report = RotationReport(
            secret_id=description.name,
            version_id=token,
            status="failed",
            key_id=created.key_id if created and promoted else None,
            service_account_id=created.service_account_id if created and promoted else None,
            previous_key_id=previous.key_id if previous else None,
            previous_key_deleted=False,
            duration_ms=_ms(started),
            error=message,
            step=step.value,
        )
        raise RotationFailure(report, error) from error
    _clear_pending_label(engine, description.arn, token)
    finish = results[Step.FINISH]
    created = results[Step.CREATE]
    previous_key = previous.key_id if previous else None
    return RotationReport(
        secret_id=description.name,
        version_id=token,
        status="rotated",
        key_id=created.key_id,
        service_account_id=created.service_account_id,
        previous_key_id=previous_key,
        previous_key_deleted=previous_key in finish.deleted_key_ids,
        previous_key_revocation=dict(finish.revocations).get(previous_key or ""),
        duration_ms=_ms(started),
    )


def _unexpected(raised: Exception, step: Step) -> RotatorError:
    """A foreign exception as a rotator error; only its type is quoted (never its text)."""
    return RotatorError(f"unexpected {type(raised).__name__} in {step.value}", step=step.value)


#: Attempts of one step when it fails transiently (every step is safe to repeat).
STEP_ATTEMPTS = 3
#: A server's Retry-After is honoured up to this many seconds, so one answer cannot stall us.
MAX_RETRY_AFTER = 60.0


def _run_step(engine: RotationEngine, event: RotationEvent) -> StepResult:
    """Run a step, repeating it after a transient failure, as Secrets Manager would."""
    for attempt in range(STEP_ATTEMPTS):
        try:
            return engine.run_step(event, token_may_be_new=event.step is Step.CREATE)
        except TransientServiceError as error:
            if attempt == STEP_ATTEMPTS - 1:
                raise
            wait = engine.policy.probe_backoff.delay(attempt, engine.clock.rng)
            if error.retry_after is not None:
                wait = max(wait, min(error.retry_after, MAX_RETRY_AFTER))
            log.info("step_repeated", step=event.step.value, attempt=attempt + 1, wait_s=wait)
            engine.clock.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def _clear_pending_label(engine: RotationEngine, secret_arn: str, token: str) -> None:
    """Do what Secrets Manager's backend does after a rotation: drop AWSPENDING."""
    try:
        engine.store.move_stage(secret_arn, AWSPENDING, to_version=None, from_version=token)
    except RotatorError as error:
        # Harmless: AWSPENDING on the AWSCURRENT version is a finished rotation.
        log.warning("pending_label_kept", version_id=token, error=str(error))


def rollback(
    engine: RotationEngine, secret_arn: str, token: str, *, cause: RotatorError | None = None
) -> str:
    """Undo an unpromoted rotation; returns a sentence saying what was undone or what remains."""
    remains: list[str] = []
    undone: list[str] = []
    try:
        deleted, live = engine.delete_accounts_named_for(secret_arn, token)
        undone += [f"deleted service account {account_id}" for account_id in deleted]
        remains += [
            f"{sentence}: delete it in the OpenAI dashboard or run `rotator prune`"
            for sentence in live
        ]
    except InputError as error:
        # The admin API refusing this key or project the same way the rotation was refused
        # means no account was made with it; any other refusal leaves the question open.
        if cause is None or type(error) is not type(cause):
            remains.append(
                f"could not look for the service account named for version {token} ({error}); "
                "if it exists, run `rotator prune` once the admin key works"
            )
    except RotatorError as error:
        remains.append(
            f"could not look for the service account named for version {token} ({error}); "
            "run `rotator prune` to delete it"
        )
    try:
        stages = engine.store.describe(secret_arn).versions.get(token, frozenset())
        if AWSPENDING in stages and AWSCURRENT not in stages:
            engine.store.move_stage(secret_arn, AWSPENDING, to_version=None, from_version=token)
            undone.append("removed AWSPENDING")
    except RotatorError as error:
        remains.append(
            f"AWSPENDING is still on version {token} ({error}): run `rotator recover {secret_arn}`"
        )
    log.warning("rolled_back", version_id=token, undone=undone, remains=remains or None)
    if remains:
        return "rollback incomplete: " + "; ".join(remains)
    return "rolled back: " + (", ".join(undone) if undone else "nothing left to undo")


def _ms(since: float) -> int:
    return round((time.monotonic() - since) * 1000)
