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

import enum
from dataclasses import dataclass, field, replace
from datetime import timedelta

import structlog

from rotator.domain import protocol
from rotator.domain.durations import MIN_SAFE_AGE, format_duration
from rotator.domain.models import AWSCURRENT, AWSPENDING, AWSPREVIOUS, DeleteOutcome
from rotator.domain.naming import service_account_name
from rotator.domain.secret_value import RotatorSecret
from rotator.errors import CleanupError, RotationInProgressError, RotatorError
from rotator.ports import OpenAIAdmin, VersionHistory
from rotator.rotation.context import RotationContext

log = structlog.get_logger("rotator.maintenance")


class ActionKind(enum.StrEnum):
    """What a maintenance action does."""

    DELETE_SERVICE_ACCOUNT = "delete_service_account"
    DELETE_API_KEY = "delete_api_key"
    REMOVE_PENDING_LABEL = "remove_pending_label"


@dataclass(frozen=True)
class Action:
    """One deletion (or label removal) a plan proposes, with its reason."""

    kind: ActionKind
    target: str
    reason: str

    def describe(self) -> str:
        verb = {
            ActionKind.DELETE_SERVICE_ACCOUNT: "delete service account",
            ActionKind.DELETE_API_KEY: "delete API key",
            ActionKind.REMOVE_PENDING_LABEL: "remove AWSPENDING from version",
        }[self.kind]
        return f"{verb} {self.target} ({self.reason})"


@dataclass(frozen=True)
class Plan:
    """What ``recover`` or ``prune`` would do to one secret; shown first, applied on ``--yes``."""

    secret_name: str
    secret_arn: str
    project_id: str | None
    actions: tuple[Action, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        return {
            "secret_id": self.secret_name,
            "actions": [
                {"action": a.kind.value, "target": a.target, "reason": a.reason}
                for a in self.actions
            ],
            "notes": list(self.notes),
        }


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
    name = service_account_name(arn, stuck)
    for account in ctx.admin_for(current).list_service_accounts(current.project_id):
        is_pending_key = pending is not None and account.id == pending.service_account_id
        if (is_pending_key or account.name == name) and account.id not in keep:
            actions.append(
                Action(
                    ActionKind.DELETE_SERVICE_ACCOUNT,
                    account.id,
                    f"made by the stuck rotation {stuck}",
                )
            )
    if (
        pending is not None
        and pending.service_account_id is None
        and pending.key_id != current.key_id
    ):
        actions.append(
            Action(ActionKind.DELETE_API_KEY, pending.key_id, f"held by stuck version {stuck}")
        )
    return Plan(description.name, arn, current.project_id, tuple(actions))


LAST_USED_NOTE = (
    "OpenAI does not document how often last_used_at updates: an idle key may be in use"
)


def _recently_used(
    ctx: RotationContext, admin: OpenAIAdmin, project_id: str, idle_for: timedelta
) -> dict[str, str]:
    """Keys OpenAI reports used within ``idle_for`` (and not ended by OpenAI): id → when."""
    now_s = ctx.clock.now().timestamp()
    since = now_s - idle_for.total_seconds()
    used: dict[str, str] = {}
    for key in admin.list_api_keys(project_id):
        ended = key.expires_at is not None and key.expires_at <= now_s
        if key.last_used_at is not None and key.last_used_at > since and not ended:
            age = timedelta(seconds=max(0, round(now_s - key.last_used_at)))
            used[key.id] = format_duration(age)
    return used


def plan_prune(
    ctx: RotationContext,
    secret_id: str,
    *,
    margin: timedelta | None = None,
    idle_for: timedelta = timedelta(0),
) -> Plan:
    """Due retiring keys (less those used within ``idle_for``) and this secret's orphans."""
    description = ctx.store.describe(secret_id)
    arn = description.arn
    versions = description.versions
    current_id = protocol.current_version(versions, secret_name=description.name)
    current = _value(ctx, arn, current_id, AWSCURRENT)
    if current is None:
        return Plan(description.name, arn, None, notes=("AWSCURRENT holds no value",))
    pending_id = description.version_with(AWSPENDING)
    # AWSPENDING left on the AWSCURRENT version after a finished rotation is no rotation at all.
    pending = None if pending_id == current_id else _value(ctx, arn, pending_id, AWSPENDING)
    previous = _value(ctx, arn, description.version_with(AWSPREVIOUS), AWSPREVIOUS)
    admin = ctx.admin_for(current)
    accounts = admin.list_service_accounts(current.project_id)
    live = {a.id for a in accounts}
    now = ctx.clock.now()
    due, later = protocol.split_due(current.retiring, now=now)
    # A pending value re-records the current retiring list, so only its own key counts as in
    # use: counting all of it would keep every due key alive while AWSPENDING exists (M5).
    in_use = protocol.recorded_service_accounts(replace(current, retiring=later))
    if pending is not None and pending.service_account_id:
        in_use |= {pending.service_account_id}
    actions: list[Action] = []
    notes: list[str] = []
    used = _recently_used(ctx, admin, current.project_id, idle_for) if idle_for else {}
    for entry in due:
        if entry.key_id == current.key_id or entry.service_account_id in in_use:
            continue
        if entry.key_id in used:
            notes.append(
                f"kept retiring key {entry.key_id}: OpenAI reports it used {used[entry.key_id]} "
                f"ago, within --idle-for {format_duration(idle_for)}; a consumer may not have "
                "picked up the new key"
            )
            continue
        if entry.service_account_id is not None:
            if entry.service_account_id in live:
                actions.append(
                    Action(
                        ActionKind.DELETE_SERVICE_ACCOUNT,
                        entry.service_account_id,
                        f"retiring key {entry.key_id}, due since {entry.not_after:%Y-%m-%d %H:%M}Z",
                    )
                )
        else:
            actions.append(
                Action(ActionKind.DELETE_API_KEY, entry.key_id, "retiring key past its time")
            )
    recorded = protocol.recorded_service_accounts(current, pending, previous)
    for orphan in protocol.orphans(
        accounts,
        secret_arn=arn,
        recorded=recorded,
        now=now,
        margin=ctx.policy.orphan_margin if margin is None else margin,
    ):
        actions.append(
            Action(
                ActionKind.DELETE_SERVICE_ACCOUNT,
                orphan.id,
                f"orphan {orphan.name}: no version of the secret records it",
            )
        )
    if idle_for:
        notes.append(LAST_USED_NOTE)
    return Plan(description.name, arn, current.project_id, tuple(actions), tuple(notes))


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
                result = admin.delete_api_key(plan.project_id, action.target)
                if result is DeleteOutcome.REFUSED_SERVICE_ACCOUNT_KEY:
                    raise CleanupError(
                        f"OpenAI refused to delete key {action.target}: delete its service account"
                    )
                outcome = result.value
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
