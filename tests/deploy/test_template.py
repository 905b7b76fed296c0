"""template.yaml wires the real function, the package, the schedule and the alerts correctly."""

from __future__ import annotations

import importlib.util
import inspect
import json
import random
import re
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest

import handler
from rotator.config import Settings, parse_duration
from rotator.domain.schedule import check_window, validate_duration, validate_expression
from rotator.errors import RotatorError
from tests.deploy.conftest import ROOT, build_script


def _resource(template: dict[str, Any], name: str) -> dict[str, Any]:
    resource: dict[str, Any] = template["Resources"][name]
    return resource


def _function(template: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = _resource(template, "RotationFunction")["Properties"]
    return props


def test_handler_and_code_uri_resolve_to_the_real_lambda_handler(template: dict[str, Any]) -> None:
    """CodeUri is the zip `make package` builds; Handler names lambda/handler.lambda_handler."""
    props = _function(template)
    script = build_script()
    assert ROOT / props["CodeUri"] == script.DEFAULT_OUTPUT
    module_name, function_name = props["Handler"].split(".")
    assert script.project_files()[f"{module_name}.py"] == ROOT / "lambda" / "handler.py"
    assert module_name == handler.__name__
    assert getattr(handler, function_name) is handler.lambda_handler
    assert list(inspect.signature(handler.lambda_handler).parameters) == ["event", "context"]


def test_runtime_and_architecture_match_what_the_package_is_built_for(
    template: dict[str, Any],
) -> None:
    """python3.13 on arm64 by default, and the architectures offered are those the build knows."""
    props = _function(template)
    script = build_script()
    parameter = template["Parameters"]["Architecture"]
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == [{"Ref": "Architecture"}]
    assert parameter["Default"] == "arm64"
    assert set(parameter["AllowedValues"]) == set(script.PLATFORMS)


def test_function_environment_is_what_settings_reads_and_timeout_covers_the_test_step(
    template: dict[str, Any],
) -> None:
    """Every variable is one Settings.from_env understands; the timeout outlasts testSecret."""
    props = _function(template)
    variables = dict(props["Environment"]["Variables"])  # the template fixture is shared
    optional = {  # set only when their parameter is (absent with the defaults)
        name: variables.pop(name)
        for name in (
            "HTTPS_PROXY",
            "NO_PROXY",
            "ROTATOR_KEY_LIFETIME",
            "ROTATOR_ALLOWED_PROJECT_IDS",
        )
    }
    no_value = {"Ref": "AWS::NoValue"}
    assert optional == {
        "HTTPS_PROXY": {"Fn::If": ["HasHttpsProxy", {"Ref": "HttpsProxy"}, no_value]},
        "NO_PROXY": {"Fn::If": ["HasNoProxy", {"Ref": "NoProxy"}, no_value]},
        "ROTATOR_KEY_LIFETIME": {"Fn::If": ["HasKeyLifetime", {"Ref": "KeyLifetime"}, no_value]},
        "ROTATOR_ALLOWED_PROJECT_IDS": {
            "Fn::If": ["HasAllowedProjectIds", {"Ref": "AllowedProjectIds"}, no_value]
        },
    }
    assert set(variables) == {
        "ROTATOR_ADMIN_KEY_SECRET_ID",
        "OPENAI_BASE_URL",
        "ROTATOR_TEST_TIMEOUT",
        "ROTATOR_GRACE_PERIOD",
        "ROTATOR_METRICS_NAMESPACE",
        "LOG_LEVEL",
    }
    sample = {
        "ROTATOR_ADMIN_KEY_SECRET_ID": "arn:aws:secretsmanager:us-east-1:1:secret:a-abcdef",
        "OPENAI_BASE_URL": template["Parameters"]["OpenAIBaseUrl"]["Default"],
        "ROTATOR_TEST_TIMEOUT": variables["ROTATOR_TEST_TIMEOUT"],
        "ROTATOR_GRACE_PERIOD": template["Parameters"]["GracePeriod"]["Default"],
        "ROTATOR_METRICS_NAMESPACE": template["Parameters"]["MetricsNamespace"]["Default"],
        "LOG_LEVEL": template["Parameters"]["LogLevel"]["Default"],
    }
    settings = Settings.from_env(sample, allow_env_admin_key=False)
    assert settings.grace_period == timedelta(hours=24)  # the template's default (the CLI's: 0)
    timeouts = settings.test_timeout + settings.revocation_timeout
    assert timeouts + 30 <= props["Timeout"] <= 900
    assert props["LoggingConfig"]["LogFormat"] == "JSON"


def test_default_schedule_and_window_are_valid_for_secrets_manager(
    template: dict[str, Any],
) -> None:
    """cfn-lint does not check Duration or rate(): the defaults pass rotator's own rules."""
    expression = template["Parameters"]["ScheduleExpression"]["Default"]
    window = template["Parameters"]["RotationWindow"]["Default"]
    assert validate_expression(expression) == expression == "rate(30 days)"
    assert validate_duration(window) == window == "4h"
    check_window(expression, window)
    assert template["Parameters"]["LogRetentionDays"]["Default"] == 90


def test_rotation_schedule_waits_for_the_permission_and_never_rotates_on_deploy(
    template: dict[str, Any],
) -> None:
    """RotateImmediatelyOnUpdate is false and the schedule DependsOn the Lambda permission."""
    schedule = _resource(template, "RotationSchedule")
    assert schedule["Condition"] == "SchedulesRotation"
    assert schedule["DependsOn"] == "RotationFunctionPermission"
    props = schedule["Properties"]
    assert props["RotateImmediatelyOnUpdate"] is False
    assert props["RotationRules"] == {
        "ScheduleExpression": {"Ref": "ScheduleExpression"},
        "Duration": {"Ref": "RotationWindow"},
    }
    secret = _resource(template, "ManagedSecret")["Properties"]
    assert "SecretString" not in secret
    assert "GenerateSecretString" not in secret


def test_lambda_permission_is_scoped_to_the_account_and_the_rotated_secrets(
    template: dict[str, Any],
) -> None:
    """SourceAccount always; SourceArn always: the one secret, or the prefix's wildcard ARN."""
    props = _resource(template, "RotationFunctionPermission")["Properties"]
    assert props["Principal"] == "secretsmanager.amazonaws.com"
    assert props["SourceAccount"] == {"Ref": "AWS::AccountId"}
    condition, single, prefix = props["SourceArn"]["Fn::If"]
    assert condition == "HasOneSecret"
    assert single == {
        "Fn::If": ["HasSingleSecret", {"Ref": "RotatedSecretArn"}, {"Ref": "ManagedSecret"}]
    }
    assert prefix == {
        "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}"
        ":secret:${RotatedSecretNamePrefix}*"
    }


def test_log_group_outlives_the_stack(template: dict[str, Any]) -> None:
    """The rotation audit trail is retained on stack deletion and on replacement."""
    group = _resource(template, "RotationFunctionLogGroup")
    assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == ("Retain", "Retain")


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov", "aws-iso-b"])
def test_admin_key_secret_arn_accepts_only_full_arns(
    template: dict[str, Any], partition: str
) -> None:
    """A partial ARN (no -AbCdEf suffix) would match no IAM Resource: the stack refuses it."""
    pattern = re.compile(template["Parameters"]["AdminKeySecretArn"]["AllowedPattern"])
    base = f"arn:{partition}:secretsmanager:us-east-1:123456789012:secret:openai/admin-key"
    assert pattern.fullmatch(f"{base}-AbC1eF")
    for bad in (base, f"{base}-AbC", f"{base}*", "openai/admin-key", f"{base}-AbC1eF/x"):
        assert not pattern.fullmatch(bad), bad


def _grace_samples() -> list[str]:
    rng = random.Random(365)  # noqa: S311 - fixed test samples, nothing secret
    samples = ["0", "00", "007d", "1.5h", " 1h", "1H", "-1", "1w", "", "d", "0x10", "1e3"]
    for unit, seconds in (("", 1), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)):
        limit = 365 * 86400 // seconds
        numbers = {*range(0, 1200), *range(limit - 1200, limit + 1200), 10 * limit, 10**8}
        numbers |= {rng.randrange(0, 2 * limit) for _ in range(500)}
        samples += [f"{n}{unit}" for n in sorted(numbers)]
        samples += [f"0{limit}{unit}", f"00{limit + 1}{unit}"]
    return samples


