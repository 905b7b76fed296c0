"""Schedule, window and Lambda ARN validation: tables of what Secrets Manager accepts."""

from __future__ import annotations

import pytest

from rotator.domain.schedule import (
    RotationSchedule,
    build_schedule,
    check_window,
    rate_from_every,
    validate_duration,
    validate_expression,
    validate_lambda_arn,
)
from rotator.errors import ConfigError


@pytest.mark.parametrize(
    ("every", "expected"),
    [
        ("30 days", "rate(30 days)"),
        ("1 day", "rate(1 day)"),
        ("1 days", "rate(1 day)"),
        ("12 hours", "rate(12 hours)"),
        ("4 hours", "rate(4 hours)"),
        ("6h", "rate(6 hours)"),
        ("7d", "rate(7 days)"),
        (" 999 DAYS ", "rate(999 days)"),
    ],
)
def test_every_becomes_a_canonical_rate(every: str, expected: str) -> None:
    """Friendly intervals turn into the rate() Secrets Manager expects."""
    assert rate_from_every(every) == expected


@pytest.mark.parametrize(
    ("every", "fragment"),
    [
        ("3 hours", "at most every four hours"),
        ("0 days", "1 to 999"),
        ("1000 days", "1 to 999"),
        ("24 hours", "use days beyond that"),
        ("2 weeks", "not an interval"),
        ("thirty days", "not an interval"),
        ("1.5 days", "not an interval"),
        ("", "not an interval"),
    ],
)
def test_every_refuses_what_secrets_manager_refuses(every: str, fragment: str) -> None:
    """Too often, too rare or not an interval: a one-line error naming the rule."""
    with pytest.raises(ConfigError, match=fragment):
        rate_from_every(every)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("rate(30 days)", "rate(30 days)"),
        ("rate(1 day)", "rate(1 day)"),
        ("rate(4 hours)", "rate(4 hours)"),
        ("cron(0 4 ? * SUN *)", "cron(0 4 ? * SUN *)"),
        ("cron(0  16 L * ? *)", "cron(0 16 L * ? *)"),
        ("cron(0 8/8 * * ? *)", "cron(0 8/8 * * ? *)"),
        ("cron(0 2/10 * * ? *)", "cron(0 2/10 * * ? *)"),
        ("cron(0 8 1/7 * ? *)", "cron(0 8 1/7 * ? *)"),
        ("cron(0 0 ? * SUN#1 *)", "cron(0 0 ? * SUN#1 *)"),
        ("cron(0 4,12,20 ? * MON-FRI *)", "cron(0 4,12,20 ? * MON-FRI *)"),
        ("cron(0 1-13/6 1 JAN,JUL ? *)", "cron(0 1-13/6 1 JAN,JUL ? *)"),
    ],
)
def test_expressions_secrets_manager_accepts_pass(expression: str, expected: str) -> None:
    """The user guide's examples validate (whitespace is normalised)."""
    assert validate_expression(expression) == expected


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("rate(2 hours)", "at most every four hours"),
        ("rate(30 minutes)", "not a rate"),
        ("rate(30days)", "not a rate"),
        ("rate(1000 days)", "1 to 999"),
        ("every 30 days", "neither rate"),
        ("cron(5 4 ? * SUN *)", "minutes must be 0"),
        ("cron(0 4 ? * SUN 2027)", "year field must be"),
        ("cron(0 4 * * SUN *)", "must be ?"),
        ("cron(0 4 ? * ? *)", "must be ?"),
        ("cron(0 4 ? *)", "six fields"),
        ("cron(0 * * * ? *)", "less than 4 hours apart"),
        ("cron(0 0/2 * * ? *)", "less than 4 hours apart"),
        ("cron(0 1,3 * * ? *)", "less than 4 hours apart"),
        ("cron(0 0,22 * * ? *)", "less than 4 hours apart"),
        ("cron(0 25 * * ? *)", "not an hour"),
        ("cron(0 9-3 * * ? *)", "runs backwards"),
        ("cron(0 4/0 * * ? *)", "hour step"),
        ("cron(0 4 ? * SUN$ *)", "day-of-week field"),
    ],
)
def test_expressions_secrets_manager_refuses_fail_before_aws(
    expression: str, fragment: str
) -> None:
    """Each malformed or too-frequent expression is refused with the rule it breaks."""
    with pytest.raises(ConfigError, match=fragment):
        validate_expression(expression)


