"""`rotator status` over real HTTP: OpenAI's dates per key, the in-use flag, --max-age, archived."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from rotator.domain.secret_value import format_time
from tests.e2e.conftest import Stack
from tests.e2e.test_cli_rotate import run


def call_models(stack: Stack, key: str) -> None:
    response = httpx.get(
        f"{stack.openai.base_url}/models", headers={"Authorization": f"Bearer {key}"}, timeout=5
    )
    assert response.status_code == 200


def rotate_with_grace(stack: Stack) -> None:
    """Rotate keeping the old key for an hour, then wait for the next whole second (OpenAI's
    last_used_at and rotator's rotated_at both have second precision)."""
    code, _, err = run("rotate", stack.secret, "--local", "--grace-period", "1h")
    assert code == 0, err
    time.sleep(1.01 - time.time() % 1)


def test_status_lists_both_keys_with_openai_dates_and_the_last_used_caveat(stack: Stack) -> None:
    """Text output: the keys table, the caveat about last_used_at, scopes and project state."""
    rotate_with_grace(stack)
    code, out, err = run("status", stack.secret)
    assert code == 0, err
    assert "openai keys" in out
    assert stack.old_key_id in out
    assert "retiring" in out
    assert "OpenAI does not document how often last_used_at updates" in out
    assert "All permissions (no scopes recorded)" in out
    assert "project state     active" in out
    assert stack.old_key not in out + err


def test_status_json_flags_the_retiring_key_a_consumer_still_uses(stack: Stack) -> None:
    """GIVEN the old key used after the rotation THEN --output json flags it in use."""
    rotate_with_grace(stack)
    call_models(stack, stack.old_key)
    code, out, _ = run("status", stack.secret, "--output", "json")
    assert code == 0
    status = json.loads(out)
    keys = {k["role"]: k for k in status["keys"]}
    assert keys["retiring"]["key_id"] == stack.old_key_id
    assert keys["current"]["created_at"]
    if keys["retiring"]["last_used_at"] is None:
        pytest.xfail("the OpenAI adapter does not parse last_used_at yet (adapter branch)")
    assert keys["retiring"]["in_use_after_rotation"] is True
    assert keys["retiring"]["note"].startswith("still in use")
    assert keys["retiring"]["note"].endswith("a consumer has not picked up the new key")


def test_status_max_age_exits_1_when_the_key_expires_before_any_rotation(stack: Stack) -> None:
    """A key expiring with no rotation scheduled: a warning, and exit 1 with --max-age."""
    expires = datetime.now(UTC) + timedelta(days=3)
    stack.put_value(json.dumps({**stack.current(), "expires_at": format_time(expires)}))
    code, out, _ = run("status", stack.secret)
    assert code == 0
    assert "warning: the key expires" in out
    code, _, err = run("status", stack.secret, "--max-age", "90d")
    assert code == 1
    assert "no rotation is scheduled" in err


def test_status_and_status_all_flag_an_archived_project(stack: Stack) -> None:
    """An archived project: the way out is named, for one secret and for the fleet."""
    stack.emulator.archive_project(stack.project_id)
    code, out, _ = run("status", stack.secret)
    assert code == 0
    assert "ARCHIVED" in out
    assert "re-seed with `rotator init --force`" in out
    code, out, err = run("status", "--all", "--prefix", "openai/")
    assert code == 0, err
    assert "archived !" in out
    assert "secret(s) in archived projects (openai/app)" in err
