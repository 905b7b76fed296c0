"""``rotator status --all``: one row per rotator secret, from ListSecrets and one value read.

The CLI renders the rows (:mod:`rotator.cli.render`).

The key's age is measured from ``rotated_at`` in the secret (when rotator minted the key); a key
rotator never rotated falls back to the secret's last rotation, then its last change. A row is
``too_old`` when that age exceeds ``--max-age``. ``project_archived`` comes from one
GetProject per distinct project (:func:`archived_projects`); None when it could not be asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from rotator.domain import protocol
from rotator.domain.secret_value import RotatorSecret, format_time
from rotator.errors import RotatorError
from rotator.fleet.run import Candidate
from rotator.ports import OpenAIAdmin


@dataclass(frozen=True)
class StatusRow:
    """One ``status --all`` row (never a key value); the CLI adds ``key_age`` as text."""

    secret_id: str
    key_id: str | None
    key_age_s: int | None
    last_rotated: str | None
    next_rotation: str | None
    rotation_enabled: bool
    stuck_version_id: str | None
    too_old: bool
    #: The secret's OpenAI project is archived (None: unknown).
    project_archived: bool | None = None

    def to_json(self) -> dict[str, object]:
        """The row as a JSON object (field order is the contract's)."""
        return asdict(self)


def archived_projects(
    candidates: Iterable[Candidate], admin_for: Callable[[RotatorSecret], OpenAIAdmin]
) -> dict[str, bool | None]:
    """Whether each candidate's project is archived: one GetProject per project (None: failed)."""
    found: dict[str, bool | None] = {}
    for candidate in candidates:
        secret = candidate.secret
        if secret is None or secret.project_id in found:
            continue
        try:
            found[secret.project_id] = admin_for(secret).get_project(secret.project_id).archived
        except RotatorError:
            found[secret.project_id] = None
    return found


def status_row(
    candidate: Candidate,
    *,
    now: datetime,
    max_age: timedelta | None,
    archived: Mapping[str, bool | None] | None = None,
) -> StatusRow:
    """What ``status --all`` shows for one secret."""
    description, secret = candidate.description, candidate.secret
    minted = (secret.rotated_at if secret else None) or description.last_rotated
    minted = minted or description.last_changed
    age = (now - minted).total_seconds() if minted else None
    return StatusRow(
        secret_id=description.name,
        key_id=secret.key_id if secret else None,
        key_age_s=round(age) if age is not None else None,
        last_rotated=format_time(minted) if minted else None,
        next_rotation=(
            format_time(description.next_rotation) if description.next_rotation else None
        ),
        rotation_enabled=description.rotation_enabled,
        stuck_version_id=protocol.stuck_pending(description.versions),
        too_old=bool(max_age is not None and age is not None and age > max_age.total_seconds()),
        project_archived=(archived or {}).get(secret.project_id) if secret else None,
    )
