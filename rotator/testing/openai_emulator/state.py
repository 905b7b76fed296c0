"""What the emulated organization holds: projects, service accounts, admin and project keys.

Plain records and one :class:`State` that owns them. :class:`State` takes no lock itself: the
emulator serializes every request through one lock around it.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
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


@dataclass
class ProjectRecord:
    id: str
    name: str
    org_id: str
    created_at: int
    archived_at: int | None = None

    def to_json(self) -> JsonObject:
        return {
            "id": self.id,
            "object": "organization.project",
            "name": self.name,
            "created_at": self.created_at,
            "archived_at": self.archived_at,
            "status": "active" if self.archived_at is None else "archived",
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


@dataclass
class ApiKeyRecord:
    """A service-account key. ``minted_at`` is on the monotonic clock (for propagation delay)."""

    id: str
    value: str
    name: str
    project_id: str
    service_account: ServiceAccountRecord
    created_at: int
    minted_at: float
    scopes: tuple[str, ...] = ()
    last_used_at: int | None = None

    @property
    def redacted_value(self) -> str:
        return f"{self.value[:6]}...{self.value[-3:]}"

    def created_json(self) -> JsonObject:
        """The key as returned once, at creation (``ServiceAccountApiKeyBody``)."""
        return {
            "object": "organization.project.service_account.api_key",
            "value": self.value,
            "name": self.name,
            "created_at": self.created_at,
            "id": self.id,
        }

    def to_json(self) -> JsonObject:
        """The key as listed (``ProjectApiKey``): redacted, with its owning service account."""
        account = self.service_account
        return {
            "object": "organization.project.api_key",
            "redacted_value": self.redacted_value,
            "name": self.name,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
            "id": self.id,
            "owner_project_access": "active",
            "owner": {
                "type": "service_account",
                "service_account": {
                    "id": account.id,
                    "name": account.name,
                    "created_at": account.created_at,
                    "role": account.role,
                },
            },
        }


@dataclass(frozen=True)
class AdminKeyRecord:
    id: str
    value: str
    org_id: str
    scopes: AdminScopes


@dataclass
class State:
    """Every live object, by id, plus the creation order of every id ever issued (for paging)."""

    org_id: str
    projects: dict[str, ProjectRecord] = field(default_factory=dict)
    service_accounts: dict[str, ServiceAccountRecord] = field(default_factory=dict)
    keys: dict[str, ApiKeyRecord] = field(default_factory=dict)
    keys_by_value: dict[str, ApiKeyRecord] = field(default_factory=dict)
    admin_keys: dict[str, AdminKeyRecord] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def new_id(self, prefix: str) -> str:
        new = f"{prefix}{secrets.token_hex(12)}"
        self.order[new] = next(self._counter)
        return new

    def add_project(self, name: str, org_id: str, now: int) -> ProjectRecord:
        project = ProjectRecord(self.new_id("proj_"), name, org_id, now)
        self.projects[project.id] = project
        return project

    def add_admin_key(self, scopes: AdminScopes, org_id: str) -> AdminKeyRecord:
        key = AdminKeyRecord(self.new_id("key_"), new_key_value("sk-admin-"), org_id, scopes)
        self.admin_keys[key.value] = key
        return key

    def add_service_account(
        self, project_id: str, name: str, now: int, *, role: Literal["member", "none"] = "member"
    ) -> ServiceAccountRecord:
        account = ServiceAccountRecord(self.new_id("svc_acct_"), project_id, name, role, now)
        self.service_accounts[account.id] = account
        return account

    def add_key(
        self,
        account: ServiceAccountRecord,
        name: str,
        now: int,
        minted_at: float,
        scopes: tuple[str, ...] = (),
    ) -> ApiKeyRecord:
        key = ApiKeyRecord(
            id=self.new_id("key_"),
            value=new_key_value("sk-svcacct-"),
            name=name,
            project_id=account.project_id,
            service_account=account,
            created_at=now,
            minted_at=minted_at,
            scopes=scopes,
        )
        self.keys[key.id] = key
        self.keys_by_value[key.value] = key
        return key

    def delete_key(self, key_id: str) -> None:
        key = self.keys.pop(key_id)
        del self.keys_by_value[key.value]

    def delete_service_account(self, account_id: str) -> None:
        """Delete the account and revoke every key it owns."""
        del self.service_accounts[account_id]
        for key in [k for k in self.keys.values() if k.service_account.id == account_id]:
            self.delete_key(key.id)

    def accounts_of(self, project_id: str) -> list[ServiceAccountRecord]:
        found = [a for a in self.service_accounts.values() if a.project_id == project_id]
        return sorted(found, key=lambda a: self.order[a.id])

    def keys_of(self, project_id: str) -> list[ApiKeyRecord]:
        found = [k for k in self.keys.values() if k.project_id == project_id]
        return sorted(found, key=lambda k: self.order[k.id])
