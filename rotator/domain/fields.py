"""Parsers for the fields of a rotator secret: strings, times, scopes and lifetimes.

Every error names the field and the fix and never echoes the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from rotator.domain.durations import parse_key_lifetime
from rotator.errors import ConfigError, SecretFormatError

#: At most this many scopes, each at most this long (OpenAI's scope names are short).
MAX_SCOPES = 64
MAX_SCOPE_LENGTH = 100
#: Earliest and latest times a field may hold: every such time serialises in UTC.
_EARLIEST = datetime(2, 1, 1, tzinfo=UTC)
_LATEST = datetime(9998, 12, 31, tzinfo=UTC)


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
    if not _EARLIEST <= moment <= _LATEST:
        raise SecretFormatError(
            f"secret field '{field_name}' is outside the years 1 to 9998; fix it or remove "
            "the field from the secret"
        )
    return moment.astimezone(UTC)


def required_str(data: Mapping[str, Any], name: str) -> str:
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


def optional_str(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SecretFormatError(
            f"secret field '{name}' must be a non-empty string or absent, "
            f"got {type(value).__name__}; fix the secret value"
        )
    return value


def parse_scopes(raw: Any) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) > MAX_SCOPES:
        raise SecretFormatError(
            f"secret field 'scopes' must be a list of at most {MAX_SCOPES} scope names, e.g. "
            '["api.responses.write"]; fix it with `rotator init --scopes`'
        )
    scopes = []
    for scope in raw:
        if (
            not isinstance(scope, str)
            or not scope
            or len(scope) > MAX_SCOPE_LENGTH
            or any(c.isspace() for c in scope)
            or scope.startswith("sk-")
        ):
            raise SecretFormatError(
                "secret field 'scopes' holds an entry that is not a scope name (a short string "
                "without spaces, e.g. api.responses.write); fix it with `rotator init --scopes`"
            )
        scopes.append(scope)
    return tuple(scopes)


def parse_lifetime(raw: Any) -> timedelta | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise SecretFormatError(
            "secret field 'key_lifetime' must be a duration string such as \"90d\"; "
            "fix the secret value"
        )
    try:
        return parse_key_lifetime(raw, name="secret field 'key_lifetime'")
    except ConfigError as error:
        raise SecretFormatError(error.message) from None
