"""Read caches for a fleet run, wrapped around the ports so the engine stays unchanged.

:class:`SharedListings` gives every rotation of a run one service-account listing per project
(createSecret lists the project's accounts on every rotation: for 200 secrets in one project
that is 200 rate-limited admin calls, each paging through hundreds of accounts). The listing is
kept true to this run's own writes: an account we create is added, one we delete is removed,
and a create that fails in any way (its answer may be lost) drops the listing so the next
caller, the rollback looking for the orphan by name, lists afresh. Accounts other actors make
during the run are not seen; they cannot matter, because each secret's accounts are only
touched by that secret's rotation, which AWSPENDING serialises.

:class:`VersionValueCache` serves ``GetSecretValue`` for a version whose value this run already
holds. Versions are immutable in Secrets Manager, so only the *stage* can go stale; a hit is
served when no stage is asked, or when the latest ``DescribeSecret`` (each step's guard makes
one just before) shows the version carrying the stage asked for; every stage move forgets that
description.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from datetime import datetime

from rotator.domain.models import (
    ApiKeyInfo,
    CreatedKey,
    DeleteOutcome,
    Project,
    SecretDescription,
    ServiceAccount,
)
from rotator.domain.sensitive import Sensitive
from rotator.ports import AdminFactory, OpenAIAdmin, SecretStore, VersionHistory


class _Listing:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accounts: dict[str, ServiceAccount] | None = None


class SharedListings:
    """An :data:`~rotator.ports.AdminFactory` whose clients share listings across a run."""

    def __init__(self, factory: AdminFactory) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._listings: dict[tuple[str, str], _Listing] = {}
        self.fetches = 0

    def __call__(self, admin_key: Sensitive) -> OpenAIAdmin:
        digest = hashlib.sha256(admin_key.reveal().encode()).hexdigest()[:16]
        return _SharedListingAdmin(self._factory(admin_key), self, digest)

    def listing(self, key_digest: str, project_id: str) -> _Listing:
        with self._lock:
            return self._listings.setdefault((key_digest, project_id), _Listing())


class _SharedListingAdmin:
    """:class:`~rotator.ports.OpenAIAdmin` with the project's listing shared by the run."""

    def __init__(self, inner: OpenAIAdmin, shared: SharedListings, key_digest: str) -> None:
        self._inner = inner
        self._shared = shared
        self._digest = key_digest

    def _listing(self, project_id: str) -> _Listing:
        return self._shared.listing(self._digest, project_id)

    def get_project(self, project_id: str) -> Project:
        return self._inner.get_project(project_id)

    def list_service_accounts(self, project_id: str) -> list[ServiceAccount]:
        listing = self._listing(project_id)
        with listing.lock:  # single flight: one worker lists, the others wait for its answer
            if listing.accounts is None:
                fetched = self._inner.list_service_accounts(project_id)
                self._shared.fetches += 1
                listing.accounts = {account.id: account for account in fetched}
            return list(listing.accounts.values())

    def create_service_account(self, project_id: str, name: str) -> CreatedKey:
        listing = self._listing(project_id)
        try:
            created = self._inner.create_service_account(project_id, name)
        except BaseException:
            with listing.lock:
                listing.accounts = None  # it may exist anyway: whoever looks next, lists
            raise
        with listing.lock:
            if listing.accounts is not None:
                listing.accounts[created.service_account_id] = ServiceAccount(
                    created.service_account_id, name, created.created_at
                )
        return created

    def delete_service_account(self, project_id: str, service_account_id: str) -> DeleteOutcome:
        outcome = self._inner.delete_service_account(project_id, service_account_id)
        listing = self._listing(project_id)
        with listing.lock:
            if listing.accounts is not None:
                listing.accounts.pop(service_account_id, None)
        return outcome

    def delete_api_key(self, project_id: str, key_id: str) -> DeleteOutcome:
        return self._inner.delete_api_key(project_id, key_id)

    def list_api_keys(self, project_id: str) -> list[ApiKeyInfo]:
        return self._inner.list_api_keys(project_id)


class VersionValueCache:
    """A :class:`~rotator.ports.SecretStore` that reads each version's value at most once."""

    def __init__(self, inner: SecretStore) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._arn_of: dict[str, str] = {}
        self._versions: dict[str, dict[str, frozenset[str]]] = {}
        self._values: dict[tuple[str, str], Sensitive | None] = {}

    def _arn(self, secret_id: str) -> str:
        with self._lock:
            return self._arn_of.get(secret_id, secret_id)

    def _remember(self, description: SecretDescription) -> None:
        with self._lock:
            self._arn_of[description.name] = description.arn
            self._arn_of[description.arn] = description.arn
            self._versions[description.arn] = dict(description.versions)

    def seen(self, description: SecretDescription) -> None:
        """Take a ListSecrets entry as the latest description of its secret."""
        self._remember(description)

    def forget(self, secret_id: str) -> None:
        """Drop everything held for a secret (its values are key material)."""
        arn = self._arn(secret_id)
        with self._lock:
            self._versions.pop(arn, None)
            for cached in [k for k in self._values if k[0] == arn]:
                del self._values[cached]

    def version_dates(self, secret_id: str) -> Mapping[str, datetime]:
        """ListSecretVersionIds, passed through (for a stuck rotation's age)."""
        if not isinstance(self._inner, VersionHistory):
            return {}
        return self._inner.version_dates(secret_id)

    def describe(self, secret_id: str) -> SecretDescription:
        description = self._inner.describe(secret_id)
        self._remember(description)
        return description

    def get_value(
        self, secret_id: str, *, version_id: str | None = None, stage: str | None = None
    ) -> Sensitive | None:
        arn = self._arn(secret_id)
        if version_id is not None:
            with self._lock:
                stages = self._versions.get(arn, {}).get(version_id)
                held = (arn, version_id) in self._values
                # No stage asked: the value of a version never changes, so any copy will do.
                if held and (stage is None or (stages is not None and stage in stages)):
                    return self._values[(arn, version_id)]
        value = self._inner.get_value(secret_id, version_id=version_id, stage=stage)
        if version_id is not None:
            with self._lock:
                self._values[(arn, version_id)] = value
        return value

    def put_pending(
        self,
        secret_id: str,
        token: str,
        value: Sensitive,
        *,
        rotation_token: Sensitive | None = None,
    ) -> None:
        self._inner.put_pending(secret_id, token, value, rotation_token=rotation_token)
        with self._lock:
            self._values[(self._arn_of.get(secret_id, secret_id), token)] = value

    def move_stage(
        self, secret_id: str, stage: str, *, to_version: str | None, from_version: str | None
    ) -> None:
        self._forget_stages(secret_id)
        self._inner.move_stage(secret_id, stage, to_version=to_version, from_version=from_version)

    def start_rotation(self, secret_id: str) -> str:
        self._forget_stages(secret_id)
        return self._inner.start_rotation(secret_id)

    def _forget_stages(self, secret_id: str) -> None:
        arn = self._arn(secret_id)
        with self._lock:
            self._versions.pop(arn, None)
