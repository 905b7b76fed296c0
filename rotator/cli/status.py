"""``rotator status SECRET_ID | --all``: one secret's key, versions and schedule, or the fleet's.

Exit codes: 0 shown, 1 a call failed or, with --max-age, a key is older than it (one secret:
also a key expiring before its next rotation, or an archived project), 2 bad usage or input.
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
    secret_id_argument,
)
from rotator.config import Settings


@click.command()
@secret_id_argument(required=False)
@fleet_options
@click.option(
    "--max-age",
    type=Duration(),
    help="Keys older than this (e.g. 90d) are marked, and the exit code is 1 (one secret: also "
    "when its key expires before the next rotation, or its project is archived).",
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

    For the current and each retiring key: created, expires and last used, from OpenAI's key
    listing (OpenAI does not document how often last_used_at updates: a stale value is no proof
    of disuse); a retiring key used after the rotation is flagged. Also the scopes, key
    lifetime and expiry, and an archived project.

    With --all: one table row per rotator secret (secret, key id, key age, last rotated, next
    rotation, rotation enabled, stuck?); exit 1 when any key is older than --max-age.
    """
    check_target(secret_id, all_secrets, prefix=prefix, tag=tags)
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
        status_one(make_settings(**common), secret_id, output=output, max_age=max_age)


def status_one(
    settings: Settings, secret_id: str, *, output: str, max_age: timedelta | None = None
) -> None:
    """One secret's status, as text or one JSON object; with ``max_age``, exit 1 on a problem."""
    from rotator.app import Mode, build_app
    from rotator.cli.render import emit_json, status_text
    from rotator.domain.durations import format_duration
    from rotator.domain.secret_value import parse_time
    from rotator.ports import VersionHistory
    from rotator.rotation.status import secret_status

    app = build_app(settings, mode=Mode.CLI)
    try:
        result = secret_status(
            app.store,
            secret_id,
            history=app.store if isinstance(app.store, VersionHistory) else None,
            now=app.clock.now(),
            admin_for=app.ctx.admin_for,
        )
        now = app.clock.now()
    finally:
        app.close()
    if output == OutputFormat.JSON:
        emit_json(result.to_json())
    else:
        click.echo(status_text(result.to_json()))
    if max_age is None:
        return
    # The expiry warning, when there is one, is the first (rotation/status.py).
    problems = [result.warnings[0]] if result.expires_before_rotation else []
    if result.project_archived:
        problems.append(f"project {result.project_id} is archived")
    last = (
        parse_time(result.last_rotated, field_name="last_rotated") if result.last_rotated else None
    )
    if last is not None and now - last > max_age:
        problems.append(f"the key is older than {format_duration(max_age)}")
    if problems:
        raise CliError(f"{result.name}: {'; '.join(dict.fromkeys(problems))}", EXIT_FAILED)


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
    from rotator.fleet.status import archived_projects, status_row

    app = build_app(settings, mode=Mode.FLEET)
    try:
        candidates = app.fleet.discover(prefix=prefix, tags=tags, concurrency=8)
        now = app.clock.now()
        secrets = rotator_secrets(candidates, describe_filters(prefix, tags))
        archived = archived_projects(secrets, app.ctx.admin_for)
    finally:
        app.close()
    rows = sorted(
        (status_row(c, now=now, max_age=max_age, archived=archived) for c in secrets),
        key=lambda row: row.secret_id,
    )
    too_old = [row.secret_id for row in rows if row.too_old]
    shown = [with_age(row.to_json()) for row in rows]
    if output == OutputFormat.JSON:
        for row_json in shown:
            emit_json(row_json)
        emit_json({"summary": True, "total": len(rows), "too_old": too_old})
    else:
        click.echo(status_table(shown))
    in_archived = [row.secret_id for row in rows if row.project_archived]
    if in_archived:
        click.echo(
            f"warning: {len(in_archived)} secret(s) in archived projects "
            f"({', '.join(in_archived)}): their keys no longer authenticate; move each "
            "workload to an active project and "
            "re-seed with `rotator init --force`",
            err=True,
        )
    if too_old:
        raise CliError(
            f"{len(too_old)} key(s) older than the maximum age: {', '.join(too_old)}; "
            "rotate them with `rotator rotate --all`",
            EXIT_FAILED,
        )
