"""Secrets Manager rotation Lambda for OpenAI service-account keys (thin edge).

Parses the event, binds log context, runs one engine step (or, for a scheduled
``{"Action": "prune", "SecretId": ...}`` event, a prune), returns None. Any failure is raised
so that Secrets Manager marks the step failed and retries the rotation with the same token.
The runtime writes the raised error's text and stack to CloudWatch outside structlog's
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
from rotator.domain.protocol import parse_event, prune_target
from rotator.errors import RotatorError
from rotator.rotation.maintenance import apply_plan, plan_prune

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
