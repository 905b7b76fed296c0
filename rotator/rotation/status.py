"""``rotator status``: what a secret holds and how its rotation stands (never its key)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from rotator.domain import protocol
from rotator.domain.models import AWSCURRENT
from rotator.domain.secret_value import RotatorSecret, format_time
from rotator.ports import SecretStore, VersionHistory


def _time(moment: datetime | None) -> str | None:
    return format_time(moment) if moment is not None else None


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

    def to_json(self) -> dict[str, Any]:
        """The ``--output json`` object (field order is the contract's)."""
        return asdict(self)


def secret_status(
    store: SecretStore,
    secret_id: str,
    *,
    history: VersionHistory | None = None,
    now: datetime | None = None,
) -> SecretStatus:
    """The secret's key, versions, schedule and whether a rotation is stuck."""
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
    )
