"""``rotator``: rotate OpenAI service-account keys held in AWS Secrets Manager.

Imports stay light at module level (click only); each command imports what it needs, so
``rotator --help`` starts fast and never loads boto3.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from rotator.errors import RotatorError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@contextmanager
def _errors_to_exit(
    output: str = "text", secret_id: str | None = None, *, rotation: bool = False
) -> Iterator[None]:
    """Map rotator errors to one line on stderr and the documented exit code.

    With ``rotation``, JSON output keeps the rotation report's shape (every field present).
    """
    try:
        yield
    except RotatorError as error:
        if output == "json":
            from rotator.cli.output import emit_json

            shape: dict[str, object] = {"secret_id": secret_id}
            if rotation:
                from rotator.rotation.local import RotationReport

                shape = RotationReport(
                    secret_id=secret_id or "", version_id="", status=""
                ).to_json()
                shape["version_id"] = None
            emit_json({**shape, "status": "failed", "error": str(error), "step": error.step})
        click.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)


def _common_options(func: F) -> F:
    options = [
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
        click.option(
            "--log-level",
            envvar="LOG_LEVEL",
            default="WARNING",
            show_default=True,
            help="Log level (env LOG_LEVEL).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _settings(**overrides: Any) -> Any:
    from rotator import log
    from rotator.config import Settings, parse_duration, parse_seconds

    log_format = overrides.pop("log_format", "console")
    if isinstance(overrides.get("test_timeout"), str):
        overrides["test_timeout"] = parse_seconds(overrides["test_timeout"], name="--test-timeout")
    if isinstance(overrides.get("grace_period"), str):
        overrides["grace_period"] = parse_duration(overrides["grace_period"], name="--grace-period")
    settings = Settings.from_env(os.environ, allow_env_admin_key=True).with_overrides(**overrides)
    log.configure(json=log_format == "json", level=settings.log_level)
    return settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rotator")
def cli() -> None:
    """Rotate OpenAI project service-account keys held in AWS Secrets Manager."""


def _fleet_options(func: F) -> F:
    options = [
        click.option(
            "--all", "all_secrets", is_flag=True, help="Every rotator secret matching the filters."
        ),
        click.option("--prefix", help="With --all: only secrets whose name starts with this."),
        click.option(
            "--tag",
            "tags",
            multiple=True,
            metavar="KEY=VALUE",
            help="With --all: only secrets with this tag (repeatable; all must match).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _check_target(secret_id: str | None, all_secrets: bool, **fleet_only: Any) -> None:
    """Exactly one of SECRET_ID and --all; fleet options only with --all."""
    if (secret_id is None) == (not all_secrets):
        raise click.UsageError("give either SECRET_ID or --all (not both)")
    given = [name for name, value in fleet_only.items() if value]
    if given and not all_secrets:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise click.UsageError(f"{flags} only apply with --all")


@cli.command()
@click.argument("secret_id", required=False)
@_fleet_options
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=256),
    help="With --all: rotations in flight at once (default 8).",
)
@click.option(
    "--max-rps",
    type=click.FloatRange(min=0.1),
    help="With --all: never send more OpenAI admin requests per second than this.",
)
@click.option("--local", "mode", flag_value="local", help="Run the four steps here.")
@click.option(
    "--remote",
    "mode",
    flag_value="remote",
    help="Ask Secrets Manager to rotate (invokes the deployed Lambda) and wait.",
)
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=300,
    show_default=True,
    help="Seconds to wait for a remote rotation.",
)
@click.option(
    "--test-timeout",
    help="How long the new key may take to answer GET /models, e.g. 90s or 2m "
    "(env ROTATOR_TEST_TIMEOUT; default 60s).",
)
@click.option(
    "--grace-period",
    help="How long the replaced key stays live for cached consumers, e.g. 15m or 24h "
    "(env ROTATOR_GRACE_PERIOD; default 0: deleted once the new key passed its test).",
)
@_common_options
def rotate(  # click passes every parameter by keyword
    *,
    secret_id: str | None,
    all_secrets: bool,
    prefix: str | None,
    tags: tuple[str, ...],
    concurrency: int | None,
    max_rps: float | None,
    mode: str | None,
    output: str,
    timeout: float,
    test_timeout: str | None,
    grace_period: str | None,
    **common: Any,
) -> None:
    """Rotate the key held in SECRET_ID (or, with --all, every rotator secret) now.

    Default: --remote when the secret has a rotation Lambda, --local otherwise.
    With --all, rotations run concurrently under one shared OpenAI admin rate budget; a
    terminal shows a progress bar, otherwise one JSON line per secret and a summary line.
    Exit codes: 0 rotated, 1 rotation failed (with --all: any failed, listed on stderr),
    2 bad usage or input (nothing changed).
    """
    _check_target(
        secret_id, all_secrets, prefix=prefix, tag=tags, concurrency=concurrency, max_rps=max_rps
    )
    if secret_id is None:
        from rotator.cli.fleet import parse_tags, rotate_all

        with _errors_to_exit(output):
            rotate_all(
                _settings(test_timeout=test_timeout, grace_period=grace_period, **common),
                prefix=prefix,
                tags=parse_tags(tags),
                concurrency=concurrency or 8,
                max_rps=max_rps,
                mode=mode,
                output=output,
                timeout=timeout,
            )
        return
    from rotator.cli.output import emit_json, progress_line, rotation_text
    from rotator.composition import build_runtime
    from rotator.rotation.local import RotationFailure, rotate_locally
    from rotator.rotation.remote import rotate_remotely

    with _errors_to_exit(output, secret_id, rotation=True):
        settings = _settings(test_timeout=test_timeout, grace_period=grace_period, **common)
        runtime = build_runtime(settings, lambda_mode=False)
        try:
            if mode is None:
                has_lambda = runtime.store.describe(secret_id).rotation_lambda_arn is not None
                mode = "remote" if has_lambda else "local"
            click.echo(f"rotating {secret_id} ({mode})", err=True)
            try:
                if mode == "remote":
                    report = rotate_remotely(
                        runtime.store,
                        secret_id,
                        timeout=timeout,
                        poll_interval=settings.remote_poll_interval,
                    )
                else:
                    report = rotate_locally(runtime.engine, secret_id, progress=progress_line)
            except RotationFailure as failure:
                if output == "json":
                    emit_json(failure.report.to_json())
                else:
                    click.echo(rotation_text(failure.report.to_json()))
                click.echo(f"error: {failure}", err=True)
                sys.exit(failure.exit_code)
        finally:
            runtime.close()
        if output == "json":
            emit_json(report.to_json())
        else:
            click.echo(rotation_text(report.to_json()))


@cli.command()
@click.argument("secret_id", required=False)
@_fleet_options
@click.option(
    "--max-age",
    help="With --all: keys older than this (e.g. 90d) are marked, and the exit code is 1.",
)
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_common_options
def status(  # click passes every parameter by keyword
    *,
    secret_id: str | None,
    all_secrets: bool,
    prefix: str | None,
    tags: tuple[str, ...],
    max_age: str | None,
    output: str,
    **common: Any,
) -> None:
    """Show SECRET_ID's key, versions, schedule and whether a rotation is stuck.

    With --all: one table row per rotator secret (secret, key id, key age, last rotated, next
    rotation, rotation enabled, stuck?); exit 1 when any key is older than --max-age.
    """
    _check_target(secret_id, all_secrets, prefix=prefix, tag=tags, max_age=max_age)
    if secret_id is None:
        from rotator.cli.fleet import parse_tags, status_all
        from rotator.config import parse_duration

        with _errors_to_exit(output):
            status_all(
                _settings(**common),
                prefix=prefix,
                tags=parse_tags(tags),
                max_age=parse_duration(max_age, name="--max-age") if max_age else None,
                output=output,
            )
        return
    from rotator.cli.output import emit_json, status_text
    from rotator.composition import build_runtime
    from rotator.ports import VersionHistory
    from rotator.rotation.status import secret_status

    with _errors_to_exit(output, secret_id):
        runtime = build_runtime(_settings(**common), lambda_mode=False)
        try:
            result = secret_status(
                runtime.store,
                secret_id,
                history=runtime.store if isinstance(runtime.store, VersionHistory) else None,
            )
        finally:
            runtime.close()
        if output == "json":
            emit_json(result)
        else:
            click.echo(status_text(result))


@cli.command()
def demo() -> None:
    """Run a full rotation offline against local Secrets Manager and OpenAI emulators."""
    try:
        from rotator.testing.demo import run_demo
    except ImportError as error:
        click.echo(
            f"error: the demo needs the development extras ({error.name} is missing); "
            "install them with `pip install 'rotator[dev]'` or run `make demo`",
            err=True,
        )
        sys.exit(EXIT_USAGE)
    with _errors_to_exit():
        sys.exit(run_demo())


def main() -> None:
    cli(prog_name="rotator")


# Deployment commands live in their own module, which imports the helpers above.
from rotator.cli.deploy import COMMANDS  # noqa: E402 - registered once the helpers exist

for _command in COMMANDS:
    cli.add_command(_command)

from rotator.cli.maintenance import prune, recover  # noqa: E402 - registered like the above

cli.add_command(recover)
cli.add_command(prune)
