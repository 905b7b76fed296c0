"""template.yaml's operational wiring: key lifetime, allow-list, metrics alarms, the key-age
audit's schedule, admin-key rotation and success notifications, per parameter mode.

The template is resolved as CloudFormation would deploy it by scripts/resolve_iam_policies.py;
EventBridge patterns are matched by moto's implementation of EventBridge's matching rules.
"""

from __future__ import annotations

import importlib.util
import json
import re
from types import ModuleType
from typing import Any

import pytest
from moto.events.models import EventPattern

from rotator.config import parse_duration
from rotator.domain.schedule import check_window, validate_expression
from rotator.errors import RotatorError
from tests.deploy.conftest import ROOT


def _load_resolver() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "resolve_iam_policies", ROOT / "scripts" / "resolve_iam_policies.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RESOLVER = _load_resolver()
YEAR = 365 * 86400
PREFIX_ARN = f"{RESOLVER.SECRET_ARN}openai/"


def _duration_samples() -> list[str]:
    """Every edge of every unit (0, 1, the 365-day cap and around it), and malformed values."""
    samples = ["", "0", "00", "007d", "1.5h", " 1h", "1H", "-1", "1w", "d", "0x10", "1e3"]
    for unit, seconds in (("", 1), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)):
        limit = YEAR // seconds
        numbers = {*range(0, 400), *range(limit - 400, limit + 400), 10 * limit, 10**8}
        samples += [f"{n}{unit}" for n in sorted(numbers)]
        samples += [f"0{limit}{unit}", f"00{limit + 1}{unit}", f"00{unit}", f"01{unit}"]
    return samples


def _resources(template: dict[str, Any], **overrides: str) -> dict[str, dict[str, Any]]:
    """The resources CloudFormation creates for these parameters, properties resolved."""
    values = RESOLVER.parameters(template, overrides)
    resources: dict[str, dict[str, Any]] = RESOLVER.Resolver(template, values).resources()
    return resources


def _accepts_duration(sample: str, *, minimum: int) -> bool:
    try:
        seconds = parse_duration(sample, name="duration").total_seconds()
    except RotatorError:
        return False
    return minimum <= seconds <= YEAR


@pytest.mark.parametrize(
    ("name", "minimum", "empty_ok"),
    [
        ("KeyLifetime", 1, True),
        ("AuditMaxAge", 1, False),
        ("AuditExpiringWithin", 0, False),
    ],
)
def test_duration_parameters_accept_exactly_what_the_runtime_accepts_in_range(
    template: dict[str, Any], name: str, minimum: int, empty_ok: bool
) -> None:
    """Each whole-number duration the template accepts is one rotator parses, within its range.

    KeyLifetime and AuditMaxAge run from 1 s to 365 d (OpenAI's expires_in_seconds must be
    positive; a zero age limit means nothing); AuditExpiringWithin may be 0. Decimals, spaces
    and upper case, which the parser tolerates, the template refuses.
    """
    parameter = template["Parameters"][name]
    pattern = re.compile(parameter["AllowedPattern"])
    canonical = re.compile(r"[0-9]+[smhd]?")
    for sample in _duration_samples():
        accepted = pattern.fullmatch(sample) is not None
        if sample == "":
            assert accepted is empty_ok
        elif canonical.fullmatch(sample):
            assert accepted == _accepts_duration(sample, minimum=minimum), (name, sample)
        else:
            assert not accepted, (name, sample)
    for zero in ("0", "0s", "00m", "0h", "000d"):
        assert (pattern.fullmatch(zero) is not None) is (minimum == 0), (name, zero)
    assert pattern.fullmatch(str(parameter["Default"]))


