"""The key-age audit: which secrets are out of policy, and why. Pure: no I/O, no clock, no logging.

The caller gathers one :class:`SecretFacts` per rotator secret (DescribeSecret, the secret's
``rotated_at``, OpenAI's key ``expires_at``, the AWSPENDING version's creation date) and a
:class:`AuditPolicy` from the CLI flags or the Lambda event, then calls :func:`audit_secret` or
:func:`audit_fleet`::

    from rotator.domain.audit import AuditPolicy, SecretFacts, audit_fleet

    policy = AuditPolicy(max_age=timedelta(days=90), expiring_within=timedelta(days=7))
    report = audit_fleet(
        [SecretFacts(name="openai/app", key_created_at=rotated_at, rotation_enabled=True,
                     next_rotation_at=description.next_rotation, expires_at=None)],
        policy=policy,
        now=datetime.now(UTC),
    )
    report.exit_code          # 1 if any secret is out of policy, else 0
    report.to_json()          # {"secrets_audited": 1, "secrets_out_of_policy": 0, "secrets": [...]}

Reasons (:class:`Reason`), each independent of the others:

``too_old``
    The key is older than ``policy.max_age``. Its age is measured from ``key_created_at`` (when
    rotator minted it), else ``last_rotated_at`` (the secret's last rotation).
``expires_before_next_rotation``
    The key has an ``expires_at`` and no rotation is due before it: rotation is off, no next
    rotation date is known, or the next rotation comes at or after the expiry.
``expiring_soon``
    The key expires within ``policy.expiring_within`` of ``now`` (or has already expired).
``rotation_disabled``
    Secrets Manager's rotation is switched off for the secret.
``stuck_rotation``
    An AWSPENDING version (other than AWSCURRENT) has existed for ``policy.stuck_after`` or
    longer: a rotation started and neither finished nor was cleaned up.

A secret whose key age cannot be known (no date at all) gets ``key_age_days=None`` and is not
``too_old``; the other reasons still apply. Times must be timezone-aware.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rotator.domain.secret_value import format_time
from rotator.errors import ConfigError

SECONDS_PER_DAY = 86400
#: An AWSPENDING older than this is a stuck rotation (a Lambda rotation takes seconds to minutes;
#: Secrets Manager retries a failing step for a while before giving up).
DEFAULT_STUCK_AFTER = timedelta(hours=1)


class Reason(enum.StrEnum):
    """Why a secret is out of policy. The values are stable: they appear in JSON output."""

    TOO_OLD = "too_old"
    EXPIRES_BEFORE_NEXT_ROTATION = "expires_before_next_rotation"
    EXPIRING_SOON = "expiring_soon"
    ROTATION_DISABLED = "rotation_disabled"
    STUCK_ROTATION = "stuck_rotation"


@dataclass(frozen=True)
class AuditPolicy:
    """What the audit tolerates. ``None`` switches a check off."""

    max_age: timedelta | None = None
    expiring_within: timedelta | None = None
    stuck_after: timedelta = DEFAULT_STUCK_AFTER

    def __post_init__(self) -> None:
        for name in ("max_age", "expiring_within", "stuck_after"):
            value = getattr(self, name)
            if value is not None and value < timedelta(0):
                raise ConfigError(f"audit policy {name} is negative; use a duration of 0 or more")


@dataclass(frozen=True)
class SecretFacts:
    """What the audit needs to know about one secret. Never holds key material."""

    name: str
    rotation_enabled: bool
    key_created_at: datetime | None = None
    last_rotated_at: datetime | None = None
    expires_at: datetime | None = None
    next_rotation_at: datetime | None = None
    #: Creation date of an AWSPENDING version that is not AWSCURRENT; ``None`` if there is none.
    pending_since: datetime | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("audit facts need the secret's name")
        for name in (
            "key_created_at",
            "last_rotated_at",
            "expires_at",
            "next_rotation_at",
            "pending_since",
        ):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ConfigError(f"audit fact {name} has no timezone; pass an aware datetime")


@dataclass(frozen=True)
class Finding:
    """One reason a secret is out of policy, with a one-line explanation (no key material)."""

    reason: Reason
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"reason": self.reason.value, "detail": self.detail}


@dataclass(frozen=True)
class SecretAudit:
    """The audit of one secret. ``key_age_days`` feeds the ``KeyAgeDays`` metric."""

    secret_name: str
    key_age_days: float | None
    findings: tuple[Finding, ...] = ()
    expires_at: datetime | None = None
    next_rotation_at: datetime | None = None

    @property
    def in_policy(self) -> bool:
        return not self.findings

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return tuple(f.reason for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "secret_name": self.secret_name,
            "in_policy": self.in_policy,
            "key_age_days": self.key_age_days,
            "expires_at": format_time(self.expires_at) if self.expires_at else None,
            "next_rotation_at": (
                format_time(self.next_rotation_at) if self.next_rotation_at else None
            ),
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass(frozen=True)
class AuditReport:
    """The audit of a fleet. ``secrets_out_of_policy`` feeds the ``SecretsOutOfPolicy`` metric."""

    secrets: tuple[SecretAudit, ...] = field(default_factory=tuple)

    @property
    def out_of_policy(self) -> tuple[SecretAudit, ...]:
        return tuple(s for s in self.secrets if not s.in_policy)

    @property
    def secrets_out_of_policy(self) -> int:
        return len(self.out_of_policy)

    @property
    def exit_code(self) -> int:
        """``rotator audit``'s exit code: 1 if any secret is out of policy, else 0."""
        return 1 if self.out_of_policy else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "secrets_audited": len(self.secrets),
            "secrets_out_of_policy": self.secrets_out_of_policy,
            "secrets": [s.to_json() for s in self.secrets],
        }


