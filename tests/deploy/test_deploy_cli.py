"""`rotator init` and `rotator schedule` end to end: CliRunner → moto server + OpenAI emulator."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
from click.testing import CliRunner, Result
from moto.core.config import default_user_config

from rotator.cli.app import cli
from rotator.testing.moto_server import dummy_session, noop_rotation_function
from tests.deploy.conftest import ROTATED_SECRET, World


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def snapshot(world: World) -> tuple[Any, ...]:
    """Everything a refused command must leave as it was: secrets, versions, accounts."""
    secrets = {
        s.name: ({k: sorted(v) for k, v in s.versions.items()}, s.rotation_enabled)
        for s in world.store.list_secrets()
    }
    return secrets, world.accounts()


def test_init_from_env_stores_the_key_and_never_prints_it(world: World) -> None:
    """The key read from OPENAI_API_KEY is stored with its ids; no output contains it."""
    result = run(
        "init",
        ROTATED_SECRET,
        "--project-id",
        world.project_id,
        "--from-env",
        "OPENAI_API_KEY",
        "--admin-key-secret-id",
        world.admin_arn,
        "--log-level",
        "DEBUG",
        env={"OPENAI_API_KEY": world.key_value},
    )
    assert result.exit_code == 0, result.stderr
    assert world.key_value not in result.stdout + result.stderr
    assert world.admin_key not in result.stdout + result.stderr
    assert world.key_id in result.stdout
    assert world.current(ROTATED_SECRET) == {
        "api_key": world.key_value,
        "project_id": world.project_id,
        "key_id": world.key_id,
        "service_account_id": world.account_id,
        "admin_key_secret_id": world.admin_arn,
    }


def test_init_fills_the_empty_secret_a_stack_created(world: World) -> None:
    """The template's managed secret has no value; init fills it with a new service account."""
    client = world.aws.client()
    client.create_secret(Name=ROTATED_SECRET)
    client.close()
    result = run(
        "init",
        ROTATED_SECRET,
        "--project-id",
        world.project_id,
        "--new-service-account",
        "payments-api",
        "--output",
        "json",
        env={"OPENAI_ADMIN_KEY": world.admin_key},
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["created_secret"] is False
    value = world.current(ROTATED_SECRET)
    assert value["api_key"] not in result.stdout
    assert world.emulator.key_works(value["api_key"])
    assert value["service_account_id"] == report["service_account_id"]


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        (["--project-id", "proj_x", "--from-env", "NOPE"], {}, "NOPE is not set"),
        (["--project-id", "project-1", "--new-service-account", "a"], {}, "not an OpenAI project"),
        (["--project-id", "proj_x"], {}, "exactly one of --from-env"),
        (
            ["--project-id", "proj_x", "--from-env", "K", "--new-service-account", "a"],
            {"K": "sk-svcacct-x"},
            "exactly one of --from-env",
        ),
        (["--project-id", "proj_x", "--from-env", "K"], {"K": "sk-admin-x"}, "sk-admin-"),
        (["--project-id", "PROJECT", "--new-service-account", "a"], {}, "no OpenAI admin key"),
    ],
)
def test_init_bad_input_exits_2_with_one_line_and_changes_nothing(
    world: World, args: list[str], env: dict[str, str], fragment: str
) -> None:
    """Each mistake is one line on stderr, exit code 2, and no secret or account appears."""
    args = [a.replace("PROJECT", world.project_id) for a in args]
    before = snapshot(world)
    result = run("init", ROTATED_SECRET, *args, env=env)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(world) == before


def test_init_refuses_to_overwrite_a_seeded_secret_without_force(world: World) -> None:
    """A secret that holds a value is left alone: exit 2, nothing changed."""
    world.seed_rotated_secret()
    before = snapshot(world)
    result = run(
        "init",
        ROTATED_SECRET,
        "--project-id",
        world.project_id,
        "--new-service-account",
        "again",
        env={"OPENAI_ADMIN_KEY": world.admin_key},
    )
    assert result.exit_code == 2
    assert "pass --force" in result.stderr
    assert snapshot(world) == before


def _lambda_arn(world: World) -> str:
    return noop_rotation_function(dummy_session(), world.aws.endpoint_url)


def test_schedule_turns_rotation_on_without_rotating_and_off_again(world: World) -> None:
    """RotateSecret with the Lambda and rules, RotateImmediately=false; --off cancels it."""
    arn = world.seed_rotated_secret()
    lambda_arn = _lambda_arn(world)
    # moto "invokes" the function's testSecret on RotateSecret: keep it Docker-free.
    with mock.patch.dict(default_user_config, {"lambda": {"use_docker": False}}):
        result = run(
            "schedule",
            ROTATED_SECRET,
            "--lambda-arn",
            lambda_arn,
            "--every",
            "30 days",
            "--window",
            "4h",
            "--output",
            "json",
        )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schedule_expression"] == "rate(30 days)"
    assert report["duration"] == "4h"
    assert report["started_version_id"] is None
    # moto records the Lambda but not ScheduleExpression/RotationEnabled (reference §4.2 G1);
    # the in-memory store's test checks the stored rules.
    assert world.store.describe(arn).rotation_lambda_arn == lambda_arn
    off = run("schedule", ROTATED_SECRET, "--off")
    assert off.exit_code == 0, off.stderr
    assert "disabled" in off.stdout
    assert not world.store.describe(arn).rotation_enabled


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--every", "2 hours"], "at most every four hours"),
        (["--cron", "cron(0 4 * * * *)"], "must be ?"),
        (["--every", "30 days", "--window", "4 hours"], "not a Secrets Manager Duration"),
        (["--every", "30 days", "--cron", "cron(0 4 ? * SUN *)"], "exactly one of --every"),
        (["--cron", "cron(0 22 ? * SUN *)", "--window", "4h"], "next UTC day"),
        (["--every", "30 days", "--lambda-arn", "rotator"], "not a Lambda function ARN"),
        (["--every", "30 days", "--off"], "--off takes no other"),
    ],
)
def test_schedule_bad_input_exits_2_before_calling_aws(
    world: World, args: list[str], fragment: str
) -> None:
    """Expressions, windows and ARNs are checked first: exit 2, nothing configured."""
    world.seed_rotated_secret()
    if "--lambda-arn" not in args and "--off" not in args:
        args = [*args, "--lambda-arn", "arn:aws:lambda:us-east-1:123456789012:function:r"]
    before = snapshot(world)
    result = run("schedule", ROTATED_SECRET, *args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(world) == before


def test_schedule_refuses_an_unseeded_secret(world: World) -> None:
    """Rotation of an empty secret would fail; rotator init must come first."""
    client = world.aws.client()
    client.create_secret(Name=ROTATED_SECRET)
    client.close()
    lambda_arn = _lambda_arn(world)
    before = snapshot(world)
    result = run("schedule", ROTATED_SECRET, "--lambda-arn", lambda_arn, "--every", "30 days")
    assert result.exit_code == 2
    assert "rotator init" in result.stderr
    assert snapshot(world) == before


@pytest.mark.parametrize("command", ["init", "schedule"])
def test_deploy_commands_have_help_and_are_documented(command: str) -> None:
    """Each command explains itself and appears in README.md and docs/deploy.md."""
    from tests.deploy.conftest import ROOT

    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Exit codes" in result.stdout
    assert f"rotator {command}" in (ROOT / "README.md").read_text()
    assert f"rotator {command}" in (ROOT / "docs" / "deploy.md").read_text()
