"""``rotator init`` and ``rotator schedule``: seed a secret, then turn its rotation on or off.

Registered by :mod:`rotator.cli.app`. Input is checked
before any client is built, so bad input exits 2 having called nothing. Key values never reach
stdout, stderr or a log line.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import click

from rotator.cli.errors import errors_to_exit
from rotator.cli.options import (
    Duration,
    OutputFormat,
    common_options,
    log_level_option,
    make_settings,
    output_option,
    secret_id_argument,
)


def _emit(data: dict[str, Any], output: str, text: str) -> None:
    if output == OutputFormat.JSON:
        from rotator.cli.render import emit_json

        emit_json(data)
    else:
        click.echo(text)


@click.command()
@secret_id_argument()
@click.option("--project-id", help="The OpenAI project (proj_...) the key is in (required).")
@click.option(
    "--admin-key",
    "admin_key",
    is_flag=True,
    help="SECRET_ID is an admin-key secret: store the sk-admin-... key from --from-env VAR as "
    "JSON with its id, so that rotator can rotate it (no --project-id).",
)
@click.option(
    "--from-env",
    "from_env",
    metavar="VAR",
    help="Store the existing key held in environment variable VAR (looked up by the admin API).",
)
@click.option(
    "--new-service-account",
    metavar="NAME",
    help="Create a service account named NAME in the project and store its first key.",
)
@click.option("--force", is_flag=True, help="Replace the value of a secret that already has one.")
@click.option("--kms-key-id", help="Customer-managed KMS key for a secret created here.")
@click.option(
    "--scopes",
    metavar="A,B",
    help="Comma-separated scopes every new key gets, e.g. api.responses.write (recorded in the "
    "secret; OpenAI cannot report a key's scopes). Without it new keys get All permissions.",
)
@click.option(
    "--key-lifetime",
    type=Duration(positive=True),
    help="Every new key of this secret expires this long after it is made, e.g. 90d.",
)
@output_option
@common_options
def init(
    *,
    secret_id: str,
    project_id: str | None,
    admin_key: bool,
    from_env: str | None,
    new_service_account: str | None,
    force: bool,
    kms_key_id: str | None,
    scopes: str | None,
    key_lifetime: timedelta | None,
    output: str,
    **common: Any,
) -> None:
    """Create (or fill) SECRET_ID with a correctly shaped value for a service-account key.

    The key comes from an environment variable (--from-env) or from a service account created
    now (--new-service-account). A secret that already holds a value is left alone unless
    --force is given. With --admin-key, SECRET_ID gets the admin key from --from-env VAR as
    JSON {"admin_key", "admin_key_id"}: readers of the bare string must parse JSON from then on.
    Exit codes: 0 done, 1 a provider call failed, 2 bad input (nothing
    changed).
    """
    from rotator.domain.sensitive import Sensitive
    from rotator.provisioning.checks import KeySource, validate_init_request

    with errors_to_exit(output, secret_id):
        from rotator.domain.ids import looks_like_key
        from rotator.errors import ConfigError

        existing_key = None
        if from_env is not None and looks_like_key(from_env):
            raise ConfigError(
                "--from-env takes the name of an environment variable that holds the key, not "
                "the key itself; export the key (e.g. OPENAI_API_KEY) and pass its name"
            )
        if from_env is not None:
            raw = os.environ.get(from_env, "")
            if not raw.strip():
                raise ConfigError(f"environment variable {from_env[:60]} is not set or empty")
            existing_key = Sensitive(raw)
        if admin_key:
            from rotator.cli.init_admin import init_admin_key

            init_admin_key(
                secret_id,
                existing_key,
                refused=(project_id, new_service_account, scopes),
                force=force,
                kms_key_id=kms_key_id,
                key_lifetime=key_lifetime,
                output=output,
                common=common,
            )
            return
        if project_id is None:
            raise ConfigError("--project-id is required (or --admin-key for an admin-key secret)")
        source = KeySource(existing_key=existing_key, new_service_account=new_service_account)
        validate_init_request(project_id, source)
        result = _run_init(
            secret_id=secret_id,
            project_id=project_id,
            source=source,
            force=force,
            kms_key_id=kms_key_id,
            common=common,
            scopes=_scopes(scopes),
            key_lifetime=key_lifetime,
        )
        account = f" ({result.service_account_id})" if result.service_account_id else ""
        verb = "created" if result.created_secret else "filled"
        _emit(
            result.to_json(),
            output,
            f"{verb} {result.arn}\n  key {result.key_id}{account} in {result.project_id}",
        )


def _scopes(text: str | None) -> tuple[str, ...] | None:
    """``--scopes a,b`` → ("a", "b"); checked like the secret's own field."""
    if text is None:
        return None
    from rotator.domain.fields import parse_scopes
    from rotator.errors import ConfigError, SecretFormatError

    try:
        return parse_scopes([part.strip() for part in text.split(",") if part.strip()])
    except SecretFormatError as error:
        raise ConfigError(f"--scopes: {error.message}") from None


