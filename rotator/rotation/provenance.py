"""Which retiring entries rotator may end: the value's ``retiring`` list is input, not authority.

Anyone who can write a rotated secret can write its ``retiring`` list. So before a key in it is
deleted, or its expiry set, the entry must prove itself: the key is in the secret's own project
and is either a key rotator minted for this secret (its name carries the secret's tag) or the
key a version of this secret held (that version's value matches the listing's redacted form).
Entries that cannot are kept, with the reason, and never acted on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

import structlog

from rotator.domain.models import ApiKeyInfo
from rotator.domain.naming import is_named_for
from rotator.domain.ownership import redacted_matches
from rotator.domain.secret_value import RetiringKey, RotatorSecret

log = structlog.get_logger("rotator.provenance")


def provable_entries(
    entries: Iterable[RetiringKey],
    *,
    secret_arn: str,
    secret: RotatorSecret,
    listing: Mapping[str, ApiKeyInfo],
    read_version: Callable[[str], RotatorSecret | None],
) -> tuple[list[RetiringKey], dict[str, str]]:
    """Split ``entries`` into those rotator may end and those it may not (id → why not).

    ``retiring`` is part of the secret's value, so it is input, not authority: a key is ended
    only when it is in the secret's own project and, if the project still lists it (owned by
    the account the entry names), it is a key rotator minted for this secret (its name carries
    the secret's tag) or the key a version of this secret held (its value matches the listing's
    redacted form). A key the project no longer lists is already gone; its DELETE (404) only
    confirms that, so the entry can be forgotten.
    """
    allowed: list[RetiringKey] = []
    refused: dict[str, str] = {}
    for entry in entries:
        if entry.key_id == secret.key_id:
            continue
        if entry.in_project(secret.project_id) != secret.project_id:
            refused[entry.key_id] = f"in project {entry.project_id}, not the secret's"
            continue
        info = listing.get(entry.key_id)
        if info is None:
            allowed.append(entry)  # not listed: already gone; its DELETE only confirms that
            continue
        if entry.service_account_id not in (None, info.service_account_id):
            refused[entry.key_id] = "owned by another account than the entry names"
            continue
        if is_named_for(info.name, secret_arn):
            allowed.append(entry)
            continue
        held = read_version(entry.version_id) if entry.version_id else None
        if (
            held is not None
            and held.key_id == entry.key_id
            and redacted_matches(info.redacted_value, held.api_key.reveal())
        ):
            allowed.append(entry)
            continue
        refused[entry.key_id] = "not proven to be this secret's key (no version of it holds it)"
    for key_id, why in refused.items():
        log.warning("retiring_entry_not_acted_on", key_id=key_id, reason=why)
    return allowed, refused


def with_reasons(
    entries: tuple[RetiringKey, ...], reasons: Mapping[str, str]
) -> tuple[RetiringKey, ...]:
    """``entries`` with the reason each listed key is still recorded."""
    return tuple(
        replace(entry, reason=reasons[entry.key_id]) if entry.key_id in reasons else entry
        for entry in entries
    )
