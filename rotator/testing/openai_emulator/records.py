"""The records the emulated organization holds, and how each one is shown on the wire.

Times are Unix seconds on the emulator's wall clock, except ``minted_at`` (monotonic, for the
propagation delay).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

AdminScopes = Literal["all", "read"]
JsonObject = dict[str, object]


def new_key_value(prefix: str) -> str:
    """A fresh key value, shaped like OpenAI's (``sk-svcacct-…``, ``sk-admin-…``)."""
    return f"{prefix}{secrets.token_urlsafe(48)}"


def mask_key(value: str) -> str:
    """A key as OpenAI quotes it in a 401 message: known prefix, stars, last four characters."""
    for prefix in ("sk-svcacct-", "sk-admin-", "sk-proj-", "sk-"):
        if value.startswith(prefix) and len(value) > len(prefix) + 8:
            return f"{prefix}****...{value[-4:]}"
    return "****"


def _expired(expires_at: int | None, now: int) -> bool:
    return expires_at is not None and now >= expires_at


@dataclass
class ProjectRecord:
    id: str
    name: str
    org_id: str
    created_at: int
    archived_at: int | None = None
    #: The project's maximum key lifetime in seconds (None: no policy).
    max_key_lifetime: int | None = None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    def to_json(self) -> JsonObject:
        return {
            "id": self.id,
            "object": "organization.project",
            "name": self.name,
            "created_at": self.created_at,
            "archived_at": self.archived_at,
            "status": "archived" if self.archived else "active",
        }


@dataclass
class ServiceAccountRecord:
    id: str
    project_id: str
    name: str
    role: Literal["member", "none"]
    created_at: int

    def to_json(self) -> JsonObject:
        return {
            "object": "organization.project.service_account",
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class UserRecord:
    """The owner of a user key (users make their own keys: there is no API to create them)."""

    id: str
    name: str
    email: str
    created_at: int

    def to_json(self) -> JsonObject:
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "role": "owner",
            "created_at": self.created_at,
        }


@dataclass
class ApiKeyRecord:
    """A project key owned by a service account or (``user`` set) by a user."""

    id: str
    value: str
    name: str
    project_id: str
    service_account: ServiceAccountRecord | None
    created_at: int
    minted_at: float
    scopes: tuple[str, ...] = ()
    expires_at: int | None = None
    last_used_at: int | None = None
    user: UserRecord | None = None

    @property
    def redacted_value(self) -> str:
        return f"{self.value[:6]}...{self.value[-3:]}"

    @property
    def service_account_id(self) -> str | None:
        return None if self.service_account is None else self.service_account.id

    @property
    def owner_active(self) -> bool:
        """Whether the owner has effective access: an account made with no role has none."""
        return self.service_account is None or self.service_account.role != "none"

    def expired(self, now: int) -> bool:
        return _expired(self.expires_at, now)

    def created_json(self) -> JsonObject:
        """The key as returned once, at creation (``ServiceAccountApiKeyBody``)."""
        return {
            "object": "organization.project.service_account.api_key",
            "value": self.value,
            "name": self.name,
            "created_at": self.created_at,
            "id": self.id,
            "expires_at": self.expires_at,
        }

    def _owner_json(self) -> JsonObject:
        if self.user is not None:
            return {"type": "user", "user": self.user.to_json()}
        account = self.service_account
        assert account is not None  # noqa: S101 - a key has a user or a service account
        owner: JsonObject = {
            "id": account.id,
            "name": account.name,
            "created_at": account.created_at,
            "role": account.role,
        }
        return {"type": "service_account", "service_account": owner}

    def to_json(self) -> JsonObject:
        """The key as listed (``ProjectApiKey``): redacted, with its owner."""
        return {
            "object": "organization.project.api_key",
            "redacted_value": self.redacted_value,
            "name": self.name,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "last_used_at": self.last_used_at,
            "id": self.id,
            "owner_project_access": "active" if self.owner_active else "inactive",
            "owner": self._owner_json(),
        }


@dataclass
class AdminKeyRecord:
    id: str
    value: str
    org_id: str
    scopes: AdminScopes
    name: str | None
    created_at: int
    expires_at: int | None = None
    last_used_at: int | None = None

    def expired(self, now: int) -> bool:
        return _expired(self.expires_at, now)

    def to_json(self) -> JsonObject:
        """The key as listed (``AdminApiKey``): redacted, owned by the organization's owner."""
        return {
            "object": "organization.admin_api_key",
            "id": self.id,
            "name": self.name,
            "redacted_value": f"{self.value[:8]}...{self.value[-3:]}",
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "last_used_at": self.last_used_at,
            "owner": {
                "type": "user",
                "object": "organization.user",
                "id": "user_emulator_owner",
                "name": "Emulator Owner",
                "created_at": self.created_at,
                "role": "owner",
            },
        }
