"""Minting the new key: on the workload's own service account, or (fallback) on a new one.

Strategy ``same_account`` (the default whenever the secret names a service account): a new key
on that account, named ``rotator-<tag>-<token>``, with the secret's scopes and lifetime. The
account, its role and its other keys stay as they are: the workload keeps its identity.

Strategy ``new_account`` (a user-owned key, or an older server without the per-account key
endpoint): a new service account named ``rotator-<tag>-<token>`` with its first key; its scopes
are then set with the key update operation, and where that is impossible the account is
deleted again and the rotation refused, so a restricted key is never widened.

Both names let a retry find what a create whose answer was lost made, and delete it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import structlog

from rotator.domain.models import ApiKeyInfo, CreatedKey, UpdateOutcome
from rotator.domain.naming import rotation_name
from rotator.domain.secret_value import RotatorSecret
from rotator.errors import ConfigError, EndpointUnsupportedError, OwnershipError
from rotator.ports import OpenAIAdmin
from rotator.rotation import cleanup
from rotator.rotation.context import RotationContext
from rotator.rotation.retire import expire_now

log = structlog.get_logger("rotator.minting")


class Strategy(StrEnum):
    """Where the new key was minted."""

    SAME_ACCOUNT = "same_account"
    NEW_ACCOUNT = "new_account"


@dataclass(frozen=True)
class Minted:
    """The new key and how it was made."""

    created: CreatedKey
    strategy: Strategy
    expires_at: datetime | None


def key_lifetime(ctx: RotationContext, current: RotatorSecret) -> timedelta | None:
    """The secret's own ``key_lifetime``, else the configured one, else none."""
    return current.key_lifetime or ctx.policy.key_lifetime


def _expires_at(created: CreatedKey, lifetime: timedelta | None, now: datetime) -> datetime | None:
    if created.expires_at is not None:
        return datetime.fromtimestamp(created.expires_at, UTC)
    return now + lifetime if lifetime is not None else None


def _delete_strays(
    admin: OpenAIAdmin, current: RotatorSecret, listing: tuple[ApiKeyInfo, ...], name: str
) -> None:
    """Keys an earlier attempt with this token made on the account (its answer was lost)."""
    for info in listing:
        if info.name == name and info.service_account_id == current.service_account_id:
            how = expire_now(admin, current.project_id, info.id)
            log.info("stray_key_deleted", key_id=info.id, how=how)


def mint(
    ctx: RotationContext,
    admin: OpenAIAdmin,
    *,
    secret_arn: str,
    token: str,
    current: RotatorSecret,
    listing: tuple[ApiKeyInfo, ...],
) -> Minted:
    """Create the next key for ``current``; see the module docstring for the two strategies."""
    name = rotation_name(secret_arn, token)
    lifetime = key_lifetime(ctx, current)
    seconds = int(lifetime.total_seconds()) if lifetime is not None else None
    now = ctx.clock.now()
    account = current.service_account_id
    if account is not None:
        _delete_strays(admin, current, listing, name)
        try:
            created = admin.create_service_account_key(
                current.project_id,
                account,
                name=name,
                scopes=current.scopes,
                expires_in_seconds=seconds,
            )
            return Minted(created, Strategy.SAME_ACCOUNT, _expires_at(created, lifetime, now))
        except EndpointUnsupportedError as unsupported:
            known = {a.id for a in admin.list_service_accounts(current.project_id)}
            if account not in known:
                raise OwnershipError(
                    f"service account {account} named by the secret does not exist in project "
                    f"{current.project_id}; nothing was changed. Re-seed the secret with "
                    "`rotator init --force`"
                ) from None
            log.warning(
                "per_account_key_create_unsupported",
                status=unsupported.status,
                fallback=Strategy.NEW_ACCOUNT.value,
            )
    created = _new_account(ctx, admin, secret_arn=secret_arn, token=token, current=current)
    return Minted(created, Strategy.NEW_ACCOUNT, _expires_at(created, lifetime, now))


def _new_account(
    ctx: RotationContext,
    admin: OpenAIAdmin,
    *,
    secret_arn: str,
    token: str,
    current: RotatorSecret,
) -> CreatedKey:
    name = rotation_name(secret_arn, token)
    lifetime = key_lifetime(ctx, current)
    accounts = admin.list_service_accounts(current.project_id)
    for orphan in (account for account in accounts if account.name == name):
        admin.delete_service_account(current.project_id, orphan.id)
        log.info("orphan_deleted", service_account_id=orphan.id, version_id=token)
    cleanup.prune_orphans(
        admin,
        secret_arn=secret_arn,
        current=current,
        accounts=accounts,
        now=ctx.clock.now(),
        margin=ctx.policy.orphan_margin,
        spare_token=token,
    )
    created = admin.create_service_account(
        current.project_id,
        name,
        expires_in_seconds=int(lifetime.total_seconds()) if lifetime is not None else None,
    )
    if current.scopes:
        outcome = admin.update_api_key(
            current.project_id, created.key_id, scopes=list(current.scopes)
        )
        if outcome is not UpdateOutcome.UPDATED:
            admin.delete_service_account(current.project_id, created.service_account_id)
            raise ConfigError(
                f"OpenAI could not restrict the new key to the secret's scopes ({outcome.value}); "
                "the new account was deleted and nothing else changed. Name the workload's "
                "service account in the secret (service_account_id) so keys are minted on it"
            )
    return created