def _days(delta: timedelta) -> float:
    return round(delta.total_seconds() / SECONDS_PER_DAY, 3)


def _span(delta: timedelta) -> str:
    """A short human duration: ``3d``, ``5h``, ``12m`` (rounded down, never negative)."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds >= SECONDS_PER_DAY:
        return f"{seconds // SECONDS_PER_DAY}d"
    if seconds >= 3600:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m"


def key_age(facts: SecretFacts, *, now: datetime) -> timedelta | None:
    """The key's age: from ``key_created_at``, else ``last_rotated_at``; never negative."""
    minted = facts.key_created_at or facts.last_rotated_at
    if minted is None:
        return None
    return max(now - minted, timedelta(0))


def _expiry_findings(facts: SecretFacts, policy: AuditPolicy, now: datetime) -> list[Finding]:
    expires = facts.expires_at
    if expires is None:
        return []
    found: list[Finding] = []
    if not facts.rotation_enabled or facts.next_rotation_at is None:
        found.append(
            Finding(
                Reason.EXPIRES_BEFORE_NEXT_ROTATION,
                f"key expires {format_time(expires)} and no rotation is scheduled",
            )
        )
    elif expires <= facts.next_rotation_at:
        found.append(
            Finding(
                Reason.EXPIRES_BEFORE_NEXT_ROTATION,
                f"key expires {format_time(expires)}, before the next rotation "
                f"{format_time(facts.next_rotation_at)}",
            )
        )
    if policy.expiring_within is not None and expires - now <= policy.expiring_within:
        detail = (
            f"key expired {_span(now - expires)} ago"
            if expires <= now
            else f"key expires in {_span(expires - now)} (policy: within "
            f"{_span(policy.expiring_within)})"
        )
        found.append(Finding(Reason.EXPIRING_SOON, detail))
    return found


def audit_secret(facts: SecretFacts, *, policy: AuditPolicy, now: datetime) -> SecretAudit:
    """Audit one secret against ``policy`` at ``now`` (an aware datetime)."""
    if now.tzinfo is None:
        raise ConfigError("audit time has no timezone; pass an aware datetime")
    found: list[Finding] = []
    age = key_age(facts, now=now)
    if policy.max_age is not None and age is not None and age > policy.max_age:
        found.append(
            Finding(Reason.TOO_OLD, f"key is {_span(age)} old (policy: {_span(policy.max_age)})")
        )
    found.extend(_expiry_findings(facts, policy, now))
    if not facts.rotation_enabled:
        found.append(Finding(Reason.ROTATION_DISABLED, "rotation is switched off"))
    if facts.pending_since is not None and now - facts.pending_since >= policy.stuck_after:
        found.append(
            Finding(
                Reason.STUCK_ROTATION,
                f"a rotation has been pending for {_span(now - facts.pending_since)}",
            )
        )
    return SecretAudit(
        secret_name=facts.name,
        key_age_days=_days(age) if age is not None else None,
        findings=tuple(found),
        expires_at=facts.expires_at,
        next_rotation_at=facts.next_rotation_at,
    )


def audit_fleet(facts: Iterable[SecretFacts], *, policy: AuditPolicy, now: datetime) -> AuditReport:
    """Audit every secret, in the order given."""
    return AuditReport(tuple(audit_secret(f, policy=policy, now=now) for f in facts))
