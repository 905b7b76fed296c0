"""Retiring replaced keys: deleting them when due, pruning orphans, probing until revoked.

The engine's steps decide *when*; these functions do the deleting and the polling. Every
delete is idempotent (404 counts as gone), and none ever touches the secret's current key.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from rotator.clock import Clock
from rotator.domain import protocol
from rotator.domain.models import DeleteOutcome, ProbeResult, ServiceAccount
from rotator.domain.secret_value import RetiringKey, RotatorSecret
from rotator.domain.sensitive import Sensitive
from rotator.errors import CleanupError, ServiceError
from rotator.ports import KeyProbe, OpenAIAdmin
from rotator.retry import Backoff

log = structlog.get_logger("rotator.retirement")


def poll_probe(
    probe: KeyProbe,
    key: Sensitive,
    *,
    until: ProbeResult,
    timeout: float,
    backoff: Backoff,
    clock: Clock,
    key_id: str,
) -> ProbeResult:
    """GET /models with ``key`` until it answers ``until`` or ``timeout`` passes.

    Returns the last answer.
    """
    start = clock.monotonic()
    attempt = 0
    while True:
        result = probe.check(key)
        if result is until:
            return result
        wait = backoff.delay(attempt, clock.rng)
        if clock.monotonic() - start + wait > timeout:
            return result
        log.info("probe_waiting", key_id=key_id, result=result.value, want=until.value)
        clock.sleep(wait)
        attempt += 1


def delete_key(admin: OpenAIAdmin, project_id: str, entry: RetiringKey) -> DeleteOutcome:
    """Delete a replaced key: its service account when it has one, else the key itself."""
    if entry.service_account_id is not None:
        return admin.delete_service_account(project_id, entry.service_account_id)
    outcome = admin.delete_api_key(project_id, entry.key_id)
    if outcome is DeleteOutcome.REFUSED_SERVICE_ACCOUNT_KEY:
        raise CleanupError(
            f"OpenAI refused to delete key {entry.key_id} because it belongs to a "
            "service account the secret does not name; delete that service account"
        )
    return outcome


def retire_due_keys(admin: OpenAIAdmin, secret: RotatorSecret, *, now: datetime) -> tuple[str, ...]:
    """Delete every retiring key whose time has come; never the secret's own key."""
    due, _later = protocol.split_due(secret.retiring, now=now)
    deleted: list[str] = []
    failed: list[str] = []
    for entry in due:
        if entry.key_id == secret.key_id or (
            entry.service_account_id is not None
            and entry.service_account_id == secret.service_account_id
        ):
            continue
        try:
            delete_key(admin, secret.project_id, entry)
        except (ServiceError, CleanupError) as error:
            failed.append(f"{entry.key_id} ({error})")
            continue
        deleted.append(entry.key_id)
    if failed:
        raise CleanupError(
            f"could not delete old key(s) {', '.join(failed)}; they stay recorded in "
            "the secret and the next attempt deletes them (or run `rotator prune`)"
        )
    return tuple(deleted)


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
    for orphan in protocol.orphans(
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


def settle_key_only_entries(
    admin: OpenAIAdmin, project_id: str, retiring: tuple[RetiringKey, ...], *, now: datetime
) -> tuple[RetiringKey, ...]:
    """Drop due key-only entries (no service account) once their key is gone."""
    kept = []
    for entry in retiring[:-1]:
        if entry.service_account_id is None and entry.not_after <= now:
            outcome = admin.delete_api_key(project_id, entry.key_id)
            if outcome is not DeleteOutcome.REFUSED_SERVICE_ACCOUNT_KEY:
                continue
        kept.append(entry)
    return (*kept, retiring[-1])
