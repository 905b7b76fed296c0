"""CloudWatch embedded metric format (EMF), by hand: build a document, write it as one JSON line.

Written by hand rather than with ``aws-embedded-metrics`` or Powertools: the format is small, and
neither library's import cost belongs in the Lambda's cold start. Stdlib only, plus the key
pattern of :mod:`rotator.log`, imported on the first scrub that needs it so that importing this
module stays cheap (the edges that emit have configured structlog already).

This module knows the format, not rotator's metrics (those are in :mod:`rotator.metrics.emitter`):

* :func:`build_document` — ``_aws`` metadata (``Timestamp`` in ms, ``CloudWatchMetrics``: one
  ``{Namespace, Dimensions, Metrics: [{Name, Unit}]}`` per :class:`Directive`), then the
  dimension values, metric values and extra properties as top-level members; validated::

      document = build_document(
          [Directive([Metric("StepDuration", 412.0, Unit.MILLISECONDS)], [["SecretName"]])],
          namespace=DEFAULT_NAMESPACE,
          timestamp=datetime.now(UTC),
          dimensions={"SecretName": "openai/app"},
      )

* :func:`write_document` — one compact JSON line, flushed, to a text stream (``sys.stdout`` by
  default: in Lambda, stdout goes to CloudWatch Logs, which extracts the metrics)::

      write_document(document)              # Lambda
      write_document(document, sys.stderr)  # the CLI, whose stdout carries command output

No key value, ever: every dimension value and property string is scrubbed (key-shaped substrings
become ``sk-**********``), and metric, dimension and property *names* and the namespace are
refused if key-shaped. A match of the log redactor's pattern glued to a preceding letter or digit
(``openai/task-runner`` contains ``sk-runner``) is part of a word, not a key, and is kept unless it
is as long as a real key (40+ characters); so secret names stay intact as dimension values.

Validation, per the spec and CloudWatch's limits (:class:`~rotator.errors.ConfigError` naming the
limit, never echoing a value): namespace 1-255 characters, not blank, not starting with ``:``;
1-100 metrics per directive and 1-100 values per metric; at least one dimension set per directive,
at most 30 keys per set, each with a value; names 1-255 characters; dimension values 1-1024
printable ASCII characters, not blank; metric values finite numbers; no top-level member defined
twice; a line of at most 256 KiB.
"""

from __future__ import annotations

import enum
import json
import math
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TextIO

from rotator.domain.sensitive import KEY_PATTERN
from rotator.errors import ConfigError

#: The namespace when ``ROTATOR_METRICS_NAMESPACE`` is unset (Settings reads the variable).
DEFAULT_NAMESPACE: Final = "Rotator"
NAMESPACE_ENV: Final = "ROTATOR_METRICS_NAMESPACE"

MAX_METRICS_PER_DIRECTIVE: Final = 100
MAX_VALUES_PER_METRIC: Final = 100
MAX_DIMENSIONS_PER_SET: Final = 30
MAX_NAME_LENGTH: Final = 255
MAX_DIMENSION_VALUE_LENGTH: Final = 1024
MAX_DOCUMENT_BYTES: Final = 256 * 1024
#: A key-pattern match at least this long is a key wherever it stands (real keys are longer).
KEY_LENGTH_ALWAYS_MASKED: Final = 40
MASKED: Final = "sk-**********"

_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]+$")


class Unit(enum.StrEnum):
    """The CloudWatch units rotator uses."""

    COUNT = "Count"
    MILLISECONDS = "Milliseconds"
    NONE = "None"


Number = int | float
PropertyValue = str | int | float | bool | None | Sequence[str]


@dataclass(frozen=True)
class Metric:
    """One metric value (or up to 100 values) with its unit."""

    name: str
    value: Number | Sequence[Number]
    unit: Unit = Unit.NONE


@dataclass(frozen=True)
class Directive:
    """One EMF MetricDirective: metrics that share dimension sets."""

    metrics: Sequence[Metric]
    dimension_sets: Sequence[Sequence[str]] = field(default_factory=lambda: [[]])


# --- scrubbing -------------------------------------------------------------------------------


def _key_pattern() -> re.Pattern[str]:
    return KEY_PATTERN


def _is_key(text: str, match: re.Match[str]) -> bool:
    start = match.start()
    glued = start > 0 and text[start - 1].isalnum()
    return not glued or len(match.group()) >= KEY_LENGTH_ALWAYS_MASKED


def scrub(text: str) -> str:
    """``text`` with every key-shaped substring replaced by ``sk-**********``."""
    if "sk-" not in text:
        return text
    return _key_pattern().sub(lambda m: MASKED if _is_key(text, m) else m.group(), text)


def _checked_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise ConfigError(f"EMF {what} must be a string of 1 to {MAX_NAME_LENGTH} characters")
    if scrub(name) != name:
        raise ConfigError(f"EMF {what} looks like an OpenAI key; refusing to write it")
    return name


