"""An admin-key secret's value: the organization admin key rotator itself rotates.

Two shapes are accepted:

- the bare key, ``sk-admin-…`` (as an operator pastes it): its id is unknown, so the first
  rotation adopts it (finds the id in ``GET /organization/admin_api_keys`` by its redacted form)
  and stores JSON from then on;
- JSON ``{"admin_key": "sk-admin-…", "admin_key_id": "key_…"}`` with the optional
  ``key_lifetime`` (``"90d"``: every new admin key expires that long after it is made),
  ``rotated_at`` (ISO 8601 UTC) and ``retiring`` (admin keys replaced by a rotation, deleted by
  its finishSecret). Unknown fields are carried into every new version unchanged.

Consumers that read the bare string must parse JSON once the first rotation has run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from rotator.domain.durations import format_duration
from rotator.domain.fields import format_time, optional_str, parse_lifetime, parse_time
from rotator.domain.ids import check_id, looks_like_key
from rotator.domain.secret_value import (
    ADMIN_KEY_PREFIX,
    MAX_SECRET_BYTES,
    RetiringKey,
    RotatorSecret,
    parse_retiring,
)
from rotator.domain.sensitive import Sensitive
from rotator.errors import SecretFormatError

__all__ = ["AdminKeySecret", "HeldKey", "held_key", "is_admin_secret", "matches_redacted"]

KNOWN_FIELDS = frozenset({"admin_key", "admin_key_id", "key_lifetime", "rotated_at", "retiring"})
#: What OpenAI puts between the shown head and tail of a redacted key (``sk-admin...xyz``).
_ELISION = re.compile(r"(?:\.{2,}|…|\*{2,})")
#: Fewer visible characters than this in a redacted form prove nothing about a value.
_MIN_VISIBLE = 8


def is_admin_secret(raw: Sensitive) -> bool:
    """True when ``raw`` is an admin-key secret's value (bare ``sk-admin-…`` or its JSON)."""
    text = raw.reveal().strip()
    if text.startswith(ADMIN_KEY_PREFIX):
        return True
    if not text.startswith("{"):
        return False
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and "api_key" not in data and "admin_key" in data


def matches_redacted(value: Sensitive, redacted: str) -> bool:
    """True when OpenAI's redacted form (head, an elision, tail) fits ``value``.

    The visible characters must add up to at least eight and include a tail: every admin key
    starts ``sk-admin``, so ``sk-...`` or ``sk-admin...`` alone matches nothing.
    """
    parts = _ELISION.split(redacted.strip(), maxsplit=1)
    if len(parts) != 2:
        return False
    head, tail = parts
    text = value.reveal()
    if not tail or len(head) + len(tail) < _MIN_VISIBLE or len(text) < len(head) + len(tail):
        return False
    return text.startswith(head) and text.endswith(tail)