def test_grace_period_pattern_agrees_with_the_runtimes_365_day_cap(
    template: dict[str, Any],
) -> None:
    """Every whole-number duration the template accepts, the Lambda accepts, and back.

    The runtime's parser also tolerates decimals (``1.5h``), spaces and upper case; the
    template refuses those, a stricter but valid subset.
    """
    pattern = re.compile(template["Parameters"]["GracePeriod"]["AllowedPattern"])
    canonical = re.compile(r"[0-9]+[smhd]?")
    samples = _grace_samples()
    for sample in samples:
        try:
            parse_duration(sample, name="GracePeriod")
        except RotatorError:
            runtime_accepts = False
        else:
            runtime_accepts = True
        template_accepts = pattern.fullmatch(sample) is not None
        if canonical.fullmatch(sample):
            assert template_accepts == runtime_accepts, sample
        else:
            assert not template_accepts, sample
    assert {"31536000", "525600m", "8760h", "365d", "0365d"} <= set(samples)
    assert pattern.fullmatch(template["Parameters"]["GracePeriod"]["Default"])


@pytest.mark.parametrize(
    ("resource", "target_key"),
    [("RotationFailureRule", "Targets"), ("RotationErrorsAlarm", "AlarmActions")],
)
def test_failures_alert_the_sns_topic(
    template: dict[str, Any], resource: str, target_key: str
) -> None:
    """Both the EventBridge rule and the Errors alarm publish to the alert topic."""
    targets = _resource(template, resource)["Properties"][target_key]
    refs = [t["Arn"] if isinstance(t, dict) and "Arn" in t else t for t in targets]
    assert refs == [{"Ref": "AlertTopic"}]


