"""One listing per project for a fleet run (accounts and keys), wrapped around the admin port.

:class:`SharedListings` gives every rotation of a run one service-account listing and one key
listing per project (createSecret lists the project's keys to prove the secret's key, on every
rotation: for 200 secrets in one project that is 200 rate-limited admin calls, each paging
through hundreds of keys). The listings are kept true to this run's own writes: an account or
key we create is added, one we delete is removed, and a create that fails in any way (its answer
may be lost) drops the listing so the next caller, the rollback looking for the orphan by name,
lists afresh. What other actors make during the run is not seen; it cannot matter, because each
secret's keys are only touched by that secret's rotation, which AWSPENDING serialises, and a key
deleted by someone else still fails the proof's live probe.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence

from rotator.domain.models import (
    AdminKeyInfo,
    ApiKeyInfo,
    CreatedAdminKey,
    CreatedKey,
    DeleteOutcome,
    Project,
    ServiceAccount,
    UpdateOutcome,
)
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    EndpointUnsupportedError,
    InputError,
    ResponseLostError,
    TransientServiceError,
)
from rotator.ports import AdminFactory, OpenAIAdmin


class _Listing:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accounts: dict[str, ServiceAccount] | None = None
        self.keys: dict[str, ApiKeyInfo] | None = None


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

    def count_fetch(self) -> None:
        """One more listing fetched (under the run-wide lock: workers on other projects race)."""
        with self._lock:
            self.fetches += 1

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
                self._shared.count_fetch()
                listing.accounts = {account.id: account for account in fetched}
            return list(listing.accounts.values())

    def create_service_account(
        self, project_id: str, name: str, *, expires_in_seconds: int | None = None
    ) -> CreatedKey:
        listing = self._listing(project_id)
        try:
            created = self._inner.create_service_account(
                project_id, name, expires_in_seconds=expires_in_seconds
            )
        except BaseException:
            with listing.lock:
                listing.accounts = None  # it may exist anyway: whoever looks next, lists
                listing.keys = None
            raise
        with listing.lock:
            if listing.accounts is not None:
                listing.accounts[created.service_account_id] = ServiceAccount(
                    created.service_account_id, name, created.created_at
                )
            _add_key(listing, created)
        return created

    def delete_service_account(self, project_id: str, service_account_id: str) -> DeleteOutcome:
        outcome = self._inner.delete_service_account(project_id, service_account_id)
        listing = self._listing(project_id)
        with listing.lock:
            if listing.accounts is not None:
                listing.accounts.pop(service_account_id, None)
            if listing.keys is not None:
                listing.keys = {
                    key_id: info
                    for key_id, info in listing.keys.items()
                    if info.service_account_id != service_account_id
                }
        return outcome

    def create_service_account_key(
        self,
        project_id: str,
        service_account_id: str,
        *,
        name: str,
        scopes: Sequence[str] | None,
        expires_in_seconds: int | None,
    ) -> CreatedKey:
        listing = self._listing(project_id)
        try:
            created = self._inner.create_service_account_key(
                project_id,
                service_account_id,
                name=name,
                scopes=scopes,
                expires_in_seconds=expires_in_seconds,
            )
        except (InputError, EndpointUnsupportedError, TransientServiceError) as error:
            if isinstance(error, ResponseLostError):  # it may exist anyway: the next look lists
                with listing.lock:
                    listing.keys = None
            raise  # otherwise refused before it took effect (4xx, 429): the listing stands
        except BaseException:
            with listing.lock:
                listing.keys = None  # the key may exist anyway: whoever looks next, lists
            raise
        with listing.lock:
            _add_key(listing, created)
        return created

    def update_api_key(
        self,
        project_id: str,
        key_id: str,
        *,
        expires_in_seconds: int | None = None,
        scopes: Sequence[str] | None = None,
    ) -> UpdateOutcome:
        return self._inner.update_api_key(
            project_id, key_id, expires_in_seconds=expires_in_seconds, scopes=scopes
        )

    def delete_api_key(self, project_id: str, key_id: str) -> DeleteOutcome:
        outcome = self._inner.delete_api_key(project_id, key_id)
        if outcome is not DeleteOutcome.REFUSED_SERVICE_ACCOUNT_KEY:
            listing = self._listing(project_id)
            with listing.lock:
                if listing.keys is not None:
                    listing.keys.pop(key_id, None)
        return outcome

    def list_api_keys(self, project_id: str) -> list[ApiKeyInfo]:
        listing = self._listing(project_id)
        with listing.lock:  # single flight, as for the accounts
            if listing.keys is None:
                fetched = self._inner.list_api_keys(project_id)
                self._shared.count_fetch()
                listing.keys = {info.id: info for info in fetched}
            return list(listing.keys.values())

    def list_admin_keys(self) -> list[AdminKeyInfo]:
        return self._inner.list_admin_keys()

    def create_admin_key(self, name: str, *, expires_in_seconds: int | None) -> CreatedAdminKey:
        return self._inner.create_admin_key(name, expires_in_seconds=expires_in_seconds)

    def delete_admin_key(self, key_id: str) -> DeleteOutcome:
        return self._inner.delete_admin_key(key_id)


def _add_key(listing: _Listing, created: CreatedKey) -> None:
    """Record a key this run minted (its redacted form is unknown; only its own secret proves
    against it, with the value it holds)."""
    if listing.keys is not None:
        listing.keys[created.key_id] = ApiKeyInfo(
            id=created.key_id,
            name=created.name or "",
            redacted_value="",
            created_at=created.created_at,
            service_account_id=created.service_account_id,
            expires_at=created.expires_at,
            owner_type="service_account",
        )
