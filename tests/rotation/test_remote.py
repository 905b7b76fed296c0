"""rotate --remote: RotateSecret runs the Lambda's four steps; rotator waits for AWSCURRENT."""

from __future__ import annotations

import pytest

from rotator.domain.models import SecretDescription
from rotator.domain.protocol import RotationEvent, Step
from rotator.errors import ConfigError, RemoteRotationError, RotationInProgressError
from rotator.rotation.remote import choose_mode, rotate_remotely
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


def _description(*, enabled: bool, lambda_arn: str | None = LAMBDA_ARN) -> SecretDescription:
    return SecretDescription(
        arn="arn:s", name="openai/app", versions={}, rotation_enabled=enabled,
        rotation_lambda_arn=lambda_arn,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("enabled", "lambda_arn", "requested", "mode"),
    [
        (True, LAMBDA_ARN, None, "remote"),
        (False, LAMBDA_ARN, None, "local"),  # switched off: never RotateSecret by default
        (False, None, None, "local"),
        (False, LAMBDA_ARN, "local", "local"),
        (True, LAMBDA_ARN, "local", "local"),
    ],
)
def test_rotate_picks_remote_only_while_rotation_is_on(
    enabled: bool, lambda_arn: str | None, requested: str | None, mode: str
) -> None:
    """A Lambda alone is not enough: RotationEnabled false means a local rotation (L14)."""
    assert choose_mode(_description(enabled=enabled, lambda_arn=lambda_arn), requested) == mode


def test_remote_is_refused_when_rotation_is_off() -> None:
    """--remote on a secret whose rotation is off is refused: RotateSecret would turn it on."""
    with pytest.raises(ConfigError, match="switched off") as caught:
        choose_mode(_description(enabled=False), "remote")
    assert "rotator rotate --local" in str(caught.value)


def test_rotate_never_turns_switched_off_rotation_back_on(world: World) -> None:
    """After `schedule --off` (CancelRotateSecret), rotate_remotely refuses before RotateSecret."""
    lambda_like(world)
    world.store.cancel_rotation(world.arn)
    with pytest.raises(ConfigError, match="RotationEnabled is false"):
        rotate_remotely(world.store, world.arn, timeout=5, clock=world.retry_clock())
    assert not world.store.describe(world.arn).rotation_enabled
    assert world.current()["key_id"] == world.seeded_key_id