def test_key_lifetime_and_allow_list_reach_the_function_only_when_set(
    template: dict[str, Any],
) -> None:
    """Empty parameters leave the variables out (the runtime's defaults: none, any project)."""
    default = _resources(template)["RotationFunction"]["Properties"]["Environment"]["Variables"]
    assert "ROTATOR_KEY_LIFETIME" not in default
    assert "ROTATOR_ALLOWED_PROJECT_IDS" not in default
    assert default["ROTATOR_METRICS_NAMESPACE"] == "Rotator"
    assert default["ROTATOR_GRACE_PERIOD"] == "24h"
    given = _resources(
        template,
        KeyLifetime="90d",
        AllowedProjectIds="proj_abc123,proj_Def456",
        MetricsNamespace="Team/Rotator",
    )["RotationFunction"]["Properties"]["Environment"]["Variables"]
    assert given["ROTATOR_KEY_LIFETIME"] == "90d"
    assert given["ROTATOR_ALLOWED_PROJECT_IDS"] == "proj_abc123,proj_Def456"
    assert given["ROTATOR_METRICS_NAMESPACE"] == "Team/Rotator"


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        (
            "AllowedProjectIds",
            ["", "proj_abc123", "proj_abc123,proj_DEF456"],
            ["abc123", "proj_", "proj_abc, proj_def", "proj_abc,", "proj_a-b", "org_abc"],
        ),
        (
            "MetricsNamespace",
            ["Rotator", "Team/Rotator", "rotator.prod#1:eu-west-1_x", "a" * 255],
            ["", "AWS/Lambda", "Rotator prod", "a" * 256, "rotator\n"],
        ),
    ],
)
def test_allow_list_and_namespace_accept_only_their_shapes(
    template: dict[str, Any], name: str, good: list[str], bad: list[str]
) -> None:
    """Only proj_ ids, comma-separated; a namespace CloudWatch takes, never under AWS/."""
    pattern = re.compile(template["Parameters"][name]["AllowedPattern"])
    for value in good:
        assert pattern.fullmatch(value), value
    for value in bad:
        assert not pattern.fullmatch(value), value


def test_rotation_failed_alarm_watches_the_fleet_wide_series(template: dict[str, Any]) -> None:
    """Sum of RotationFailed > 0 over 5 min, no dimensions, missing data is fine, to the topic."""
    alarm = _resources(template, MetricsNamespace="Team/Rotator")["RotationFailedAlarm"]
    assert alarm["Properties"] == {
        "AlarmDescription": alarm["Properties"]["AlarmDescription"],
        "Namespace": "Team/Rotator",
        "MetricName": "RotationFailed",
        "Statistic": "Sum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": [RESOLVER.Resolver(template, {}).refs["AlertTopic"]],
    }


