"""rotate --remote: RotateSecret runs the Lambda's four steps; rotator waits for AWSCURRENT."""

from __future__ import annotations

import pytest

from rotator.domain.protocol import RotationEvent, Step
from rotator.errors import RemoteRotationError, RotationInProgressError
from rotator.rotation.remote import rotate_remotely
from tests.rotation.conftest import World

LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:rotator"


def lambda_like(world: World) -> None:
    """Wire RotateSecret to run the four steps in-process, as the deployed Lambda would."""
    engine = world.engine(require_rotation_enabled=True)

    def invoke(secret_arn: str, token: str) -> None:
        for step in Step:
            engine.run_step(RotationEvent(step=step, secret_id=secret_arn, token=token))

    world.store.on_rotate = invoke
    world.store.enable_rotation(world.arn, LAMBDA_ARN)


def test_remote_rotation_waits_until_the_new_version_is_current(world: World) -> None:
    """The report names the version Secrets Manager created, once it carries AWSCURRENT."""
    lambda_like(world)
    report = rotate_remotely(world.store, world.arn, timeout=30, clock=world.retry_clock())
    assert report.status == "rotated"
    assert world.store.versions(world.arn)[report.version_id] == frozenset({"AWSCURRENT"})
    assert report.key_id == world.current()["key_id"]
    assert report.previous_key_id == world.seeded_key_id
    assert report.previous_key_deleted
    assert world.emulator.key_works(world.current()["api_key"])
    assert not world.emulator.key_works(world.seeded_value)


def test_stuck_remote_rotation_times_out_with_recovery_advice(world: World) -> None:
    """A Lambda that never finishes leaves AWSPENDING; the error says how to recover."""
    world.store.enable_rotation(world.arn, LAMBDA_ARN)
    with pytest.raises(RemoteRotationError, match="rotator recover") as caught:
        rotate_remotely(
            world.store, world.arn, timeout=10, poll_interval=2, clock=world.retry_clock()
        )
    assert "did not finish within 10s" in str(caught.value)
    assert world.current()["key_id"] == world.seeded_key_id


def test_remote_rotation_refuses_while_another_is_in_progress(world: World) -> None:
    """A second RotateSecret on a stuck secret is refused before calling AWS."""
    world.store.enable_rotation(world.arn, LAMBDA_ARN)
    world.store.start_rotation(world.arn)
    with pytest.raises(RotationInProgressError):
        rotate_remotely(world.store, world.arn, timeout=5, clock=world.retry_clock())


def test_remote_rotation_that_promoted_but_did_not_complete_says_so(world: World) -> None:
    """AWSCURRENT moved but finishSecret keeps failing: the timeout names the real problem."""
    lambda_like(world)
    world.emulator.inject("DELETE", r"/api_keys/", "status", status=500, times=1000)
    with pytest.raises(RemoteRotationError, match="has not completed"):
        rotate_remotely(world.store, world.arn, timeout=10, clock=world.retry_clock())
    assert world.emulator.key_works(world.current()["api_key"])


def test_remote_rotation_completes_when_aws_leaves_awspending_on_the_new_version(
    world: World,
) -> None:
    """Success may leave AWSPENDING on AWSCURRENT's version; LastRotatedDate tells completion."""
    lambda_like(world)
    world.store.keep_pending_on_success = True
    report = rotate_remotely(world.store, world.arn, timeout=30, clock=world.retry_clock())
    assert report.status == "rotated"
    assert world.store.versions(world.arn)[report.version_id] == frozenset(
        {"AWSCURRENT", "AWSPENDING"}
    )
