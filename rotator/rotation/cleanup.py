"""Everything that deletes what a rotation made: due keys, orphans, an overtaken or failed run.

The engine's steps decide *when*; these functions do the deleting, and each is a named step its
caller runs and logs. Every delete is idempotent (404 counts as gone), and none ever touches
the secret's current key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog

from rotator.domain import orphans, protocol
from rotator.domain.admin_secret import is_admin_secret
from rotator.domain.models import (
    AWSCURRENT,
    AWSPENDING,
    ApiKeyInfo,
    DeleteOutcome,
    SecretDescription,
    ServiceAccount,
)
from rotator.domain.naming import service_account_name
from rotator.domain.secret_value import RotatorSecret
from rotator.errors import (
    InputError,
    OwnershipError,
    RotationInProgressError,
    RotatorError,
    ServiceError,
    UnknownVersionError,
)
from rotator.ports import OpenAIAdmin
from rotator.rotation import admin_proof
from rotator.rotation.context import RotationContext
from rotator.rotation.retire import expire_now

log = structlog.get_logger("rotator.cleanup")


def prune_orphans(
    admin: OpenAIAdmin,
    *,
    secret_arn: str,
    current: RotatorSecret,
    accounts: list[ServiceAccount],
    now: datetime,
    margin: timedelta,
    spare_token: str,
) -> None:
    """Delete this secret's old unrecorded service accounts (leftovers of crashed runs)."""
    for orphan in orphans.orphans(
        accounts,
        secret_arn=secret_arn,
        recorded=protocol.recorded_service_accounts(current),
        now=now,
        margin=margin,
        spare_token=spare_token,
    ):
        try:
            admin.delete_service_account(current.project_id, orphan.id)
        except ServiceError as error:  # pruning is a courtesy here; `rotator prune` retries
            log.warning("orphan_not_deleted", service_account_id=orphan.id, error=str(error))
            continue
        log.info("orphan_deleted", service_account_id=orphan.id, reason="unrecorded")


def prune_orphan_keys(
    admin: OpenAIAdmin,
    *,
    secret_arn: str,
    current: RotatorSecret,
    listing: Sequence[ApiKeyInfo],
    now: datetime,
    margin: timedelta,
) -> None:
    """Delete this secret's old unrecorded keys (a crashed run's), from a listing in hand."""
    for orphan in orphans.orphan_keys(
        listing,
        secret_arn=secret_arn,
        recorded=protocol.recorded_keys(current),
        now=now,
        margin=margin,
    ):
        try:
            how = expire_now(admin, current.project_id, orphan.id)
        except RotatorError as error:  # pruning is a courtesy here; `rotator prune` retries
            log.warning("orphan_key_not_deleted", key_id=orphan.id, error=str(error))
            continue
        log.info("orphan_key_deleted", key_id=orphan.id, how=how, reason="unrecorded")


def delete_made_for(ctx: RotationContext, arn: str, token: str) -> tuple[list[str], list[str]]:
    """Delete the keys and service accounts made for ``token`` that no version records.

    A key (or account) that AWSCURRENT records, as its own or in ``retiring``, is never touched:
    a replayed or stale event must not end a key still in its grace period (review M3).
    Returns (deleted ids, one sentence per key or account still live); finding them may raise.
    """
    raw = ctx.store.get_value(arn, stage=AWSCURRENT)
    if raw is not None and is_admin_secret(raw):
        return admin_proof.delete_made_for(ctx, arn, token, raw)
    current = RotatorSecret.parse_or_none(raw)
    if current is None:
        return [], []
    admin = ctx.admin_for(current)
    name = service_account_name(arn, token)
    keys = protocol.recorded_keys(current)
    accounts = protocol.recorded_service_accounts(current)
    deleted: list[str] = []
    live: list[str] = []
    for info in admin.list_api_keys(current.project_id):
        if info.name != name or info.id in keys:
            continue
        try:
            expire_now(admin, current.project_id, info.id)
        except RotatorError as error:
            live.append(f"key {info.id} ({name}) is still live ({error})")
            continue
        deleted.append(info.id)
    for account in admin.list_service_accounts(current.project_id):
        if account.name != name or account.id in accounts:
            continue
        try:
            outcome = admin.delete_service_account(current.project_id, account.id)
        except RotatorError as error:
            live.append(f"service account {account.id} ({name}) is still live ({error})")
            continue
        if outcome is DeleteOutcome.DELETED:
            deleted.append(account.id)
    return deleted, live


def clean_overtaken(
    ctx: RotationContext, description: SecretDescription, token: str, unknown: UnknownVersionError
) -> RotatorError:
    """The token's version is unknown to the guard: delete its key, return the error to raise.

    Either a wrong token, or this rotation's version lost every label to another rotation's
    PutSecretValue. Its key must not live on, and the message should say which it was.
    """
    try:
        deleted, live = delete_made_for(ctx, description.arn, token)
        log.warning("overtaken_rotation_cleaned", deleted=deleted, live=live or None)
    except RotatorError as error:
        log.warning("overtaken_rotation_not_cleaned", error=str(error))
    if ctx.store.get_value(description.arn, version_id=token) is None:
        return unknown
    return RotationInProgressError(
        f"version {token} of secret {description.name} lost AWSPENDING to another "
        "rotation; this one stopped and deleted its key: let the other finish "
        f"(`rotator status {description.name}`)"
    )


def clear_pending_label(ctx: RotationContext, secret_arn: str, token: str) -> None:
    """Do what Secrets Manager's backend does after a rotation: drop AWSPENDING."""
    try:
        ctx.store.move_stage(secret_arn, AWSPENDING, to_version=None, from_version=token)
    except RotatorError as error:
        # Harmless: AWSPENDING on the AWSCURRENT version is a finished rotation.
        log.warning("pending_label_kept", version_id=token, error=str(error))


def rollback(
    ctx: RotationContext, secret_arn: str, token: str, *, cause: RotatorError | None = None
) -> str:
    """Undo an unpromoted rotation; returns a sentence saying what was undone or what remains."""
    remains: list[str] = []
    undone: list[str] = []
    try:
        if isinstance(cause, OwnershipError):
            # The proof failed before anything was minted; the secret's claims are not to be
            # acted on, not even to look for what this token made.
            deleted: list[str] = []
            live: list[str] = []
        else:
            deleted, live = delete_made_for(ctx, secret_arn, token)
        undone += [f"deleted {made_id}" for made_id in deleted]
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
        stages = ctx.store.describe(secret_arn).versions.get(token, frozenset())
        if AWSPENDING in stages and AWSCURRENT not in stages:
            ctx.store.move_stage(secret_arn, AWSPENDING, to_version=None, from_version=token)
            undone.append("removed AWSPENDING")
    except RotatorError as error:
        remains.append(
            f"AWSPENDING is still on version {token} ({error}): run `rotator recover {secret_arn}`"
        )
    log.warning("rolled_back", version_id=token, undone=undone, remains=remains or None)
    if remains:
        return "rollback incomplete: " + "; ".join(remains)
    return "rolled back: " + (", ".join(undone) if undone else "nothing left to undo")
