"""Seeding and inspecting the emulated organization from Python (no HTTP, no admin key).

:class:`Seeding` is a base of :class:`~rotator.testing.openai_emulator.OpenAIEmulator`; its
methods take the emulator's lock and read its clock. Seeded keys bypass the lifetime policy
(policies do not change existing keys) and are already past the propagation delay.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from rotator.testing.openai_emulator.records import AdminScopes, ApiKeyRecord, UserRecord
from rotator.testing.openai_emulator.state import State


@dataclass(frozen=True)
class SeededKey:
    service_account_id: str
    key_id: str
    value: str


@dataclass(frozen=True)
class SeededUserKey:
    user_id: str
    key_id: str
    value: str


@dataclass(frozen=True)
class ServiceAccountView:
    id: str
    name: str
    created_at: int
    role: str


@dataclass(frozen=True)
class KeyView:
    """A project key as the emulator holds it, including what no API returns (``scopes``)."""

    id: str
    name: str
    project_id: str
    service_account_id: str | None
    user_id: str | None
    scopes: tuple[str, ...]
    created_at: int
    expires_at: int | None
    last_used_at: int | None
    expired: bool


def _view(key: ApiKeyRecord, now: int) -> KeyView:
    return KeyView(
        id=key.id,
        name=key.name,
        project_id=key.project_id,
        service_account_id=key.service_account_id,
        user_id=None if key.user is None else key.user.id,
        scopes=key.scopes,
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        expired=key.expired(now),
    )


class Seeding:
    """Seed methods and inspection; the emulator supplies the state, lock, clocks and knobs."""

    _state: State
    _lock: threading.RLock
    _now: Callable[[], float]
    _monotonic: Callable[[], float]
    propagation_delay: float
    model_read_scopes: frozenset[str]

    def _clock(self) -> int:
        return int(self._now())

    # -- seeding -------------------------------------------------------------------------

    def add_project(self, name: str = "rotator demo", *, org_id: str | None = None) -> str:
        """Create a project (in another organization when ``org_id`` is given); its id."""
        with self._lock:
            org = org_id or self._state.org_id
            return self._state.add_project(name, org, self._clock()).id

    def archive_project(self, project_id: str) -> None:
        """Archive the project: it refuses new accounts and keys (400), its keys answer 401."""
        with self._lock:
            project = self._state.projects[project_id]
            if project.archived_at is None:
                project.archived_at = self._clock()

    def set_project_key_lifetime(self, project_id: str, max_seconds: int | None) -> None:
        """A project policy: new keys must set ``expires_in_seconds`` <= ``max_seconds``."""
        with self._lock:
            self._state.projects[project_id].max_key_lifetime = max_seconds

    def add_admin_key(
        self,
        scopes: AdminScopes = "all",
        *,
        org_id: str | None = None,
        expires_in_seconds: int | None = None,
    ) -> str:
        """An admin key value: ``"all"`` permissions or ``"read"`` only, in ``org_id``'s org."""
        with self._lock:
            now = self._clock()
            expires_at = None if expires_in_seconds is None else now + expires_in_seconds
            org = org_id or self._state.org_id
            return self._state.add_admin_key(scopes, org, now, expires_at=expires_at).value

    def add_service_account(
        self,
        project_id: str,
        name: str,
        *,
        scopes: tuple[str, ...] = (),
        expires_in_seconds: int | None = None,
    ) -> SeededKey:
        """A service account with one key that already works (it is past propagation)."""
        with self._lock:
            if project_id not in self._state.projects:
                raise ValueError(f"no project {project_id} in the emulator")
            account = self._state.add_service_account(project_id, name, self._clock())
        return self.add_service_account_key(
            project_id, account.id, scopes=scopes, expires_in_seconds=expires_in_seconds
        )

    def add_service_account_key(
        self,
        project_id: str,
        service_account_id: str,
        name: str = "Secret Key",
        *,
        scopes: tuple[str, ...] = (),
        expires_in_seconds: int | None = None,
    ) -> SeededKey:
        """Another working key for an existing service account."""
        with self._lock:
            account = self._state.service_accounts[service_account_id]
            if account.project_id != project_id:
                raise ValueError(f"{service_account_id} is not in {project_id}")
            now = self._clock()
            expires_at = None if expires_in_seconds is None else now + expires_in_seconds
            key = self._state.add_key(
                account, name, now, float("-inf"), scopes=tuple(scopes), expires_at=expires_at
            )
            return SeededKey(account.id, key.id, key.value)

    def add_user_key(
        self, project_id: str, name: str = "My API Key", *, user_name: str = "First Last"
    ) -> SeededUserKey:
        """A working ``sk-proj-`` key owned by a user (the API cannot create these)."""
        with self._lock:
            if project_id not in self._state.projects:
                raise ValueError(f"no project {project_id} in the emulator")
            now = self._clock()
            email = f"{user_name.lower().replace(' ', '.')}@example.com"
            user = UserRecord(self._state.new_id("user_"), user_name, email, now)
            key = self._state.add_user_key(project_id, user, name, now)
            return SeededUserKey(user.id, key.id, key.value)

    def expire_key(self, key_id: str) -> None:
        """End a key now, as its lifetime would (it stays retrievable, unlisted, answers 401)."""
        with self._lock:
            self._state.keys[key_id].expires_at = self._clock()

    def revoke_key(self, key_id: str) -> None:
        """Revoke a key out of band (another admin, leak auto-revocation)."""
        with self._lock:
            self._state.delete_key(key_id)

    # -- inspection ----------------------------------------------------------------------

    def live_key_ids(self, project_id: str) -> set[str]:
        """The project's keys that exist and have not expired."""
        with self._lock:
            return {key.id for key in self._state.keys_of(project_id, self._clock())}

    def key(self, key_id: str) -> KeyView | None:
        """The key (expired or not) by id, or None once deleted."""
        with self._lock:
            found = self._state.keys.get(key_id)
            return None if found is None else _view(found, self._clock())

    def project_ids(self) -> list[str]:
        """Every project's id, archived ones included."""
        with self._lock:
            return list(self._state.projects)

    def keys(self, project_id: str) -> list[KeyView]:
        """The project's unexpired keys, in creation order."""
        with self._lock:
            now = self._clock()
            return [_view(key, now) for key in self._state.keys_of(project_id, now)]

    def service_accounts(self, project_id: str) -> list[ServiceAccountView]:
        with self._lock:
            return [
                ServiceAccountView(a.id, a.name, a.created_at, a.role)
                for a in self._state.accounts_of(project_id)
            ]

    def key_authenticates(self, value: str) -> bool:
        """Whether the key is valid right now: known, unexpired, propagated, project active.

        A restricted key without a models-read scope authenticates but gets ``missing_scope``.
        """
        with self._lock:
            key = self._state.keys_by_value.get(value)
            return (
                key is not None
                and not key.expired(self._clock())
                and not self._state.projects[key.project_id].archived
                and self._monotonic() >= key.minted_at + self.propagation_delay
            )

    def key_works(self, value: str) -> bool:
        """Whether ``GET /models`` would answer 200 for this key right now."""
        with self._lock:
            key = self._state.keys_by_value.get(value)
            if key is None or not self.key_authenticates(value):
                return False
            return not key.scopes or bool(self.model_read_scopes & set(key.scopes))

    def admin_key_id(self, value: str) -> str | None:
        """The id of the admin key with this value (None: unknown or deleted)."""
        with self._lock:
            key = self._state.admin_keys.get(value)
            return None if key is None else key.id

    def admin_key_expires_at(self, value: str) -> int | None:
        """When the admin key with this value expires (unix seconds; None: never or unknown)."""
        with self._lock:
            key = self._state.admin_keys.get(value)
            return None if key is None else key.expires_at

    def admin_key_works(self, value: str) -> bool:
        """Whether this admin key authenticates admin calls right now."""
        with self._lock:
            key = self._state.admin_keys.get(value)
            return key is not None and not key.expired(self._clock())
