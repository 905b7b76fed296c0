"""Proof that a secret's value is what it claims, before rotator mints or deletes anything.

A secret's value is input, not authority: whoever can write a rotated secret must not steer the
admin key into minting a key of another account, or deleting one. So before createSecret makes
anything, the current value must hold up against OpenAI's own records:

- ``key_id`` is a key of ``project_id`` (the admin API's listing, ``owner_project_access=any``);
- its owner is the secret's ``service_account_id``, when one is named;
- its ``redacted_value`` agrees with the stored ``api_key`` (the visible prefix and suffix);
- the stored ``api_key`` authenticates (``GET /models`` answers 200, or 401 ``missing_scope``).

Whoever holds a working key of an account may have it replaced; nobody else. These are pure
decisions over what the adapters returned; the engine gathers the facts and calls them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from rotator.errors import OwnershipError

#: The fewest visible characters a redacted value must show before a match means anything.
MIN_VISIBLE_PREFIX = 3


class ListedKey(Protocol):
    """What the project key listing says about one key (see ``ApiKeyInfo``)."""

    @property
    def id(self) -> str: ...

    @property
    def redacted_value(self) -> str: ...

    @property
    def service_account_id(self) -> str | None: ...


def redacted_matches(redacted: str, key: str) -> bool:
    """True when ``key`` has the prefix and suffix that OpenAI's redacted form shows."""
    prefix, dots, suffix = redacted.partition("...")
    return (
        bool(dots)
        and len(prefix) >= MIN_VISIBLE_PREFIX
        and key.startswith(prefix)
        and key.endswith(suffix)
        and len(key) > len(prefix) + len(suffix)
    )


def prove_listed(
    listed: Iterable[ListedKey],
    *,
    secret_name: str,
    project_id: str,
    key_id: str,
    service_account_id: str | None,
    api_key: str,
) -> ListedKey:
    """The listing's record of the secret's key, or an ``OwnershipError`` naming what failed."""
    found = next((info for info in listed if info.id == key_id), None)
    if found is None:
        raise OwnershipError(
            f"secret {secret_name} names key {key_id}, which is not a key of project "
            f"{project_id}; nothing was changed. Re-seed the secret with `rotator init --force`"
        )
    if service_account_id is not None and found.service_account_id != service_account_id:
        raise OwnershipError(
            f"secret {secret_name} names service account {service_account_id}, but key {key_id} "
            "belongs to another owner; nothing was changed. Re-seed the secret with "
            "`rotator init --force`"
        )
    if not redacted_matches(found.redacted_value, api_key):
        raise OwnershipError(
            f"the api_key stored in secret {secret_name} is not key {key_id} (its visible "
            "prefix and suffix differ); nothing was changed. Re-seed the secret with "
            "`rotator init --force`"
        )
    return found


def refuse_dead_key(*, secret_name: str, key_id: str, replace_dead_key_allowed: bool) -> None:
    """The stored key does not authenticate: refuse, naming the emergency way out."""
    hint = (
        "run `rotator rotate --replace-dead-key` if OpenAI revoked it (a leak)"
        if replace_dead_key_allowed
        else "run `rotator rotate --replace-dead-key` from the CLI if OpenAI revoked it"
    )
    raise OwnershipError(
        f"the api_key stored in secret {secret_name} (key {key_id}) does not authenticate "
        f"(401 on GET /models); nothing was changed. {hint}, or re-seed the secret with "
        "`rotator init --force`"
    )
