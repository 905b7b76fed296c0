"""`rotator rotate --log-format json` writes one EMF line per rotation on stderr, never a key."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from rotator.domain.secret_value import format_time
from tests.e2e.conftest import Stack
from tests.e2e.test_cli_rotate import run


def emf(err: str) -> list[dict[str, Any]]:
    docs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [d for d in docs if "_aws" in d]


def test_cli_rotation_writes_one_emf_line_to_stderr_and_json_to_stdout(stack: Stack) -> None:
    """GIVEN a 30-day-old key WHEN rotated with --log-format json THEN one success line."""
    minted = datetime.now(UTC) - timedelta(days=30)
    stack.put_value(json.dumps({**stack.current(), "rotated_at": format_time(minted)}))
    code, out, err = run(
        "rotate", stack.secret, "--local", "--output", "json", "--log-format", "json"
    )
    assert code == 0, err
    assert json.loads(out)["status"] == "rotated"  # stdout: only the report
    (line,) = emf(err)
    assert line["SecretName"] == stack.secret
    assert "Step" not in line
    assert (line["RotationSucceeded"], line["RotationFailed"]) == (1, 0)
    assert line["OldKeyRevocationConfirmed"] == 1
    assert 29.9 < line["KeyAgeDays"] < 30.1
    assert line["StepDuration"] >= 0
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Rotator"
    for value in (stack.old_key, stack.current()["api_key"], stack.admin_key):
        assert value not in out + err


def test_failed_cli_rotation_writes_rotation_failed(stack: Stack, monkeypatch: Any) -> None:
    """A rotation failing testSecret writes RotationFailed=1 in the namespace from the env."""
    monkeypatch.setenv("ROTATOR_METRICS_NAMESPACE", "Team/Rotator")
    stack.emulator.propagation_delay = 3600
    try:
        code, _, err = run(
            "rotate", stack.secret, "--local", "--test-timeout", "1", "--log-format", "json"
        )
    finally:
        stack.emulator.propagation_delay = 0
    assert code == 1
    (line,) = emf(err)
    assert (line["RotationSucceeded"], line["RotationFailed"], line["Outcome"]) == (0, 1, "failed")
    assert "KeyAgeDays" not in line
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Team/Rotator"


def test_console_log_format_writes_no_metrics(stack: Stack) -> None:
    """Without --log-format json, no EMF line is written."""
    code, out, err = run("rotate", stack.secret, "--local")
    assert code == 0
    assert emf(out + err) == []


def test_bad_metrics_namespace_exits_2(stack: Stack, monkeypatch: Any) -> None:
    """A bad ROTATOR_METRICS_NAMESPACE fails at start-up, before anything changes."""
    before = stack.snapshot()
    monkeypatch.setenv("ROTATOR_METRICS_NAMESPACE", ":bad")
    code, _, err = run("rotate", stack.secret, "--local", "--log-format", "json")
    assert code == 2, err
    assert stack.snapshot() == before
