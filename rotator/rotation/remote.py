"""A rotation run by Secrets Manager (``rotator rotate --remote``).

Calls RotateSecret, which invokes the deployed rotation Lambda, then polls DescribeSecret until
AWSCURRENT is on the new version, or the timeout passes.
"""

from __future__ import annotations

from rotator.clock import Clock
from rotator.domain import protocol
from rotator.domain.admin_secret import HeldKey, held_key
from rotator.domain.models import AWSCURRENT, AWSPENDING, SecretDescription
from rotator.errors import ConfigError, RemoteRotationError
from rotator.ports import SecretStore
from rotator.retry import poll_until
from rotator.rotation.results import RotationReport, RotationStatus


def choose_mode(description: SecretDescription, requested: str | None) -> str:
    """``remote`` or ``local``: as requested, else remote when the secret's rotation is on.

    RotateSecret turns a secret's automatic rotation back on, so a secret whose rotation was
    switched off (``rotator schedule --off``) is rotated locally, and ``--remote`` is refused.
    """
    if requested == "remote":
        refuse_if_rotation_off(description)
    if requested is not None:
        return requested
    remote = description.rotation_lambda_arn is not None and description.rotation_enabled
    return "remote" if remote else "local"


def refuse_if_rotation_off(description: SecretDescription) -> None:
    """Refuse a remote rotation of a secret whose rotation is switched off (it would turn it on)."""
    if not description.rotation_enabled:
        raise ConfigError(
            f"rotation of {description.name} is switched off (RotationEnabled is false) and "
            "RotateSecret would turn it back on; rotate it here with `rotator rotate --local "
            f"{description.name}`, or turn rotation on first with `rotator schedule`"
        )


def rotate_remotely(
    store: SecretStore,
    secret_id: str,
    *,
    timeout: float,
    poll_interval: float = 2.0,
    clock: Clock | None = None,
) -> RotationReport:
    clock = clock or Clock()
    started = clock.monotonic()
    description = store.describe(secret_id)
    refuse_if_rotation_off(description)
    protocol.refuse_if_in_progress(description.versions, secret_name=description.name)
    previous = held_key(store.get_value(description.arn, stage=AWSCURRENT))
    rotated_before = description.last_rotated
    version_id = store.start_rotation(description.arn)

    def finished(seen: SecretDescription) -> bool:
        # Done when AWSCURRENT moved and the rotation completed: AWS dropped AWSPENDING, or
        # (its docs allow AWSPENDING to stay on the AWSCURRENT version) LastRotatedDate moved.
        stages = seen.versions.get(version_id, frozenset())
        completed = AWSPENDING not in stages or seen.last_rotated != rotated_before
        return AWSCURRENT in stages and completed

    arn = description.arn
    description = poll_until(
        lambda: store.describe(arn),
        done=finished,
        timeout=timeout,
        delay=lambda _attempt: poll_interval,
        clock=clock,
    )
    if finished(description):
        return _report(
            store,
            description.arn,
            name=description.name,
            version_id=version_id,
            previous=previous,
            started=started,
            clock=clock,
        )
    stages = description.versions.get(version_id, frozenset())
    stuck = protocol.stuck_pending(description.versions)
    if AWSCURRENT in stages:
        hint = (
            "the new key is AWSCURRENT but the rotation has not completed (deleting the old "
            "key may be failing): check the rotation Lambda's logs"
        )
    elif stuck:
        hint = (
            f"version {stuck} is still AWSPENDING: Secrets Manager will retry it; check the "
            f"rotation Lambda's logs, or clear it with `rotator recover {description.name}`"
        )
    else:
        hint = "check the rotation Lambda's logs and `rotator status`"
    raise RemoteRotationError(
        f"rotation of {description.name} did not finish within {timeout:g}s; {hint}",
        step="remote",
    )


def _report(
    store: SecretStore,
    arn: str,
    *,
    name: str,
    version_id: str,
    previous: HeldKey | None,
    started: float,
    clock: Clock,
) -> RotationReport:
    new = held_key(store.get_value(arn, version_id=version_id, stage=AWSCURRENT))
    previous_id = previous.key_id if previous else None
    replaced = next((e for e in new.retiring if e.key_id == previous_id), None) if new else None
    return RotationReport(
        secret_id=name,
        version_id=version_id,
        status=RotationStatus.ROTATED,
        key_id=new.key_id if new else None,
        service_account_id=new.service_account_id if new else None,
        previous_key_id=previous_id,
        # The rotation completed, so every retiring key that was due then was deleted.
        previous_key_deleted=replaced is not None
        and new is not None
        and new.rotated_at is not None
        and replaced.not_after <= new.rotated_at,
        duration_ms=round((clock.monotonic() - started) * 1000),
    )
