"""Secrets Manager rotation Lambda for OpenAI service-account keys (thin edge).

Parses the event, binds log context, runs one engine step (or, for a scheduled
``{"Action": "prune", "SecretId": ...}`` event, a prune), returns None. Any failure is raised
so that Secrets Manager marks the step failed and retries the rotation with the same token.
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
from rotator.domain.protocol import parse_event, prune_target
from rotator.rotation.maintenance import apply_plan, plan_prune

Handler = Callable[[dict[str, Any], Any], None]


def make_handler(get_app: Callable[[], App]) -> Handler:
    """A Lambda handler running on the app ``get_app`` returns (called on every invocation)."""

    def handler(event: dict[str, Any], context: Any) -> None:
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
        prune_secret = prune_target(event)
        if prune_secret is not None:
            apply_plan(app.ctx, plan_prune(app.ctx, prune_secret))
            return
        app.engine.run_step(parse_event(event))

    return handler


@functools.cache
def default_app() -> App:
    """The container's app, from the environment, built on the first invocation."""
    return build_app(Settings.from_env(os.environ, allow_env_admin_key=False), mode=Mode.LAMBDA)


lambda_handler = make_handler(default_app)
