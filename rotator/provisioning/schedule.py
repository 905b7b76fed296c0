"""``rotator schedule``: turn a seeded secret's rotation on (with a Lambda and a schedule) or off.

Expressions are checked before AWS is called (:mod:`rotator.domain.schedule`); the secret must
already hold a rotator value, since a rotation of an empty secret fails.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rotator.domain.admin_secret import AdminKeySecret, is_admin_secret
from rotator.domain.models import AWSCURRENT
from rotator.domain.schedule import RotationSchedule
from rotator.domain.secret_value import RotatorSecret
from rotator.errors import SecretFormatError, SecretNotFoundError
from rotator.ports import SecretProvisioner
from rotator.provisioning.checks import existing_secret


@dataclass(frozen=True)
class ScheduleResult:
    """What ``schedule`` did, as ``--output json`` prints it."""

    secret_id: str
    arn: str
    rotation_enabled: bool
    schedule_expression: str | None = None
    duration: str | None = None
    lambda_arn: str | None = None
    started_version_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def schedule_rotation(
    store: SecretProvisioner,
    secret_id: str,
    *,
    lambda_arn: str,
    schedule: RotationSchedule,
    rotate_now: bool = False,
) -> ScheduleResult:
    """RotateSecret with the Lambda and schedule; rotates at once only when asked."""
    description = existing_secret(store, secret_id)
    if description is None:
        raise SecretNotFoundError(f"secret {secret_id} not found; create it with `rotator init`")
    has_current = description.version_with(AWSCURRENT) is not None
    raw = store.get_value(description.arn, stage=AWSCURRENT) if has_current else None
    if raw is None or not raw.reveal().strip():
        raise SecretFormatError(
            f"secret {secret_id} has no value; seed it with `rotator init` before scheduling "
            "rotation (a rotation of an empty secret fails)"
        )
    if is_admin_secret(raw):
        AdminKeySecret.parse(raw)  # an admin-key secret: rotated by its own key
    else:
        RotatorSecret.parse(raw)
    started = store.configure_rotation(
        description.arn,
        lambda_arn,
        schedule.expression,
        duration=schedule.duration,
        rotate_immediately=rotate_now,
    )
    return ScheduleResult(
        secret_id=secret_id,
        arn=description.arn,
        rotation_enabled=True,
        schedule_expression=schedule.expression,
        duration=schedule.duration,
        lambda_arn=lambda_arn,
        started_version_id=started if rotate_now else None,
    )


def disable_rotation(store: SecretProvisioner, secret_id: str) -> ScheduleResult:
    """CancelRotateSecret: no further scheduled rotations (AWSPENDING is left as it is)."""
    description = store.describe(secret_id)
    store.cancel_rotation(description.arn)
    return ScheduleResult(secret_id=secret_id, arn=description.arn, rotation_enabled=False)
