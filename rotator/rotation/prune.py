"""``rotator prune``: retiring keys past their time, and orphans, as a plan shown first.

Retiring keys are ended only where :func:`~rotator.rotation.retire.provable_entries` proves
them this secret's (the value's ``retiring`` list is input, not authority), in a project the
allow-list admits. Orphans are rotator-made keys and accounts of this secret that no version
records, older than a safety margin. ``idle_for`` keeps a due key OpenAI reports used
(``last_used_at``) that recently, unless OpenAI ended it; how often ``last_used_at`` updates is
undocumented, so only a recent value counts (as use).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from rotator.domain import orphans, protocol
from rotator.domain.durations import format_duration
from rotator.domain.models import AWSCURRENT, AWSPENDING, AWSPREVIOUS, ApiKeyInfo
from rotator.domain.secret_value import RotatorSecret
from rotator.rotation.context import RotationContext
from rotator.rotation.plans import Action, ActionKind, Plan
from rotator.rotation.proof import check_allowed_project
from rotator.rotation.provenance import provable_entries
from rotator.rotation.retire import Inventory, deletable_account

LAST_USED_NOTE = (
    "OpenAI does not document how often last_used_at updates: an idle key may be in use"
)


def _value(
    ctx: RotationContext, arn: str, version_id: str | None, stage: str | None = None
) -> RotatorSecret | None:
    if version_id is None:
        return None
    return RotatorSecret.parse_or_none(ctx.store.get_value(arn, version_id=version_id, stage=stage))


def _recently_used(
    ctx: RotationContext, keys: tuple[ApiKeyInfo, ...], idle_for: timedelta
) -> dict[str, str]:
    """Keys OpenAI reports used within ``idle_for`` (and not ended by OpenAI): id → when."""
    now_s = ctx.clock.now().timestamp()
    since = now_s - idle_for.total_seconds()
    used: dict[str, str] = {}
    for key in keys:
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
    """Due retiring keys proven this secret's (less those used within ``idle_for``) and orphans."""
    description = ctx.store.describe(secret_id)
    arn = description.arn
    versions = description.versions
    current_id = protocol.current_version(versions, secret_name=description.name)
    current = _value(ctx, arn, current_id, AWSCURRENT)
    if current is None:
        return Plan(description.name, arn, None, notes=("AWSCURRENT holds no value",))
    check_allowed_project(ctx, description.name, current.project_id)
    pending_id = description.version_with(AWSPENDING)
    # AWSPENDING left on the AWSCURRENT version after a finished rotation is no rotation at all.
    pending = None if pending_id == current_id else _value(ctx, arn, pending_id, AWSPENDING)
    previous = _value(ctx, arn, description.version_with(AWSPREVIOUS), AWSPREVIOUS)
    inventory = Inventory.fetch(ctx.admin_for(current), current.project_id)
    listing = {info.id: info for info in inventory.keys}
    now = ctx.clock.now()
    due, later = protocol.split_due(current.retiring, now=now)
    # A pending value re-records the current retiring list, so only its own key counts as in
    # use: counting all of it would keep every due key alive while AWSPENDING exists (M5).
    in_use = protocol.recorded_service_accounts(replace(current, retiring=later))
    keys_in_use = protocol.recorded_keys(replace(current, retiring=later))
    if pending is not None:
        keys_in_use |= {pending.key_id}
        if pending.service_account_id:
            in_use |= {pending.service_account_id}
    candidates = [e for e in due if e.key_id not in keys_in_use and e.key_id in listing]
    provable, refused = provable_entries(
        candidates,
        secret_arn=arn,
        secret=current,
        listing=listing,
        read_version=lambda version_id: _value(ctx, arn, version_id),
    )
    notes = [f"kept retiring key {key_id}: {why}" for key_id, why in refused.items()]
    used = _recently_used(ctx, inventory.keys, idle_for) if idle_for else {}
    actions: list[Action] = []
    for entry in provable:
        if entry.key_id in used:
            notes.append(
                f"kept retiring key {entry.key_id}: OpenAI reports it used {used[entry.key_id]} "
                f"ago, within --idle-for {format_duration(idle_for)}; a consumer may not have "
                "picked up the new key"
            )
            continue
        since = f"due since {entry.not_after:%Y-%m-%d %H:%M}Z"
        account = deletable_account(entry, secret_arn=arn, protected=in_use, inventory=inventory)
        if account is not None:
            reason = f"rotator-made account of retiring key {entry.key_id}, {since}"
            actions.append(Action(ActionKind.DELETE_SERVICE_ACCOUNT, account, reason))
        else:
            actions.append(
                Action(ActionKind.DELETE_API_KEY, entry.key_id, f"retiring key, {since}")
            )
    margin = ctx.policy.orphan_margin if margin is None else margin
    recorded = protocol.recorded_service_accounts(current, pending, previous)
    for orphan in orphans.orphans(
        list(inventory.accounts.values()), secret_arn=arn, recorded=recorded, now=now, margin=margin
    ):
        reason = f"orphan {orphan.name}: no version of the secret records it"
        actions.append(Action(ActionKind.DELETE_SERVICE_ACCOUNT, orphan.id, reason))
    recorded_keys = protocol.recorded_keys(current, pending, previous)
    doomed = {a.target for a in actions}
    for info in orphans.orphan_keys(
        inventory.keys, secret_arn=arn, recorded=recorded_keys, now=now, margin=margin
    ):
        if info.service_account_id not in doomed:
            reason = f"orphan key {info.name}: no version of the secret records it"
            actions.append(Action(ActionKind.DELETE_API_KEY, info.id, reason))
    if idle_for:
        notes.append(LAST_USED_NOTE)
    return Plan(description.name, arn, current.project_id, tuple(actions), tuple(notes))
