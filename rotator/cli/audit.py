"""``rotator audit``: which rotator secrets are out of policy (key too old, expiring before its
next rotation, rotation off, rotation stuck), and why.

Exit codes: 0 every secret in policy, 1 any out of policy (or a secret could not be read),
2 bad usage or input (or no rotator secret matches the filters).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import click

from rotator.cli.errors import EXIT_FAILED, CliError, errors_to_exit
from rotator.cli.options import Duration, OutputFormat, common_options, make_settings, output_option
from rotator.config import Settings
from rotator.domain.audit import AuditPolicy


@click.command()
@click.option("--prefix", help="Only secrets whose name starts with this.")
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="KEY=VALUE",
    help="Only secrets with this tag (repeatable; all must match).",
)
@click.option(
    "--max-age",
    type=Duration(),
    default="90d",
    show_default=True,
    help="A key older than this is out of policy (0 switches the check off).",
)
@click.option(
    "--expiring-within",
    type=Duration(),
    default="7d",
    show_default=True,
    help="A key that OpenAI ends within this is out of policy (0 switches the check off).",
)
@output_option
@common_options
def audit(  # click passes every parameter by keyword
    *,
    prefix: str | None,
    tags: tuple[str, ...],
    max_age: timedelta,
    expiring_within: timedelta,
    output: str,
    **common: Any,
) -> None:
    """Audit every rotator secret's key against a policy; exit 1 when any is out of policy.

    Out of policy: the key is older than --max-age (from the secret's rotated_at, else its
    version's creation date), expires within --expiring-within or before its next scheduled
    rotation, rotation is switched off, or a rotation has been pending for an hour or more.
    With --log-format json, EMF metric lines (KeyAgeDays, SecretsOutOfPolicy) go to stderr.
    """
    from rotator.cli.selection import parse_tags

    with errors_to_exit(output):
        policy = AuditPolicy(max_age=max_age or None, expiring_within=expiring_within or None)
        run_audit(
            make_settings(**common),
            prefix=prefix,
            tags=parse_tags(tags),
            policy=policy,
            output=output,
            metrics=common.get("log_format") == "json",
        )


def run_audit(
    settings: Settings,
    *,
    prefix: str | None,
    tags: Mapping[str, str],
    policy: AuditPolicy,
    output: str,
    metrics: bool,
) -> None:
    """Discover, audit, show; :class:`CliError` (exit 1) when any secret is out of policy."""
    from rotator.app import Mode, build_app
    from rotator.cli.render import audit_text, emit_json
    from rotator.cli.selection import describe_filters, rotator_secrets
    from rotator.ports import VersionHistory
    from rotator.rotation.audit import audit_secrets, refuse_unreadable

    app = build_app(settings, mode=Mode.FLEET)
    try:
        candidates = app.fleet.discover(prefix=prefix, tags=tags, concurrency=8)
        refuse_unreadable((c.description.name, c.problem) for c in candidates)
        secrets = rotator_secrets(candidates, describe_filters(prefix, tags))
        report = audit_secrets(
            [(c.description, c.secret) for c in secrets if c.secret is not None],
            history=app.store if isinstance(app.store, VersionHistory) else None,
            policy=policy,
            now=app.clock.now(),
        )
    finally:
        app.close()
    if metrics:
        from rotator.metrics.emitter import MetricsEmitter

        MetricsEmitter(settings.metrics_namespace, stream=sys.stderr).audit(report)
    if output == OutputFormat.JSON:
        emit_json(report.to_json())
    else:
        click.echo(audit_text(report))
    if report.exit_code:
        raise CliError(
            f"{report.secrets_out_of_policy} of {len(report.secrets)} secret(s) out of policy: "
            + ", ".join(s.secret_name for s in report.out_of_policy),
            EXIT_FAILED,
        )