def test_audit_schedule_sends_the_audit_event_and_alarms_on_secrets_out_of_policy(
    template: dict[str, Any],
) -> None:
    """With AuditSchedule: a rule sending the audit action, its permission, the daily alarm."""
    assert not {"AuditRule", "AuditPermission", "SecretsOutOfPolicyAlarm"} & set(
        _resources(template)
    )
    resources = _resources(
        template, AuditSchedule="rate(1 day)", AuditMaxAge="30d", AuditExpiringWithin="3d"
    )
    rule = resources["AuditRule"]["Properties"]
    assert rule["ScheduleExpression"] == "rate(1 day)"
    (target,) = rule["Targets"]
    assert target["Arn"] == RESOLVER.FUNCTION_ARN
    assert json.loads(target["Input"]) == {
        "Action": "audit",
        "Prefix": "openai/",
        "MaxAge": "30d",
        "ExpiringWithin": "3d",
    }
    permission = resources["AuditPermission"]["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == RESOLVER.Resolver(template, {}).attrs["AuditRule.Arn"]
    alarm = resources["SecretsOutOfPolicyAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("Rotator", "SecretsOutOfPolicy")
    assert "Dimensions" not in alarm
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Maximum", 86400, 0)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["AlarmActions"] == resources["RotationFailedAlarm"]["Properties"]["AlarmActions"]


def test_admin_key_rotation_is_scheduled_only_when_asked(template: dict[str, Any]) -> None:
    """RotateAdminKey=true: a RotationSchedule on the admin-key secret, after its permission."""
    names = {"AdminKeyRotation", "AdminKeyRotationPermission"}
    assert not names & set(_resources(template))
    resources = _resources(template, RotateAdminKey="true")
    schedule = resources["AdminKeyRotation"]["Properties"]
    assert schedule["SecretId"] == RESOLVER.ADMIN_ARN
    assert schedule["RotationLambdaARN"] == RESOLVER.FUNCTION_ARN
    assert schedule["RotateImmediatelyOnUpdate"] is False
    rules = schedule["RotationRules"]
    assert validate_expression(rules["ScheduleExpression"]) == "rate(30 days)"
    check_window(rules["ScheduleExpression"], rules["Duration"])
    raw = template["Resources"]["AdminKeyRotation"]
    assert raw["DependsOn"] == "AdminKeyRotationPermission"
    permission = resources["AdminKeyRotationPermission"]["Properties"]
    assert permission["Principal"] == "secretsmanager.amazonaws.com"
    assert permission["SourceArn"] == RESOLVER.ADMIN_ARN


def _success_event(secret_id: str, name: str = "RotationSucceeded") -> Any:  # moto: a TypedDict
    """A Secrets Manager rotation service event as EventBridge delivers it from CloudTrail."""
    return {
        "source": "aws.secretsmanager",
        "detail-type": "AWS Service Event via CloudTrail",
        "detail": {
            "eventSource": "secretsmanager.amazonaws.com",
            "eventName": name,
            "eventType": "AwsServiceEvent",
            "additionalEventData": {"SecretId": secret_id},
        },
    }


@pytest.mark.parametrize(
    ("overrides", "matched", "unmatched"),
    [
        (
            {},
            [f"{PREFIX_ARN}payments-api-GhIjKl", f"{PREFIX_ARN}team/x-AbCdEf"],
            [f"{RESOLVER.SECRET_ARN}other/app-AbCdEf"],
        ),
        (
            {"RotatedSecretArn": RESOLVER.ROTATED_ARN},
            [RESOLVER.ROTATED_ARN],
            [f"{PREFIX_ARN}other-AbCdEf", RESOLVER.ADMIN_ARN],
        ),
        (
            {"RotatedSecretArn": RESOLVER.ROTATED_ARN, "RotateAdminKey": "true"},
            [RESOLVER.ROTATED_ARN, RESOLVER.ADMIN_ARN],
            [f"{PREFIX_ARN}other-AbCdEf"],
        ),
        (
            {"ManagedSecretName": "openai/payments-api"},
            [f"{PREFIX_ARN}payments-api-MnOpQr"],
            [f"{PREFIX_ARN}payments-api-v2-MnOpQr"],
        ),
    ],
    ids=["prefix", "single", "single-and-admin-key", "managed"],
)
def test_success_notifications_forward_rotation_succeeded_of_our_secrets_only(
    template: dict[str, Any],
    overrides: dict[str, str],
    matched: list[str],
    unmatched: list[str],
) -> None:
    """NotifyOnSuccess=true: RotationSucceeded of the rotated secret(s) reaches the topic.

    Other secrets' successes and every other event name (failures have their own rule) do not.
    """
    assert "RotationSucceededRule" not in _resources(template, **overrides)
    resources = _resources(template, NotifyOnSuccess="true", **overrides)
    rule = resources["RotationSucceededRule"]["Properties"]
    assert [t["Arn"] for t in rule["Targets"]] == [
        RESOLVER.Resolver(template, {}).refs["AlertTopic"]
    ]
    pattern = EventPattern.load(json.dumps(rule["EventPattern"]))
    for arn in matched:
        assert pattern.matches_event(_success_event(arn)), arn
        assert not pattern.matches_event(_success_event(arn, "RotationFailed")), arn
        assert not pattern.matches_event(_success_event(arn, "RotationStarted")), arn
    for arn in unmatched:
        assert not pattern.matches_event(_success_event(arn)), arn
    (publish,) = [
        s
        for s in resources["AlertTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        if s["Sid"] == "RotationSuccessEvents"
    ]
    assert publish["Principal"] == {"Service": "events.amazonaws.com"}
    assert publish["Condition"] == {
        "ArnEquals": {
            "aws:SourceArn": RESOLVER.Resolver(template, {}).attrs["RotationSucceededRule.Arn"]
        }
    }


def test_every_parameter_is_in_the_deploy_guides_table(template: dict[str, Any]) -> None:
    """docs/deploy.md's parameter table names every parameter, with the template's default."""
    guide = (ROOT / "docs" / "deploy.md").read_text()
    rows = [line for line in guide.splitlines() if line.startswith("| `")]
    for name, spec in template["Parameters"].items():
        (row,) = [r for r in rows if f"`{name}`" in r.split("|")[1]]
        default = str(spec.get("Default", "—"))
        cell = row.split("|")[2].strip()
        assert cell == ("empty" if default == "" else f"`{default}`" if default != "—" else "—"), (
            name,
            cell,
        )


def test_every_parameter_sits_in_exactly_one_console_group(template: dict[str, Any]) -> None:
    """The console's parameter groups list each parameter once, new ones included."""
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    listed = [name for group in groups for name in group["Parameters"]]
    assert sorted(listed) == sorted(template["Parameters"])
