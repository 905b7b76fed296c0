"""One EMF line per Lambda rotation step (around :meth:`RotationEngine.run_step`), or per CLI
rotation (:func:`emit_rotation_metrics`, from the report).

``RotationSucceeded`` is 1 on the finishSecret that moved AWSCURRENT (outcome ``promoted``);
``RotationFailed`` is 1 on any step that raised (the error is re-raised unchanged, so Secrets
Manager still retries). ``StepDuration`` always; on finishSecret, ``KeyAgeDays`` of the key
being replaced (from its ``rotated_at``, read before the step) and, when the old key was deleted
and probed, ``OldKeyRevocationConfirmed``. Metrics never hold a key value: only the secret's
name, the step, numbers and the outcome.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rotator.clock import Clock
from rotator.domain.models import AWSCURRENT
from rotator.domain.protocol import RotationEvent, Step
from rotator.domain.secret_value import RotatorSecret
from rotator.errors import RotatorError
from rotator.metrics.emitter import MetricsEmitter, Outcome
from rotator.ports import SecretStore
from rotator.rotation.engine import RotationEngine
from rotator.rotation.results import Revocation, RotationStatus, StepOutcome, StepResult

SECONDS_PER_DAY = 86400
#: ``arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf``: Secrets Manager appends six
#: random characters to the name.
_SECRET_ARN = re.compile(
    r"^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(?P<name>.+)-[A-Za-z0-9]{6}$"
)


def secret_name(secret_id: str) -> str:
    """DescribeSecret's ``Name`` for an ARN (or the id itself when it is already a name)."""
    match = _SECRET_ARN.match(secret_id)
    return match["name"] if match else secret_id


def replaced_key_age_days(store: SecretStore, secret_id: str, clock: Clock) -> float | None:
    """The age in days of the key in AWSCURRENT, from its ``rotated_at``; None when unknown."""
    try:
        current = RotatorSecret.parse_or_none(store.get_value(secret_id, stage=AWSCURRENT))
    except RotatorError:
        return None  # the step itself reads the secret again and reports the problem
    if current is None or current.rotated_at is None:
        return None
    return max((clock.now() - current.rotated_at).total_seconds(), 0.0) / SECONDS_PER_DAY


def revocation_confirmed(result: StepResult) -> bool | None:
    """True when every deleted key was seen refused, False when one was not, None: none deleted."""
    if not result.revocations:
        return None
    return all(state is Revocation.CONFIRMED for _, state in result.revocations)


def run_measured_step(
    engine: RotationEngine, event: RotationEvent, *, store: SecretStore, emitter: MetricsEmitter
) -> StepResult:
    """Run one step and write its EMF line; a failure writes ``RotationFailed`` and re-raises."""
    clock = engine.ctx.clock
    name = secret_name(event.secret_id)
    key_age = (
        replaced_key_age_days(store, event.secret_id, clock) if event.step is Step.FINISH else None
    )
    started = clock.monotonic()
    try:
        result = engine.run_step(event)
    except BaseException:
        emitter.rotation_step(
            secret_name=name,
            step=event.step.value,
            outcome=Outcome.FAILED,
            duration_ms=(clock.monotonic() - started) * 1000,
        )
        raise
    promoted = event.step is Step.FINISH and result.outcome is StepOutcome.PROMOTED
    emitter.rotation_step(
        secret_name=name,
        step=event.step.value,
        outcome=Outcome.ROTATED if promoted else Outcome.STEP_DONE,
        duration_ms=(clock.monotonic() - started) * 1000,
        key_age_days=key_age if promoted else None,
        old_key_revocation_confirmed=revocation_confirmed(result) if promoted else None,
    )
    return result


def emit_rotation_metrics(
    metrics: MetricsEmitter | None,
    secret_id: str,
    report: Mapping[str, object],
    *,
    key_age_days: float | None,
) -> None:
    """One EMF line for one CLI rotation (whole rotation: no Step dimension). Never a key."""
    if metrics is None:
        return
    rotated = report.get("status") == RotationStatus.ROTATED
    revocation = report.get("previous_key_revocation")
    duration = report.get("duration_ms")
    metrics.rotation_step(
        secret_name=secret_name(secret_id),
        step=None,
        outcome=Outcome.ROTATED if rotated else Outcome.FAILED,
        duration_ms=float(duration) if isinstance(duration, int | float) else 0.0,
        key_age_days=key_age_days if rotated else None,
        old_key_revocation_confirmed=(
            revocation == Revocation.CONFIRMED
            if rotated and revocation in (Revocation.CONFIRMED, Revocation.UNCONFIRMED)
            else None
        ),
    )
