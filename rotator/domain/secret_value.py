"""The rotated secret's value: a JSON object held in the secret's SecretString.

Required: ``api_key``, ``project_id``, ``key_id``. Optional: ``service_account_id`` (the
workload's service account: new keys are minted on it), ``scopes`` (the scopes every new key
gets; absent means All permissions), ``key_lifetime`` (a duration such as ``90d``: every new key
expires that long after it is made), ``expires_at`` (when the current key expires),
``admin_key_secret_id``, ``rotated_at`` (ISO 8601 UTC) and ``retiring`` (keys replaced by a
rotation that are still live until their ``not_after`` time). Unknown fields are carried into
every new version unchanged. Ids are checked by shape (``proj_…``, ``key_…``, ``svc_acct_…``)
and times must fall in the years 1 to 9998, so that nothing parsed can fail to serialise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from rotator.domain.durations import format_duration
from rotator.domain.fields import (
    format_time,
    optional_str,
    parse_lifetime,
    parse_scopes,
    parse_time,
    required_str,
)
from rotator.domain.ids import check_id, check_secret_reference
from rotator.domain.sensitive import Sensitive
from rotator.errors import AdminKeySecretError, SecretFormatError

__all__ = ["ADMIN_KEY_PREFIX", "RetiringKey", "RotatorSecret", "format_time", "parse_time"]

#: Secrets Manager's limit for a SecretString, in bytes.
MAX_SECRET_BYTES = 65536
KNOWN_FIELDS = frozenset(
    {
        "api_key",
        "project_id",
        "key_id",
        "service_account_id",
        "admin_key_secret_id",
        "rotated_at",
        "retiring",
        "scopes",
        "key_lifetime",
        "expires_at",
    }
)
ADMIN_KEY_PREFIX = "sk-admin-"
#: Said when an admin-key secret meets code that expects a project-key secret.
NOT_A_PROJECT_KEY = (
    "secret holds an OpenAI admin key (an admin-key secret), not a project key; rotate it on its "
    "own with `rotator rotate SECRET_ID` (`rotate --all` leaves it alone)"
)


@dataclass(frozen=True)
class RetiringKey:
    """A replaced key that stays live until ``not_after``; deleted by finishSecret or prune."""

    key_id: str
    service_account_id: str | None
    not_after: datetime
    #: The secret version that held this key when it was replaced.
    version_id: str | None = None
    #: The project that holds the key (absent in entries written before 2026-12: the secret's).
    project_id: str | None = None
    #: Why an earlier attempt could not retire the key (shown by ``status`` and the report).
    reason: str | None = None
    #: True once OpenAI was told to end the key at ``not_after`` (a grace period it enforces).
    expiry_set: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key_id": self.key_id}
        if self.service_account_id:
            out["service_account_id"] = self.service_account_id
        if self.project_id:
            out["project_id"] = self.project_id
        out["not_after"] = format_time(self.not_after)
        if self.version_id:
            out["version_id"] = self.version_id
        if self.expiry_set:
            out["expiry_set"] = True
        if self.reason:
            out["reason"] = self.reason[:200]
        return out

    def in_project(self, default: str) -> str:
        """The project that holds this key: its own, else the secret's."""
        return self.project_id or default


