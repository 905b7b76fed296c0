"""Metrics rotator writes for CloudWatch, as embedded metric format (EMF) JSON lines.

:mod:`rotator.metrics.emf` knows the format (build, validate, scrub, write one line);
:mod:`rotator.metrics.emitter` knows rotator's metrics and holds :class:`MetricsEmitter`, the one
object an edge builds. Importing this package costs only the standard library (no boto3, no
structlog, no EMF library).
"""

from rotator.metrics.emf import (
    DEFAULT_NAMESPACE,
    NAMESPACE_ENV,
    Directive,
    Metric,
    Unit,
    build_document,
    write_document,
)
from rotator.metrics.emitter import (
    UNITS,
    DimensionName,
    MetricName,
    MetricsEmitter,
    Outcome,
    audit_documents,
    rotation_step_document,
)

__all__ = [
    "DEFAULT_NAMESPACE",
    "NAMESPACE_ENV",
    "UNITS",
    "DimensionName",
    "Directive",
    "Metric",
    "MetricName",
    "MetricsEmitter",
    "Outcome",
    "Unit",
    "audit_documents",
    "build_document",
    "rotation_step_document",
    "write_document",
]
