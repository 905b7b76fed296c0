"""Secrets Manager rotation Lambda for OpenAI service-account keys (thin edge).

Parses the event, binds log context, runs one engine step (or, for a scheduled
``{"Action": "prune", "SecretId": ...}`` event, a prune; for ``{"Action": "audit", ...}``, the
key-age audit), returns None. Any failure is raised so that Secrets Manager marks the step
failed and retries the rotation with the same token. Each step and each audit writes EMF metric
lines on stdout (:mod:`rotator.metrics.emitter`); an out-of-policy secret is a metric, not an
error. The runtime writes the raised error's text and stack to CloudWatch outside structlog's
redaction, so what is raised is masked and carries no chain: a rotator error (masked by
``RotatorError`` itself) is re-raised ``from None`` with its cause and context dropped, and
any other exception becomes a ``RotatorError`` naming only its type.
The app is built once per container, on first use (:func:`default_app`); importing this
module does no I/O. Tests make their own handler with :func:`make_handler`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import structlog

from rotator import log
from rotator.app import App, Mode, build_app
from rotator.config import Settings
from rotator.domain.actions import AuditAction, audit_action
from rotator.domain.protocol import parse_event, prune_target
from rotator.errors import RotatorError
from rotator.metrics.emitter import MetricsEmitter
from rotator.rotation.audit import audit_secrets, refuse_unreadable
from rotator.rotation.maintenance import apply_plan, plan_prune
from rotator.rotation.step_metrics import run_measured_step

Handler = Callable[[dict[str, Any], Any], None]


def _without_chain(error: RotatorError) -> RotatorError:
    """``error`` with no cause or context: the runtime prints nothing of what led to it."""
    error.__cause__ = None
    error.__context__ = None
    error.__suppress_context__ = True
    return error


def _masked(error: Exception) -> RotatorError:
    """A rotator error (already masked), or for anything else one that names only the type."""
    if isinstance(error, RotatorError):
        return _without_chain(error)
    return RotatorError(
        f"unexpected {type(error).__name__} in the rotation Lambda (its text is withheld: it "
        "may hold key material); Secrets Manager retries the step, and `rotator status` shows "
        "what the rotation left"
    )


def make_handler(get_app: Callable[[], App]) -> Handler:
    """A Lambda handler running on the app ``get_app`` returns (called on every invocation)."""

    def handler(event: dict[str, Any], context: Any) -> None:
        try:
            _run(event, context)
        except Exception as error:  # noqa: BLE001 - every error leaves masked and unchained
            raise _masked(error) from None

    def _run(event: dict[str, Any], context: Any) -> None:
        app = get_app()
        # Cheap (sets two globals), and keeps JSON lines even if another edge in this process
        # (a test running the CLI) configured logging since.
        log.configure(json=True, level=app.settings.log_level)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            aws_request_id=getattr(context, "aws_request_id", None),
            secret_arn=event.get("SecretId") if isinstance(event, dict) else None,
            step=event.get("Step") if isinstance(event, dict) else None,
            version_id=event.get("ClientRequestToken") if isinstance(event, dict) else None,
        )
        audit = audit_action(event)
        if audit is not None:
            run_audit(app, audit)
            return
        prune_secret = prune_target(event)
        if prune_secret is not None:
            apply_plan(app.ctx, plan_prune(app.ctx, prune_secret))
            return
        metrics = MetricsEmitter(app.settings.metrics_namespace)
        run_measured_step(app.engine, parse_event(event), store=app.store, emitter=metrics)

    return handler


def run_audit(app: App, action: AuditAction) -> None:
    """The scheduled audit: KeyAgeDays per secret and SecretsOutOfPolicy; raises only on reads."""
    fleet_app = build_app(
        app.settings,
        mode=Mode.FLEET,
        store=app.store,
        admin_factory=app.admin_factory,
        probe=app.probe,
        clock=app.clock,
    )
    try:
        candidates = fleet_app.fleet.discover(prefix=action.prefix, tags={}, concurrency=8)
        refuse_unreadable((c.description.name, c.problem) for c in candidates)
        report = audit_secrets(
            [(c.description, c.secret) for c in candidates if c.secret is not None],
            history=None,  # the audit role has no ListSecretVersionIds (rotation/audit.py)
            policy=action.policy,
            now=app.clock.now(),
        )
    finally:
        fleet_app.close()
    MetricsEmitter(app.settings.metrics_namespace).audit(report)
    structlog.get_logger("rotator.audit").info(
        "audit_done",
        secrets_audited=len(report.secrets),
        secrets_out_of_policy=report.secrets_out_of_policy,
        out_of_policy=[s.secret_name for s in report.out_of_policy],
    )


@functools.cache
def default_app() -> App:
    """The container's app, from the environment, built on the first invocation."""
    return build_app(Settings.from_env(os.environ, allow_env_admin_key=False), mode=Mode.LAMBDA)


lambda_handler = make_handler(default_app)
