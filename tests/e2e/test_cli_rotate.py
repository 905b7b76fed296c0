"""`rotator rotate` and `rotator status` over real HTTP: moto's server and the emulator server."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from rotator.cli.app import cli
from tests.e2e.conftest import Stack


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_rotate_local_replaces_the_key_end_to_end(stack: Stack) -> None:
    """The CLI rotates: new key works, old key is refused, labels moved, progress on stderr."""
    code, out, err = run("rotate", stack.secret, "--local")
    assert code == 0, err
    current = stack.current()
    assert f"rotated {stack.secret}" in out
    assert current["key_id"] in out
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        assert step in err
    assert stack.emulator.key_works(current["api_key"])
    assert not stack.emulator.key_works(stack.old_key)
    assert current["owner"] == "team-payments"
    assert stack.accounts() == [current["service_account_id"]]


def test_rotate_json_output_is_one_object_with_the_documented_fields(stack: Stack) -> None:
    """--output json prints exactly one JSON object describing the rotation."""
    code, out, _ = run("rotate", stack.secret, "--output", "json")
    assert code == 0
    report = json.loads(out)
    assert report["status"] == "rotated"
    assert report["secret_id"] == stack.secret
    assert report["previous_key_id"] == stack.old_key_id
    assert report["previous_key_deleted"] is True
    assert report["key_id"] == stack.current()["key_id"]
    assert report["service_account_id"] == stack.current()["service_account_id"]
    assert isinstance(report["duration_ms"], int)
    assert set(report) >= {"version_id", "status", "key_id", "duration_ms"}


def test_failed_rotation_exits_1_names_the_step_and_keeps_the_working_key(stack: Stack) -> None:
    """A new key that never answers fails testSecret; AWSCURRENT and OpenAI are as before."""
    before = stack.snapshot()
    stack.emulator.propagation_delay = 3600
    try:
        code, out, err = run("rotate", stack.secret, "--output", "json", "--test-timeout", "1")
    finally:
        stack.emulator.propagation_delay = 0
    assert code == 1
    report = json.loads(out)
    assert report["status"] == "failed"
    assert report["step"] == "testSecret"
    assert "rolled back" in report["error"]
    assert "testSecret" in err or "test" in err
    assert stack.snapshot() == before
    assert stack.emulator.key_works(stack.old_key)


def test_status_shows_key_versions_and_no_stuck_rotation(stack: Stack) -> None:
    """status reports the current key, the versions and that nothing is stuck."""
    run("rotate", stack.secret)
    code, out, _ = run("status", stack.secret, "--output", "json")
    assert code == 0
    status = json.loads(out)
    assert status["key_id"] == stack.current()["key_id"]
    assert status["project_id"] == stack.project_id
    assert status["stuck_version_id"] is None
    assert sorted(stage for s in status["versions"].values() for stage in s) == [
        "AWSCURRENT",
        "AWSPREVIOUS",
    ]
    code, text, _ = run("status", stack.secret)
    assert code == 0
    assert "stuck rotation    no" in text
    assert stack.current()["key_id"] in text


def test_rotate_twice_in_a_row_works(stack: Stack) -> None:
    """A second rotation right after the first starts cleanly (AWSPENDING was cleared)."""
    assert run("rotate", stack.secret)[0] == 0
    first = stack.current()["key_id"]
    assert run("rotate", stack.secret)[0] == 0
    assert stack.current()["key_id"] != first
    assert len(stack.accounts()) == 1


@pytest.mark.parametrize("command", ["rotate", "status", "demo"])
def test_every_command_has_help(command: str) -> None:
    """Each command documents itself."""
    code, out, _ = run(command, "--help")
    assert code == 0
    assert "Usage" in out


def test_grace_period_keeps_the_old_key_live_and_recorded(stack: Stack) -> None:
    """--grace-period leaves the replaced key working and lists it as retiring."""
    code, out, _ = run("rotate", stack.secret, "--grace-period", "24h", "--output", "json")
    assert code == 0
    assert json.loads(out)["previous_key_deleted"] is False
    assert stack.emulator.key_works(stack.old_key)
    assert [e["key_id"] for e in stack.current()["retiring"]] == [stack.old_key_id]
    code, out, _ = run("prune", stack.secret, "--output", "json")
    assert json.loads(out)["actions"] == []  # not due for a day


@pytest.mark.parametrize(
    ("flag", "value"), [("--grace-period", "soon"), ("--test-timeout", "0"), ("--timeout", "0")]
)
def test_malformed_durations_are_refused_before_anything_changes(
    stack: Stack, flag: str, value: str
) -> None:
    """A bad duration exits 2 with the flag named."""
    before = stack.snapshot()
    code, _, err = run("rotate", stack.secret, flag, value)
    assert code == 2
    assert flag in err
    assert stack.snapshot() == before


@pytest.mark.parametrize(
    "args",
    [
        ["status", "openai/app"],
        ["schedule", "openai/app", "--off"],
        ["init", "openai/new", "--project-id", "proj_x", "--new-service-account", "x"],
    ],
)
def test_aws_region_alone_configures_every_command(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    """AWS_REGION (the Lambda runtime's variable) works without AWS_DEFAULT_REGION."""
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    _, _, err = run(*args)
    assert "no AWS region" not in err


def test_json_output_keeps_the_report_shape_on_bad_input(stack: Stack) -> None:
    """A refused rotation still prints one JSON object with every documented field."""
    code, out, _ = run("rotate", "openai/missing", "--output", "json")
    assert code == 2
    report = json.loads(out)
    assert report["status"] == "failed"
    assert "not found" in report["error"]
    assert set(report) >= {
        "secret_id",
        "version_id",
        "status",
        "key_id",
        "service_account_id",
        "previous_key_id",
        "previous_key_deleted",
        "duration_ms",
        "error",
        "step",
    }
