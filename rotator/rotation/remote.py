"""A rotation run by Secrets Manager (``rotator rotate --remote``).

Calls RotateSecret, which invokes the deployed rotation Lambda, then polls DescribeSecret until
AWSCURRENT is on the new version, or the timeout passes.
"""

from __future__ import annotations

import time

from rotator.domain import protocol
from rotator.domain.protocol import AWSCURRENT
from rotator.errors import RemoteRotationError
from rotator.ports import SecretStore
from rotator.retry import Clock
from rotator.rotation.local import RotationReport


def rotate_remotely(
    store: SecretStore,
    secret_id: str,
    *,
    timeout: float,
    poll_interval: float = 2.0,
    clock: Clock | None = None,
) -> RotationReport:
    clock = clock or Clock()
    started = time.monotonic()
    description = store.describe(secret_id)
    protocol.refuse_if_in_progress(description.versions, secret_name=description.name)
    version_id = store.start_rotation(description.arn)
    deadline = clock.monotonic() + timeout
    while True:
        description = store.describe(description.arn)
        if AWSCURRENT in description.versions.get(version_id, frozenset()):
            return RotationReport(
                secret_id=description.name,
                version_id=version_id,
                status="rotated",
                duration_ms=round((time.monotonic() - started) * 1000),
            )
        if clock.monotonic() + poll_interval > deadline:
            break
        clock.sleep(poll_interval)
    stuck = protocol.stuck_pending(description.versions)
    hint = (
        f"version {stuck} is still AWSPENDING: Secrets Manager will retry it; check the "
        f"rotation Lambda's logs, or clear it with `rotator recover {description.name}`"
        if stuck
        else "check the rotation Lambda's logs and `rotator status`"
    )
    raise RemoteRotationError(
        f"rotation of {description.name} did not finish within {timeout:g}s; {hint}",
        step="remote",
    )
