"""Admin reads for an admin-key secret: possession proof, waiting, revocation, lost keys.

The admin read is ``GET /organization/admin_api_keys`` made *with the key in question*: it
authenticates the key and, in the proof, gives the listing that must hold the id the secret
claims with a redacted form that fits the stored value (a bare value is adopted by that match).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from rotator.domain.admin_secret import AdminKeySecret, is_admin_secret, matches_redacted
from rotator.domain.models import AdminKeyInfo, DeleteOutcome, ProbeResult
from rotator.domain.naming import is_named_for, rotation_name
from rotator.domain.secret_value import RetiringKey
from rotator.domain.sensitive import Sensitive
from rotator.errors import AdminKeyError, OwnershipError, RotatorError, ServiceError
from rotator.ports import OpenAIAdmin
from rotator.retry import poll_until
from rotator.rotation.admin_key import RefreshingAdminFactory
from rotator.rotation.context import RotationContext
from rotator.rotation.results import Revocation

log = structlog.get_logger("rotator.admin_rotation")


def exact_admin(ctx: RotationContext, key: Sensitive) -> OpenAIAdmin:
    """An admin client bound to exactly ``key``: never the re-reading one, which on a 401 would
    retry with whatever key the admin-key secret holds now (here: the key being replaced)."""
    factory = ctx.admin_factory
    plain = factory.plain if isinstance(factory, RefreshingAdminFactory) else factory
    return plain(key)


def admin_read(ctx: RotationContext, key: Sensitive) -> ProbeResult:
    """One admin read with ``key``: accepted, rejected (401/403) or unavailable."""
    try:
        exact_admin(ctx, key).list_admin_keys()
    except AdminKeyError:
        return ProbeResult.REJECTED
    except ServiceError:
        return ProbeResult.UNAVAILABLE
    return ProbeResult.ACCEPTED


def poll_admin_read(
    ctx: RotationContext, key: Sensitive, *, want: ProbeResult, timeout: float, key_id: str
) -> ProbeResult:
    """The admin read with ``key`` until it answers ``want`` or ``timeout`` passes."""
    policy = ctx.policy

    def waiting(_attempt: int, result: ProbeResult, _wait: float) -> None:
        log.info("admin_read_waiting", key_id=key_id, result=result.value, want=want.value)

    return poll_until(
        lambda: admin_read(ctx, key),
        done=lambda result: result is want,
        timeout=timeout,
        delay=lambda attempt: policy.probe_backoff.delay(attempt, ctx.clock.rng),
        clock=ctx.clock,
        on_wait=waiting,
    )


@dataclass(frozen=True)
class AdminProof:
    """The stored admin key authenticates and is the key ``key_id`` (found by redacted form)."""

    key_id: str
    listing: tuple[AdminKeyInfo, ...]


def prove_admin_key(admin: OpenAIAdmin, current: AdminKeySecret, *, secret_name: str) -> AdminProof:
    """List the admin keys *with the stored key*, then match the stored value to its id."""
    try:
        listing = tuple(admin.list_admin_keys())
    except AdminKeyError as error:
        raise OwnershipError(
            f"the admin key stored in secret {secret_name} does not authenticate ({error}); "
            "nothing was changed. Store a working admin key with `rotator init --admin-key "
            f"{secret_name} --from-env VAR --force`"
        ) from None
    if current.admin_key_id is None:
        value = current.admin_key
        fits = [info for info in listing if matches_redacted(value, info.redacted_value)]
        if len(fits) != 1:
            found = "no admin key" if not fits else f"{len(fits)} admin keys"
            raise OwnershipError(
                f"secret {secret_name} holds a bare admin key and {found} in the organization's "
                "listing fit its redacted form; nothing was changed. Store it as JSON with its id: "
                f"`rotator init --admin-key {secret_name} --from-env VAR --force`"
            )
        return AdminProof(fits[0].id, listing)
    found_info = next((info for info in listing if info.id == current.admin_key_id), None)
    if found_info is None or not matches_redacted(current.admin_key, found_info.redacted_value):
        why = (
            "is not in the organization's admin key listing"
            if found_info is None
            else ("does not fit the stored admin key (its visible prefix and suffix differ)")
        )
        raise OwnershipError(
            f"secret {secret_name} names admin key {current.admin_key_id}, which {why}; "
            "nothing was changed. Re-seed it with `rotator init --admin-key "
            f"{secret_name} --from-env VAR --force`"
        )
    return AdminProof(found_info.id, listing)


def delete_unrecorded(
    admin: OpenAIAdmin,
    listing: Sequence[AdminKeyInfo],
    *,
    secret_arn: str,
    token: str,
    keep: frozenset[str],
    older_than: datetime,
) -> list[str]:
    """Delete the admin keys rotator made for this secret that no version records: the one
    named for ``token`` (a lost create's), and those of other tokens made before ``older_than``
    (a crashed run's; younger ones may belong to a rotation still running)."""
    name = rotation_name(secret_arn, token)
    cutoff = older_than.timestamp()
    deleted = []
    for info in listing:
        if info.id in keep or not is_named_for(info.name, secret_arn):
            continue
        if info.name == name or info.created_at <= cutoff:
            admin.delete_admin_key(info.id)
            log.warning("unrecorded_admin_key_deleted", key_id=info.id)
            deleted.append(info.id)
    return deleted


def delete_made_for(
    ctx: RotationContext, arn: str, token: str, raw: Sensitive | None
) -> tuple[list[str], list[str]]:
    """Roll back: delete the admin keys made for ``token`` that AWSCURRENT (``raw``) does not
    record. The contract of :func:`rotator.rotation.cleanup.delete_made_for`; the listing and
    the deletes use the secret's current admin key.
    """
    if raw is None or not is_admin_secret(raw):
        return [], []
    current = AdminKeySecret.parse(raw)
    admin = exact_admin(ctx, current.admin_key)
    keep = frozenset(
        [*([current.admin_key_id] if current.admin_key_id else [])]
        + [entry.key_id for entry in current.retiring]
    )
    name = rotation_name(arn, token)
    deleted: list[str] = []
    live: list[str] = []
    for info in admin.list_admin_keys():
        if info.name != name or info.id in keep:
            continue
        try:
            admin.delete_admin_key(info.id)
        except RotatorError as error:
            live.append(f"admin key {info.id} ({name}) is still live ({error})")
            continue
        deleted.append(info.id)
    return deleted, live


def confirm_refused(ctx: RotationContext, arn: str, entry: RetiringKey) -> Revocation:
    """Poll the admin read with a deleted admin key until it is refused (bounded)."""
    timeout = ctx.policy.revocation_timeout
    if timeout <= 0 or entry.version_id is None:
        return Revocation.UNCHECKED
    try:
        raw = ctx.store.get_value(arn, version_id=entry.version_id)
        old = AdminKeySecret.parse(raw) if raw is not None else None
    except RotatorError:
        old = None
    if old is None or old.admin_key_id not in (None, entry.key_id):
        return Revocation.UNCHECKED
    result = poll_admin_read(
        ctx, old.admin_key, want=ProbeResult.REJECTED, timeout=timeout, key_id=entry.key_id
    )
    if result is ProbeResult.REJECTED:
        log.info("admin_key_revocation_confirmed", key_id=entry.key_id)
        return Revocation.CONFIRMED
    log.warning("old_admin_key_still_accepted", key_id=entry.key_id, timeout_s=timeout)
    return Revocation.UNCONFIRMED


def delete_retired(
    admin: OpenAIAdmin, entries: Sequence[RetiringKey]
) -> tuple[list[str], list[tuple[RetiringKey, str]]]:
    """Delete each retiring admin key: (gone ids, each entry still live with a sentence why)."""
    gone: list[str] = []
    kept: list[tuple[RetiringKey, str]] = []
    for entry in entries:
        try:
            outcome = admin.delete_admin_key(entry.key_id)
        except RotatorError as error:
            kept.append((entry, f"admin key {entry.key_id} was not deleted ({error})"))
            continue
        log.info("old_admin_key_deleted", key_id=entry.key_id, outcome=outcome.value)
        if outcome in (DeleteOutcome.DELETED, DeleteOutcome.NOT_FOUND):
            gone.append(entry.key_id)
    return gone, kept
