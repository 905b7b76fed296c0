"""issue 10 M1: a key pasted where an id or a name belongs is refused naming the field, and no
key reaches CLI output, the Lambda's raised error (its text and formatted traceback) or a log
line."""

from __future__ import annotations

import json
import traceback
from typing import Any

import pytest
import structlog
from click.testing import CliRunner

import handler
from rotator.cli.app import cli
from rotator.errors import ConfigError, RotatorError, SecretFormatError, SecretNotFoundError
from tests.e2e.conftest import Stack


class Context:
    aws_request_id = "req-m1"


def _printed_nothing_of(result: Any, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in result.stdout
        assert secret not in result.stderr


def _one_error_line(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_cli_refuses_an_admin_key_given_as_admin_key_secret_id_flag(stack: Stack) -> None:
    """`--admin-key-secret-id sk-admin-…`: exit 2, one line naming the flag, the key nowhere."""
    before = stack.snapshot()
    result = CliRunner().invoke(
        cli, ["rotate", stack.secret, "--admin-key-secret-id", stack.admin_key]
    )
    assert result.exit_code == 2, result.output
    line = _one_error_line(result)
    assert "--admin-key-secret-id" in line
    assert "holds an API key" in line
    _printed_nothing_of(result, [stack.admin_key])
    assert stack.snapshot() == before


def test_cli_refuses_an_admin_key_given_in_rotator_admin_key_secret_id(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same key in ROTATOR_ADMIN_KEY_SECRET_ID: refused naming the variable, never echoed."""
    monkeypatch.setenv("ROTATOR_ADMIN_KEY_SECRET_ID", stack.admin_key)
    for args in (["rotate", stack.secret], ["prune", stack.secret], ["status", stack.secret]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        assert "ROTATOR_ADMIN_KEY_SECRET_ID" in _one_error_line(result)
        _printed_nothing_of(result, [stack.admin_key])


def test_init_refuses_a_key_given_as_the_from_env_variable_name(stack: Stack) -> None:
    """`init --from-env sk-…`: the option wants a variable's name; the key is not echoed."""
    result = CliRunner().invoke(
        cli, ["init", "openai/new", "--project-id", stack.project_id, "--from-env", stack.old_key]
    )
    assert result.exit_code == 2, result.output
    line = _one_error_line(result)
    assert "--from-env takes the name of an environment variable" in line
    _printed_nothing_of(result, [stack.old_key])
    with pytest.raises(SecretNotFoundError):
        stack.store.describe("openai/new")


def _raised(event: dict[str, Any]) -> BaseException:
    with pytest.raises(RotatorError) as caught:
        handler.lambda_handler(event, Context())
    return caught.value


def _formatted(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


def test_lambda_masks_an_admin_key_named_as_admin_key_secret_id_in_the_secret(
    stack: Stack,
) -> None:
    """The admin key as the secret's admin_key_secret_id: raised, one line naming the field.

    Neither ``str(exc)`` (the runtime's errorMessage) nor the formatted traceback (its stack),
    nor any log line, holds the key; the error carries no chain.
    """
    stack.put_value(
        json.dumps(
            {
                "api_key": stack.old_key,
                "project_id": stack.project_id,
                "key_id": stack.old_key_id,
                "service_account_id": stack.old_account,
                "admin_key_secret_id": stack.admin_key,
            }
        )
    )
    with structlog.testing.capture_logs() as logs:
        error = _raised({"Action": "prune", "SecretId": stack.arn})
    assert isinstance(error, SecretFormatError)
    assert "admin_key_secret_id" in str(error)
    assert error.__cause__ is None
    assert error.__context__ is None
    for text in (str(error), _formatted(error), repr(error.args), json.dumps(logs, default=str)):
        assert stack.admin_key not in text
        assert stack.old_key not in text


def test_lambda_masks_a_key_pasted_as_the_secret_id(stack: Stack) -> None:
    """A key as SecretId: refused naming SecretId; text and traceback hold no key."""
    token = stack.aws.seed_pending_version(stack.arn)
    error = _raised(
        {"Step": "createSecret", "SecretId": stack.old_key, "ClientRequestToken": token}
    )
    assert isinstance(error, ConfigError)
    assert "SecretId holds an API key" in str(error)
    for text in (str(error), _formatted(error)):
        assert stack.old_key not in text
        assert stack.old_key[8:40] not in text
    assert error.__cause__ is None


def test_lambda_turns_a_foreign_exception_into_a_masked_error_naming_its_type() -> None:
    """A non-rotator exception (whose text holds a key) leaves as a RotatorError naming the type.

    Its text, the key, and the original chain are all gone from what the runtime would print.
    """
    key = "sk-proj-" + "A1b2C3d4" * 8

    def broken_app() -> Any:
        raise ValueError(f"boom {key}")

    run = handler.make_handler(broken_app)
    with pytest.raises(RotatorError) as caught:
        run({"Action": "prune", "SecretId": "openai/app"}, Context())
    error = caught.value
    assert type(error) is RotatorError
    assert "ValueError" in str(error)
    assert error.__cause__ is None
    assert error.__suppress_context__
    assert key not in _formatted(error)
    assert "boom" not in _formatted(error)
