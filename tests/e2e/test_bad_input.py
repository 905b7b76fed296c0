"""Bad input: a one-line error naming the problem and the fix, exit code 2, nothing changed."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from rotator.cli.app import cli
from rotator.domain.sensitive import Sensitive
from tests.e2e.conftest import Stack


def value(stack: Stack, **changes: object) -> str:
    data = {
        "api_key": stack.old_key,
        "project_id": stack.project_id,
        "service_account_id": stack.old_account,
        "key_id": stack.old_key_id,
        "admin_key_secret_id": stack.admin_secret,
    }
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v is not None})


def set_admin(stack: Stack, admin_value: str) -> None:
    stack.store.put_current(stack.admin_secret, Sensitive(admin_value))


CASES: list[tuple[str, Callable[[Stack], list[str]], str]] = [
    ("secret not found", lambda s: ["rotate", "openai/missing"], "not found"),
    (
        "SecretString not JSON",
        lambda s: (s.put_value("sk-just-a-key"), ["rotate", s.secret])[1],
        "not JSON",
    ),
    (
        "required field missing",
        lambda s: (s.put_value(value(s, key_id=None)), ["rotate", s.secret])[1],
        "'key_id'",
    ),
    (
        "field of the wrong type",
        lambda s: (s.put_value(value(s, project_id=42)), ["rotate", s.secret])[1],
        "'project_id' must be a non-empty string",
    ),
    (
        "admin key missing",
        lambda s: (s.put_value(value(s, admin_key_secret_id=None)), ["rotate", s.secret])[1],
        "no OpenAI admin key",
    ),
    (
        "admin key rejected",
        lambda s: (set_admin(s, "sk-admin-unknownunknown"), ["rotate", s.secret])[1],
        "rejected the admin key",
    ),
    (
        "admin key lacks permission",
        lambda s: (
            set_admin(s, s.emulator.add_admin_key(scopes="read")),
            ["rotate", s.secret],
        )[1],
        "api.management.write",
    ),
    (
        "project not found",
        lambda s: (s.put_value(value(s, project_id="proj_nope")), ["rotate", s.secret])[1],
        "proj_nope",
    ),
    (
        "plain http base URL",
        lambda s: ["rotate", s.secret, "--openai-base-url", "http://api.openai.com/v1"],
        "non-loopback",
    ),
    (
        "rotation in progress",
        lambda s: (
            s.store.put_pending(s.arn, "0" * 8 + "-0000-0000-0000-" + "0" * 12, Sensitive("{}")),
            ["rotate", s.secret],
        )[1],
        "in progress",
    ),
    (
        "admin-key secret missing",
        lambda s: (
            s.put_value(value(s, admin_key_secret_id="openai/nothing")),
            ["rotate", s.secret],
        )[1],
        "openai/nothing",
    ),
    (
        "admin-key secret holds no admin key",
        lambda s: (set_admin(s, json.dumps({"admin_key": "sk-proj-abc"})), ["rotate", s.secret])[1],
        "does not hold an OpenAI admin key",
    ),
]


@pytest.mark.parametrize(("name", "prepare", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line_and_changes_nothing(
    stack: Stack, name: str, prepare: Callable[[Stack], list[str]], fragment: str
) -> None:
    """Each bad input is refused before anything changes."""
    args = prepare(stack)
    before = stack.snapshot()
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 2, (name, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]
    assert stack.snapshot() == before
    for secret in (stack.old_key, stack.admin_key):
        assert secret not in result.stderr
        assert secret not in result.stdout
