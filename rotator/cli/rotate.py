"""``rotator rotate SECRET_ID | --all``: one secret (here or by its Lambda), or the fleet.

Exit codes: 0 rotated, 1 rotation failed (with --all: any failed, listed on stderr), 2 bad
usage or input (nothing changed).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click

from rotator.cli.errors import CliError, errors_to_exit
from rotator.cli.options import (
    Duration,
    OutputFormat,
    check_target,
    common_options,
    fleet_options,
    make_settings,
    output_option,
    secret_id_argument,
)
from rotator.config import Settings

if TYPE_CHECKING:
    from rotator.metrics.emitter import MetricsEmitter


@click.command()
@secret_id_argument(required=False)
@fleet_options
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
@click.option(
    "--deadline",
    type=Duration(positive=True),
    help="With --all: start no rotation after this long, e.g. 45m (those not started fail "
    "as 'not started'; rotations in flight finish).",
)
@click.option("--local", "mode", flag_value="local", help="Run the four steps here.")
@click.option(
    "--remote",
    "mode",
    flag_value="remote",
    help="Ask Secrets Manager to rotate (invokes the deployed Lambda) and wait.",
)
@output_option
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=300,
    show_default=True,
    help="Seconds to wait for a remote rotation.",
)
@click.option(
    "--test-timeout",
    type=Duration(positive=True),
    help="How long the new key may take to answer GET /models, e.g. 90s or 2m "
    "(env ROTATOR_TEST_TIMEOUT; default 60s).",
)
@click.option(
    "--grace-period",
    type=Duration(),
    help="How long the replaced key stays live for cached consumers, e.g. 15m or 24h "
    "(env ROTATOR_GRACE_PERIOD; default 0: retired once the new key passed its test). "
    "With a grace period OpenAI itself ends the old key when it is over.",
)
@click.option(
    "--key-lifetime",
    type=Duration(positive=True),
    help="Every new key expires this long after it is made, e.g. 90d (1s to 365d; env "
    "ROTATOR_KEY_LIFETIME; a secret's key_lifetime field wins). Needed where an organization "
    "or project policy requires keys to expire.",
)
@click.option(
    "--replace-dead-key",
    is_flag=True,
    help="Emergency: the stored key no longer authenticates (revoked after a leak). Skip its "
    "probe; the secret's service account must still exist in the project. Local runs only.",
)
@common_options
def rotate(  # click passes every parameter by keyword
    *,
    secret_id: str | None,
    all_secrets: bool,
    prefix: str | None,
    tags: tuple[str, ...],
    concurrency: int | None,
    max_rps: float | None,
    deadline: timedelta | None,
    mode: str | None,
    output: str,
    timeout: float,
    test_timeout: timedelta | None,
    grace_period: timedelta | None,
    key_lifetime: timedelta | None,
    replace_dead_key: bool,
    **common: Any,
) -> None:
    """Rotate the key held in SECRET_ID (or, with --all, every rotator secret) now.

    Default: --remote when the secret has a rotation Lambda, --local otherwise.
    With --all, rotations run concurrently under one shared OpenAI admin rate budget; a
    terminal shows a progress bar, otherwise one JSON line per secret and a summary line.
    Exit codes: 0 rotated, 1 rotation failed (with --all: any failed, listed on stderr),
    2 bad usage or input (nothing changed). With --log-format json, one EMF metric line per
    rotation goes to stderr (RotationSucceeded/Failed, StepDuration, KeyAgeDays, ...).
    """
    check_target(
        secret_id,
        all_secrets,
        prefix=prefix,
        tag=tags,
        concurrency=concurrency,
        max_rps=max_rps,
        deadline=deadline,
    )
    if key_lifetime is not None and key_lifetime.total_seconds() > 365 * 86400:
        raise click.BadParameter(
            "is longer than a year; use at most 365d", param_hint="--key-lifetime"
        )
    if replace_dead_key and (mode == "remote" or secret_id is None):
        raise click.UsageError(
            "--replace-dead-key runs one secret here: give SECRET_ID without --remote or --all"
        )
    overrides: dict[str, Any] = {
        "test_timeout": test_timeout.total_seconds() if test_timeout is not None else None,
        "grace_period": grace_period,
        "key_lifetime": key_lifetime,
        "replace_dead_key": replace_dead_key or None,
        **common,
    }
    if secret_id is None:
        from rotator.cli.rotate_all import rotate_all
        from rotator.cli.selection import parse_tags

        with errors_to_exit(output):
            settings = make_settings(**overrides)
            rotate_all(
                settings,
                prefix=prefix,
                tags=parse_tags(tags),
                concurrency=concurrency or 8,
                max_rps=max_rps,
                mode=mode,
                output=output,
                timeout=timeout,
                metrics=cli_metrics(settings, common),
                deadline=deadline.total_seconds() if deadline is not None else None,
            )
        return
    with errors_to_exit(output, secret_id, rotation=True):
        if replace_dead_key:
            click.echo(
                "--replace-dead-key: the stored key is not probed; its service account must "
                "exist in the project",
                err=True,
            )
        settings = make_settings(**overrides)
        rotate_one(
            settings,
            secret_id,
            mode="local" if replace_dead_key else mode,
            output=output,
            timeout=timeout,
            metrics=cli_metrics(settings, common),
        )


def cli_metrics(settings: Settings, common: Mapping[str, Any]) -> MetricsEmitter | None:
    """With ``--log-format json``, an EMF emitter on stderr (stdout carries --output json)."""
    if common.get("log_format") != "json":
        return None
    from rotator.metrics.emitter import MetricsEmitter

    return MetricsEmitter(settings.metrics_namespace, stream=sys.stderr)


def rotate_one(
    settings: Settings,
    secret_id: str,
    *,
    mode: str | None,
    output: str,
    timeout: float,
    metrics: MetricsEmitter | None = None,
) -> None:
    """Rotate one secret here (``local``) or through its Lambda (``remote``) and show the report."""
    from rotator.app import Mode, build_app
    from rotator.cli.render import emit_json, progress_line, rotation_text
    from rotator.errors import RotationFailure
    from rotator.rotation.local import rotate_locally
    from rotator.rotation.remote import choose_mode, rotate_remotely
    from rotator.rotation.step_metrics import emit_rotation_metrics, replaced_key_age_days

    app = build_app(settings, mode=Mode.CLI)
    try:
        key_age = replaced_key_age_days(app.store, secret_id, app.clock) if metrics else None
        if mode is None:
            mode = choose_mode(app.store.describe(secret_id), None)
        click.echo(f"rotating {secret_id} ({mode})", err=True)
        try:
            if mode == "remote":
                report = rotate_remotely(
                    app.store,
                    secret_id,
                    timeout=timeout,
                    poll_interval=settings.remote_poll_interval,
                    clock=app.clock,
                )
            else:
                report = rotate_locally(app.engine, secret_id, progress=progress_line)
        except RotationFailure as failure:
            emit_rotation_metrics(metrics, secret_id, failure.report.to_json(), key_age_days=None)
            if output == OutputFormat.JSON:
                emit_json(failure.report.to_json())
            else:
                click.echo(rotation_text(failure.report.to_json()))
            raise CliError(str(failure), failure.exit_code) from failure
    finally:
        app.close()
    emit_rotation_metrics(metrics, secret_id, report.to_json(), key_age_days=key_age)
    if output == OutputFormat.JSON:
        emit_json(report.to_json())
    else:
        click.echo(rotation_text(report.to_json()))