def check_namespace(namespace: str) -> str:
    """Validate a CloudWatch namespace (1-255 characters, not starting with ``:``)."""
    _checked_name(namespace, "namespace")
    if namespace.startswith(":") or not namespace.strip():
        raise ConfigError(
            f"{NAMESPACE_ENV} must not be blank or start with ':'; e.g. {DEFAULT_NAMESPACE!r}"
        )
    return namespace


def _dimension_value(name: str, value: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"EMF dimension {name} must be a string")
    value = scrub(value)
    if not 1 <= len(value) <= MAX_DIMENSION_VALUE_LENGTH:
        raise ConfigError(
            f"EMF dimension {name} must be 1 to {MAX_DIMENSION_VALUE_LENGTH} characters"
        )
    if not _PRINTABLE_ASCII.match(value) or not value.strip():
        raise ConfigError(f"EMF dimension {name} must be printable ASCII and not blank")
    return value


def _property_value(value: PropertyValue) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return [scrub(str(item)) for item in value]


def _metric_value(metric: Metric) -> Number | list[Number]:
    values = [metric.value] if isinstance(metric.value, int | float) else list(metric.value)
    if not 1 <= len(values) <= MAX_VALUES_PER_METRIC:
        raise ConfigError(f"EMF metric {metric.name} needs 1 to {MAX_VALUES_PER_METRIC} values")
    for item in values:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise ConfigError(f"EMF metric {metric.name} values must be finite numbers")
    return values[0] if isinstance(metric.value, int | float) else values


# --- building --------------------------------------------------------------------------------


def timestamp_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, as EMF's ``_aws.Timestamp`` wants. ``moment`` must be aware."""
    if moment.tzinfo is None:
        raise ConfigError("EMF timestamp has no timezone; pass an aware datetime")
    return int(moment.timestamp() * 1000)


def build_document(
    directives: Sequence[Directive],
    *,
    namespace: str,
    timestamp: datetime,
    dimensions: Mapping[str, str] | None = None,
    properties: Mapping[str, PropertyValue] | None = None,
) -> dict[str, Any]:
    """One EMF document: ``_aws`` metadata, then dimension values, metric values, properties.

    Every name in a directive's dimension sets must be a key of ``dimensions``. ``properties``
    are extra top-level members (searchable in Logs Insights, not metrics).
    """
    check_namespace(namespace)
    dimensions = dict(dimensions or {})
    members: dict[str, Any] = {}

    def claim(name: str, what: str, value: Any) -> None:
        _checked_name(name, what)
        if name == "_aws" or name in members:
            raise ConfigError(f"EMF member {name} is defined twice; rename one")
        members[name] = value

    for name, value in dimensions.items():
        claim(name, "dimension name", _dimension_value(name, value))
    cloudwatch_metrics: list[dict[str, Any]] = []
    for directive in directives:
        if not 1 <= len(directive.metrics) <= MAX_METRICS_PER_DIRECTIVE:
            raise ConfigError(
                f"an EMF directive needs 1 to {MAX_METRICS_PER_DIRECTIVE} metrics; split it"
            )
        if not directive.dimension_sets:
            raise ConfigError("an EMF directive needs at least one dimension set (may be [])")
        for dimension_set in directive.dimension_sets:
            if len(dimension_set) > MAX_DIMENSIONS_PER_SET:
                raise ConfigError(
                    f"an EMF dimension set has more than {MAX_DIMENSIONS_PER_SET} dimensions"
                )
            for name in dimension_set:
                if name not in dimensions:
                    raise ConfigError(
                        f"EMF dimension {name} is in a dimension set but has no value"
                    )
        for metric in directive.metrics:
            claim(metric.name, "metric name", _metric_value(metric))
        cloudwatch_metrics.append(
            {
                "Namespace": namespace,
                "Dimensions": [list(s) for s in directive.dimension_sets],
                "Metrics": [{"Name": m.name, "Unit": m.unit.value} for m in directive.metrics],
            }
        )
    if not cloudwatch_metrics:
        raise ConfigError("an EMF document needs at least one directive")
    for name, extra in (properties or {}).items():
        claim(name, "property name", _property_value(extra))
    aws = {"Timestamp": timestamp_ms(timestamp), "CloudWatchMetrics": cloudwatch_metrics}
    return {"_aws": aws, **members}


# --- writing ---------------------------------------------------------------------------------


def write_document(document: Mapping[str, Any], stream: TextIO | None = None) -> None:
    """Write ``document`` as one compact JSON line and flush. ``stream`` defaults to stdout."""
    line = json.dumps(document, separators=(",", ":"), allow_nan=False)
    if len(line.encode()) > MAX_DOCUMENT_BYTES:
        raise ConfigError("an EMF document is larger than 256 KiB; emit fewer metrics per line")
    out = stream if stream is not None else sys.stdout
    out.write(line + "\n")
    out.flush()
