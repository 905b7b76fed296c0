"""A key pasted as an argument or option value never reaches AWS or the screen (second review).

Run as the console script does (``python -m rotator``), so click's own usage errors go through
the same masking as rotator's errors.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

KEY = "sk-proj-" + "Q" * 48


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        # Unreachable: nothing here may call AWS at all.
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:9",
        "AWS_MAX_ATTEMPTS": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "rotator", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("status", KEY, "--output", "json"),
        ("rotate", KEY, "--local", "--output", "json"),
        ("recover", KEY),
        ("prune", KEY),
        ("init", KEY, "--project-id", "proj_abc", "--new-service-account", "x"),
    ],
    ids=["status", "rotate", "recover", "prune", "init"],
)
def test_a_key_as_secret_id_is_refused_with_exit_2_and_never_shown(args: tuple[str, ...]) -> None:
    """The SECRET_ID argument is checked before any call: exit 2, the field named, no key."""
    done = run(*args)
    assert done.returncode == 2, done.stderr
    assert "SECRET_ID" in done.stderr
    assert "QQQQQQ" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    "args",
    [("audit", KEY), ("status", "openai/app", "--output", KEY)],
    ids=["extra-argument", "bad-choice"],
)
def test_clicks_own_usage_errors_are_masked(args: tuple[str, ...]) -> None:
    """click echoes a bad value in its usage errors; the console script masks it first."""
    done = run(*args)
    assert done.returncode == 2
    assert "QQQQQQ" not in done.stdout + done.stderr
    assert "sk-" in done.stderr  # the masked form still tells the user what was wrong
