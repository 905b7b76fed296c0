"""Prove that AWSCURRENT's value is what it claims, before createSecret mints anything.

Gathers the facts the pure checks in :mod:`rotator.domain.ownership` decide on: the project's
key listing (``owner_project_access=any``) and a ``GET /models`` probe with the stored key. The
two are independent, so they run concurrently. Nothing is created, deleted or changed here.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import structlog

from rotator.domain import ownership
from rotator.domain.models import ApiKeyInfo, ProbeResult
from rotator.domain.naming import parse_service_account_name
from rotator.domain.secret_value import RotatorSecret
from rotator.errors import (
    OwnershipError,
    ProjectArchivedError,
    TransientServiceError,
)
from rotator.ports import OpenAIAdmin
from rotator.retry import poll_until
from rotator.rotation.context import RotationContext

log = structlog.get_logger("rotator.proof")

#: How long the proof waits for GET /models to answer at all (429/5xx/timeouts are retried).
PROBE_DEADLINE = 20.0


@dataclass(frozen=True)
class Proof:
    """What the proof learnt: the project's keys (reused to find this secret's stray keys)."""

    listing: tuple[ApiKeyInfo, ...]
    #: True when the stored key authenticated; False under ``--replace-dead-key``.
    key_works: bool


def check_allowed_project(ctx: RotationContext, secret_name: str, project_id: str) -> None:
    """Refuse a project outside ``ROTATOR_ALLOWED_PROJECT_IDS`` before any OpenAI call."""
    allowed = ctx.policy.allowed_project_ids
    if allowed is not None and project_id not in allowed:
        raise OwnershipError(
            f"secret {secret_name} names project {project_id}, which is not in "
            "ROTATOR_ALLOWED_PROJECT_IDS; nothing was changed. Add the project to the "
            "allow-list (template parameter AllowedProjectIds) or fix the secret"
        )


def _probe(ctx: RotationContext, current: RotatorSecret) -> ProbeResult:
    """GET /models with the stored key until it answers something other than 'unavailable'."""
    return poll_until(
        lambda: ctx.probe.check(current.api_key),
        done=lambda result: result is not ProbeResult.UNAVAILABLE,
        timeout=min(PROBE_DEADLINE, ctx.policy.test_timeout),
        delay=lambda attempt: ctx.policy.probe_backoff.delay(attempt, ctx.clock.rng),
        clock=ctx.clock,
    )


def _refuse_archived(admin: OpenAIAdmin, current: RotatorSecret) -> None:
    if admin.get_project(current.project_id).archived:
        raise ProjectArchivedError(
            f"project {current.project_id} is archived: its keys no longer work and it refuses "
            "new ones; move the workload to an active project and re-seed the secret with "
            "`rotator init --force`"
        )


def prove_current(
    ctx: RotationContext,
    admin: OpenAIAdmin,
    *,
    secret_arn: str,
    secret_name: str,
    current: RotatorSecret,
) -> Proof:
    """The possession proof; raises ``OwnershipError`` (exit 2) and changes nothing on failure."""
    check_allowed_project(ctx, secret_name, current.project_id)
    dead_key_allowed = ctx.policy.replace_dead_key
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="proof") as pool:
        listed = pool.submit(admin.list_api_keys, current.project_id)
        probed = None if dead_key_allowed else pool.submit(_probe, ctx, current)
        listing = tuple(listed.result())
        result = probed.result() if probed is not None else None
    if result is ProbeResult.UNAVAILABLE:
        raise TransientServiceError(
            f"GET /models did not answer for the key stored in {secret_name}; nothing was "
            "changed. Retry later"
        )
    if result is ProbeResult.REJECTED:
        _refuse_archived(admin, current)
        ownership.refuse_dead_key(
            secret_name=secret_name,
            key_id=current.key_id,
            replace_dead_key_allowed=ctx.policy.offers_dead_key_hatch,
        )
    if result is None:
        _prove_dead_key_claims(admin, listing, secret_name=secret_name, current=current)
        return Proof(listing, key_works=False)
    ownership.prove_listed(
        listing,
        secret_name=secret_name,
        project_id=current.project_id,
        key_id=current.key_id,
        service_account_id=current.service_account_id,
        api_key=current.api_key.reveal(),
    )
    _refuse_another_secrets_key(listing, secret_arn=secret_arn, current=current)
    return Proof(listing, key_works=True)


def _refuse_another_secrets_key(
    listing: tuple[ApiKeyInfo, ...], *, secret_arn: str, current: RotatorSecret
) -> None:
    """A key rotator minted for another secret is that secret's: a copied value (review)."""
    name = next((info.name for info in listing if info.id == current.key_id), "")
    parsed = parse_service_account_name(name)
    if parsed is not None and not parsed.belongs_to(secret_arn):
        raise OwnershipError(
            f"key {current.key_id} was minted by rotator for another secret (a copied value?); "
            "rotating it here would end that secret's key, so nothing was changed. Give this "
            "secret a key of its own with `rotator init --force`"
        )


def _prove_dead_key_claims(
    admin: OpenAIAdmin,
    listing: tuple[ApiKeyInfo, ...],
    *,
    secret_name: str,
    current: RotatorSecret,
) -> None:
    """``--replace-dead-key``: no probe, but the named account must exist in the project."""
    _refuse_archived(admin, current)
    if any(info.id == current.key_id for info in listing):
        ownership.prove_listed(
            listing,
            secret_name=secret_name,
            project_id=current.project_id,
            key_id=current.key_id,
            service_account_id=current.service_account_id,
            api_key=current.api_key.reveal(),
        )
    account = current.service_account_id
    if account is None:
        raise OwnershipError(
            f"--replace-dead-key needs the secret {secret_name} to name its service account "
            "(service_account_id); nothing was changed. Re-seed it with `rotator init --force`"
        )
    if account not in {a.id for a in admin.list_service_accounts(current.project_id)}:
        raise OwnershipError(
            f"service account {account} named by secret {secret_name} does not exist in project "
            f"{current.project_id}; nothing was changed. Re-seed it with `rotator init --force`"
        )
    log.warning(
        "dead_key_replaced",
        key_id=current.key_id,
        service_account_id=account,
        note="the stored key was not probed (--replace-dead-key)",
    )
