"""Secrets Manager rotation Lambda for OpenAI service-account keys (thin edge).

Parses the event, binds log context, runs one engine step (or, for a scheduled
``{"Action": "prune", "SecretId": ...}`` event, a prune), returns None. Any failure is raised
so that Secrets Manager marks the step failed and retries the rotation with the same token.
Clients are built once per container, on first use; importing this module does no I/O.
"""

from __future__ import annotations

import os
from typing import Any

import structlog

from rotator import log
from rotator.composition import Runtime, build_runtime
from rotator.config import Settings
from rotator.domain.protocol import parse_event, prune_target
from rotator.rotation.maintenance import apply_plan, plan_prune

_runtime: Runtime | None = None


def _get_runtime() -> Runtime:
    global _runtime  # noqa: PLW0603 - one runtime per warm container is the point
    if _runtime is None:
        _runtime = build_runtime(
            Settings.from_env(os.environ, allow_env_admin_key=False), lambda_mode=True
        )
    return _runtime


def use_runtime(runtime: Runtime | None) -> Runtime | None:
    """Inject the clients (or None: build them from the environment on the next call).

    Returns the runtime in use before, so a caller can restore or close it.
    """
    global _runtime  # the one warm-container runtime, swapped on purpose
    previous, _runtime = _runtime, runtime
    return previous


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    runtime = _get_runtime()
    log.configure(json=True, level=runtime.settings.log_level)  # cheap: sets two globals
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(
        aws_request_id=getattr(context, "aws_request_id", None),
        secret_arn=event.get("SecretId") if isinstance(event, dict) else None,
        step=event.get("Step") if isinstance(event, dict) else None,
        version_id=event.get("ClientRequestToken") if isinstance(event, dict) else None,
    )
    prune_secret = prune_target(event)
    if prune_secret is not None:
        apply_plan(runtime.engine, plan_prune(runtime.engine, prune_secret))
        return
    runtime.engine.run_step(parse_event(event))