@pytest.mark.parametrize(
    ("window", "expected"),
    [("4h", "4h"), ("1h", "1h"), ("24h", "24h"), ("04h", "4h"), ("3H", "3h")],
)
def test_windows_in_whole_hours_pass(window: str, expected: str) -> None:
    """Duration is whole hours, 1h to 24h."""
    assert validate_duration(window) == expected


@pytest.mark.parametrize("window", ["4 hours", "0h", "25h", "100h", "4", "h", "2.5h", "4m", ""])
def test_windows_that_are_not_a_duration_fail(window: str) -> None:
    """cfn-lint accepts `4 hours`; rotator does not."""
    with pytest.raises(ConfigError, match="not a Secrets Manager Duration"):
        validate_duration(window)


@pytest.mark.parametrize(
    ("expression", "window", "fragment"),
    [
        ("rate(4 hours)", "5h", "longer than the 4-hour interval"),
        ("cron(0 22 ? * SUN *)", "3h", "next UTC day"),
        ("cron(0 4,12 ? * SUN *)", "9h", "next window"),
    ],
)
def test_windows_that_overrun_are_refused(expression: str, window: str, fragment: str) -> None:
    """A window may not run into the next UTC day or the next window."""
    with pytest.raises(ConfigError, match=fragment):
        check_window(expression, window)


@pytest.mark.parametrize(
    ("expression", "window"),
    [("rate(30 days)", "24h"), ("rate(6 hours)", "6h"), ("cron(0 20 ? * SUN *)", "4h")],
)
def test_windows_that_fit_are_accepted(expression: str, window: str) -> None:
    """Windows that end by midnight and before the next window pass."""
    check_window(expression, window)


def test_build_schedule_takes_exactly_one_of_every_and_cron() -> None:
    """Neither or both is refused; a rate() passed as --cron is refused too."""
    for every, cron in ((None, None), ("30 days", "cron(0 4 ? * SUN *)")):
        with pytest.raises(ConfigError, match="exactly one of --every"):
            build_schedule(every=every, cron=cron)
    with pytest.raises(ConfigError, match="--cron takes a cron"):
        build_schedule(cron="rate(30 days)")
    assert build_schedule(every="30 days", window="4h") == RotationSchedule("rate(30 days)", "4h")
    assert build_schedule(cron="cron(0 4 ? * SUN *)") == RotationSchedule("cron(0 4 ? * SUN *)")


@pytest.mark.parametrize(
    ("arn", "valid"),
    [
        ("arn:aws:lambda:us-east-1:123456789012:function:rotator", True),
        ("arn:aws:lambda:eu-west-2:123456789012:function:stack-Rotation_Fn:live", True),
        ("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:rotator", True),
        ("rotator", False),
        ("arn:aws:lambda:us-east-1:123456789012:layer:rotator", False),
        ("arn:aws:lambda:us-east-1:12345:function:rotator", False),
        ("arn:aws:secretsmanager:us-east-1:123456789012:secret:x", False),
    ],
)
def test_lambda_arns_are_checked(arn: str, *, valid: bool) -> None:
    """Only a Lambda function ARN (optionally with version or alias) is accepted."""
    if valid:
        assert validate_lambda_arn(arn) == arn
    else:
        with pytest.raises(ConfigError, match="not a Lambda function ARN"):
            validate_lambda_arn(arn)
