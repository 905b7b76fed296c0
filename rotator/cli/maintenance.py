"""``rotator recover`` and ``rotator prune``: dry-run by default, ``--yes`` acts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from rotator.cli.errors import errors_to_exit
from rotator.cli.options import Duration, OutputFormat, common_options, make_settings, output_option
from rotator.domain.durations import MIN_SAFE_AGE, format_duration


def _run(
    secret_id: str,
    *,
    which: str,
    yes: bool,
    output: str,
    common: Any,
    margin: timedelta | None = None,
    idle_for: timedelta | None = None,
    min_age: timedelta | None = None,
    force: bool = False,
) -> None:
    from rotator.app import Mode, build_app
    from rotator.cli.render import emit_json, plan_text
    from rotator.config import check_orphan_margin
    from rotator.rotation.maintenance import apply_plan, plan_prune, plan_recover

    with errors_to_exit(output, secret_id):
        if margin is not None:
            check_orphan_margin(margin, name="--margin")
        app = build_app(make_settings(**common), mode=Mode.CLI)
        try:
            if which == "recover":
                plan = plan_recover(
                    app.ctx, secret_id, min_age=min_age or MIN_SAFE_AGE, force=force
                )
            else:
                plan = plan_prune(
                    app.ctx, secret_id, margin=margin, idle_for=idle_for or timedelta(0)
                )
            applied = apply_plan(app.ctx, plan) if yes else None
        finally:
            app.close()
        data = {**plan.to_json(), "applied": applied is not None}
        if output == OutputFormat.JSON:
            emit_json(data)
        else:
            click.echo(plan_text(data, applied=applied))


_yes = click.option("--yes", is_flag=True, help="Act; without it, only show what would be done.")


@click.command()
@click.argument("secret_id")
@_yes
@click.option(
    "--min-age",
    type=Duration(positive=True),
    help="Only clear a pending version at least this old (default "
    f"{format_duration(MIN_SAFE_AGE)}, twice the rotation Lambda's timeout).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Clear the pending version whatever its age (only when no rotation is running).",
)
@output_option
@common_options
def recover(
    secret_id: str,
    yes: bool,
    min_age: timedelta | None,
    force: bool,
    output: str,
    **common: Any,
) -> None:
    """Clear a stuck rotation of SECRET_ID so the next one can run.

    Removes the AWSPENDING label, then deletes the key held by the stuck version (if it got
    one). A pending version younger than --min-age may be a rotation still running and is
    refused unless --force is given. Shows the plan unless --yes is given.
    """
    _run(
        secret_id,
        which="recover",
        yes=yes,
        output=output,
        common=common,
        min_age=min_age,
        force=force,
    )


@click.command()
@click.argument("secret_id")
@_yes
@output_option
@click.option(
    "--margin",
    type=Duration(),
    help="Only treat rotator-made accounts older than this as orphans (default 15m, at least "
    f"{format_duration(MIN_SAFE_AGE)}).",
)
@click.option(
    "--idle-for",
    type=Duration(),
    help="Keep a due retiring key OpenAI reports used (last_used_at) within this time, e.g. "
    "30m (default 0: no check). OpenAI does not document how often last_used_at updates.",
)
@common_options
def prune(
    secret_id: str,
    yes: bool,
    output: str,
    margin: timedelta | None,
    idle_for: timedelta | None,
    **common: Any,
) -> None:
    """Delete SECRET_ID's retiring keys whose time has passed, and its orphans.

    Orphans are service accounts rotator made for this secret that no version records. With
    --idle-for, a retiring key still in use that recently is kept (and named). Shows the plan
    unless --yes is given.
    """
    _run(
        secret_id,
        which="prune",
        yes=yes,
        output=output,
        common=common,
        margin=margin,
        idle_for=idle_for,
    )