@dataclass(frozen=True)
class AdminKeySecret:
    """A parsed admin-key secret; ``admin_key`` is wrapped so that it never prints."""

    admin_key: Sensitive
    #: None for a bare value not yet adopted.
    admin_key_id: str | None
    key_lifetime: timedelta | None = None
    rotated_at: datetime | None = None
    retiring: tuple[RetiringKey, ...] = ()
    #: True when the stored value was the bare key (the first rotation stores JSON).
    bare: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, raw: Sensitive) -> AdminKeySecret:
        """Parse an admin-key secret. Errors name the problem and never echo the value."""
        text = raw.reveal().strip()
        if len(text.encode()) > MAX_SECRET_BYTES:
            raise SecretFormatError(
                f"admin-key secret value is larger than {MAX_SECRET_BYTES} bytes; store only "
                "the admin_key and admin_key_id fields in it"
            )
        if not text.startswith("{"):
            return cls(admin_key=_admin_key(text), admin_key_id=None, bare=True)
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise SecretFormatError(
                "admin-key secret value is not JSON; store the bare sk-admin-... key or "
                '{"admin_key": "sk-admin-...", "admin_key_id": "key_..."}'
            ) from None
        if not isinstance(data, dict):
            raise SecretFormatError(
                f"admin-key secret value is JSON {type(data).__name__}, not an object; store "
                '{"admin_key": "sk-admin-...", "admin_key_id": "key_..."}'
            )
        key = data.get("admin_key")
        if not isinstance(key, str):
            raise SecretFormatError(
                "admin-key secret has no string field 'admin_key'; store "
                '{"admin_key": "sk-admin-...", "admin_key_id": "key_..."}'
            )
        key_id = optional_str(data, "admin_key_id")
        if key_id is not None and looks_like_key(key_id):
            raise SecretFormatError(
                "secret field 'admin_key_id' holds a key, not an id; put the key in "
                "'admin_key' and the key_… id in 'admin_key_id'"
            )
        rotated_at = optional_str(data, "rotated_at")
        return cls(
            admin_key=_admin_key(key.strip()),
            admin_key_id=check_id(key_id, field="admin_key_id") if key_id else None,
            key_lifetime=parse_lifetime(data.get("key_lifetime")),
            rotated_at=parse_time(rotated_at, field_name="rotated_at") if rotated_at else None,
            retiring=parse_retiring(data.get("retiring")),
            extra={k: v for k, v in data.items() if k not in KNOWN_FIELDS},
        )

    def to_json(self) -> Sensitive:
        """Serialise for PutSecretValue (always JSON); unknown fields first."""
        data: dict[str, Any] = dict(self.extra)
        data["admin_key"] = self.admin_key.reveal()
        if self.admin_key_id:
            data["admin_key_id"] = self.admin_key_id
        if self.key_lifetime is not None:
            data["key_lifetime"] = format_duration(self.key_lifetime)
        if self.rotated_at is not None:
            data["rotated_at"] = format_time(self.rotated_at)
        if self.retiring:
            data["retiring"] = [entry.to_json() for entry in self.retiring]
        return Sensitive(json.dumps(data, separators=(",", ":")))

    def adopted(self, admin_key_id: str) -> AdminKeySecret:
        """This value with its id found (a bare value becomes JSON)."""
        return replace(self, admin_key_id=check_id(admin_key_id, field="admin_key_id"))

    def successor(
        self,
        *,
        admin_key: Sensitive,
        admin_key_id: str,
        rotated_at: datetime,
        retiring: tuple[RetiringKey, ...],
    ) -> AdminKeySecret:
        """The next version: a new admin key, the same lifetime and extra fields."""
        return replace(
            self,
            admin_key=admin_key,
            admin_key_id=check_id(admin_key_id, field="admin_key_id"),
            rotated_at=rotated_at,
            retiring=retiring,
            bare=False,
        )


def _admin_key(text: str) -> Sensitive:
    if not text.startswith(ADMIN_KEY_PREFIX) or any(c.isspace() for c in text):
        raise SecretFormatError(
            "admin-key secret does not hold an OpenAI admin key (sk-admin-...); create one "
            "under Organization settings > Admin keys and store it there"
        )
    return Sensitive(text)


@dataclass(frozen=True)
class HeldKey:
    """The key a secret holds, for reports, whichever kind of secret it is."""

    key_id: str | None
    service_account_id: str | None = None
    retiring: tuple[RetiringKey, ...] = ()
    rotated_at: datetime | None = None


def held_key(raw: Sensitive | None) -> HeldKey | None:
    """The key in a project-key secret's or an admin-key secret's value (None: no value)."""
    if raw is None:
        return None
    if is_admin_secret(raw):
        admin = AdminKeySecret.parse(raw)
        return HeldKey(admin.admin_key_id, None, admin.retiring, admin.rotated_at)
    secret = RotatorSecret.parse(raw)
    return HeldKey(secret.key_id, secret.service_account_id, secret.retiring, secret.rotated_at)
