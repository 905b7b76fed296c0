"""Orphans: rotator-made keys and service accounts of a secret that no version records.

A crashed run can leave what it made unrecorded; these pure filters find it by name (the name
carries the secret's tag and the run's token), sparing anything younger than a safety margin,
which may belong to a rotation still in flight.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from rotator.domain.models import ApiKeyInfo, ServiceAccount
from rotator.domain.naming import parse_service_account_name


def orphans(
    accounts: list[ServiceAccount],
    *,
    secret_arn: str,
    recorded: frozenset[str],
    now: datetime,
    margin: timedelta,
    spare_token: str | None = None,
) -> list[ServiceAccount]:
    """Rotator-made accounts of this secret that no version records, older than ``margin``.

    The margin keeps an in-flight createSecret of another process (account made, put not yet
    done) out of reach; ``spare_token`` names the caller's own rotation, handled by name.
    """
    cutoff = (now - margin).timestamp()
    found = []
    for account in accounts:
        parsed = parse_service_account_name(account.name)
        if parsed is None or not parsed.belongs_to(secret_arn) or account.id in recorded:
            continue
        if parsed.token == spare_token or account.created_at > cutoff:
            continue
        found.append(account)
    return found


def orphan_keys(
    keys: Sequence[ApiKeyInfo],
    *,
    secret_arn: str,
    recorded: frozenset[str],
    now: datetime,
    margin: timedelta,
) -> list[ApiKeyInfo]:
    """Rotator-made keys of this secret that no version records, older than ``margin``."""
    cutoff = (now - margin).timestamp()
    found = []
    for info in keys:
        parsed = parse_service_account_name(info.name)
        if parsed is None or not parsed.belongs_to(secret_arn) or info.id in recorded:
            continue
        if info.created_at <= cutoff:
            found.append(info)
    return found
