"""``rotator init --admin-key``: seed an admin-key secret as JSON with its id.

The key must authenticate (the admin read ``GET /organization/admin_api_keys`` made with it) and
exactly one admin key in that listing must fit its redacted form; its id is stored beside it:
``{"admin_key": "sk-admin-…", "admin_key_id": "key_…"}``. A secret that already holds a value is
replaced only with ``--force``. Consumers that read the bare ``sk-admin-…`` string from this
secret must parse JSON from now on (rotation writes JSON too).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from rotator.domain.admin_secret import AdminKeySecret
from rotator.domain.durations import format_duration
from rotator.domain.models import AWSCURRENT
from rotator.domain.sensitive import Sensitive
from rotator.errors import ConfigError, OwnershipError, SecretFormatError
from rotator.ports import OpenAIAdmin, SecretProvisioner
from rotator.provisioning.checks import existing_secret
from rotator.rotation.admin_proof import prove_admin_key

#: Said by ``init --admin-key`` and the docs: the stored value's shape changes.
JSON_NOTE = (
    'stored as JSON {"admin_key": ..., "admin_key_id": ...}: anything that reads this secret '
    "as the bare sk-admin-... string must parse JSON from now on"
)


@dataclass(frozen=True)
class AdminInitResult:
    """What ``init --admin-key`` did, as ``--output json`` prints it."""

    secret_id: str
    arn: str
    created_secret: bool
    admin_key_id: str
    key_lifetime: str | None
    note: str = JSON_NOTE

    def to_json(self) -> dict[str, Any]:
        return {"status": "initialised", "kind": "admin_key", **asdict(self)}


def init_admin_secret(
    store: SecretProvisioner,
    admin: OpenAIAdmin,
    *,
    secret_id: str,
    admin_key: Sensitive,
    force: bool = False,
    kms_key_id: str | None = None,
    key_lifetime: timedelta | None = None,
) -> AdminInitResult:
    """Create or fill ``secret_id`` with ``admin_key`` and its id (``admin`` is bound to it)."""
    try:
        bare = AdminKeySecret.parse(Sensitive(admin_key.reveal().strip()))
    except SecretFormatError:
        raise ConfigError(
            "the key to store is not an OpenAI admin key (sk-admin-...); create one under "
            "Organization settings > Admin keys"
        ) from None
    if not bare.bare:
        raise ConfigError("give the bare sk-admin-... key to store, not JSON")
    existing = existing_secret(store, secret_id)
    if existing is not None and existing.version_with(AWSCURRENT) is not None and not force:
        current = store.get_value(existing.arn, stage=AWSCURRENT)
        if current is not None and current.reveal().strip():
            raise ConfigError(
                f"secret {secret_id} already holds a value; pass --force to replace it (the "
                "admin key it holds is not deleted)"
            )
    try:
        proof = prove_admin_key(admin, bare, secret_name=secret_id)
    except OwnershipError as error:
        raise ConfigError(
            f"the key to store could not be matched to one admin key ({error.message})"
        ) from None
    value = AdminKeySecret(
        admin_key=bare.admin_key, admin_key_id=proof.key_id, key_lifetime=key_lifetime
    ).to_json()
    if existing is None:
        arn = store.create_secret(
            secret_id,
            value,
            description="OpenAI admin key rotated by rotator",
            kms_key_id=kms_key_id,
        )
    else:
        arn = existing.arn
        store.put_current(arn, value)
    return AdminInitResult(
        secret_id=secret_id,
        arn=arn,
        created_secret=existing is None,
        admin_key_id=proof.key_id,
        key_lifetime=None if key_lifetime is None else format_duration(key_lifetime),
    )