def parse_retiring(raw: Any) -> tuple[RetiringKey, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SecretFormatError(
            "secret field 'retiring' must be a list of {key_id, not_after} objects; "
            "fix the secret value"
        )
    entries = []
    for item in raw:
        if not isinstance(item, dict):
            raise SecretFormatError(
                "secret field 'retiring' holds a non-object entry; fix the secret value"
            )
        account = optional_str(item, "service_account_id")
        project = optional_str(item, "project_id")
        expiry_set = item.get("expiry_set", False)
        if not isinstance(expiry_set, bool):
            raise SecretFormatError(
                "secret field 'retiring[].expiry_set' must be true or false; fix the secret value"
            )
        entries.append(
            RetiringKey(
                key_id=check_id(required_str(item, "key_id"), field="key_id"),
                service_account_id=(
                    check_id(account, field="service_account_id") if account else None
                ),
                not_after=parse_time(required_str(item, "not_after"), field_name="not_after"),
                version_id=optional_str(item, "version_id"),
                project_id=check_id(project, field="project_id") if project else None,
                reason=optional_str(item, "reason"),
                expiry_set=expiry_set,
            )
        )
    return tuple(entries)


@dataclass(frozen=True)
class RotatorSecret:
    """A parsed rotator secret. ``api_key`` is wrapped so that it never prints."""

    api_key: Sensitive
    project_id: str
    key_id: str
    service_account_id: str | None = None
    admin_key_secret_id: str | None = None
    rotated_at: datetime | None = None
    retiring: tuple[RetiringKey, ...] = ()
    #: The scopes every new key is created with; None means none recorded (All permissions).
    scopes: tuple[str, ...] | None = None
    #: How long each new key lives (OpenAI's ``expires_in_seconds``); overrides the setting.
    key_lifetime: timedelta | None = None
    #: When the current key expires (None: it does not, or rotator did not set a lifetime).
    expires_at: datetime | None = None
    #: Unknown fields, carried unchanged; kept out of repr (they may hold credentials too).
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, raw: Sensitive) -> RotatorSecret:
        """Parse a SecretString. Errors name the problem and never echo the value."""
        text = raw.reveal()
        if text.strip().startswith(ADMIN_KEY_PREFIX):
            raise AdminKeySecretError(NOT_A_PROJECT_KEY)
        if len(text.encode()) > MAX_SECRET_BYTES:
            raise SecretFormatError(
                f"secret value is larger than {MAX_SECRET_BYTES} bytes; "
                "store only the rotator fields in it"
            )
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise SecretFormatError(
                "secret value is not JSON; store a JSON object with api_key, project_id "
                "and key_id (see `rotator init`)"
            ) from None
        if not isinstance(data, dict):
            raise SecretFormatError(
                f"secret value is JSON {type(data).__name__}, not an object; store a JSON "
                "object with api_key, project_id and key_id"
            )
        if "api_key" not in data and isinstance(data.get("admin_key"), str):
            raise AdminKeySecretError(NOT_A_PROJECT_KEY)
        api_key = required_str(data, "api_key")
        if api_key.startswith(ADMIN_KEY_PREFIX):
            raise SecretFormatError(
                "secret field 'api_key' holds an admin key (sk-admin-...); store the project "
                "service-account key there and the admin key in its own secret"
            )
        rotated_at_raw = optional_str(data, "rotated_at")
        expires_at_raw = optional_str(data, "expires_at")
        account = optional_str(data, "service_account_id")
        admin_ref = optional_str(data, "admin_key_secret_id")
        return cls(
            api_key=Sensitive(api_key),
            project_id=check_id(required_str(data, "project_id"), field="project_id"),
            key_id=check_id(required_str(data, "key_id"), field="key_id"),
            service_account_id=check_id(account, field="service_account_id") if account else None,
            admin_key_secret_id=(
                check_secret_reference(
                    admin_ref,
                    field="secret field 'admin_key_secret_id'",
                    error=SecretFormatError,
                )
                if admin_ref
                else None
            ),
            rotated_at=(
                parse_time(rotated_at_raw, field_name="rotated_at") if rotated_at_raw else None
            ),
            retiring=parse_retiring(data.get("retiring")),
            scopes=parse_scopes(data.get("scopes")),
            key_lifetime=parse_lifetime(data.get("key_lifetime")),
            expires_at=(
                parse_time(expires_at_raw, field_name="expires_at") if expires_at_raw else None
            ),
            extra={k: v for k, v in data.items() if k not in KNOWN_FIELDS},
        )

    @classmethod
    def parse_or_none(cls, raw: Sensitive | None) -> RotatorSecret | None:
        return None if raw is None else cls.parse(raw)

    def to_json(self) -> Sensitive:
        """Serialise for PutSecretValue; unknown fields first, then the rotator's own."""
        data: dict[str, Any] = dict(self.extra)
        data["api_key"] = self.api_key.reveal()
        data["project_id"] = self.project_id
        data["key_id"] = self.key_id
        if self.service_account_id:
            data["service_account_id"] = self.service_account_id
        if self.admin_key_secret_id:
            data["admin_key_secret_id"] = self.admin_key_secret_id
        if self.scopes is not None:
            data["scopes"] = list(self.scopes)
        if self.key_lifetime is not None:
            data["key_lifetime"] = format_duration(self.key_lifetime)
        if self.rotated_at is not None:
            data["rotated_at"] = format_time(self.rotated_at)
        if self.expires_at is not None:
            data["expires_at"] = format_time(self.expires_at)
        if self.retiring:
            data["retiring"] = [entry.to_json() for entry in self.retiring]
        return Sensitive(json.dumps(data, separators=(",", ":"), sort_keys=False))

    def successor(
        self,
        *,
        api_key: Sensitive,
        key_id: str,
        service_account_id: str | None,
        rotated_at: datetime,
        retiring: tuple[RetiringKey, ...],
        expires_at: datetime | None = None,
    ) -> RotatorSecret:
        """The next version's value: same project, scopes, lifetime and extra fields, a new key."""
        return replace(
            self,
            api_key=api_key,
            key_id=key_id,
            service_account_id=service_account_id,
            rotated_at=rotated_at,
            retiring=retiring,
            expires_at=expires_at,
        )
