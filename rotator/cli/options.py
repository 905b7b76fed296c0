"""Options shared by the commands, the ``Duration`` parameter type, and settings at the edge.

Command modules import this module, :mod:`rotator.cli.errors` and :mod:`rotator.cli.render`;
none imports :mod:`rotator.cli.app`, so the CLI has no import circle.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeVar

import click

from rotator.config import Settings, parse_duration, parse_seconds
from rotator.errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])


class OutputFormat(StrEnum):
    """``--output``: text for people, one JSON object per line for programs."""

    TEXT = "text"
    JSON = "json"


class Duration(click.ParamType[timedelta]):
    """``0``, ``90s``, ``15m``, ``24h``, ``7d`` → timedelta; a bad value exits 2 naming the flag."""

    name = "duration"

    def __init__(self, *, positive: bool = False) -> None:
        self.positive = positive

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        flag = param.opts[0] if param is not None and param.opts else "duration"
        try:
            if self.positive:
                return timedelta(seconds=parse_seconds(str(value), name=flag))
            return parse_duration(str(value), name=flag)
        except ConfigError as error:
            self.fail(str(error), param, ctx)


def _apply(func: F, options: list[Callable[[F], F]]) -> F:
    for option in reversed(options):
        func = option(func)
    return func


def common_options(func: F) -> F:
    """``--openai-base-url``, ``--admin-key-secret-id``, ``--log-format``, ``--log-level``."""
    return _apply(
        func,
        [
            click.option(
                "--openai-base-url",
                envvar="OPENAI_BASE_URL",
                help="OpenAI API base URL (env OPENAI_BASE_URL). Default https://api.openai.com/v1.",
            ),
            click.option(
                "--admin-key-secret-id",
                envvar="ROTATOR_ADMIN_KEY_SECRET_ID",
                help="Secret holding the OpenAI admin key, when the rotated secret does not name "
                "one (env ROTATOR_ADMIN_KEY_SECRET_ID).",
            ),
            click.option(
                "--log-format",
                type=click.Choice(["console", "json"]),
                default="console",
                show_default=True,
                help="How log lines on stderr are rendered.",
            ),
            log_level_option,
        ],
    )


log_level_option = click.option(
    "--log-level", envvar="LOG_LEVEL", default="WARNING", show_default=True,
    help="Log level (env LOG_LEVEL).",
)  # fmt: skip

output_option = click.option(
    "--output",
    type=click.Choice([f.value for f in OutputFormat]),
    default=OutputFormat.TEXT.value,
    show_default=True,
    help="text, or JSON for programs.",
)


def fleet_options(func: F) -> F:
    """``--all``, ``--prefix`` and ``--tag``: which secrets a fleet command covers."""
    return _apply(
        func,
        [
            click.option(
                "--all",
                "all_secrets",
                is_flag=True,
                help="Every rotator secret matching the filters.",
            ),
            click.option("--prefix", help="With --all: only secrets whose name starts with this."),
            click.option(
                "--tag",
                "tags",
                multiple=True,
                metavar="KEY=VALUE",
                help="With --all: only secrets with this tag (repeatable; all must match).",
            ),
        ],
    )


def check_target(secret_id: str | None, all_secrets: bool, **fleet_only: object) -> None:
    """Exactly one of SECRET_ID and --all; fleet options only with --all."""
    if (secret_id is None) == (not all_secrets):
        raise click.UsageError("give either SECRET_ID or --all (not both)")
    given = [name for name, value in fleet_only.items() if value]
    if given and not all_secrets:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise click.UsageError(f"{flags} only apply with --all")


def make_settings(*, log_format: str = "console", **overrides: Any) -> Settings:
    """Settings from the environment plus the command line's values; logging configured."""
    from rotator import log

    settings = Settings.from_env(os.environ, allow_env_admin_key=True).with_overrides(**overrides)
    log.configure(json=log_format == "json", level=settings.log_level)
    return settings


def _secret_id(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """SECRET_ID is a name or ARN: key material there is refused before any call (exit 2)."""
    from rotator.domain.ids import looks_like_key

    if value is not None and looks_like_key(value):
        raise click.BadParameter(
            "holds an API key, not a secret name or ARN; pass the secret's name or ARN",
            ctx=ctx,
            param=param,
        )
    return value


def secret_id_argument(*, required: bool = True) -> Callable[[F], F]:
    """The SECRET_ID argument, checked so that a pasted key never reaches AWS or the screen."""
    return click.argument("secret_id", required=required, callback=_secret_id)
