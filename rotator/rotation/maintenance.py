"""``rotator recover`` and ``rotator prune``: plans of deletions, shown first, applied on ``--yes``.

recover: a stuck rotation (AWSPENDING on a version other than AWSCURRENT) blocks every later
rotation. A pending version younger than :data:`~rotator.domain.durations.MIN_SAFE_AGE` may be
a rotation still running, so it is refused unless forced. The AWSPENDING label is removed
first, then the version's key (if it got one) is deleted; if the label cannot be removed, or
the version was promoted meanwhile, nothing is deleted.

prune: retiring keys whose grace period has passed, and orphans — rotator-made service
accounts of this secret that no version records, older than a safety margin. ``idle_for`` keeps
a due key OpenAI reports used (``last_used_at``) that recently, unless OpenAI ended it; how
often ``last_used_at`` updates is undocumented, so only a recent value counts (as use).
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from rotator.domain import protocol
from rotator.domain.durations import MIN_SAFE_AGE, format_duration
from rotator.domain.models import AWSCURRENT, AWSPENDING
from rotator.domain.naming import is_named_for
from rotator.domain.ownership import redacted_matches
from rotator.domain.secret_value import RotatorSecret
from rotator.errors import CleanupError, RotationInProgressError, RotatorError
from rotator.ports import VersionHistory
from rotator.rotation.context import RotationContext
from rotator.rotation.plans import Action, ActionKind, Plan
from rotator.rotation.prune import plan_prune
from rotator.rotation.retire import expire_now

__all__ = ["Action", "ActionKind", "Plan", "apply_plan", "plan_prune", "plan_recover"]

log = structlog.get_logger("rotator.maintenance")


def _value(
    ctx: RotationContext, arn: str, version_id: str | None, stage: str
) -> RotatorSecret | None:
    if version_id is None:
        return None
    return RotatorSecret.parse_or_none(ctx.store.get_value(arn, version_id=version_id, stage=stage))


def _refuse_if_young(
    ctx: RotationContext, arn: str, name: str, stuck: str, min_age: timedelta
) -> None:
    """Refuse a pending version younger than ``min_age``: its rotation may still be running."""
    history = ctx.store if isinstance(ctx.store, VersionHistory) else None
    created = history.version_dates(arn).get(stuck) if history is not None else None
    age = None if created is None else ctx.clock.now() - created
    if age is not None and age >= min_age:
        return
    seen = "of unknown age" if age is None else f"{format_duration(age)} old"
    raise RotationInProgressError(
        f"pending version {stuck} of {name} is {seen}, younger than {format_duration(min_age)} "
        "(twice the rotation Lambda's timeout): its rotation may still be running; wait and "
        "retry, or pass --force if you know no rotation of this secret is running"
    )


def plan_recover(
    ctx: RotationContext,
    secret_id: str,
    *,
    min_age: timedelta = MIN_SAFE_AGE,
    force: bool = False,
) -> Plan:
    """What it takes to clear a stuck rotation of ``secret_id`` (refused while it is young)."""
    description = ctx.store.describe(secret_id)
    arn = description.arn
    stuck = protocol.stuck_pending(description.versions)
    current_id = protocol.current_version(description.versions, secret_name=description.name)
    current = _value(ctx, arn, current_id, AWSCURRENT)
    if stuck is None or current is None:
        return Plan(description.name, arn, None, notes=("no rotation is stuck",))
    if not force:
        _refuse_if_young(ctx, arn, description.name, stuck, min_age)
    # The label goes first: a finishSecret racing this recover then fails its guard instead of
    # promoting a key recover is about to delete (M4).
    actions: list[Action] = [
        Action(ActionKind.REMOVE_PENDING_LABEL, stuck, "unblocks the next rotation")
    ]
    pending = _value(ctx, arn, stuck, AWSPENDING)
    keep = protocol.recorded_service_accounts(current)
    recorded_keys = protocol.recorded_keys(current)
    admin = ctx.admin_for(current)
    doomed: set[str] = set()
    # Only what the stuck rotation provably made: an account named for its token. A pending
    # value is input like any other: an account it merely names is never deleted.
    for account in admin.list_service_accounts(current.project_id):
        if is_named_for(account.name, arn, stuck) and account.id not in keep:
            doomed.add(account.id)
            actions.append(
                Action(
                    ActionKind.DELETE_SERVICE_ACCOUNT,
                    account.id,
                    f"made by the stuck rotation {stuck}",
                )
            )
    for info in admin.list_api_keys(current.project_id):
        if info.id in recorded_keys or info.service_account_id in doomed:
            continue  # in use, or going with its account
        held = (
            pending is not None
            and info.id == pending.key_id
            and redacted_matches(info.redacted_value, pending.api_key.reveal())
        )
        if is_named_for(info.name, arn, stuck) or held:
            actions.append(
                Action(ActionKind.DELETE_API_KEY, info.id, f"made by the stuck rotation {stuck}")
            )
    return Plan(description.name, arn, current.project_id, tuple(actions))


def _promoted_meanwhile(ctx: RotationContext, arn: str, version_id: str) -> str | None:
    """Why to stop if the version whose label was removed became AWSCURRENT meanwhile."""
    if AWSCURRENT in ctx.store.describe(arn).versions.get(version_id, frozenset()):
        return f"version {version_id} was promoted to AWSCURRENT meanwhile: its key is in use"
    return None


def apply_plan(ctx: RotationContext, plan: Plan) -> list[str]:
    """Carry out a plan; failures reported together. No key goes after a failed label removal."""
    done: list[str] = []
    failed: list[str] = []
    admin = None
    if plan.project_id is not None:
        current = RotatorSecret.parse_or_none(
            ctx.store.get_value(plan.secret_arn, stage=AWSCURRENT)
        )
        admin = ctx.admin_for(current) if current is not None else None
    stop: str | None = None
    for action in plan.actions:
        if stop is not None:
            failed.append(f"{action.describe()}: skipped ({stop})")
            continue
        try:
            if action.kind is ActionKind.REMOVE_PENDING_LABEL:
                stop = "the AWSPENDING label could not be removed"
                ctx.store.move_stage(
                    plan.secret_arn, AWSPENDING, to_version=None, from_version=action.target
                )
                stop = _promoted_meanwhile(ctx, plan.secret_arn, action.target)
                outcome = "done"
            elif admin is None or plan.project_id is None:
                raise CleanupError("no admin key to act with")
            elif action.kind is ActionKind.DELETE_SERVICE_ACCOUNT:
                outcome = admin.delete_service_account(plan.project_id, action.target).value
            else:
                outcome = expire_now(admin, plan.project_id, action.target)
        except RotatorError as error:
            failed.append(f"{action.describe()}: {error}")
            continue
        log.info(
            "maintenance_action", action=action.kind.value, target=action.target, outcome=outcome
        )
        done.append(f"{action.describe()}: {outcome}")
    if failed:
        raise CleanupError("; ".join(failed))
    return done
