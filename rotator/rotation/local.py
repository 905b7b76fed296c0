"""A rotation run here (``rotator rotate --local``): the four steps with a fresh token.

Returns a :class:`~rotator.rotation.results.RotationReport`; a failure raises
:class:`~rotator.errors.RotationFailure` carrying the report and the step's error.

A failure before promotion rolls back at once: the service account made for this token is
deleted (found by name even when the create's answer was lost) and AWSPENDING is removed, so
the next rotation can start straight away.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import replace

import structlog

from rotator.clock import Clock
from rotator.domain import protocol
from rotator.domain.admin_secret import held_key
from rotator.domain.models import AWSCURRENT
from rotator.domain.protocol import RotationEvent, Step
from rotator.errors import RotationFailure, RotatorError, TransientServiceError
from rotator.retry import call_with_retry
from rotator.rotation import cleanup
from rotator.rotation.engine import RotationEngine
from rotator.rotation.results import RotationReport, RotationStatus, StepResult

log = structlog.get_logger("rotator.local")

#: Called after each step with (step, result or None, duration in ms).
ProgressCallback = Callable[[Step, StepResult | None, int], None]


def rotate_locally(
    engine: RotationEngine,
    secret_id: str,
    *,
    token: str | None = None,
    progress: ProgressCallback | None = None,
) -> RotationReport:
    """Run createSecret → setSecret → testSecret → finishSecret here, rolling back on failure."""
    ctx = engine.ctx
    started = ctx.clock.monotonic()
    description = ctx.store.describe(secret_id)
    protocol.refuse_if_in_progress(description.versions, secret_name=description.name)
    current_id = protocol.current_version(description.versions, secret_name=description.name)
    previous = held_key(
        ctx.store.get_value(description.arn, version_id=current_id, stage=AWSCURRENT)
    )
    token = token or str(uuid.uuid4())
    results: dict[Step, StepResult] = {}
    step = Step.CREATE
    try:
        for step in Step:
            step_started = ctx.clock.monotonic()
            event = RotationEvent(step=step, secret_id=description.arn, token=token)
            results[step] = _run_step(engine, event)
            if progress is not None:
                progress(step, results[step], _ms(ctx.clock, step_started))
    except Exception as raised:  # noqa: BLE001 - any failure is rolled back (review M2)
        error = raised if isinstance(raised, RotatorError) else _unexpected(raised, step)
        if progress is not None:
            progress(step, None, 0)
        message = str(error)
        promoted = AWSCURRENT in ctx.store.describe(description.arn).versions.get(token, ())
        if not promoted:
            message = f"{message}; {cleanup.rollback(ctx, description.arn, token, cause=error)}"
        created = results.get(Step.CREATE)
        report = RotationReport(
            secret_id=description.name,
            version_id=token,
            status=RotationStatus.FAILED,
            key_id=created.key_id if created and promoted else None,
            service_account_id=created.service_account_id if created and promoted else None,
            previous_key_id=previous.key_id if previous else None,
            previous_key_deleted=False,
            duration_ms=_ms(ctx.clock, started),
            error=message,
            step=step.value,
        )
        raise RotationFailure(
            report.error or str(error), step=report.step, cause=error, report=report
        ) from error
    cleanup.clear_pending_label(ctx, description.arn, token)
    finish = results[Step.FINISH]
    created = results[Step.CREATE]
    previous_key = previous.key_id if previous else None
    return RotationReport(
        secret_id=description.name,
        version_id=token,
        status=RotationStatus.ROTATED,
        key_id=created.key_id,
        service_account_id=created.service_account_id,
        previous_key_id=previous_key,
        previous_key_deleted=previous_key in finish.deleted_key_ids,
        previous_key_revocation=dict(finish.revocations).get(previous_key or ""),
        previous_key_expiry_set=previous_key in finish.expiring_key_ids,
        strategy=created.strategy,
        duration_ms=_ms(ctx.clock, started),
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

    def repeated(attempt: int, _error: TransientServiceError, wait: float) -> None:
        log.info("step_repeated", step=event.step.value, attempt=attempt + 1, wait_s=wait)

    return call_with_retry(
        lambda: engine.run_step(event, token_may_be_new=event.step is Step.CREATE),
        # Bounded by attempts, not by time: a step is repeated at most twice.
        backoff=replace(engine.ctx.policy.probe_backoff, deadline=math.inf),
        clock=engine.ctx.clock,
        on_retry=repeated,
        attempts=STEP_ATTEMPTS,
        max_retry_after=MAX_RETRY_AFTER,
    )


def _ms(clock: Clock, since: float) -> int:
    return round((clock.monotonic() - since) * 1000)
