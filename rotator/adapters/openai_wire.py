"""What OpenAI's answers mean, without any HTTP library: error bodies, fields, error mapping.

Pure functions over status codes, headers and bytes, used by :mod:`rotator.adapters.openai_http`.
Error bodies are parsed defensively (``{"error": {...}}``, ``{"error": "text"}``, top-level
``{"message": ...}``, or not JSON at all), and provider text is quoted only through
:func:`mask_keys`.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from rotator.domain.models import AdminKeyInfo, ApiKeyInfo, CreatedAdminKey, CreatedKey
from rotator.domain.sensitive import KEY_PATTERN, Sensitive
from rotator.errors import (
    AdminKeyError,
    KeyLifetimeRequiredError,
    ProjectArchivedError,
    ProjectNotFoundError,
    ResponseLostError,
    RotatorError,
    ServiceError,
    TransientServiceError,
)

T = TypeVar("T")
_NOT_JSON = object()
_SCOPES = re.compile(r"missing scopes?:?\s*([a-z0-9_.:]+(?:\s*,\s*[a-z0-9_.:]+)*)", re.IGNORECASE)
_WRITE_FIX = "give the admin key Organization Administration: Write (api.management.write)"
_ARCHIVED = re.compile(r"\barchived\b", re.IGNORECASE)
_LIFETIME_FIELD = "expires_in_seconds"
LIFETIME_REQUIRED = (
    "OpenAI refused a key without an expiry (a key-lifetime policy applies): set --key-lifetime,"
    " ROTATOR_KEY_LIFETIME or the secret's key_lifetime, e.g. 90d"
)


def mask_keys(text: str, limit: int = 240) -> str:
    """Provider text made safe to quote: ``sk-...`` masked, one line, at most ``limit`` chars."""
    one_line = " ".join(KEY_PATTERN.sub("sk-***", text).split())
    return one_line if len(one_line) <= limit else one_line[: limit - 3] + "..."


def bearer(key: Sensitive) -> Sensitive | None:
    """``Bearer <key>`` (still wrapped), or None when the key cannot travel in a header."""
    value = key.reveal().strip()
    if not value or not value.isascii() or not value.isprintable() or " " in value:
        return None
    return Sensitive(f"Bearer {value}")


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date).

    None for anything that is not a finite, non-negative number of seconds (``inf``, ``nan``,
    ``-5``, garbage): a bad header must not stall or crash a caller (review finding M2).
    """
    raw_ms, raw = headers.get("retry-after-ms"), headers.get("retry-after")
    with contextlib.suppress(ValueError):
        if raw_ms is not None:
            seconds = float(raw_ms) / 1000
            return seconds if math.isfinite(seconds) and seconds >= 0 else None
        if raw is not None:
            seconds = float(raw)
            return seconds if math.isfinite(seconds) and seconds >= 0 else None
    if raw is None:
        return None
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(tz=UTC)).total_seconds())


def _loads(content: bytes) -> object:
    """The parsed body, or ``_NOT_JSON``; never raises (a JSONDecodeError holds the raw body)."""
    with contextlib.suppress(ValueError, UnicodeDecodeError, RecursionError):
        return json.loads(content)
    return _NOT_JSON


class Problem:
    """The useful, quotable parts of an error answer."""

    def __init__(self, status: int, headers: Mapping[str, str], content: bytes) -> None:
        self.status = status
        self.retry_after = retry_after(headers)
        self.message: str | None = None
        self.code: str | None = None
        self.param: str | None = None
        request_id = headers.get("x-request-id")
        self.suffix = f" [x-request-id {mask_keys(request_id, 80)}]" if request_id else ""
        body = _loads(content)
        error = body.get("error", body) if isinstance(body, dict) else None
        if isinstance(error, str):
            self.message = mask_keys(error)
        elif isinstance(error, dict):
            message, code = error.get("message"), error.get("code")
            self.message = mask_keys(message) if isinstance(message, str) else None
            self.code = mask_keys(code, 60) if isinstance(code, str) else None
            param = error.get("param")
            self.param = mask_keys(param, 60) if isinstance(param, str) else None

    @property
    def missing_scope(self) -> str | None:
        found = _SCOPES.search(self.message or "")
        return found.group(1).replace(" ", "").rstrip(".") if found else None

    @property
    def route_missing(self) -> bool:
        """405, or a 404 for the URL itself (``Invalid URL (...)``): an older server's answer."""
        if self.status == 405:
            return True
        return self.status == 404 and (self.message or "").startswith("Invalid URL")

    @property
    def says_archived(self) -> bool:
        return _ARCHIVED.search(self.message or "") is not None

    def quoted(self) -> str:
        code = f" {self.code}" if self.code else ""
        said = f": {self.message}" if self.message else ""
        return f"{self.status}{code}{said}"


