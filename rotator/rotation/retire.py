"""Retiring replaced keys: only what is provably this secret's, by the narrowest means.

Rules (issue: keep each workload's identity):

- A key is deleted only when it is one the secret recorded: its own proven key (recorded in
  ``retiring`` when it was replaced) or a key rotator minted for this secret.
- A whole service account is deleted only when rotator made it for this secret (its name
  carries the secret's tag) *and* the project's listing shows it holds no other key. The
  account of the secret's current key is never deleted, nor one a not-yet-due entry still uses.
- Otherwise the key alone goes: ``DELETE .../api_keys/{key}``; where an older server answers
  400, ``POST .../api_keys/{key}`` with ``{"expires_in_seconds": 1}`` ends it instead.
- With a grace period, OpenAI itself ends the old key on time: its expiry is set to the entry's
  ``not_after``, so it dies even if rotator never runs again.

An entry is forgotten only after a DELETE of that exact id in its own project answered 200 or
404 (the caller drops ids returned as ``gone``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from rotator.domain import protocol
from rotator.domain.models import ApiKeyInfo, DeleteOutcome, ServiceAccount, UpdateOutcome
from rotator.domain.naming import is_named_for
from rotator.domain.secret_value import RetiringKey, RotatorSecret
from rotator.errors import CleanupError, RotatorError
from rotator.ports import OpenAIAdmin
from rotator.rotation.context import RotationContext
from rotator.rotation.provenance import provable_entries, with_reasons

log = structlog.get_logger("rotator.retire")


@dataclass
class Retirement:
    """What retiring a set of entries did: gone ids, ids ending by expiry, and what remains."""

    gone: list[str] = field(default_factory=list)
    expiring: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    #: Why each kept key could not be retired (recorded on its entry in the next value).
    reasons: dict[str, str] = field(default_factory=dict)

    def raise_if_kept(self) -> None:
        if self.kept:
            raise CleanupError(
                f"could not retire old key(s) {'; '.join(self.kept)}; they stay recorded in "
                "the secret and the next attempt retires them (or run `rotator prune`)"
            )


@dataclass(frozen=True)
class Inventory:
    """The project's accounts and keys, fetched only when an account-level delete is possible."""

    accounts: Mapping[str, ServiceAccount]
    keys: tuple[ApiKeyInfo, ...]

    @classmethod
    def fetch(cls, admin: OpenAIAdmin, project_id: str) -> Inventory:
        accounts = {a.id: a for a in admin.list_service_accounts(project_id)}
        return cls(accounts, tuple(admin.list_api_keys(project_id)))

    def account_holds_only(self, account_id: str, key_id: str) -> bool:
        return all(info.id == key_id for info in self.keys if info.service_account_id == account_id)


def expire_now(admin: OpenAIAdmin, project_id: str, key_id: str) -> str:
    """End one key: DELETE, else (older server's 400) expire it in one second.

    Returns "deleted", "gone" (404) or "expiring"; raises ``CleanupError`` when neither works.
    """
    outcome = admin.delete_api_key(project_id, key_id)
    if outcome is DeleteOutcome.DELETED:
        return "deleted"
    if outcome is DeleteOutcome.NOT_FOUND:
        return "gone"
    update = admin.update_api_key(project_id, key_id, expires_in_seconds=1)
    if update is UpdateOutcome.UPDATED:
        log.info("key_expired_instead", key_id=key_id, reason="DELETE answered 400")
        return "expiring"
    if update is UpdateOutcome.NOT_FOUND:
        return "gone"
    raise CleanupError(
        f"OpenAI refused both DELETE and an expiry update of key {key_id} ({update.value})"
    )


def deletable_account(
    entry: RetiringKey,
    *,
    secret_arn: str,
    protected: frozenset[str],
    inventory: Inventory | None,
) -> str | None:
    """The entry's account when rotator made it for this secret and it holds only this key."""
    account_id = entry.service_account_id
    if account_id is None or account_id in protected or inventory is None:
        return None
    account = inventory.accounts.get(account_id)
    if (
        account is not None
        and is_named_for(account.name, secret_arn)
        and inventory.account_holds_only(account_id, entry.key_id)
    ):
        return account_id
    return None


def retire_entries(
    admin: OpenAIAdmin,
    entries: Iterable[RetiringKey],
    *,
    secret_arn: str,
    secret: RotatorSecret,
    protected: frozenset[str],
) -> Retirement:
    """Retire ``entries`` now (they are due); every entry is tried, failures collected."""
    result = Retirement()
    todo = [entry for entry in entries if entry.key_id != secret.key_id]
    inventories: dict[str, Inventory] = {}
    for entry in todo:
        project_id = entry.in_project(secret.project_id)
        try:
            inventory = None
            if entry.service_account_id is not None and entry.service_account_id not in protected:
                if project_id not in inventories:
                    inventories[project_id] = Inventory.fetch(admin, project_id)
                inventory = inventories[project_id]
            account_id = deletable_account(
                entry, secret_arn=secret_arn, protected=protected, inventory=inventory
            )
            if account_id is not None:
                admin.delete_service_account(project_id, account_id)
                how = "deleted service account"
            else:
                how = expire_now(admin, project_id, entry.key_id)
        except RotatorError as error:
            result.kept.append(f"{entry.key_id} ({error})")
            result.reasons[entry.key_id] = f"could not be retired: {error}"
            continue
        log.info("key_retired", key_id=entry.key_id, how=how)
        (result.expiring if how == "expiring" else result.gone).append(entry.key_id)
    return result


