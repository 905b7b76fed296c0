"""The data that crosses the ports, and the Secrets Manager stage labels (defined once here).

Plain frozen data and enums: no I/O. Key material travels as
:class:`~rotator.domain.sensitive.Sensitive`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

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
    #: Where the secret was created (``PrimaryRegion``); a replica's differs from its ARN's.
    primary_region: str | None = None

    def version_with(self, stage: str) -> str | None:
        """The id of the version carrying ``stage``, or None."""
        for version_id, stages in self.versions.items():
            if stage in stages:
                return version_id
        return None


@dataclass(frozen=True)
class Project:
    """An OpenAI project as the admin API describes it."""

    id: str
    name: str | None
    status: str | None
    archived_at: int | None = None

    @property
    def archived(self) -> bool:
        """Archived projects refuse new keys, and their keys no longer authenticate."""
        return self.status == "archived" or self.archived_at is not None


@dataclass(frozen=True)
class ServiceAccount:
    """A project service account (rotator names its own ``rotator-<tag>-<token>``)."""

    id: str
    name: str
    created_at: int


@dataclass(frozen=True)
class CreatedKey:
    """A key minted by OpenAI. ``value`` is returned once, at creation."""

    key_id: str
    value: Sensitive
    service_account_id: str
    #: The account's name; None when the key was minted on an existing account.
    service_account_name: str | None
    created_at: int
    #: Unix seconds when OpenAI ends the key (None: it does not expire).
    expires_at: int | None = None
    #: The key's name (``rotator-<tag>-<token>`` for keys rotator mints).
    name: str | None = None


@dataclass(frozen=True)
class ApiKeyInfo:
    """A project API key as listed by the admin API (redacted)."""

    id: str
    name: str
    redacted_value: str
    created_at: int
    service_account_id: str | None
    #: Unix seconds when OpenAI ends the key (None: no expiry).
    expires_at: int | None = None
    #: Unix seconds of the key's last use as OpenAI reports it (its granularity is undocumented).
    last_used_at: int | None = None
    #: ``service_account`` or ``user``.
    owner_type: str | None = None


@dataclass(frozen=True)
class AdminKeyInfo:
    """An organization admin key as listed by ``GET /organization/admin_api_keys`` (redacted)."""

    id: str
    name: str
    redacted_value: str
    created_at: int
    #: Unix seconds when OpenAI ends the key (None: no expiry).
    expires_at: int | None = None
    last_used_at: int | None = None


@dataclass(frozen=True)
class CreatedAdminKey:
    """An admin key minted by ``POST /organization/admin_api_keys``; ``value`` is shown once."""

    key_id: str
    value: Sensitive
    name: str
    created_at: int
    expires_at: int | None = None


class DeleteOutcome(enum.Enum):
    """What a DELETE on the admin API did."""

    DELETED = "deleted"
    NOT_FOUND = "not_found"
    #: 400 from ``DELETE .../api_keys/{id}``: the key belongs to a service account (older API).
    REFUSED_SERVICE_ACCOUNT_KEY = "refused_service_account_key"


class UpdateOutcome(enum.Enum):
    """What ``POST .../api_keys/{id}`` (update scopes / expiry) did."""

    UPDATED = "updated"
    NOT_FOUND = "not_found"
    #: 400: the key has expired, a lifetime policy refuses the value, or the project is archived.
    REFUSED = "refused"
    #: 404/405 for the route itself: an older server without the update operation.
    UNSUPPORTED = "unsupported"


class ProbeResult(enum.Enum):
    """What a probe with a project key learnt about that key."""

    @property
    def works(self) -> bool:
        """The key authenticates (200, or 401 ``missing_scope``)."""
        return self in (ProbeResult.ACCEPTED, ProbeResult.RESTRICTED)

    ACCEPTED = "accepted"
    #: 401 ``missing_scope``: the key authenticates, but its scopes exclude model reads.
    #: It works (tests and proofs accept it) and it is not revoked.
    RESTRICTED = "restricted"
    #: 401: the key is unknown, revoked or not yet propagated.
    REJECTED = "rejected"
    #: 429, 5xx, timeout or dropped connection: nothing learnt about the key.
    UNAVAILABLE = "unavailable"
