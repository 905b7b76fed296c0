"""`rotator init --admin-key` and `rotator rotate` of an admin-key secret over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from rotator.cli.app import cli
from rotator.domain.sensitive import Sensitive
from tests.e2e.conftest import Stack


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def admin_value(stack: Stack, secret_id: str) -> dict[str, Any]:
    raw = stack.store.get_value(secret_id, stage="AWSCURRENT")
    assert raw is not None
    data: dict[str, Any] = json.loads(raw.reveal())
    return data


def test_init_admin_key_stores_json_with_its_id_and_says_so(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = stack.emulator.add_admin_key()
    monkeypatch.setenv("NEW_ADMIN_KEY", key)
    code, out, err = run(
        "init", "--admin-key", "openai/org-admin", "--from-env", "NEW_ADMIN_KEY",
        "--key-lifetime", "90d",
    )  # fmt: skip
    assert code == 0, err
    stored = admin_value(stack, "openai/org-admin")
    assert stored == {
        "admin_key": key,
        "admin_key_id": stack.emulator.admin_key_id(key),
        "key_lifetime": "90d",
    }
    assert "must parse JSON from now on" in out
    assert key not in out + err


def test_init_then_rotate_admin_key_then_rotate_an_app_secret_with_it(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN the stack's admin-key secret re-seeded by init --admin-key WHEN the CLI rotates it
    THEN the old admin key is refused, and the app secret rotates with the new one."""
    monkeypatch.setenv("STACK_ADMIN_KEY", stack.admin_key)
    code, _, err = run(
        "init", "--admin-key", stack.admin_secret, "--from-env", "STACK_ADMIN_KEY", "--force"
    )
    assert code == 0, err
    code, out, err = run("rotate", stack.admin_secret, "--output", "json")
    assert code == 0, err
    report = json.loads(out)
    stored = admin_value(stack, stack.admin_secret)
    assert report["status"] == "rotated"
    assert report["key_id"] == stored["admin_key_id"]
    assert report["previous_key_deleted"] is True
    assert report["previous_key_revocation"] == "confirmed"
    assert not stack.emulator.admin_key_works(stack.admin_key)
    assert stack.emulator.admin_key_works(stored["admin_key"])
    assert stack.admin_key not in out + err
    assert stored["admin_key"] not in out + err
    code, _, err = run("rotate", stack.secret)
    assert code == 0, err
    assert stack.emulator.key_works(stack.current()["api_key"])


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--project-id", "proj_x"], "no --project-id"),
        ([], "already holds a value; pass --force"),
    ],
)
def test_init_admin_key_refusals_exit_2_and_change_nothing(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, extra: list[str], fragment: str
) -> None:
    monkeypatch.setenv("STACK_ADMIN_KEY", stack.admin_key)
    before = admin_value(stack, stack.admin_secret)
    code, _, err = run(
        "init", "--admin-key", stack.admin_secret, "--from-env", "STACK_ADMIN_KEY", *extra
    )
    assert code == 2
    assert fragment in err
    assert stack.admin_key not in err
    assert admin_value(stack, stack.admin_secret) == before


def test_init_admin_key_refuses_a_project_key(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOT_ADMIN", stack.old_key)
    code, _, err = run("init", "--admin-key", "openai/x", "--from-env", "NOT_ADMIN")
    assert code == 2
    assert "not an OpenAI admin key" in err
    assert stack.old_key not in err


def test_rotate_all_leaves_the_admin_key_secret_alone_and_says_why(stack: Stack) -> None:
    stack.store.put_current(stack.admin_secret, Sensitive(stack.admin_key))  # the bare value
    code, _, err = run("rotate", "--all", "--prefix", "openai/")
    assert code == 0, err
    assert f"skipping {stack.admin_secret}: secret holds an OpenAI admin key" in err
    assert stack.emulator.admin_key_works(stack.admin_key)
    assert stack.emulator.key_works(stack.current()["api_key"])
    assert stack.current()["key_id"] != stack.old_key_id