def _run_init(
    *,
    secret_id: str,
    project_id: str,
    source: Any,
    force: bool,
    kms_key_id: str | None,
    common: dict[str, Any],
    scopes: tuple[str, ...] | None,
    key_lifetime: timedelta | None,
) -> Any:
    from rotator.app import Mode, build_app
    from rotator.provisioning.init import init_secret

    settings = make_settings(**common)
    app = build_app(settings, mode=Mode.CLI)
    try:
        store = app.provisioning_store()
        admin_key = app.admin_keys.resolve(None)
        return init_secret(
            store,
            app.admin_factory(admin_key),
            app.probe,
            secret_id=secret_id,
            project_id=project_id,
            source=source,
            force=force,
            admin_key_secret_id=settings.admin_key_secret_id,
            kms_key_id=kms_key_id,
            scopes=scopes,
            key_lifetime=key_lifetime,
        )
    finally:
        app.close()


@click.command()
@secret_id_argument()
@click.option("--lambda-arn", help="The rotation function (the stack's FunctionArn output).")
@click.option("--every", help="Rotate at this interval, e.g. '30 days' or '12 hours'.")
@click.option("--cron", "cron", help="Rotate on this schedule, e.g. 'cron(0 4 ? * SUN *)' (UTC).")
@click.option("--window", help="How long the rotation window stays open, e.g. 4h.")
@click.option("--rotate-now", is_flag=True, help="Also rotate now (default: at the next window).")
@click.option("--off", is_flag=True, help="Disable rotation (CancelRotateSecret).")
@output_option
@log_level_option
def schedule(
    *,
    secret_id: str,
    lambda_arn: str | None,
    every: str | None,
    cron: str | None,
    window: str | None,
    rotate_now: bool,
    off: bool,
    output: str,
    log_level: str,
) -> None:
    """Turn on scheduled rotation of SECRET_ID with a Lambda, or turn it off (--off).

    Expressions are checked as Secrets Manager would before AWS is called: rate() in hours
    (4 to 23) or days (1 to 999), or cron() in UTC with minutes 0 and year *, at most every
    four hours; --window is whole hours (1h to 24h) that must not run into the next UTC day.
    Exit codes: 0 done, 1 an AWS call failed, 2 bad input (nothing changed).
    """
    from rotator.domain.schedule import build_schedule, validate_lambda_arn
    from rotator.errors import ConfigError

    with errors_to_exit(output, secret_id):
        if off and (lambda_arn or every or cron or window or rotate_now):
            raise ConfigError("--off takes no other schedule option")
        if not off and lambda_arn is None:
            raise ConfigError("--lambda-arn is required (or pass --off)")
        plan = None if off else build_schedule(every=every, cron=cron, window=window)
        function_arn = validate_lambda_arn(lambda_arn) if lambda_arn else ""
        from rotator.app import Mode, build_app
        from rotator.provisioning.schedule import disable_rotation, schedule_rotation

        app = build_app(make_settings(log_level=log_level), mode=Mode.CLI)
        try:
            store = app.provisioning_store()
            if plan is None:
                result = disable_rotation(store, secret_id)
            else:
                result = schedule_rotation(
                    store, secret_id, lambda_arn=function_arn, schedule=plan, rotate_now=rotate_now
                )
        finally:
            app.close()
        if plan is None:
            _emit(result.to_json(), output, f"rotation of {result.arn} disabled")
            return
        window_text = f", window {result.duration}" if result.duration else ""
        started = (
            f"\n  rotation started: version {result.started_version_id} (check with "
            f"`rotator status {secret_id}`)"
            if result.started_version_id
            else "\n  first rotation in the next window (no rotation now)"
        )
        _emit(
            result.to_json(),
            output,
            f"rotation of {result.arn} on {result.schedule_expression}{window_text}\n"
            f"  by {result.lambda_arn}{started}",
        )


#: What :mod:`rotator.cli.app` registers.
COMMANDS: tuple[click.Command, ...] = (init, schedule)
