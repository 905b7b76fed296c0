"""Rotation schedules as Secrets Manager accepts them, checked before any AWS call.

Pure functions, no I/O. The rules (Secrets Manager user guide, "Rotation schedules"; API
``RotationRulesType``):

* ``rate(N hours)`` or ``rate(N days)`` (``hour``/``day`` also accepted): at most every four
  hours, at most 999 days apart. The window of a rate schedule opens at midnight UTC.
* ``cron(Minutes Hours Day-of-month Month Day-of-week Year)`` in UTC: minutes must be ``0``,
  year must be ``*``, one of the two day fields must be ``?``, at most every four hours.
* ``Duration`` (the window) is ``Nh``, at least ``1h``; it must not run into the next UTC day
  nor into the next window. cfn-lint does not check it (its schema has no pattern).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from rotator.errors import ConfigError

MIN_HOURS = 4
MAX_RATE_HOURS = 23
MAX_RATE_DAYS = 999
HOURS_PER_DAY = 24

_EVERY = re.compile(r"^\s*(?P<n>\d{1,4})\s*(?P<unit>hours?|days?|h|d)\s*$", re.IGNORECASE)
_RATE = re.compile(r"^rate\((?P<n>\d{1,4}) (?P<unit>hours?|days?)\)$")
_CRON = re.compile(r"^cron\((?P<body>[^()]+)\)$")
_DURATION = re.compile(r"^(?P<n>\d{1,2})h$")
_LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}"
    r"(:[A-Za-z0-9_$-]{1,128})?$"
)
_HOURS_FIELD = re.compile(r"^[0-9,*/-]+$")
_DOM_FIELD = re.compile(r"^([0-9,*/?LW-]+)$")
_MONTH_FIELD = re.compile(r"^([0-9A-Za-z,*/-]+)$")
_DOW_FIELD = re.compile(r"^([0-9A-Za-z,*/?L#-]+)$")


@dataclass(frozen=True)
class RotationSchedule:
    """A validated ``ScheduleExpression`` and optional ``Duration``, ready for RotateSecret."""

    expression: str
    duration: str | None = None


def rate_from_every(text: str) -> str:
    """``"30 days"``, ``"12 hours"``, ``"1 day"``, ``"6h"`` → a canonical ``rate()``."""
    match = _EVERY.match(text)
    if match is None:
        raise ConfigError(
            f"--every {text[:40]!r} is not an interval; use a whole number of hours or days, "
            "e.g. '30 days' or '12 hours'"
        )
    unit = "hours" if match["unit"].lower().startswith("h") else "days"
    return validate_expression(f"rate({int(match['n'])} {unit})")


def validate_expression(expression: str) -> str:
    """A ``rate()`` or ``cron()`` expression Secrets Manager accepts, canonicalised."""
    text = " ".join(expression.split())
    if text.startswith("rate("):
        return _validate_rate(text)
    if text.startswith("cron("):
        return _validate_cron(text)
    raise ConfigError(
        f"schedule {expression[:60]!r} is neither rate(...) nor cron(...); use e.g. "
        "'rate(30 days)' or 'cron(0 4 ? * SUN *)'"
    )


def _validate_rate(text: str) -> str:
    match = _RATE.match(text)
    if match is None:
        raise ConfigError(
            f"schedule {text[:60]!r} is not a rate Secrets Manager accepts; use "
            "'rate(N hours)' or 'rate(N days)'"
        )
    value = int(match["n"])
    if match["unit"].startswith("hour"):
        if not MIN_HOURS <= value <= MAX_RATE_HOURS:
            raise ConfigError(
                f"schedule {text!r}: a rate in hours must be {MIN_HOURS} to {MAX_RATE_HOURS} "
                "(Secrets Manager rotates at most every four hours; use days beyond that)"
            )
        return f"rate({value} hours)"
    if not 1 <= value <= MAX_RATE_DAYS:
        raise ConfigError(f"schedule {text!r}: a rate in days must be 1 to {MAX_RATE_DAYS}")
    return f"rate({value} {'day' if value == 1 else 'days'})"


def _validate_cron(text: str) -> str:
    match = _CRON.match(text)
    fields = match["body"].split() if match else []
    if len(fields) != 6:
        raise ConfigError(
            f"schedule {text[:60]!r} must have six fields: cron(Minutes Hours Day-of-month "
            "Month Day-of-week Year), e.g. 'cron(0 4 ? * SUN *)'"
        )
    minutes, hours, day_of_month, month, day_of_week, year = fields
    if minutes != "0":
        raise ConfigError(f"schedule {text!r}: minutes must be 0 (windows open on the hour)")
    if year != "*":
        raise ConfigError(f"schedule {text!r}: the year field must be *")
    if "?" not in (day_of_month, day_of_week) or day_of_month == day_of_week:
        raise ConfigError(
            f"schedule {text!r}: exactly one of day-of-month and day-of-week must be ?"
        )
    for value, pattern, name in (
        (day_of_month, _DOM_FIELD, "day-of-month"),
        (month, _MONTH_FIELD, "month"),
        (day_of_week, _DOW_FIELD, "day-of-week"),
    ):
        if pattern.match(value) is None:
            raise ConfigError(f"schedule {text!r}: the {name} field {value!r} is malformed")
    cron_hours(text, hours)
    return f"cron({' '.join(fields)})"


def cron_hours(text: str, field: str) -> tuple[int, ...]:
    """The hours of the day a cron hours field fires at; refuses more often than every 4 h."""
    if _HOURS_FIELD.match(field) is None:
        raise ConfigError(f"schedule {text!r}: the hours field {field!r} is malformed")
    hours: set[int] = set()
    for part in field.split(","):
        hours |= _expand_hours(text, part)
    ordered = tuple(sorted(hours))
    gaps = [b - a for a, b in itertools.pairwise(ordered)]
    if len(ordered) > 1:
        gaps.append(HOURS_PER_DAY - ordered[-1] + ordered[0])
    if gaps and min(gaps) < MIN_HOURS:
        raise ConfigError(
            f"schedule {text!r} fires less than {MIN_HOURS} hours apart; Secrets Manager "
            "rotates at most every four hours"
        )
    return ordered


def _expand_hours(text: str, part: str) -> set[int]:
    base, _, step_text = part.partition("/")
    step = 1
    if step_text:
        if not step_text.isdigit() or int(step_text) == 0:
            raise ConfigError(f"schedule {text!r}: the hour step {part!r} is malformed")
        step = int(step_text)
    if base == "*":
        first, last = 0, HOURS_PER_DAY - 1
    elif "-" in base:
        low, _, high = base.partition("-")
        first, last = _hour(text, low), _hour(text, high)
    else:
        first = _hour(text, base)
        last = HOURS_PER_DAY - 1 if step_text else first
    if first > last:
        raise ConfigError(f"schedule {text!r}: the hour range {part!r} runs backwards")
    return set(range(first, last + 1, step))


def _hour(text: str, value: str) -> int:
    if not value.isdigit() or int(value) >= HOURS_PER_DAY:
        raise ConfigError(f"schedule {text!r}: {value!r} is not an hour (0-23)")
    return int(value)


def validate_duration(text: str) -> str:
    """A window like ``4h`` (1h to 24h), canonicalised (``04h`` → ``4h``)."""
    match = _DURATION.match(text.strip().lower())
    if match is None or not 1 <= int(match["n"]) <= HOURS_PER_DAY:
        raise ConfigError(
            f"window {text[:20]!r} is not a Secrets Manager Duration; use whole hours from 1h "
            "to 24h, e.g. 4h"
        )
    return f"{int(match['n'])}h"


def check_window(expression: str, duration: str) -> None:
    """Refuse a window that runs into the next UTC day or into the next window."""
    hours = int(duration.removesuffix("h"))
    if expression.startswith("rate("):
        value, unit = expression[5:-1].split()
        if unit.startswith("hour") and hours > int(value):
            raise ConfigError(
                f"window {duration} is longer than the {value}-hour interval of {expression}"
            )
        return
    fires = cron_hours(expression, expression[5:-1].split()[1])
    if fires and fires[-1] + hours > HOURS_PER_DAY:
        raise ConfigError(
            f"window {duration} opened at {fires[-1]}:00 by {expression} runs into the next UTC"
            " day; shorten it or open the window earlier"
        )
    gaps = [b - a for a, b in itertools.pairwise(fires)]
    if gaps and hours > min(gaps):
        raise ConfigError(f"window {duration} runs into the next window of {expression}")


def build_schedule(
    *, every: str | None = None, cron: str | None = None, window: str | None = None
) -> RotationSchedule:
    """The schedule for ``rotator schedule``: exactly one of ``every`` and ``cron``."""
    if (every is None) == (cron is None):
        raise ConfigError("give exactly one of --every (e.g. '30 days') and --cron 'cron(...)'")
    expression = rate_from_every(every) if every is not None else validate_expression(cron or "")
    if expression.startswith("rate(") and cron is not None:
        raise ConfigError("--cron takes a cron(...) expression; use --every for an interval")
    duration = validate_duration(window) if window is not None else None
    if duration is not None:
        check_window(expression, duration)
    return RotationSchedule(expression=expression, duration=duration)


def validate_lambda_arn(arn: str) -> str:
    """A Lambda function ARN (optionally with a version or alias)."""
    if _LAMBDA_ARN.match(arn.strip()) is None:
        raise ConfigError(
            f"--lambda-arn {arn[:100]!r} is not a Lambda function ARN; use the stack's "
            "FunctionArn output, e.g. arn:aws:lambda:us-east-1:123456789012:function:name"
        )
    return arn.strip()
