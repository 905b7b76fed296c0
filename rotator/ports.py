"""The seams between the rotation service and the outside world (typing.Protocol).

Adapters in ``rotator/adapters`` implement these over boto3 and httpx; fakes in
``rotator/testing`` implement them in memory. Everything crossing a port is plain data;
key material always travels as :class:`~rotator.domain.sensitive.Sensitive`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from rotator.domain.sensitive import Sensitive

AWSCURRENT = "AWSCURRENT"
AWSPENDING = "AWSPENDING"
AWSPREVIOUS = "AWSPREVIOUS"


@dataclass(frozen=True)
class SecretDescription:
    """What DescribeSecret tells about a secret, without any value."""

    arn: str
    name: str
    versions: Mapping[str, frozenset[str]]
    rotation_enabled: bool = False
    rotation_lambda_arn: str | None = None
    rotation_rules: Mapping[str, object] = field(default_factory=dict)
    last_rotated: datetime | None = None
    last_changed: datetime | None = None
    next_rotation: datetime | None = None
    deleted: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)

    def version_with(self, stage: str) -> str | None:
        """The id of the version carrying ``stage``, or None."""
        for version_id, stages in self.versions.items():
            if stage in stages:
                return version_id
        return None


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
class VersionHistory(Protocol):
    """ListSecretVersionIds: when each labelled version was created (a stuck rotation's age)."""

    def version_dates(self, secret_id: str) -> Mapping[str, datetime]: ...


@dataclass(frozen=True)
class Project:
    id: str
    name: str | None
    status: str | None


@dataclass(frozen=True)
class ServiceAccount:
    id: str
    name: str
    created_at: int


@dataclass(frozen=True)
class CreatedKey:
    """A key minted by OpenAI. ``value`` is returned once, at creation."""

    key_id: str
    value: Sensitive
    service_account_id: str
    service_account_name: str
    created_at: int


@dataclass(frozen=True)
class ApiKeyInfo:
    """A project API key as listed by the admin API (redacted)."""

    id: str
    name: str
    redacted_value: str
    created_at: int
    service_account_id: str | None


class DeleteOutcome(enum.Enum):
    DELETED = "deleted"
    NOT_FOUND = "not_found"
    #: 400 from ``DELETE .../api_keys/{id}``: the key belongs to a service account (older API).
    REFUSED_SERVICE_ACCOUNT_KEY = "refused_service_account_key"


class OpenAIAdmin(Protocol):
    """The OpenAI Administration API, bound to one admin key.

    Errors: ``AdminKeyError`` for 401/403, ``ProjectNotFoundError`` for an unknown project,
    ``TransientServiceError`` for 429/5xx/timeouts, ``ResponseLostError`` when a create's
    answer never came back.
    """

    def get_project(self, project_id: str) -> Project: ...

    def list_service_accounts(self, project_id: str) -> list[ServiceAccount]: ...

    def create_service_account(self, project_id: str, name: str) -> CreatedKey:
        """Never retried: a lost answer is reconciled by name by the caller."""
        ...

    def delete_service_account(self, project_id: str, service_account_id: str) -> DeleteOutcome: ...

    def delete_api_key(self, project_id: str, key_id: str) -> DeleteOutcome: ...

    def list_api_keys(self, project_id: str) -> list[ApiKeyInfo]: ...


class ProbeResult(enum.Enum):
    ACCEPTED = "accepted"
    #: 401: the key is unknown, revoked or not yet propagated.
    REJECTED = "rejected"
    #: 429, 5xx, timeout or dropped connection: nothing learnt about the key.
    UNAVAILABLE = "unavailable"


class KeyProbe(Protocol):
    """Makes a real, cheap, authenticated call (``GET /models``) with a project key."""

    def check(self, key: Sensitive) -> ProbeResult: ...


#: Builds an admin client bound to one admin key.
AdminFactory = Callable[[Sensitive], OpenAIAdmin]
