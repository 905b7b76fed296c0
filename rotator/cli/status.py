"""``rotator status SECRET_ID | --all``: one secret's key, versions and schedule, or the fleet's.

Exit codes: 0 shown, 1 a call failed or (with --all) a key is older than --max-age, 2 bad
usage or input.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import click

from rotator.cli.errors import EXIT_FAILED, CliError, errors_to_exit
from rotator.cli.options import (
    Duration,
    OutputFormat,
    check_target,
    common_options,
    fleet_options,
    make_settings,
    output_option,
)
from rotator.config import Settings


@click.command()
@click.argument("secret_id", required=False)
@fleet_options
@click.option(
    "--max-age",
    type=Duration(),
    help="With --all: keys older than this (e.g. 90d) are marked, and the exit code is 1.",
)
@output_option
@common_options
def status(  # click passes every parameter by keyword
    *,
    secret_id: str | None,
    all_secrets: bool,
    prefix: str | None,
    tags: tuple[str, ...],
    max_age: timedelta | None,
    output: str,
    **common: Any,
) -> None:
    """Show SECRET_ID's key, versions, schedule and whether a rotation is stuck.

    With --all: one table row per rotator secret (secret, key id, key age, last rotated, next
    rotation, rotation enabled, stuck?); exit 1 when any key is older than --max-age.
    """
    check_target(secret_id, all_secrets, prefix=prefix, tag=tags, max_age=max_age)
    if secret_id is None:
        from rotator.cli.selection import parse_tags

        with errors_to_exit(output):
            status_all(
                make_settings(**common),
                prefix=prefix,
                tags=parse_tags(tags),
                max_age=max_age,
                output=output,
            )
        return
    with errors_to_exit(output, secret_id):
        status_one(make_settings(**common), secret_id, output=output)


def status_one(settings: Settings, secret_id: str, *, output: str) -> None:
    """One secret's status, as text or one JSON object."""
    from rotator.app import Mode, build_app
    from rotator.cli.render import emit_json, status_text
    from rotator.ports import VersionHistory
    from rotator.rotation.status import secret_status

    app = build_app(settings, mode=Mode.CLI)
    try:
        result = secret_status(
            app.store,
            secret_id,
            history=app.store if isinstance(app.store, VersionHistory) else None,
            now=app.clock.now(),
        )
    finally:
        app.close()
    if output == OutputFormat.JSON:
        emit_json(result.to_json())
    else:
        click.echo(status_text(result.to_json()))


def status_all(
    settings: Settings,
    *,
    prefix: str | None,
    tags: Mapping[str, str],
    max_age: timedelta | None,
    output: str,
) -> None:
    """The fleet's keys as a table (or JSON lines); exit 1 when any key is older than max_age."""
    from rotator.app import Mode, build_app
    from rotator.cli.render import emit_json, status_table, with_age
    from rotator.cli.selection import describe_filters, rotator_secrets
    from rotator.fleet.status import status_row

    app = build_app(settings, mode=Mode.FLEET)
    try:
        candidates = app.fleet.discover(prefix=prefix, tags=tags, concurrency=8)
        now = app.clock.now()
    finally:
        app.close()
    secrets = rotator_secrets(candidates, describe_filters(prefix, tags))
    rows = sorted(
        (status_row(c, now=now, max_age=max_age) for c in secrets), key=lambda row: row.secret_id
    )
    too_old = [row.secret_id for row in rows if row.too_old]
    shown = [with_age(row.to_json()) for row in rows]
    if output == OutputFormat.JSON:
        for row_json in shown:
            emit_json(row_json)
        emit_json({"summary": True, "total": len(rows), "too_old": too_old})
    else:
        click.echo(status_table(shown))
    if too_old:
        raise CliError(
            f"{len(too_old)} key(s) older than the maximum age: {', '.join(too_old)}; "
            "rotate them with `rotator rotate --all`",
            EXIT_FAILED,
        )