def test_failure_rule_matches_the_three_rotation_failure_events(template: dict[str, Any]) -> None:
    """RotationFailed, TestRotationFailed and RotationAbandoned from Secrets Manager."""
    pattern = _resource(template, "RotationFailureRule")["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.secretsmanager"]
    assert set(pattern["detail"]["eventName"]) == {
        "RotationFailed",
        "TestRotationFailed",
        "RotationAbandoned",
    }
    alarm = _resource(template, "RotationErrorsAlarm")["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", "Errors")


def test_outputs_give_the_function_and_topic_arns(template: dict[str, Any]) -> None:
    """`rotator schedule --lambda-arn` takes FunctionArn; alerts go to AlertTopicArn."""
    outputs = template["Outputs"]
    assert outputs["FunctionArn"]["Value"] == {"Fn::GetAtt": ["RotationFunction", "Arn"]}
    assert outputs["AlertTopicArn"]["Value"] == {"Ref": "AlertTopic"}


def test_every_checkov_skip_carries_a_reason(template: dict[str, Any]) -> None:
    """A skipped scanner check is justified in the template, next to the resource."""
    skips = [
        skip
        for resource in template["Resources"].values()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for skip in skips:
        assert skip["id"].startswith("CKV_")
        assert len(skip["comment"]) > 40


def test_prune_schedule_sends_the_event_the_handler_accepts(template: dict[str, Any]) -> None:
    """The optional prune rule targets the function with {"Action": "prune", "SecretId": ...}."""
    from rotator.domain.protocol import prune_target

    rule = template["Resources"]["PruneRule"]
    assert rule["Condition"] == "PrunesOneSecret"
    (target,) = rule["Properties"]["Targets"]
    body, variables = target["Input"]["Fn::Sub"]
    rendered = body.replace("${Target}", "arn:aws:secretsmanager:us-east-1:1:secret:a-abcdef")
    assert (
        prune_target(json.loads(rendered)) == "arn:aws:secretsmanager:us-east-1:1:secret:a-abcdef"
    )
    assert set(variables) == {"Target"}
    permission = template["Resources"]["PrunePermission"]["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": ["PruneRule", "Arn"]}


def _resolver() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "resolve_iam_policies", ROOT / "scripts" / "resolve_iam_policies.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _deployed_function(template: dict[str, Any], **overrides: str) -> dict[str, Any]:
    """RotationFunction's properties as CloudFormation resolves them for these parameters."""
    resolver = _resolver()
    values = resolver.parameters(template, overrides)
    props: dict[str, Any] = resolver.Resolver(template, values).resources()["RotationFunction"][
        "Properties"
    ]
    return props


def test_function_joins_the_vpc_only_when_subnets_and_security_groups_are_given(
    template: dict[str, Any],
) -> None:
    """VpcConfig lists each comma-separated id; without the parameters there is no VpcConfig."""
    assert "VpcConfig" not in _deployed_function(template)
    props = _deployed_function(
        template, SubnetIds="subnet-0a1b2c3d,subnet-4e5f6a7b", SecurityGroupIds="sg-0a1b2c3d"
    )
    assert props["VpcConfig"] == {
        "SubnetIds": ["subnet-0a1b2c3d", "subnet-4e5f6a7b"],
        "SecurityGroupIds": ["sg-0a1b2c3d"],
    }


@pytest.mark.parametrize(
    ("subnets", "groups", "accepted"),
    [
        ("", "", True),
        ("subnet-0a1b2c3d", "sg-0a1b2c3d", True),
        ("subnet-0a1b2c3d", "", False),
        ("", "sg-0a1b2c3d", False),
    ],
)
def test_stack_refuses_subnets_without_security_groups_and_back(
    template: dict[str, Any], subnets: str, groups: str, accepted: bool
) -> None:
    """The SubnetsAndSecurityGroupsTogether rule: both (VPC placement) or neither."""
    resolver = _resolver()
    values = resolver.parameters(template, {"SubnetIds": subnets, "SecurityGroupIds": groups})
    (assertion,) = template["Rules"]["SubnetsAndSecurityGroupsTogether"]["Assertions"]
    assert resolver.Resolver(template, values).value(assertion["Assert"]) is accepted


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        (
            "SubnetIds",
            ["subnet-0a1b2c3d", "subnet-0a1b2c3d4e5f6a7b8,subnet-4e5f6a7b"],
            ["subnet-1", "subnet-0a1b2c3d, subnet-4e5f6a7b", "sg-0a1b2c3d"],
        ),
        (
            "SecurityGroupIds",
            ["sg-0a1b2c3d", "sg-0a1b2c3d,sg-4e5f6a7b"],
            ["sg-xyz", "subnet-0a1b2c3d"],
        ),
        ("ReservedConcurrency", ["1", "50", "9999"], ["0", "-1", "10000", "5.5", "05"]),
        (
            "HttpsProxy",
            ["http://proxy.internal:3128", "https://p:8443"],
            ["proxy:3128", "http:// x"],
        ),
    ],
)
def test_network_and_concurrency_parameters_accept_only_their_shapes(
    template: dict[str, Any], name: str, good: list[str], bad: list[str]
) -> None:
    """Empty (the default: not used) or a well-formed value; anything else fails the deploy."""
    parameter = template["Parameters"][name]
    pattern = re.compile(parameter["AllowedPattern"])
    assert parameter["Default"] == ""
    for value in ["", *good]:
        assert pattern.fullmatch(value), value
    for value in bad:
        assert not pattern.fullmatch(value), value


def test_reserved_concurrency_is_set_only_when_given(template: dict[str, Any]) -> None:
    """The fleet-wide cap on concurrent rotations is opt-in: it reserves from the account pool."""
    assert "ReservedConcurrentExecutions" not in _deployed_function(template)
    props = _deployed_function(template, ReservedConcurrency="5")
    assert props["ReservedConcurrentExecutions"] == "5"
