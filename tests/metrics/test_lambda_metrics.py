"""The Lambda writes one EMF line per rotation step and per audit; never a key value."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

import handler
from rotator.app import Mode
from rotator.domain.protocol import Step
from rotator.domain.secret_value import format_time
from rotator.errors import ConfigError, KeyTestFailedError
from rotator.rotation.step_metrics import secret_name
from tests.rotation.conftest import World, make_world

LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:rotator"


class Context:
    aws_request_id = "req-1"


def emf_lines(out: str) -> list[dict[str, Any]]:
    """The EMF documents among stdout's lines (each one JSON object with ``_aws``)."""
    docs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [d for d in docs if "_aws" in d]


def metric_names(doc: dict[str, Any]) -> set[str]:
    return {m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}


def rotation_event(world: World, step: Step, token: str) -> dict[str, str]:
    return {"Step": step.value, "SecretId": world.arn, "ClientRequestToken": token}


@pytest.fixture
def aged_world() -> Iterator[World]:
    """A world whose key was minted 100 days ago, with rotation on."""
    made = make_world()
    minted = made.now() - timedelta(days=100)
    made.store.put_current(made.arn, _with(made, rotated_at=format_time(minted)))
    made.store.enable_rotation(made.arn, LAMBDA_ARN)
    yield made
    made.http.close()


def _with(world: World, **fields: object) -> Any:
    from rotator.domain.sensitive import Sensitive

    return Sensitive(json.dumps({**world.current(), **fields}))


def lambda_for(world: World, **settings: Any) -> Any:
    app = world.app(mode=Mode.LAMBDA, **settings)
    return handler.make_handler(lambda: app)


def test_each_lambda_step_writes_one_emf_line_and_finish_counts_the_rotation(
    aged_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a 100-day-old key WHEN the four steps run THEN four EMF lines, the last a success."""
    lambda_handler = lambda_for(aged_world, metrics_namespace="Rotator/Test")
    token = aged_world.store.start_rotation(aged_world.arn)
    for step in Step:
        lambda_handler(rotation_event(aged_world, step, token), Context())
    out = capsys.readouterr().out
    docs = emf_lines(out)
    assert [d["Step"] for d in docs] == [s.value for s in Step]
    assert {d["SecretName"] for d in docs} == {"openai/payments-api"}
    assert {d["_aws"]["CloudWatchMetrics"][0]["Namespace"] for d in docs} == {"Rotator/Test"}
    assert [d["RotationSucceeded"] for d in docs] == [0, 0, 0, 1]
    assert [d["RotationFailed"] for d in docs] == [0, 0, 0, 0]
    assert all(isinstance(d["StepDuration"], int | float) for d in docs)
    finish = docs[-1]
    assert finish["Outcome"] == "rotated"
    assert finish["KeyAgeDays"] == pytest.approx(100, abs=0.01)
    assert finish["OldKeyRevocationConfirmed"] == 1
    assert "KeyAgeDays" not in metric_names(docs[0])
    new_key = aged_world.current()["api_key"]
    assert "sk-" not in out
    assert new_key not in out
    assert aged_world.seeded_value not in out


def test_a_failing_step_writes_rotation_failed_and_still_raises(
    aged_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """A testSecret that never sees the key answer emits RotationFailed=1, then re-raises."""
    lambda_handler = lambda_for(aged_world, test_timeout=5.0)
    token = aged_world.store.start_rotation(aged_world.arn)
    aged_world.emulator.propagation_delay = 3600
    lambda_handler(rotation_event(aged_world, Step.CREATE, token), Context())
    lambda_handler(rotation_event(aged_world, Step.SET, token), Context())
    with pytest.raises(KeyTestFailedError):
        lambda_handler(rotation_event(aged_world, Step.TEST, token), Context())
    failed = emf_lines(capsys.readouterr().out)[-1]
    assert (failed["Step"], failed["Outcome"]) == ("testSecret", "failed")
    assert (failed["RotationFailed"], failed["RotationSucceeded"]) == (1, 0)
    assert failed["StepDuration"] > 1000  # the manual clock measured the probing waits


def test_audit_action_emits_key_age_and_out_of_policy_count_without_raising(
    aged_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a 100-day-old key WHEN audited with MaxAge 90d THEN SecretsOutOfPolicy is 1."""
    lambda_handler = lambda_for(aged_world)
    event = {"Action": "audit", "Prefix": "openai/", "MaxAge": "90d", "ExpiringWithin": "7d"}
    assert lambda_handler(event, Context()) is None
    docs = emf_lines(capsys.readouterr().out)
    per_secret = [d for d in docs if "KeyAgeDays" in d]
    assert [d["SecretName"] for d in per_secret] == ["openai/payments-api"]
    assert per_secret[0]["KeyAgeDays"] == pytest.approx(100, abs=0.01)
    assert per_secret[0]["Findings"] == ["too_old"]
    assert docs[-1]["SecretsOutOfPolicy"] == 1
    assert docs[-1]["SecretsAudited"] == 1  # the admin-key secret holds no rotator key


def test_audit_action_in_policy_reports_zero(
    aged_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """With MaxAge 365d, the same key is in policy: SecretsOutOfPolicy 0."""
    lambda_for(aged_world)({"Action": "audit", "MaxAge": "365d"}, Context())
    docs = emf_lines(capsys.readouterr().out)
    assert docs[-1]["SecretsOutOfPolicy"] == 0


@pytest.mark.parametrize(
    "event",
    [
        {"Action": "audit", "MaxAge": "soon"},
        {"Action": "audit", "MaxAge": 90},
        {"Action": "audit", "Prefix": "openai/", "Bogus": "1"},
    ],
)
def test_a_bad_audit_event_is_refused_naming_the_field(aged_world: World, event: Any) -> None:
    """A malformed audit event raises ConfigError before any read."""
    with pytest.raises(ConfigError):
        lambda_for(aged_world)(event, Context())


@pytest.mark.parametrize(
    ("secret_id", "name"),
    [
        ("arn:aws:secretsmanager:us-east-1:123456789012:secret:openai/app-AbC123", "openai/app"),
        ("arn:aws-cn:secretsmanager:cn-north-1:1:secret:a-b-c-xYz789", "a-b-c"),
        ("openai/app", "openai/app"),
    ],
)
def test_secret_name_from_an_arn_drops_the_random_suffix(secret_id: str, name: str) -> None:
    """The SecretName dimension is the name, not the ARN."""
    assert secret_name(secret_id) == name
