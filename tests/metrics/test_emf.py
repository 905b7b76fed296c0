"""EMF lines parse back as JSON, match the spec's schema and references, and never carry a key."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jsonschema
import pytest

import rotator.metrics
from rotator.domain.audit import AuditPolicy, SecretFacts, audit_fleet
from rotator.errors import ConfigError
from rotator.metrics import emf, emitter
from rotator.metrics.emf import (
    DEFAULT_NAMESPACE,
    Directive,
    Metric,
    Unit,
    build_document,
    write_document,
)
from rotator.metrics.emitter import UNITS, MetricName, MetricsEmitter, Outcome

NOW = datetime(2026, 12, 1, 12, 0, 0, 123000, tzinfo=UTC)
NOW_MS = 1796126400123
KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcdefghijklmnop"
ADMIN_KEY = "sk-admin-ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210"

_UNITS = (
    "Seconds|Microseconds|Milliseconds|Bytes|Kilobytes|Megabytes|Gigabytes|Terabytes|Bits|"
    "Kilobits|Megabits|Gigabits|Terabits|Percent|Count|Bytes/Second|Kilobytes/Second|"
    "Megabytes/Second|Gigabytes/Second|Terabytes/Second|Bits/Second|Kilobits/Second|"
    "Megabits/Second|Gigabits/Second|Terabits/Second|Count/Second|None"
)
_NAME = {"type": "string", "minLength": 1, "maxLength": 255}
#: The JSON schema published with the EMF specification (CloudWatch user guide, "Specification:
#: Embedded metric format"), with today's limits: 30 keys per DimensionSet (was 9), 100
#: MetricDefinitions per directive, and no members beyond the spec's in the objects it defines.
EMF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["_aws"],
    "properties": {
        "_aws": {
            "type": "object",
            "required": ["Timestamp", "CloudWatchMetrics"],
            "additionalProperties": False,
            "properties": {
                "Timestamp": {"type": "integer"},
                "CloudWatchMetrics": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["Namespace", "Dimensions", "Metrics"],
                        "additionalProperties": False,
                        "properties": {
                            "Namespace": {**_NAME, "pattern": "^[^:]"},
                            "Dimensions": {
                                "type": "array",
                                "minItems": 1,
                                "items": {
                                    "type": "array",
                                    "minItems": 0,
                                    "maxItems": 30,
                                    "items": _NAME,
                                },
                            },
                            "Metrics": {
                                "type": "array",
                                "maxItems": 100,
                                "items": {
                                    "type": "object",
                                    "required": ["Name"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "Name": _NAME,
                                        "Unit": {"type": "string", "pattern": f"^({_UNITS})$"},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


def check_emf(document: dict[str, Any]) -> None:
    """The schema, plus what a schema cannot say: every reference is a root member of its kind."""
    jsonschema.validate(document, EMF_SCHEMA)
    for directive in document["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            for name in dimension_set:
                value = document[name]
                assert isinstance(value, str)
                assert 1 <= len(value) <= 1024
        for definition in directive["Metrics"]:
            value = document[definition["Name"]]
            values = value if isinstance(value, list) else [value]
            assert 1 <= len(values) <= 100
            assert all(type(v) in (int, float) for v in values)


def emitted(**kwargs: Any) -> list[dict[str, Any]]:
    """Run one emitter call on a fresh stream; return each line parsed back, schema-checked."""
    stream = io.StringIO()
    emitter = MetricsEmitter(
        kwargs.pop("namespace", DEFAULT_NAMESPACE), stream=stream, clock=lambda: NOW
    )
    report = kwargs.pop("report", None)
    if report is not None:
        emitter.audit(report)
    else:
        emitter.rotation_step(**kwargs)
    text = stream.getvalue()
    assert text.endswith("\n")
    documents = [json.loads(line) for line in text.splitlines()]
    for document in documents:
        check_emf(document)
    return documents


def units(document: dict[str, Any]) -> dict[str, str]:
    return {
        m["Name"]: m["Unit"] for d in document["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]
    }


def dimension_sets(document: dict[str, Any], metric: str) -> list[list[str]]:
    for directive in document["_aws"]["CloudWatchMetrics"]:
        if any(m["Name"] == metric for m in directive["Metrics"]):
            return list(directive["Dimensions"])
    raise AssertionError(f"{metric} not in document")


def test_a_lambda_step_writes_one_line_with_the_metrics_units_and_dimension_sets() -> None:
    """GIVEN a createSecret step WHEN it is emitted THEN one EMF line carries its metrics."""
    (document,) = emitted(
        secret_name="openai/app",
        step="createSecret",
        outcome=Outcome.STEP_DONE,
        duration_ms=412.5,
        key_age_days=29.51234,
    )
    assert document["_aws"]["Timestamp"] == NOW_MS
    assert {d["Namespace"] for d in document["_aws"]["CloudWatchMetrics"]} == {"Rotator"}
    assert units(document) == {
        "RotationSucceeded": "Count",
        "RotationFailed": "Count",
        "KeyAgeDays": "None",
        "StepDuration": "Milliseconds",
    }
    assert dimension_sets(document, "RotationFailed") == [["SecretName"], []]
    assert dimension_sets(document, "KeyAgeDays") == [["SecretName"], []]
    assert dimension_sets(document, "StepDuration") == [["SecretName", "Step"]]
    assert document["SecretName"] == "openai/app"
    assert document["Step"] == "createSecret"
    assert document["StepDuration"] == 412.5
    assert document["KeyAgeDays"] == 29.512
    assert document["Outcome"] == "step_done"
    assert "OldKeyRevocationConfirmed" not in document


@pytest.mark.parametrize(
    ("outcome", "succeeded", "failed"),
    [(Outcome.STEP_DONE, 0, 0), (Outcome.ROTATED, 1, 0), (Outcome.FAILED, 0, 1)],
)
def test_success_and_failure_counts_follow_the_outcome(
    outcome: Outcome, succeeded: int, failed: int
) -> None:
    """Every step line carries both counts as 1 or 0, so Sum counts and alarms have data."""
    (document,) = emitted(
        secret_name="openai/app", step="finishSecret", outcome=outcome, duration_ms=3
    )
    assert (document["RotationSucceeded"], document["RotationFailed"]) == (succeeded, failed)
    assert document["Outcome"] == outcome.value


@pytest.mark.parametrize(("confirmed", "value"), [(True, 1), (False, 0)])
def test_old_key_revocation_is_counted_when_known(confirmed: bool, value: int) -> None:
    (document,) = emitted(
        secret_name="openai/app",
        step="finishSecret",
        outcome=Outcome.ROTATED,
        duration_ms=1000,
        old_key_revocation_confirmed=confirmed,
    )
    assert document["OldKeyRevocationConfirmed"] == value
    assert units(document)["OldKeyRevocationConfirmed"] == "Count"
    assert dimension_sets(document, "OldKeyRevocationConfirmed") == [["SecretName"], []]


def test_a_cli_rotation_has_no_step_dimension() -> None:
    """GIVEN a whole CLI rotation (step=None) THEN StepDuration is per secret only."""
    (document,) = emitted(
        secret_name="openai/app", step=None, outcome=Outcome.ROTATED, duration_ms=2500
    )
    assert "Step" not in document
    assert dimension_sets(document, "StepDuration") == [["SecretName"]]


def test_the_namespace_is_the_callers() -> None:
    (document,) = emitted(
        namespace="Acme/Rotator",
        secret_name="openai/app",
        step="testSecret",
        outcome=Outcome.STEP_DONE,
        duration_ms=1,
    )
    assert {d["Namespace"] for d in document["_aws"]["CloudWatchMetrics"]} == {"Acme/Rotator"}
    assert emf.NAMESPACE_ENV == "ROTATOR_METRICS_NAMESPACE"
    assert DEFAULT_NAMESPACE == "Rotator"


def test_an_audit_writes_key_age_per_secret_and_one_out_of_policy_count() -> None:
    """GIVEN three secrets, one too old and one of unknown age WHEN audited THEN 2 + 1 lines."""
    policy = AuditPolicy(max_age=timedelta(days=90))
    report = audit_fleet(
        [
            SecretFacts(
                "openai/fresh", rotation_enabled=True, key_created_at=NOW - timedelta(days=3)
            ),
            SecretFacts(
                "openai/old", rotation_enabled=True, key_created_at=NOW - timedelta(days=120)
            ),
            SecretFacts("openai/unknown", rotation_enabled=True),
        ],
        policy=policy,
        now=NOW,
    )
    *per_secret, summary = emitted(report=report)
    assert [(d["SecretName"], d["KeyAgeDays"], d["InPolicy"]) for d in per_secret] == [
        ("openai/fresh", 3.0, True),
        ("openai/old", 120.0, False),
    ]
    assert per_secret[1]["Findings"] == ["too_old"]
    assert all(units(d) == {"KeyAgeDays": "None"} for d in per_secret)
    assert summary["SecretsOutOfPolicy"] == 1
    assert summary["SecretsAudited"] == 3
    assert units(summary) == {"SecretsOutOfPolicy": "Count"}
    assert dimension_sets(summary, "SecretsOutOfPolicy") == [[]]


def test_write_document_defaults_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    document = build_document(
        [Directive([Metric("X", 1, Unit.COUNT)])], namespace="N", timestamp=NOW
    )
    write_document(document)
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert json.loads(out) == document


def test_timestamp_is_milliseconds_since_the_epoch_in_any_timezone() -> None:
    paris = NOW.astimezone(timezone(timedelta(hours=1)))
    assert emf.timestamp_ms(paris) == NOW_MS


def test_spec_maxima_are_accepted() -> None:
    """100 metrics of 100 values, 30 dimensions, 255-character names, 1024-character values."""
    names = [f"D{i}" for i in range(30)]
    document = build_document(
        [
            Directive(
                [Metric(f"M{i}", [float(i)] * 100) for i in range(99)] + [Metric("N" * 255, 1)],
                [names],
            )
        ],
        namespace="N" * 255,
        timestamp=NOW,
        dimensions=dict.fromkeys(names, "v" * 1024),
    )
    check_emf(json.loads(json.dumps(document)))


def _doc(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "directives": [Directive([Metric("M", 1)], [["SecretName"]])],
        "namespace": "Rotator",
        "timestamp": NOW,
        "dimensions": {"SecretName": "openai/app"},
    }
    arguments.update(overrides)
    directives = arguments.pop("directives")
    return build_document(directives, **arguments)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"namespace": ""}, "namespace must be a string of 1 to 255"),
        ({"namespace": "N" * 256}, "namespace must be a string of 1 to 255"),
        ({"namespace": ":Rotator"}, "must not be blank or start with ':'"),
        ({"namespace": "   "}, "must not be blank"),
        ({"namespace": KEY[:30]}, "namespace looks like an OpenAI key"),
        ({"directives": []}, "needs at least one directive"),
        ({"directives": [Directive([])]}, "needs 1 to 100 metrics"),
        ({"directives": [Directive([Metric(f"M{i}", 1) for i in range(101)])]}, "1 to 100 metrics"),
        ({"directives": [Directive([Metric("M", 1)], [])]}, "at least one dimension set"),
        (
            {
                "directives": [Directive([Metric("M", 1)], [[f"D{i}" for i in range(31)]])],
                "dimensions": {f"D{i}": "v" for i in range(31)},
            },
            "more than 30 dimensions",
        ),
        ({"directives": [Directive([Metric("M", 1)], [["Step"]])]}, "Step is in a dimension set"),
        ({"directives": [Directive([Metric("M" * 256, 1)])]}, "metric name must be a string"),
        ({"directives": [Directive([Metric("", 1)])]}, "metric name must be a string"),
        ({"directives": [Directive([Metric("M", float("nan"))])]}, "finite numbers"),
        ({"directives": [Directive([Metric("M", float("inf"))])]}, "finite numbers"),
        ({"directives": [Directive([Metric("M", True)])]}, "finite numbers"),
        ({"directives": [Directive([Metric("M", [1] * 101)])]}, "1 to 100 values"),
        ({"directives": [Directive([Metric("M", [])])]}, "1 to 100 values"),
        ({"directives": [Directive([Metric("SecretName", 1)])]}, "SecretName is defined twice"),
        ({"directives": [Directive([Metric("M", 1), Metric("M", 2)])]}, "M is defined twice"),
        ({"directives": [Directive([Metric("_aws", 1)])]}, "_aws is defined twice"),
        ({"properties": {"M": "x"}}, "M is defined twice"),
        ({"dimensions": {"SecretName": ""}}, "SecretName must be 1 to 1024"),
        ({"dimensions": {"SecretName": "a" * 1025}}, "SecretName must be 1 to 1024"),
        ({"dimensions": {"SecretName": "   "}}, "printable ASCII and not blank"),
        ({"dimensions": {"SecretName": "caf\u00e9"}}, "printable ASCII"),
        ({"dimensions": {"SecretName": "a\nb"}}, "printable ASCII"),
        ({"dimensions": {"SecretName": 7}}, "SecretName must be a string"),
        ({"dimensions": {"SecretName": "x", "D" * 256: "v"}}, "dimension name must be"),
        ({"timestamp": datetime(2026, 12, 1)}, "no timezone"),  # noqa: DTZ001  (the point)
    ],
)
def test_spec_limits_are_refused_with_a_clear_error(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as caught:
        _doc(**overrides)
    assert "sk-" not in str(caught.value)


def test_a_document_larger_than_a_log_event_is_refused() -> None:
    document = _doc(properties={"Big": "x" * (256 * 1024)})
    stream = io.StringIO()
    with pytest.raises(ConfigError, match="larger than 256 KiB"):
        write_document(document, stream)
    assert stream.getvalue() == ""


def test_a_bad_namespace_fails_when_the_emitter_is_built() -> None:
    with pytest.raises(ConfigError, match="ROTATOR_METRICS_NAMESPACE"):
        MetricsEmitter(":bad")


@pytest.mark.parametrize(
    "key", [KEY, ADMIN_KEY, "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUV"]
)
def test_no_key_value_is_ever_written_even_when_a_caller_passes_one(key: str) -> None:
    """GIVEN keys in the secret name, the step and properties WHEN emitted THEN none is written."""
    (document,) = emitted(
        secret_name=key,
        step=f"createSecret {key}",
        outcome=Outcome.FAILED,
        duration_ms=5,
        properties={"Error": f"Bearer {key}", "Seen": [key, "plain"], "Glued": f"x{key}"},
    )
    line = json.dumps(document)
    assert key not in line
    assert key[:12] not in line
    assert line.count("sk-") == line.count(emf.MASKED)
    assert document["SecretName"] == emf.MASKED
    assert document["Step"] == f"createSecret {emf.MASKED}"
    assert document["Seen"] == [emf.MASKED, "plain"]


def test_a_name_that_only_contains_sk_dash_inside_a_word_is_kept() -> None:
    """``openai/task-runner`` matches the log pattern inside a word; it is a name, not a key."""
    (document,) = emitted(
        secret_name="openai/task-runner", step=None, outcome=Outcome.ROTATED, duration_ms=5
    )
    assert document["SecretName"] == "openai/task-runner"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("openai/app", "openai/app"),
        ("openai/task-runner", "openai/task-runner"),
        ("sk-abcdef", emf.MASKED),
        ("sk-abc", "sk-abc"),
        ("openai/sk-proj-abcdef", f"openai/{emf.MASKED}"),
        ("key=sk-admin-abcdef;", f"key={emf.MASKED};"),
        (f"openai/task{KEY[2:]}", f"openai/ta{emf.MASKED}"),
    ],
)
def test_scrub_masks_key_shapes_and_keeps_words(text: str, expected: str) -> None:
    assert emf.scrub(text) == expected


def test_public_exports_are_what_they_claim() -> None:
    """Everything the package exports is public, and every module-level name is exported."""
    modules = {"emf", "emitter"}
    assert sorted(rotator.metrics.__all__) == sorted(
        name for name in dir(rotator.metrics) if not name.startswith("_") and name not in modules
    )
    for name in rotator.metrics.__all__:
        exported = getattr(rotator.metrics, name)
        assert exported is getattr(emf, name, None) or exported is getattr(emitter, name, None)


def test_every_metric_has_a_unit() -> None:
    assert set(UNITS) == set(MetricName)


def test_property_floats_are_kept_finite() -> None:
    """A non-finite float property becomes null (JSON has no NaN); a finite one is kept."""
    document = _doc(properties={"Ratio": 0.5, "Bad": float("nan"), "Flag": True, "Gone": None})
    assert (document["Ratio"], document["Bad"], document["Flag"], document["Gone"]) == (
        0.5,
        None,
        True,
        None,
    )


def test_the_emitter_stamps_lines_with_the_current_time() -> None:
    """Without an injected clock, the timestamp is taken when the line is built."""
    stream = io.StringIO()
    before = int(datetime.now(UTC).timestamp() * 1000)
    MetricsEmitter(stream=stream).rotation_step(
        secret_name="openai/app", step=None, outcome=Outcome.ROTATED, duration_ms=1
    )
    after = int(datetime.now(UTC).timestamp() * 1000)
    assert before <= json.loads(stream.getvalue())["_aws"]["Timestamp"] <= after


def test_importing_the_metrics_package_pulls_in_no_heavy_dependency() -> None:
    """Importing rotator.metrics loads neither boto3, botocore, httpx nor structlog."""
    code = (
        "import sys, rotator.metrics.emf;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'boto3', 'botocore', 'httpx', 'structlog', 'aws_embedded_metrics'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
