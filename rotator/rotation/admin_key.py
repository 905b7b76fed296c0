"""Finding the OpenAI admin key for a secret.

Order: ``admin_key_secret_id`` in the rotated secret → the configured default secret
(``--admin-key-secret-id`` / ``ROTATOR_ADMIN_KEY_SECRET_ID``) → (CLI only) ``OPENAI_ADMIN_KEY``.
An admin-key secret holds the bare key or JSON ``{"admin_key": "sk-admin-..."}``. ``init``
resolves with no secret yet (``resolve(None)``): the default secret, else ``OPENAI_ADMIN_KEY``.

A key read from a secret is kept for :data:`ADMIN_KEY_TTL` (on the run's clock), so a warm
Lambda picks up a rotated admin key within minutes; and :class:`RefreshingAdminFactory` hands
out admin clients that, when OpenAI refuses the key (401/403, ``AdminKeyError``), re-read the
admin-key secret at once and, if it now holds another key, retry the call once with it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, cast

from rotator.clock import Clock
from rotator.domain.models import AWSCURRENT
from rotator.domain.secret_value import ADMIN_KEY_PREFIX, RotatorSecret
from rotator.domain.sensitive import Sensitive
from rotator.errors import AdminKeyError, SecretNotFoundError
from rotator.ports import AdminFactory, OpenAIAdmin, SecretStore

#: How long a key read from an admin-key secret is used before the secret is read again.
ADMIN_KEY_TTL = 300.0


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
    """Resolves admin keys, each admin-key secret read at most once per ``ttl`` seconds."""

    def __init__(
        self,
        store: SecretStore,
        *,
        default_secret_id: str | None,
        env_admin_key: Sensitive | None,
        clock: Clock | None = None,
        ttl: float = ADMIN_KEY_TTL,
    ) -> None:
        self._store = store
        self._default_secret_id = default_secret_id
        self._env_admin_key = env_admin_key
        self._clock = clock or Clock()
        self._ttl = ttl
        self._lock = threading.Lock()
        #: secret id -> (key, monotonic time it was read)
        self._cache: dict[str, tuple[Sensitive, float]] = {}
        #: every key ever read -> the secret it came from (a stale client may outlive the cache)
        self._origins: dict[Sensitive, str] = {}

    def refresh(self, stale: Sensitive) -> Sensitive | None:
        """Re-read the secret ``stale`` was read from; the key now there, or None if unknown.

        None when ``stale`` came from no admin-key secret (``OPENAI_ADMIN_KEY``): nothing to
        re-read.
        """
        with self._lock:
            secret_id = self._origins.get(stale)
            if secret_id is None:
                return None
            self._cache.pop(secret_id, None)
        return self._read(secret_id)

    def forget(self, *secret_ids: str) -> None:
        """Drop the cached key of an admin-key secret this process just rotated."""
        with self._lock:
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
        with self._lock:
            cached = self._cache.get(secret_id)
        if cached is not None and self._clock.monotonic() - cached[1] < self._ttl:
            return cached[0]
        return self._read(secret_id)

    def _read(self, secret_id: str) -> Sensitive:
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
        with self._lock:
            self._cache[secret_id] = (key, self._clock.monotonic())
            self._origins[key] = secret_id
        return key


class RefreshingAdminFactory:
    """An :data:`~rotator.ports.AdminFactory` whose clients survive an admin-key rotation.

    A call refused with ``AdminKeyError`` (401/403: a revoked or replaced admin key) makes the
    client re-read the admin-key secret at once; if the secret now holds another key, the
    client is rebuilt with it and the call retried once. A refused call had no effect, so the
    retry is safe for creates too. Same key (or a key from ``OPENAI_ADMIN_KEY``): the error
    stands.
    """

    def __init__(self, factory: AdminFactory, resolver: AdminKeyResolver) -> None:
        self._factory = factory
        self._resolver = resolver

    def __call__(self, admin_key: Sensitive) -> OpenAIAdmin:
        return cast(OpenAIAdmin, _RefreshingAdmin(self._factory, self._resolver, admin_key))

    @property
    def plain(self) -> AdminFactory:
        """The factory without the re-read: for calls that must use exactly the key given
        (an admin-key secret's own rotation; see ``rotation.admin_proof.exact_admin``)."""
        return self._factory


class _RefreshingAdmin:
    """Forwards every admin call; on ``AdminKeyError`` re-reads the key and retries once."""

    def __init__(self, factory: AdminFactory, resolver: AdminKeyResolver, key: Sensitive) -> None:
        self._factory = factory
        self._resolver = resolver
        self._key = key
        self._client = factory(key)

    def __repr__(self) -> str:
        return f"_RefreshingAdmin({self._client!r})"

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute
        return self._retrying(name)

    def _retrying(self, name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return getattr(self._client, name)(*args, **kwargs)
            except AdminKeyError:
                fresh = self._resolver.refresh(self._key)
                if fresh is None or fresh == self._key:
                    raise
            self._key, self._client = fresh, self._factory(fresh)
            return getattr(self._client, name)(*args, **kwargs)

        return call