class Fields:
    """Typed access to a JSON object from OpenAI; a missing or mistyped field is a ServiceError."""

    def __init__(self, data: object, what: str) -> None:
        if not isinstance(data, dict):
            raise ServiceError(f"OpenAI's answer to {what} is malformed: expected a JSON object")
        self._data: dict[str, object] = data
        self._what = what

    @classmethod
    def parse(cls, content: bytes, what: str) -> Fields:
        data = _loads(content)
        if data is _NOT_JSON:
            raise ServiceError(f"OpenAI's answer to {what} is not JSON")
        return cls(data, what)

    def _get(self, name: str, kind: type[T], label: str) -> T:
        value = self._data.get(name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ServiceError(
                f"OpenAI's answer to {self._what} is malformed: '{name}' is missing or not {label}"
            )
        return value

    def text(self, name: str) -> str:
        return self._get(name, str, "a string")

    def optional_text(self, name: str) -> str | None:
        return None if self._data.get(name) is None else self.text(name)

    def number(self, name: str) -> int:
        return self._get(name, int, "an integer")

    def optional_number(self, name: str) -> int | None:
        return None if self._data.get(name) is None else self.number(name)

    def flag(self, name: str) -> bool:
        return self._get(name, bool, "a boolean")

    def child(self, name: str) -> Fields:
        return Fields(self._get(name, dict, "an object"), self._what)

    def children(self, name: str) -> list[Fields]:
        return [Fields(item, self._what) for item in self._get(name, list, "a list")]

    def has(self, name: str) -> bool:
        return self._data.get(name) is not None


def error_for(problem: Problem, *, what: str, method: str, project_id: str) -> RotatorError:
    """The rotator error for a non-2xx admin answer (table in ``openai_http``'s docstring)."""
    status, scope, tail = problem.status, problem.missing_scope, problem.suffix
    if status == 401 and scope is None:
        return AdminKeyError(
            "OpenAI rejected the admin key (401 invalid_api_key); store a valid sk-admin-... key"
            f" in the admin-key secret{tail}"
        )
    if status in (401, 403):
        missing = f"it lacks {scope}" if scope else "permission denied"
        return AdminKeyError(
            f"OpenAI refused the admin key for {what} ({status}: {missing}); use an sk-admin-..."
            f" key and {_WRITE_FIX}{tail}"
        )
    if status == 404:
        return ProjectNotFoundError(
            f"OpenAI project {project_id} was not found (404); check project_id in the secret and"
            f" that the admin key belongs to the project's organization{tail}"
        )
    if status == 429 or status >= 500:
        # A 5xx to a create may come after the create took effect: the caller reconciles.
        kind = ResponseLostError if method == "POST" and status >= 500 else TransientServiceError
        return kind(
            f"OpenAI answered {problem.quoted()} to {what}; retry later{tail}",
            status=status,
            retry_after=problem.retry_after,
        )
    return ServiceError(f"OpenAI refused {what} ({problem.quoted()}){tail}", status=status)


def create_refusal(
    problem: Problem, *, what: str, project_id: str, sent_lifetime: bool
) -> RotatorError:
    """The error for a 4xx answer to a key-minting create (account or per-account key).

    A 400 that says the project is archived is :class:`ProjectArchivedError`; a 400 naming
    ``expires_in_seconds``, or any other 400 to a create sent without one, is
    :class:`KeyLifetimeRequiredError` (OpenAI's exact refusal is undocumented). ``project_id``
    has been checked by shape, so it is safe to quote.
    """
    if problem.status == 400 and problem.says_archived:
        return ProjectArchivedError(
            f"project {project_id} is archived: its keys no longer work and it refuses new ones;"
            " move the workload to an active project and re-seed the secret with"
            " `rotator init --force`"
        )
    names_lifetime = problem.param == _LIFETIME_FIELD or _LIFETIME_FIELD in (problem.message or "")
    if problem.status == 400 and sent_lifetime and names_lifetime:
        said = f" ({problem.message})" if problem.message else ""
        return KeyLifetimeRequiredError(
            f"OpenAI refused the key's expiry{said}: a key-lifetime policy applies; set a shorter"
            " --key-lifetime, ROTATOR_KEY_LIFETIME or the secret's key_lifetime"
        )
    if problem.status == 400 and (names_lifetime or not sent_lifetime):
        return KeyLifetimeRequiredError(LIFETIME_REQUIRED)
    return error_for(problem, what=what, method="POST", project_id=project_id)


def created_key(
    key: Fields, account_id: str, account_name: str | None, *, default_name: str | None = None
) -> CreatedKey:
    """A key object as OpenAI returns it once, at creation (with its ``value``)."""
    return CreatedKey(
        key_id=key.text("id"),
        value=Sensitive(key.text("value")),
        service_account_id=account_id,
        service_account_name=account_name,
        created_at=key.number("created_at"),
        expires_at=key.optional_number("expires_at"),
        name=key.optional_text("name") or default_name,
    )


def api_key_info(item: Fields) -> ApiKeyInfo:
    """One item of the project key listing (redacted; owned by a service account or a user)."""
    owner = item.child("owner")
    owner_type = owner.optional_text("type")
    account_id = None
    if owner_type == "service_account" and owner.has("service_account"):
        account_id = owner.child("service_account").text("id")
    return ApiKeyInfo(
        id=item.text("id"),
        name=item.optional_text("name") or "",
        redacted_value=item.text("redacted_value"),
        created_at=item.number("created_at"),
        service_account_id=account_id,
        expires_at=item.optional_number("expires_at"),
        last_used_at=item.optional_number("last_used_at"),
        owner_type=owner_type,
    )


def admin_key_info(item: Fields) -> AdminKeyInfo:
    """One item of ``GET /organization/admin_api_keys`` (redacted)."""
    return AdminKeyInfo(
        id=item.text("id"),
        name=item.optional_text("name") or "",
        redacted_value=item.text("redacted_value"),
        created_at=item.number("created_at"),
        expires_at=item.optional_number("expires_at"),
        last_used_at=item.optional_number("last_used_at"),
    )


def created_admin_key(item: Fields, *, default_name: str) -> CreatedAdminKey:
    """The answer to ``POST /organization/admin_api_keys`` (the only time ``value`` is shown)."""
    return CreatedAdminKey(
        key_id=item.text("id"),
        value=Sensitive(item.text("value")),
        name=item.optional_text("name") or default_name,
        created_at=item.number("created_at"),
        expires_at=item.optional_number("expires_at"),
    )