def schedule_grace(
    admin: OpenAIAdmin,
    entries: Iterable[RetiringKey],
    *,
    secret: RotatorSecret,
    now: datetime,
    listing: Mapping[str, ApiKeyInfo],
) -> list[str]:
    """Have OpenAI end each not-yet-due key at its ``not_after``; returns the ids it accepted.

    Best effort: a key whose expiry could not be set stays recorded and a later rotation or
    ``prune`` retires it when due.
    """
    accepted: list[str] = []
    for entry in entries:
        if entry.key_id == secret.key_id:
            continue
        seconds = max(1, math.ceil((entry.not_after - now).total_seconds()))
        info = listing.get(entry.key_id)
        if info is None:
            continue  # already gone
        if info.expires_at is not None and info.expires_at <= now.timestamp() + seconds:
            accepted.append(entry.key_id)  # its own lifetime ends it sooner: never extend it
            continue
        project_id = entry.in_project(secret.project_id)
        try:
            outcome = admin.update_api_key(project_id, entry.key_id, expires_in_seconds=seconds)
        except RotatorError as error:
            log.warning("grace_expiry_not_set", key_id=entry.key_id, error=str(error))
            continue
        if outcome is UpdateOutcome.UPDATED:
            accepted.append(entry.key_id)
            log.info("grace_expiry_set", key_id=entry.key_id, expires_in_s=seconds)
        else:
            log.warning(
                "grace_expiry_not_set",
                key_id=entry.key_id,
                outcome=outcome.value,
                hint="the key lives until a later rotation or `rotator prune` retires it",
            )
    return accepted


def protected_accounts(secret: RotatorSecret, *, now: datetime) -> frozenset[str]:
    """Accounts never deleted while retiring: the current key's and those of entries not due."""
    ids = {e.service_account_id for e in secret.retiring if e.not_after > now}
    if secret.service_account_id:
        ids.add(secret.service_account_id)
    return frozenset(i for i in ids if i)


def retire_replaced(
    admin: OpenAIAdmin,
    *,
    secret_arn: str,
    secret: RotatorSecret,
    now: datetime,
    read_version: Callable[[str], RotatorSecret | None],
) -> tuple[Retirement, list[str]]:
    """finishSecret's part: retire due entries now, have OpenAI end the others on time.

    Only entries :func:`provable_entries` admits are touched; the rest stay recorded.
    """
    due, later = protocol.split_due(secret.retiring, now=now)
    listing = (
        {info.id: info for info in admin.list_api_keys(secret.project_id)}
        if any(entry.key_id != secret.key_id for entry in secret.retiring)
        else {}
    )
    due_now, _ = provable_entries(
        due, secret_arn=secret_arn, secret=secret, listing=listing, read_version=read_version
    )
    due_later, _ = provable_entries(
        later, secret_arn=secret_arn, secret=secret, listing=listing, read_version=read_version
    )
    retired = retire_entries(
        admin,
        due_now,
        secret_arn=secret_arn,
        secret=secret,
        protected=protected_accounts(secret, now=now),
    )
    return retired, schedule_grace(admin, due_later, secret=secret, now=now, listing=listing)


def next_retiring(
    ctx: RotationContext,
    admin: OpenAIAdmin,
    *,
    secret_arn: str,
    current: RotatorSecret,
    current_version_id: str,
    listing: Sequence[ApiKeyInfo],
    now: datetime,
) -> tuple[RetiringKey, ...]:
    """createSecret's part: retire the due entries it can prove, then the next ``retiring``.

    Entries whose DELETE answered are forgotten; the rest are carried with the reason.
    """
    provable, refused = provable_entries(
        current.retiring,
        secret_arn=secret_arn,
        secret=current,
        listing={info.id: info for info in listing},
        read_version=ctx.version_reader(secret_arn),
    )
    due, _later = protocol.split_due(tuple(provable), now=now)
    settled = retire_entries(
        admin,
        due,
        secret_arn=secret_arn,
        secret=current,
        protected=protected_accounts(current, now=now),
    )
    retiring = protocol.retiring_after_rotation(
        current,
        current_version_id=current_version_id,
        now=now,
        grace=ctx.policy.grace_period,
        gone=frozenset(settled.gone),
    )
    return with_reasons(retiring, {**refused, **settled.reasons})
