"""``rotator status``: what a secret holds and how its rotation stands (never its key).

Beyond Secrets Manager, status asks OpenAI (with the secret's admin key) for the project's key
listing (each key's ``created_at``, ``expires_at``, ``last_used_at``) and whether the project is
archived. OpenAI does not document how often ``last_used_at`` updates: a retiring key used
after the rotation is flagged (a consumer still holds it), but an old or empty value is never
proof that nobody uses a key. A failed OpenAI call leaves ``keys_error`` set and the rest shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from rotator.domain import protocol
from rotator.domain.durations import format_duration
from rotator.domain.models import AWSCURRENT, ApiKeyInfo
from rotator.domain.secret_value import RotatorSecret, format_time, parse_time
from rotator.errors import RotatorError
from rotator.ports import OpenAIAdmin, SecretStore, VersionHistory

#: Shown wherever ``last_used_at`` is (text and JSON).
LAST_USED_NOTE = (
    "OpenAI does not document how often last_used_at updates: a stale or empty value is not "
    "proof that a key is unused"
)
#: A key must outlive its next scheduled rotation by this much (rotation windows, retries).
EXPIRY_MARGIN = timedelta(days=1)
#: Scopes shown when the secret records none.
ALL_PERMISSIONS = "All permissions (no scopes recorded)"


def _time(moment: datetime | None) -> str | None:
    return format_time(moment) if moment is not None else None


def _unix(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None


def _ago(delta: timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


@dataclass(frozen=True)
class KeyState:
    """A key the secret holds (``current``) or still retires (``retiring``), as OpenAI lists it."""

    key_id: str
    role: str
    project_id: str
    #: False when the project's listing does not have the key (deleted, or another project).
    listed: bool
    created_at: str | None = None
    expires_at: str | None = None
    last_used_at: str | None = None
    #: Retiring keys only: used after the rotation that replaced it (a consumer has the old key).
    in_use_after_rotation: bool | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def key_states(
    secret: RotatorSecret, listings: dict[str, list[ApiKeyInfo]], *, now: datetime
) -> list[KeyState]:
    """The current key and each retiring key, with what ``listings`` (by project) say of them."""
    wanted = [(secret.key_id, "current", secret.project_id)]
    wanted += [(r.key_id, "retiring", r.project_id or secret.project_id) for r in secret.retiring]
    states = []
    for key_id, role, project_id in wanted:
        info = next((k for k in listings.get(project_id, []) if k.id == key_id), None)
        used = _unix(info.last_used_at) if info else None
        in_use = None
        note = None
        if role == "retiring" and secret.rotated_at is not None:
            in_use = used is not None and used > secret.rotated_at
            if in_use and used is not None:
                note = (
                    f"still in use {_ago(now - used)} ago: a consumer has not picked up the new key"
                )
        states.append(
            KeyState(
                key_id=key_id,
                role=role,
                project_id=project_id,
                listed=info is not None,
                created_at=_time(_unix(info.created_at)) if info else None,
                expires_at=_time(_unix(info.expires_at)) if info else None,
                last_used_at=_time(used),
                in_use_after_rotation=in_use,
                note=note,
            )
        )
    return states


def expiry_warning(
    expires_at: datetime | None,
    *,
    rotation_enabled: bool,
    next_rotation: datetime | None,
    margin: timedelta = EXPIRY_MARGIN,
) -> str | None:
    """Why the current key may end before a rotation replaces it, or None."""
    if expires_at is None:
        return None
    if not rotation_enabled or next_rotation is None:
        return f"the key expires {format_time(expires_at)} and no rotation is scheduled"
    if expires_at < next_rotation + margin:
        return (
            f"the key expires {format_time(expires_at)}, before the next rotation "
            f"{format_time(next_rotation)} plus a {format_duration(margin)} margin; rotate now "
            "or lengthen the key lifetime"
        )
    return None


def archived_warning(project_id: str) -> str:
    return (
        f"project {project_id} is archived: its keys no longer authenticate and no new key can "
        "be made; move the workload to an active project and re-seed with "
        "`rotator init --force`"
    )


@dataclass(frozen=True)
class SecretStatus:
    """What ``rotator status SECRET_ID`` shows (never a key value)."""

    name: str
    arn: str
    project_id: str | None
    key_id: str | None
    service_account_id: str | None
    last_rotated: str | None
    rotation_enabled: bool
    rotation_lambda_arn: str | None
    next_rotation: str | None
    versions: dict[str, list[str]]
    current_version_id: str
    stuck_version_id: str | None
    stuck_since: str | None
    stuck_age_s: int | None
    retiring: list[dict[str, object]] = field(default_factory=list)
    #: None: no scopes recorded (the key has all permissions).
    scopes: list[str] | None = None
    key_lifetime: str | None = None
    expires_at: str | None = None
    #: None when unknown (OpenAI not asked, or the call failed: see ``keys_error``).
    project_archived: bool | None = None
    keys: list[dict[str, object]] = field(default_factory=list)
    keys_error: str | None = None
    last_used_at_note: str = LAST_USED_NOTE
    #: One line each: expiry before the next rotation, archived project, keys still in use.
    warnings: list[str] = field(default_factory=list)
    #: The current key's expiry falls before the next rotation (plus the margin).
    expires_before_rotation: bool = False

    def to_json(self) -> dict[str, Any]:
        """The ``--output json`` object (field order is the contract's)."""
        return asdict(self)


def secret_status(
    store: SecretStore,
    secret_id: str,
    *,
    history: VersionHistory | None = None,
    now: datetime | None = None,
    admin_for: Callable[[RotatorSecret], OpenAIAdmin] | None = None,
) -> SecretStatus:
    """The secret's key, versions, schedule, whether a rotation is stuck and (with
    ``admin_for``) what OpenAI says of its keys and project."""
    description = store.describe(secret_id)
    stuck = protocol.stuck_pending(description.versions)
    stuck_since = None
    if stuck is not None and history is not None:
        stuck_since = history.version_dates(description.arn).get(stuck)
    moment = now or datetime.now(UTC)
    current_id = protocol.current_version(description.versions, secret_name=description.name)
    current = RotatorSecret.parse_or_none(
        store.get_value(description.arn, version_id=current_id, stage=AWSCURRENT)
    )
    keys: list[KeyState] = []
    archived = None
    keys_error = None
    if current is not None and admin_for is not None:
        try:
            admin = admin_for(current)
            archived = admin.get_project(current.project_id).archived
            projects = [current.project_id]
            projects += [r.project_id or current.project_id for r in current.retiring]
            listings = {p: admin.list_api_keys(p) for p in dict.fromkeys(projects)}
            keys = key_states(current, listings, now=moment)
        except RotatorError as error:
            keys_error = str(error)
    # OpenAI's own expiry wins when it is sooner (a key rolled back to after a grace expiry).
    candidates = [current.expires_at] if current and current.expires_at else []
    if keys and keys[0].expires_at:
        candidates.append(parse_time(keys[0].expires_at, field_name="expires_at"))
    expires = min(candidates) if candidates else None
    warnings = []
    expiry = expiry_warning(
        expires,
        rotation_enabled=description.rotation_enabled,
        next_rotation=description.next_rotation,
    )
    if expiry:
        warnings.append(expiry)
    if archived and current is not None:
        warnings.append(archived_warning(current.project_id))
    warnings += [f"retiring key {k.key_id} {k.note}" for k in keys if k.in_use_after_rotation]
    return SecretStatus(
        name=description.name,
        arn=description.arn,
        project_id=current.project_id if current else None,
        key_id=current.key_id if current else None,
        service_account_id=current.service_account_id if current else None,
        last_rotated=_time(current.rotated_at if current else None)
        or _time(description.last_rotated),
        rotation_enabled=description.rotation_enabled,
        rotation_lambda_arn=description.rotation_lambda_arn,
        next_rotation=_time(description.next_rotation),
        versions={
            version_id: sorted(stages) for version_id, stages in description.versions.items()
        },
        current_version_id=current_id,
        stuck_version_id=stuck,
        stuck_since=_time(stuck_since),
        stuck_age_s=(
            round((moment - stuck_since).total_seconds()) if stuck_since is not None else None
        ),
        retiring=[entry.to_json() for entry in current.retiring] if current else [],
        scopes=list(current.scopes) if current and current.scopes is not None else None,
        key_lifetime=(
            format_duration(current.key_lifetime) if current and current.key_lifetime else None
        ),
        expires_at=_time(expires),
        project_archived=archived,
        keys=[k.to_json() for k in keys],
        keys_error=keys_error,
        warnings=warnings,
        expires_before_rotation=expiry is not None,
    )
