"""What the emulated organization holds: one :class:`State` owning every record.

:class:`State` takes no lock itself: the emulator serializes every request through one lock
around it.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from typing import Literal

from rotator.testing.openai_emulator.records import (
    AdminKeyRecord,
    AdminScopes,
    ApiKeyRecord,
    ProjectRecord,
    ServiceAccountRecord,
    UserRecord,
    new_key_value,
)


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

    def add_admin_key(
        self,
        scopes: AdminScopes,
        org_id: str,
        now: int,
        *,
        name: str | None = "Seeded Admin Key",
        expires_at: int | None = None,
    ) -> AdminKeyRecord:
        value = new_key_value("sk-admin-")
        key = AdminKeyRecord(self.new_id("key_"), value, org_id, scopes, name, now, expires_at)
        self.admin_keys[key.value] = key
        return key

    def admin_key_by_id(self, key_id: str) -> AdminKeyRecord | None:
        return next((k for k in self.admin_keys.values() if k.id == key_id), None)

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
        *,
        scopes: tuple[str, ...] = (),
        expires_at: int | None = None,
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
            expires_at=expires_at,
        )
        return self._store(key)

    def add_user_key(self, project_id: str, user: UserRecord, name: str, now: int) -> ApiKeyRecord:
        key = ApiKeyRecord(
            id=self.new_id("key_"),
            value=new_key_value("sk-proj-"),
            name=name,
            project_id=project_id,
            service_account=None,
            created_at=now,
            minted_at=float("-inf"),
            user=user,
        )
        return self._store(key)

    def _store(self, key: ApiKeyRecord) -> ApiKeyRecord:
        self.keys[key.id] = key
        self.keys_by_value[key.value] = key
        return key

    def delete_key(self, key_id: str) -> None:
        key = self.keys.pop(key_id)
        del self.keys_by_value[key.value]

    def delete_service_account(self, account_id: str) -> None:
        """Delete the account and revoke every key it owns."""
        del self.service_accounts[account_id]
        for key in [k for k in self.keys.values() if k.service_account_id == account_id]:
            self.delete_key(key.id)

    def accounts_of(self, project_id: str) -> list[ServiceAccountRecord]:
        found = [a for a in self.service_accounts.values() if a.project_id == project_id]
        return sorted(found, key=lambda a: self.order[a.id])

    def keys_of(self, project_id: str, now: int) -> list[ApiKeyRecord]:
        """The project's enabled keys (expired ones are not), in creation order."""
        found = [k for k in self.keys.values() if k.project_id == project_id and not k.expired(now)]
        return sorted(found, key=lambda k: self.order[k.id])
