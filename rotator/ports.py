"""The seams between the rotation service and the outside world: Protocols only.

The data crossing them lives in :mod:`rotator.domain.models`.

Adapters in ``rotator/adapters`` implement these over boto3 and httpx; fakes in
``rotator/testing`` implement them in memory. Everything crossing a port is plain data;
key material always travels as :class:`~rotator.domain.sensitive.Sensitive`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from rotator.domain.models import (
    AdminKeyInfo,
    ApiKeyInfo,
    CreatedAdminKey,
    CreatedKey,
    DeleteOutcome,
    ProbeResult,
    Project,
    SecretDescription,
    ServiceAccount,
    UpdateOutcome,
)
from rotator.domain.sensitive import Sensitive


class SecretStore(Protocol):
    """Secrets Manager, as the rotation needs it.

    Errors: ``SecretNotFoundError`` for a missing or deleted secret, ``VersionConflictError``
    when ``put_pending`` meets a token whose version holds another value,
    ``StageConflictError`` when ``move_stage``'s ``from_version`` no longer holds the stage,
    ``TransientServiceError`` for throttling and 5xx.
    """

    def describe(self, secret_id: str) -> SecretDescription: ...

    def get_value(
        self, secret_id: str, *, version_id: str | None = None, stage: str | None = None
    ) -> Sensitive | None:
        """The SecretString of one version; None when that version exists but holds no value."""
        ...

    def put_pending(
        self,
        secret_id: str,
        token: str,
        value: Sensitive,
        *,
        rotation_token: Sensitive | None = None,
    ) -> None:
        """PutSecretValue(ClientRequestToken=token, VersionStages=[AWSPENDING])."""
        ...

    def move_stage(
        self,
        secret_id: str,
        stage: str,
        *,
        to_version: str | None,
        from_version: str | None,
    ) -> None:
        """UpdateSecretVersionStage: move ``stage`` (compare-and-swap on ``from_version``)."""
        ...

    def start_rotation(self, secret_id: str) -> str:
        """RotateSecret with the stored configuration; returns the new version id."""
        ...


@runtime_checkable
class SecretLister(SecretStore, Protocol):
    """A store that can also list secrets (the boto3 adapter, the in-memory fake)."""

    def list_secrets(
        self, *, name_prefix: str | None = None, tags: Mapping[str, str] | None = None
    ) -> list[SecretDescription]: ...

    def current_values(self, secret_ids: Sequence[str]) -> Mapping[str, tuple[str, Sensitive]]:
        """BatchGetSecretValue, one call per 20 ids: ``{id: (version_id, SecretString)}``.

        Each answer is the secret's AWSCURRENT version, keyed by the id as given. A secret the
        batch reports an error for, or that holds SecretBinary, is left out: read it alone.
        """
        ...


@runtime_checkable
class SecretProvisioner(SecretStore, Protocol):
    """The Secrets Manager calls beyond the rotation port that seeding and scheduling need."""

    def create_secret(
        self,
        name: str,
        value: Sensitive,
        *,
        description: str | None = None,
        kms_key_id: str | None = None,
    ) -> str: ...

    def put_current(self, secret_id: str, value: Sensitive) -> str: ...

    def configure_rotation(
        self,
        secret_id: str,
        lambda_arn: str,
        schedule_expression: str,
        *,
        duration: str | None = None,
        rotate_immediately: bool = False,
    ) -> str | None: ...

    def cancel_rotation(self, secret_id: str) -> None: ...


@runtime_checkable
class VersionHistory(Protocol):
    """ListSecretVersionIds: when each labelled version was created (a stuck rotation's age)."""

    def version_dates(self, secret_id: str) -> Mapping[str, datetime]: ...


class OpenAIAdmin(Protocol):
    """The OpenAI Administration API, bound to one admin key.

    Errors: ``AdminKeyError`` for 401/403, ``ProjectNotFoundError`` for an unknown project,
    ``ProjectArchivedError`` for an archived one, ``KeyLifetimeRequiredError`` when a lifetime
    policy refuses a create, ``TransientServiceError`` for 429/5xx/timeouts,
    ``ResponseLostError`` when a create's answer never came back, and
    ``EndpointUnsupportedError`` when an older server lacks the per-account key create.
    Every id is checked by shape before it reaches a URL.
    """

    def get_project(self, project_id: str) -> Project: ...

    def list_service_accounts(self, project_id: str) -> list[ServiceAccount]: ...

    def create_service_account(
        self, project_id: str, name: str, *, expires_in_seconds: int | None = None
    ) -> CreatedKey:
        """A new service account with its first key. Never retried: reconciled by name."""
        ...

    def create_service_account_key(
        self,
        project_id: str,
        service_account_id: str,
        *,
        name: str,
        scopes: Sequence[str] | None,
        expires_in_seconds: int | None,
    ) -> CreatedKey:
        """A new key on an existing account. Never retried: reconciled by name in the listing."""
        ...

    def update_api_key(
        self,
        project_id: str,
        key_id: str,
        *,
        expires_in_seconds: int | None = None,
        scopes: Sequence[str] | None = None,
    ) -> UpdateOutcome:
        """Set a key's expiry (relative to now) and/or its scopes."""
        ...

    def delete_service_account(self, project_id: str, service_account_id: str) -> DeleteOutcome: ...

    def delete_api_key(self, project_id: str, key_id: str) -> DeleteOutcome: ...

    def list_api_keys(self, project_id: str) -> list[ApiKeyInfo]: ...

    def list_admin_keys(self) -> list[AdminKeyInfo]:
        """The organization's admin keys (redacted)."""
        ...

    def create_admin_key(self, name: str, *, expires_in_seconds: int | None) -> CreatedAdminKey:
        """A new admin key. Never retried: reconciled by name in :meth:`list_admin_keys`."""
        ...

    def delete_admin_key(self, key_id: str) -> DeleteOutcome: ...


class KeyProbe(Protocol):
    """Makes a real, cheap, authenticated call (``GET /models``) with a project key."""

    def check(self, key: Sensitive) -> ProbeResult: ...


class RequestBudget(Protocol):
    """Paces admin requests shared by many workers (``rotator.fleet.rate_budget.RateBudget``)."""

    def acquire(self) -> None:
        """Block until one more request may be sent."""
        ...

    def accepted(self) -> None:
        """The request was answered (not throttled)."""
        ...

    def throttled(self, retry_after: float | None) -> None:
        """The request got a 429; every worker pauses for ``retry_after``."""
        ...


#: Builds an admin client bound to one admin key.
AdminFactory = Callable[[Sensitive], OpenAIAdmin]
