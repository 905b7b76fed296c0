"""recover, prune and stuck-rotation status through the CLI and the Lambda, over real HTTP."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import handler
from rotator.cli.app import cli
from rotator.errors import ConfigError
from tests.e2e.conftest import Stack


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_status_reports_a_stuck_rotation_with_its_age(stack: Stack) -> None:
    """A Lambda rotation that never finished shows as stuck, with how long."""
    token = stack.aws.seed_pending_version(stack.arn)
    code, out, _ = run("status", stack.secret, "--output", "json")
    assert code == 0
    status = json.loads(out)
    assert status["stuck_version_id"] == token
    assert isinstance(status["stuck_age_s"], int)
    code, text, _ = run("status", stack.secret)
    assert f"version {token} has held AWSPENDING for" in text
    assert f"rotator recover {stack.secret}" in text


def test_recover_dry_run_then_yes_unblocks_the_next_rotation(stack: Stack) -> None:
    """recover shows its plan, acts on --yes, and a rotation then succeeds."""
    token = stack.aws.seed_pending_version(stack.arn)
    code, _, err = run("rotate", stack.secret, "--local")
    assert code == 2
    assert "in progress" in err
    before = stack.snapshot()
    code, out, _ = run("recover", stack.secret, "--force")
    assert code == 0
    assert f"would remove pending label {token}" in out
    assert stack.snapshot() == before
    code, out, _ = run("recover", stack.secret, "--yes", "--force", "--output", "json")
    assert code == 0
    assert json.loads(out)["applied"] is True
    assert run("rotate", stack.secret, "--local")[0] == 0


def test_recover_refuses_a_young_pending_version_without_force(stack: Stack) -> None:
    """A version that became AWSPENDING moments ago may be a running rotation: exit 2 (M4)."""
    token = stack.aws.seed_pending_version(stack.arn)
    before = stack.snapshot()
    code, out, err = run("recover", stack.secret, "--yes")
    assert code == 2
    assert out == ""
    assert f"pending version {token}" in err
    assert "younger than 10m" in err
    assert "--force" in err
    assert stack.snapshot() == before
    code, _, err = run("recover", stack.secret, "--yes", "--min-age", "1h")
    assert code == 2
    assert "younger than 1h" in err


@pytest.mark.parametrize("margin", ["0", "9m", "599s"])
def test_prune_refuses_a_margin_below_the_floor(stack: Stack, margin: str) -> None:
    """`prune --margin` below twice the Lambda timeout is refused before any call (L16)."""
    stack.aws.seed_pending_version(stack.arn)
    code, out, err = run("prune", stack.secret, "--margin", margin, "--yes")
    assert code == 2
    assert out == ""
    assert "--margin" in err
    assert "below the floor of 10m" in err
    assert run("prune", stack.secret, "--margin", "10m")[0] == 0


def test_prune_idle_for_says_last_used_at_timing_is_undocumented(stack: Stack) -> None:
    """`prune --idle-for` prints that OpenAI does not document how often last_used_at updates."""
    assert run("rotate", stack.secret)[0] == 0
    code, out, _ = run("prune", stack.secret, "--idle-for", "30m")
    assert code == 0
    assert "note: OpenAI does not document how often last_used_at updates" in out
    code, out, _ = run("prune", stack.secret, "--idle-for", "30m", "--output", "json")
    assert any("last_used_at" in note for note in json.loads(out)["notes"])


def test_prune_lists_nothing_on_a_clean_secret(stack: Stack) -> None:
    """A freshly rotated secret has nothing to prune."""
    assert run("rotate", stack.secret)[0] == 0
    code, out, _ = run("prune", stack.secret, "--output", "json")
    assert code == 0
    assert json.loads(out)["actions"] == []


def test_lambda_accepts_a_scheduled_prune_event(stack: Stack) -> None:
    """{"Action": "prune"} runs a prune; an unknown action is refused."""
    assert handler.lambda_handler({"Action": "prune", "SecretId": stack.arn}, None) is None
    with pytest.raises(ConfigError, match="unknown Action"):
        handler.lambda_handler({"Action": "delete-everything", "SecretId": stack.arn}, None)
    with pytest.raises(ConfigError, match="no SecretId"):
        handler.lambda_handler({"Action": "prune"}, None)
