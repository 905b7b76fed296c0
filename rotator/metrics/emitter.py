"""rotator's metrics: what each rotation step and each audit writes, and the emitter edges hold.

Metrics and dimension sets (series per secret in brackets; ``[]`` is one fleet-wide series, which
the template's alarms use, e.g. ``RotationFailed`` Sum > 0 with no dimensions):

===========================  ============  ==============================================
metric                        unit          dimension sets
===========================  ============  ==============================================
RotationSucceeded             Count         [SecretName] (1), [] (fleet)
RotationFailed                Count         [SecretName] (1), [] (fleet)
OldKeyRevocationConfirmed     Count         [SecretName] (1), [] (fleet)
KeyAgeDays                    None          [SecretName] (1), [] (fleet; alarm on Maximum)
StepDuration                  Milliseconds  [SecretName, Step] (4 Lambda steps; 1 for CLI)
SecretsOutOfPolicy            Count         [] (fleet)
===========================  ============  ==============================================

So about 8 custom metrics per secret, plus 5 fleet-wide. ``RotationSucceeded`` and
``RotationFailed`` are written as 1 or 0 on every step line, so ``Sum`` counts, ``Average`` is a
rate, and an alarm has data whenever rotations run. ``SecretName`` is DescribeSecret's ``Name``
(never the ARN). Every step line also carries the property ``Outcome`` (an :class:`Outcome`
value) for Logs Insights.

Usage at an edge (the namespace comes from ``Settings``: ``ROTATOR_METRICS_NAMESPACE``, default
:data:`~rotator.metrics.emf.DEFAULT_NAMESPACE`; a bad one fails here, at start-up)::

    emitter = MetricsEmitter(settings.metrics_namespace)       # Lambda: stdout
    emitter = MetricsEmitter(namespace, stream=sys.stderr)     # CLI with --log-format json

    started = time.monotonic()
    ... run the step ...
    emitter.rotation_step(
        secret_name=description.name, step=event.step, outcome=Outcome.STEP_DONE,
        duration_ms=(time.monotonic() - started) * 1000,
    )
    # finishSecret that moved AWSCURRENT: outcome=Outcome.ROTATED, key_age_days=...,
    #   old_key_revocation_confirmed=True/False once the old key was probed
    # a step that raised: outcome=Outcome.FAILED (emit, then re-raise)
    emitter.audit(report)                                     # rotator.domain.audit.AuditReport

The pure builders :func:`rotation_step_document` and :func:`audit_documents` return the dicts, for
callers that write elsewhere or test.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, TextIO

from rotator.metrics.emf import (
    DEFAULT_NAMESPACE,
    Directive,
    Metric,
    Number,
    PropertyValue,
    Unit,
    build_document,
    check_namespace,
    write_document,
)

if TYPE_CHECKING:
    from rotator.domain.audit import AuditReport


class MetricName(enum.StrEnum):
    """rotator's metrics. The values are the CloudWatch metric names (alarms refer to them)."""

    ROTATION_SUCCEEDED = "RotationSucceeded"
    ROTATION_FAILED = "RotationFailed"
    STEP_DURATION = "StepDuration"
    KEY_AGE_DAYS = "KeyAgeDays"
    OLD_KEY_REVOCATION_CONFIRMED = "OldKeyRevocationConfirmed"
    SECRETS_OUT_OF_POLICY = "SecretsOutOfPolicy"


UNITS: Final[Mapping[MetricName, Unit]] = {
    MetricName.ROTATION_SUCCEEDED: Unit.COUNT,
    MetricName.ROTATION_FAILED: Unit.COUNT,
    MetricName.STEP_DURATION: Unit.MILLISECONDS,
    MetricName.KEY_AGE_DAYS: Unit.NONE,  # CloudWatch has no "Days" unit
    MetricName.OLD_KEY_REVOCATION_CONFIRMED: Unit.COUNT,
    MetricName.SECRETS_OUT_OF_POLICY: Unit.COUNT,
}


class DimensionName(enum.StrEnum):
    SECRET_NAME = "SecretName"  # noqa: S105  (a dimension name, not a password)
    STEP = "Step"


class Outcome(enum.StrEnum):
    """How a step (or a CLI rotation) ended; written as the ``Outcome`` property too."""

    STEP_DONE = "step_done"  #: a step succeeded and the rotation goes on
    ROTATED = "rotated"  #: the rotation finished: finishSecret moved AWSCURRENT, or a CLI rotate
    FAILED = "failed"  #: the step (or the CLI rotation) raised


def _metric(name: MetricName, value: Number) -> Metric:
    return Metric(name.value, value, UNITS[name])


