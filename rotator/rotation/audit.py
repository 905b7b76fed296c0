"""Gathering the audit's facts (:class:`~rotator.domain.audit.SecretFacts`) through the ports.

The edges discover the rotator secrets (``app.fleet.discover``: one DescribeSecret-like listing
and one AWSCURRENT read per secret), then call :func:`gather_facts`; the pure
:func:`~rotator.domain.audit.audit_fleet` decides. The only extra call is ListSecretVersionIds
(:class:`~rotator.ports.VersionHistory`), and only for a secret whose value has no
``rotated_at`` (the key's age is then its version's CreatedDate) or that holds an AWSPENDING
outside AWSCURRENT (how long it has been pending). Without that call (``history=None``: the
Lambda's audit role is granted ListSecrets, BatchGetSecretValue, DescribeSecret and
GetSecretValue only) the key's age falls back to the secret's LastRotatedDate, and a pending
rotation is dated by LastChangedDate, which is never earlier than the AWSPENDING version's
creation: the audit may see a stuck rotation late, never too early.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rotator.domain import protocol
from rotator.domain.audit import AuditPolicy, AuditReport, SecretFacts, audit_fleet
from rotator.domain.models import AWSCURRENT, SecretDescription
from rotator.domain.secret_value import RotatorSecret
from rotator.errors import ServiceError
from rotator.ports import VersionHistory

#: A discovered secret and its parsed AWSCURRENT value.
Discovered = tuple[SecretDescription, RotatorSecret]

#: How fleet discovery words a secret whose AWSCURRENT could not be read (denied, throttled).
UNREADABLE = "could not be read"


def refuse_unreadable(problems: Iterable[tuple[str, str | None]]) -> None:
    """Raise :class:`ServiceError` when discovery could not read a secret: an audit that skipped
    it would pass a secret it never saw. ``problems``: (name, discovery problem or None)."""
    unread = sorted(
        name for name, problem in problems if problem and problem.startswith(UNREADABLE)
    )
    if unread:
        raise ServiceError(
            f"the audit could not read {len(unread)} secret(s): {', '.join(unread[:10])}; "
            "check the role's secretsmanager:GetSecretValue permission and retry"
        )


def secret_facts(
    description: SecretDescription, secret: RotatorSecret, *, history: VersionHistory | None
) -> SecretFacts:
    """What the audit needs about one secret (never its key)."""
    current_id = description.version_with(AWSCURRENT)
    pending_id = protocol.stuck_pending(description.versions)
    dates = {}
    if history is not None and (secret.rotated_at is None or pending_id is not None):
        dates = dict(history.version_dates(description.arn))
    return SecretFacts(
        name=description.name,
        rotation_enabled=description.rotation_enabled,
        key_created_at=secret.rotated_at or (dates.get(current_id) if current_id else None),
        last_rotated_at=description.last_rotated,
        expires_at=secret.expires_at,
        next_rotation_at=description.next_rotation if description.rotation_enabled else None,
        pending_since=(
            (dates.get(pending_id) if history is not None else description.last_changed)
            if pending_id is not None
            else None
        ),
    )


def audit_secrets(
    secrets: Iterable[Discovered],
    *,
    history: VersionHistory | None,
    policy: AuditPolicy,
    now: datetime,
) -> AuditReport:
    """Audit the discovered secrets, sorted by name."""
    ordered = sorted(secrets, key=lambda pair: pair[0].name)
    return audit_fleet(
        [secret_facts(d, s, history=history) for d, s in ordered], policy=policy, now=now
    )
