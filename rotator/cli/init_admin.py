"""``rotator init --admin-key``: the CLI side of seeding an admin-key secret (see deploy.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from rotator.cli.options import OutputFormat, make_settings


def init_admin_key(
    secret_id: str,
    key: Any,
    *,
    refused: tuple[str | None, ...],
    force: bool,
    kms_key_id: str | None,
    key_lifetime: timedelta | None,
    output: str,
    common: dict[str, Any],
) -> None:
    """``init --admin-key``: the key from --from-env, proven and stored as JSON with its id."""
    from rotator.app import Mode, build_app
    from rotator.errors import ConfigError
    from rotator.provisioning.admin_init import init_admin_secret

    if key is None or any(value is not None for value in refused):
        raise ConfigError(
            "--admin-key takes the key from --from-env VAR and no --project-id, "
            "--new-service-account or --scopes"
        )
    app = build_app(make_settings(**common), mode=Mode.CLI)
    try:
        result = init_admin_secret(
            app.provisioning_store(),
            app.admin_factory(key),
            secret_id=secret_id,
            admin_key=key,
            force=force,
            kms_key_id=kms_key_id,
            key_lifetime=key_lifetime,
        )
    finally:
        app.close()
    verb = "created" if result.created_secret else "filled"
    text = f"{verb} {result.arn}\n  admin key {result.admin_key_id}\n  note: {result.note}"
    if output == OutputFormat.JSON:
        from rotator.cli.render import emit_json

        emit_json(result.to_json())
    else:
        click.echo(text)
