"""The Lambda handler driven through the four steps with real-shaped events, over real HTTP."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import handler
from rotator.errors import ConfigError
from tests.e2e.conftest import Stack


@dataclass
class Context:
    aws_request_id: str = "req-1"
    function_name: str = "rotator"


def event(step: str, stack: Stack, token: str) -> dict[str, str]:
    return {"Step": step, "SecretId": stack.arn, "ClientRequestToken": token}


STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


def test_handler_rotates_through_the_four_steps(stack: Stack) -> None:
    """RotateSecret's empty AWSPENDING version is filled, tested and promoted by the handler."""
    token = stack.aws.seed_pending_version(stack.arn)
    for step in STEPS:
        assert handler.lambda_handler(event(step, stack, token), Context()) is None
    assert "AWSCURRENT" in stack.store.describe(stack.arn).versions[token]
    assert stack.emulator.key_works(stack.current()["api_key"])
    assert not stack.emulator.key_works(stack.old_key)


def test_handler_steps_are_safe_to_replay(stack: Stack) -> None:
    """Secrets Manager replays a whole rotation with the same token: nothing breaks."""
    token = stack.aws.seed_pending_version(stack.arn)
    for _ in range(2):
        for step in STEPS:
            handler.lambda_handler(event(step, stack, token), Context())
    assert stack.accounts() == [stack.current()["service_account_id"]]


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ({"Step": "rotate"}, "unknown rotation step"),
        ({"ClientRequestToken": "12345678-1234-1234-1234-123456789012"}, "a version of secret"),
        ({"SecretId": "openai/none"}, "not found"),
    ],
)
def test_handler_raises_on_bad_events_and_changes_nothing(
    stack: Stack, bad: dict[str, str], fragment: str
) -> None:
    """A bad event raises a clear error (so the step fails) and leaves the secret alone."""
    token = stack.aws.seed_pending_version(stack.arn)
    before = stack.snapshot()
    with pytest.raises(Exception, match=fragment) as caught:
        handler.lambda_handler({**event("createSecret", stack, token), **bad}, Context())
    assert "\n" not in str(caught.value)
    assert stack.snapshot() == before


def test_handler_refuses_a_secret_without_rotation_enabled(stack: Stack) -> None:
    """The Lambda checks RotationEnabled like the AWS template (with .get, not indexing)."""
    with pytest.raises(ConfigError, match="not enabled"):
        handler.lambda_handler(
            event("createSecret", stack, "12345678-1234-1234-1234-123456789012"), Context()
        )
