"""The rotated secret's value: a JSON object held in the secret's SecretString.

Required: ``api_key``, ``project_id``, ``key_id``. Optional: ``service_account_id``,
``admin_key_secret_id``, ``rotated_at`` (ISO 8601 UTC) and ``retiring`` (keys replaced by a
rotation that are still live until their ``not_after`` time). Unknown fields are carried into
every new version unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from rotator.domain.sensitive import Sensitive
from rotator.errors import SecretFormatError

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
    }
)
ADMIN_KEY_PREFIX = "sk-admin-"


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix, second precision."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str, *, field_name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SecretFormatError(
            f"secret field '{field_name}' is not an ISO 8601 time; "
            "fix it or remove the field from the secret"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


@dataclass(frozen=True)
class RetiringKey:
    """A replaced key that stays live until ``not_after``; deleted by finishSecret or prune."""

    key_id: str
    service_account_id: str | None
    not_after: datetime
    #: The secret version that held this key when it was replaced.
    version_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key_id": self.key_id}
        if self.service_account_id:
            out["service_account_id"] = self.service_account_id
        out["not_after"] = format_time(self.not_after)
        if self.version_id:
            out["version_id"] = self.version_id
        return out


def _required_str(data: Mapping[str, Any], name: str) -> str:
    if name not in data:
        raise SecretFormatError(
            f"secret value is missing the required field '{name}'; "
            "store a JSON object with api_key, project_id and key_id (see `rotator init`)"
        )
    value = data[name]
    if not isinstance(value, str) or not value.strip():
        raise SecretFormatError(
            f"secret field '{name}' must be a non-empty string, got {type(value).__name__}; "
            "fix the secret value"
        )
    return value


def _optional_str(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SecretFormatError(
            f"secret field '{name}' must be a non-empty string or absent, "
            f"got {type(value).__name__}; fix the secret value"
        )
    return value


def _parse_retiring(raw: Any) -> tuple[RetiringKey, ...]:
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
        entries.append(
            RetiringKey(
                key_id=_required_str(item, "key_id"),
                service_account_id=_optional_str(item, "service_account_id"),
                not_after=parse_time(_required_str(item, "not_after"), field_name="not_after"),
                version_id=_optional_str(item, "version_id"),
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
    #: Unknown fields, carried unchanged; kept out of repr (they may hold credentials too).
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, raw: Sensitive) -> RotatorSecret:
        """Parse a SecretString. Errors name the problem and never echo the value."""
        text = raw.reveal()
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
        api_key = _required_str(data, "api_key")
        if api_key.startswith(ADMIN_KEY_PREFIX):
            raise SecretFormatError(
                "secret field 'api_key' holds an admin key (sk-admin-...); store the project "
                "service-account key there and the admin key in its own secret"
            )
        rotated_at_raw = _optional_str(data, "rotated_at")
        return cls(
            api_key=Sensitive(api_key),
            project_id=_required_str(data, "project_id"),
            key_id=_required_str(data, "key_id"),
            service_account_id=_optional_str(data, "service_account_id"),
            admin_key_secret_id=_optional_str(data, "admin_key_secret_id"),
            rotated_at=(
                parse_time(rotated_at_raw, field_name="rotated_at") if rotated_at_raw else None
            ),
            retiring=_parse_retiring(data.get("retiring")),
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
        if self.rotated_at is not None:
            data["rotated_at"] = format_time(self.rotated_at)
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
    ) -> RotatorSecret:
        """The next version's value: same project and extra fields, a new key."""
        return replace(
            self,
            api_key=api_key,
            key_id=key_id,
            service_account_id=service_account_id,
            rotated_at=rotated_at,
            retiring=retiring,
        )
