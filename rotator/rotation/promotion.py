"""The guarded edges of a rotation: room for the new value, a lost put, and the promotion.

- ``check_room``: the next value must fit Secrets Manager's 64 KiB *before* a key is minted
  (a growing ``retiring`` list must not make every later rotation mint, then fail to store).
- ``discard``: a minted key that lost the PutSecretValue race must not live on.
- ``promote``: finishSecret's compare-and-swap, guarded on both sides. The pending key is probed
  once more right before the move (a key deleted meanwhile is never promoted), and AWSPENDING is
  checked right after it: if ``rotator recover`` removed the label in between, AWSCURRENT is
  moved back with a compare-and-swap on this token.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog

from rotator.domain.models import (
    AWSCURRENT,
    AWSPENDING,
    ApiKeyInfo,
    ProbeResult,
    SecretDescription,
)
from rotator.domain.naming import rotation_name
from rotator.domain.protocol import Step
from rotator.domain.secret_value import MAX_SECRET_BYTES, RetiringKey, RotatorSecret
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    KeyTestFailedError,
    RotationInProgressError,
    RotatorError,
    SecretFormatError,
    StageConflictError,
)
from rotator.ports import OpenAIAdmin
from rotator.retry import call_with_retry
from rotator.rotation.context import RotationContext
from rotator.rotation.minting import Minted, Strategy
from rotator.rotation.results import StepOutcome, StepResult
from rotator.rotation.retire import expire_now

log = structlog.get_logger("rotator.promotion")

#: Room kept for the new key's value and id when checking the next value's size.
_PLACEHOLDER_KEY = Sensitive("sk-" + "x" * 256)
_SOME_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def check_room(
    current: RotatorSecret, retiring: tuple[RetiringKey, ...], *, secret_name: str
) -> None:
    """Refuse before minting when the next value would not fit in a SecretString."""
    probe = current.successor(
        api_key=_PLACEHOLDER_KEY,
        key_id="key_" + "x" * 64,
        service_account_id=current.service_account_id,
        rotated_at=current.rotated_at or _SOME_TIME,
        retiring=retiring,
        expires_at=current.expires_at,
    )
    if len(probe.to_json().reveal().encode()) > MAX_SECRET_BYTES:
        raise SecretFormatError(
            f"secret {secret_name} records {len(retiring)} retiring keys and the next value "
            "would not fit in 64 KiB; nothing was changed. Run `rotator prune "
            f"{secret_name} --yes` to retire the due ones, then rotate again"
        )


def discard(admin: OpenAIAdmin, current: RotatorSecret, minted: Minted) -> None:
    """End a key that will never be stored (best effort; a retry finds it by name anyway)."""
    created = minted.created
    try:
        if minted.strategy is Strategy.NEW_ACCOUNT:
            admin.delete_service_account(current.project_id, created.service_account_id)
        else:
            expire_now(admin, current.project_id, created.key_id)
    except RotatorError as error:
        log.warning("lost_key_not_deleted", key_id=created.key_id, error=str(error))
        return
    log.warning("put_lost_race", key_id=created.key_id, strategy=minted.strategy.value)


def promote(
    ctx: RotationContext,
    description: SecretDescription,
    new: RotatorSecret,
    *,
    token: str,
    expected: str,
) -> None:
    """Move AWSCURRENT to ``token`` from ``expected``, probing before and checking after."""
    if ctx.probe.check(new.api_key) is ProbeResult.REJECTED:
        raise KeyTestFailedError(
            f"key {new.key_id} of version {token} no longer authenticates; it was not "
            f"promoted and AWSCURRENT of {description.name} is unchanged"
        )
    try:
        ctx.store.move_stage(description.arn, AWSCURRENT, to_version=token, from_version=expected)
    except StageConflictError:
        # A retried UpdateSecretVersionStage whose first answer was lost finds the move done
        # (review L11): AWSCURRENT already on this token is success, anything else is not.
        if AWSCURRENT not in ctx.store.describe(description.arn).versions.get(token, ()):
            raise
        log.info("promotion_already_done", version_id=token)
    after = ctx.store.describe(description.arn).versions.get(token, frozenset())
    if AWSPENDING in after:
        return
    call_with_retry(  # this move must not be lost to a transient failure
        lambda: ctx.store.move_stage(
            description.arn, AWSCURRENT, to_version=expected, from_version=token
        ),
        backoff=ctx.policy.probe_backoff,
        clock=ctx.clock,
        attempts=5,
    )
    raise RotationInProgressError(
        f"AWSPENDING was removed from version {token} of {description.name} while it was being "
        f"promoted (`rotator recover`?); AWSCURRENT was moved back to {expected}"
    )


def require_current_works(
    ctx: RotationContext, description: SecretDescription, current: RotatorSecret
) -> None:
    """A retried finish after a failed promotion retires nothing unless AWSCURRENT works."""
    if not ctx.probe.check(current.api_key).works:
        raise KeyTestFailedError(
            f"the AWSCURRENT key {current.key_id} of {description.name} does not authenticate; "
            "no old key was retired. Check `rotator status`"
        )


def stored_by_a_lost_answer(
    ctx: RotationContext, arn: str, token: str, listing: tuple[ApiKeyInfo, ...]
) -> StepResult | None:
    """A key named for this token exists: was it stored after all (review L10)?

    The AWSPENDING read above may have missed a put whose answer was lost (eventual
    consistency). Before that key is deleted as a stray, read the version by id alone.
    """
    name = rotation_name(arn, token)
    if not any(info.name == name for info in listing):
        return None
    raw = ctx.store.get_value(arn, version_id=token)
    if raw is None:
        return None
    pending = RotatorSecret.parse(raw)
    return StepResult(
        Step.CREATE, StepOutcome.ALREADY_CREATED, pending.key_id, pending.service_account_id
    )
