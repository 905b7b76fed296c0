"""No key value, admin key or RotationToken in any log line or CLI output of a whole rotation."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import handler
from rotator.cli.app import cli
from tests.e2e.conftest import Stack


def secrets_of(stack: Stack) -> list[str]:
    return [stack.old_key, stack.admin_key, stack.current()["api_key"]]


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_cli_rotation_with_debug_logs_prints_no_secret(stack: Stack, log_format: str) -> None:
    """Every byte a debug-level CLI rotation prints is free of key values."""
    result = CliRunner().invoke(
        cli,
        ["rotate", stack.secret, "--log-level", "DEBUG", "--log-format", log_format],
        catch_exceptions=False,
    )
    assert result.exit_code == 0
    printed = result.stdout + result.stderr
    assert "step_done" in printed  # the debug log really was captured
    for secret in secrets_of(stack):
        assert secret not in printed
    status = CliRunner().invoke(cli, ["status", stack.secret, "--output", "json"])
    for secret in secrets_of(stack):
        assert secret not in status.stdout
    assert json.loads(status.stdout)["key_id"]


def test_failed_cli_rotation_prints_no_secret(stack: Stack) -> None:
    """Failure messages and rollback notes carry ids, never values."""
    stack.emulator.propagation_delay = 3600
    try:
        result = CliRunner().invoke(
            cli,
            ["rotate", stack.secret, "--test-timeout", "1", "--log-level", "DEBUG"],
            catch_exceptions=False,
        )
    finally:
        stack.emulator.propagation_delay = 0
    assert result.exit_code == 1
    for secret in (stack.old_key, stack.admin_key):
        assert secret not in result.stdout + result.stderr


def test_lambda_rotation_logs_no_secret(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    """The handler's JSON logs for all four steps hold ids and outcomes, no key or token."""
    token = stack.aws.seed_pending_version(stack.arn)
    rotation_token = "r0tat10n-t0ken-" + "a" * 30
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        handler.lambda_handler(
            {
                "Step": step,
                "SecretId": stack.arn,
                "ClientRequestToken": token,
                "RotationToken": rotation_token,
            },
            type("Ctx", (), {"aws_request_id": "req-9"})(),
        )
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.err.splitlines() if line.startswith("{")]
    assert {line.get("step") for line in lines} >= {"createSecret", "finishSecret"}
    assert all(line.get("aws_request_id") == "req-9" for line in lines)
    for secret in [*secrets_of(stack), rotation_token]:
        assert secret not in captured.out + captured.err
