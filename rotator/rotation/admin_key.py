"""Finding the OpenAI admin key for a secret.

Order: ``admin_key_secret_id`` in the rotated secret → the configured default secret
(``--admin-key-secret-id`` / ``ROTATOR_ADMIN_KEY_SECRET_ID``) → (CLI only) ``OPENAI_ADMIN_KEY``.
An admin-key secret holds the bare key or JSON ``{"admin_key": "sk-admin-..."}``. ``init``
resolves with no secret yet (``resolve(None)``): the default secret, else ``OPENAI_ADMIN_KEY``.
"""

from __future__ import annotations

import json

from rotator.domain.models import AWSCURRENT
from rotator.domain.secret_value import ADMIN_KEY_PREFIX, RotatorSecret
from rotator.domain.sensitive import Sensitive
from rotator.errors import AdminKeyError, SecretNotFoundError
from rotator.ports import SecretStore


def parse_admin_secret(raw: Sensitive, *, secret_id: str) -> Sensitive:
    """The admin key inside an admin-key secret's value."""
    text = raw.reveal().strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise AdminKeyError(
                f"admin-key secret {secret_id} is not valid JSON; store the bare sk-admin-... "
                'key or {"admin_key": "sk-admin-..."}'
            ) from None
        value = data.get("admin_key") if isinstance(data, dict) else None
        if not isinstance(value, str):
            raise AdminKeyError(
                f"admin-key secret {secret_id} has no string field 'admin_key'; store "
                '{"admin_key": "sk-admin-..."} or the bare key'
            )
        text = value.strip()
    if not text.startswith(ADMIN_KEY_PREFIX):
        raise AdminKeyError(
            f"admin-key secret {secret_id} does not hold an OpenAI admin key (sk-admin-...); "
            "create one under Organization settings > Admin keys and store it there"
        )
    return Sensitive(text)


class AdminKeyResolver:
    """Resolves and caches admin keys for one run (one read per admin-key secret)."""

    def __init__(
        self,
        store: SecretStore,
        *,
        default_secret_id: str | None,
        env_admin_key: Sensitive | None,
    ) -> None:
        self._store = store
        self._default_secret_id = default_secret_id
        self._env_admin_key = env_admin_key
        self._cache: dict[str, Sensitive] = {}

    def forget(self, *secret_ids: str) -> None:
        """Drop the cached key of an admin-key secret this process just rotated."""
        for secret_id in secret_ids:
            self._cache.pop(secret_id, None)

    def resolve(self, secret: RotatorSecret | None) -> Sensitive:
        """The admin key for ``secret`` (or, with None, for a secret not written yet: ``init``)."""
        named = secret.admin_key_secret_id if secret is not None else None
        secret_id = named or self._default_secret_id
        if secret_id is None:
            if self._env_admin_key is not None:
                return self._env_admin_key
            if secret is None:
                raise AdminKeyError(
                    "no OpenAI admin key: pass --admin-key-secret-id (or set "
                    "ROTATOR_ADMIN_KEY_SECRET_ID), or set OPENAI_ADMIN_KEY"
                )
            raise AdminKeyError(
                "no OpenAI admin key: add admin_key_secret_id to the secret, pass "
                "--admin-key-secret-id / set ROTATOR_ADMIN_KEY_SECRET_ID, or (CLI only) "
                "set OPENAI_ADMIN_KEY"
            )
        cached = self._cache.get(secret_id)
        if cached is not None:
            return cached
        try:
            raw = self._store.get_value(secret_id, stage=AWSCURRENT)
        except SecretNotFoundError as error:
            raise AdminKeyError(
                f"admin-key secret {secret_id} was not found ({error}); create it or fix "
                "admin_key_secret_id / ROTATOR_ADMIN_KEY_SECRET_ID"
            ) from None
        if raw is None:
            raise AdminKeyError(
                f"admin-key secret {secret_id} has no value; store the sk-admin-... key in it"
            )
        key = parse_admin_secret(raw, secret_id=secret_id)
        self._cache[secret_id] = key
        return key
