"""structlog, configured once at the edge, with a redaction processor in every configuration.

Redaction masks by field name (``api_key``, ``authorization``, ``rotation_token``, ...) and by
value pattern (anything shaped like an OpenAI key, ``sk-...``), recursively, before rendering.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

from rotator.domain.sensitive import KEY_PATTERN, REDACTED, Sensitive

SENSITIVE_FIELDS = frozenset(
    {
        "api_key",
        "admin_key",
        "authorization",
        "password",
        "rotation_token",
        "secret",
        "secret_string",
        "secretstring",
        "value",
    }
)
_LIBRARY_LOGGERS = ("botocore", "boto3", "urllib3", "httpx", "httpcore", "werkzeug")


def mask(value: Any) -> Any:
    """Mask key-shaped substrings in strings, recursively through containers."""
    if isinstance(value, Sensitive):
        return REDACTED
    if isinstance(value, str):
        return KEY_PATTERN.sub("sk-" + REDACTED, value)
    if isinstance(value, Mapping):
        return {
            k: REDACTED if str(k).lower() in SENSITIVE_FIELDS else mask(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [mask(v) for v in value]
    return value


def redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
    """structlog processor: never let a key value reach a renderer."""
    for key in list(event_dict):
        if key.lower() in SENSITIVE_FIELDS:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = mask(event_dict[key])
    return event_dict


class _StandardError:
    """sys.stderr looked up at every write, so a swapped stream (tests, daemons) is honoured."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(*, json: bool, level: str = "INFO", stream: TextIO | None = None) -> None:
    """Configure structlog once per process edge (CLI start, Lambda cold start)."""
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]
    if json:
        processors.append(structlog.processors.JSONRenderer())
    else:
        processors.append(structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(stream or _StandardError()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    for name in _LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
