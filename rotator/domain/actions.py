"""The Lambda's scheduled actions besides rotation steps: ``audit`` (and ``prune``, in protocol).

``{"Action": "audit", "Prefix": "openai/", "MaxAge": "90d", "ExpiringWithin": "7d"}`` audits
every rotator secret under ``Prefix`` (all of them when absent). ``MaxAge`` and
``ExpiringWithin`` are durations (``90d``, ``24h``; absent: that check is off). Parsed once here,
pure: a bad event raises :class:`~rotator.errors.ConfigError` naming the field, never echoing
more than a few characters of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rotator.domain.audit import AuditPolicy
from rotator.domain.durations import parse_duration
from rotator.errors import ConfigError

AUDIT = "audit"
_AUDIT_FIELDS = frozenset({"Action", "Prefix", "MaxAge", "ExpiringWithin"})


@dataclass(frozen=True)
class AuditAction:
    """A parsed audit event: which secrets, and the policy to hold them to."""

    prefix: str | None
    policy: AuditPolicy


def _optional_text(event: Mapping[str, Any], name: str) -> str | None:
    value = event.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"audit event field {name} must be a string, got {type(value).__name__}")
    return value


def audit_action(event: Any) -> AuditAction | None:
    """The audit event ``{"Action": "audit", ...}``, or None for any other event."""
    if not isinstance(event, Mapping) or event.get("Action") != AUDIT:
        return None
    unknown = sorted(str(name)[:40] for name in event if name not in _AUDIT_FIELDS)
    if unknown:
        raise ConfigError(
            f"audit event has unknown field(s) {', '.join(unknown)}; it takes Prefix, MaxAge "
            "and ExpiringWithin"
        )
    durations = {}
    for name in ("MaxAge", "ExpiringWithin"):
        text = _optional_text(event, name)
        durations[name] = parse_duration(text, name=name) if text is not None else None
    return AuditAction(
        prefix=_optional_text(event, "Prefix"),
        policy=AuditPolicy(
            max_age=durations["MaxAge"], expiring_within=durations["ExpiringWithin"]
        ),
    )