_PER_SECRET_AND_FLEET: Final = ((DimensionName.SECRET_NAME.value,), ())


def rotation_step_document(
    *,
    secret_name: str,
    step: str | None,
    outcome: Outcome,
    duration_ms: float,
    timestamp: datetime,
    namespace: str = DEFAULT_NAMESPACE,
    key_age_days: float | None = None,
    old_key_revocation_confirmed: bool | None = None,
    properties: Mapping[str, PropertyValue] | None = None,
) -> dict[str, Any]:
    """The EMF document for one rotation step (Lambda) or one whole rotation (CLI: ``step=None``).

    ``secret_name`` is DescribeSecret's ``Name`` (not the ARN). ``key_age_days`` is the age of
    the key being replaced, when known; ``old_key_revocation_confirmed`` is set once the old key
    was probed (True: refused by OpenAI, 1; False: still accepted or unknown, 0).
    """
    counts = [
        _metric(MetricName.ROTATION_SUCCEEDED, int(outcome is Outcome.ROTATED)),
        _metric(MetricName.ROTATION_FAILED, int(outcome is Outcome.FAILED)),
    ]
    if key_age_days is not None:
        counts.append(_metric(MetricName.KEY_AGE_DAYS, round(key_age_days, 3)))
    if old_key_revocation_confirmed is not None:
        counts.append(
            _metric(MetricName.OLD_KEY_REVOCATION_CONFIRMED, int(old_key_revocation_confirmed))
        )
    dimensions = {DimensionName.SECRET_NAME.value: secret_name}
    timing_set: tuple[str, ...] = (DimensionName.SECRET_NAME.value,)
    if step is not None:
        dimensions[DimensionName.STEP.value] = step
        timing_set = (DimensionName.SECRET_NAME.value, DimensionName.STEP.value)
    extra: dict[str, PropertyValue] = {"Outcome": outcome.value, **(properties or {})}
    return build_document(
        [
            Directive(counts, _PER_SECRET_AND_FLEET),
            Directive([_metric(MetricName.STEP_DURATION, round(duration_ms, 3))], [timing_set]),
        ],
        namespace=namespace,
        timestamp=timestamp,
        dimensions=dimensions,
        properties=extra,
    )


def audit_documents(
    report: AuditReport, *, timestamp: datetime, namespace: str = DEFAULT_NAMESPACE
) -> list[dict[str, Any]]:
    """One document per audited secret with a known key age, then one with SecretsOutOfPolicy."""
    documents = [
        build_document(
            [Directive([_metric(MetricName.KEY_AGE_DAYS, s.key_age_days)], _PER_SECRET_AND_FLEET)],
            namespace=namespace,
            timestamp=timestamp,
            dimensions={DimensionName.SECRET_NAME.value: s.secret_name},
            properties={"InPolicy": s.in_policy, "Findings": [r.value for r in s.reasons]},
        )
        for s in report.secrets
        if s.key_age_days is not None
    ]
    documents.append(
        build_document(
            [Directive([_metric(MetricName.SECRETS_OUT_OF_POLICY, report.secrets_out_of_policy)])],
            namespace=namespace,
            timestamp=timestamp,
            properties={"SecretsAudited": len(report.secrets)},
        )
    )
    return documents


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MetricsEmitter:
    """Namespace, stream and clock bound once at an edge; one method per kind of event.

    The namespace is validated here, so a bad ``ROTATOR_METRICS_NAMESPACE`` fails at start-up,
    not in the middle of a rotation.
    """

    def __init__(
        self,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        stream: TextIO | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.namespace = check_namespace(namespace)
        self._stream = stream
        self._clock = clock

    def rotation_step(
        self,
        *,
        secret_name: str,
        step: str | None,
        outcome: Outcome,
        duration_ms: float,
        key_age_days: float | None = None,
        old_key_revocation_confirmed: bool | None = None,
        properties: Mapping[str, PropertyValue] | None = None,
    ) -> None:
        """Write :func:`rotation_step_document` for one step (or one CLI rotation)."""
        write_document(
            rotation_step_document(
                secret_name=secret_name,
                step=step,
                outcome=outcome,
                duration_ms=duration_ms,
                timestamp=self._clock(),
                namespace=self.namespace,
                key_age_days=key_age_days,
                old_key_revocation_confirmed=old_key_revocation_confirmed,
                properties=properties,
            ),
            self._stream,
        )

    def audit(self, report: AuditReport) -> None:
        """Write :func:`audit_documents` for one audit run."""
        self.write_all(audit_documents(report, timestamp=self._clock(), namespace=self.namespace))

    def write_all(self, documents: Iterable[Mapping[str, Any]]) -> None:
        for document in documents:
            write_document(document, self._stream)
