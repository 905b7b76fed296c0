"""``rotate --all``: every rotator secret matching the filters, on a pool under one budget."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from rotator.cli.errors import EXIT_FAILED, CliError
from rotator.cli.options import OutputFormat
from rotator.config import Settings

if TYPE_CHECKING:
    from rotator.metrics.emitter import MetricsEmitter


def rotate_all(
    settings: Settings,
    *,
    prefix: str | None,
    tags: Mapping[str, str],
    concurrency: int,
    max_rps: float | None,
    mode: str | None,
    output: str,
    timeout: float,
    metrics: MetricsEmitter | None = None,
    deadline: float | None = None,
) -> None:
    """Rotate every rotator secret matching the filters; :class:`CliError` when any failed."""
    from rotator.app import Mode, build_app
    from rotator.cli.progress import FleetProgress
    from rotator.cli.render import emit_json
    from rotator.cli.selection import describe_filters, rotator_secrets
    from rotator.rotation.results import RotationStatus
    from rotator.rotation.step_metrics import emit_rotation_metrics

    app = build_app(settings, mode=Mode.FLEET, max_rps=max_rps, concurrency=concurrency)
    try:
        fleet = app.fleet
        candidates = fleet.discover(prefix=prefix, tags=tags, concurrency=concurrency)
        secrets = rotator_secrets(candidates, describe_filters(prefix, tags))
        json_lines = output == OutputFormat.JSON or not sys.stdout.isatty()
        progress = FleetProgress(
            len(secrets),
            bar=sys.stderr if sys.stderr.isatty() else None,
            lines=sys.stdout if json_lines else None,
            monotonic=app.clock.monotonic,
        )
        click.echo(
            f"rotating {len(secrets)} secret(s), {concurrency} at a time"
            + (f", at most {max_rps:g} admin requests/s" if max_rps else ""),
            err=True,
        )
        results = fleet.rotate_all(
            [c.description for c in secrets],
            mode=mode,
            concurrency=concurrency,
            timeout=timeout,
            listener=progress,
            deadline=deadline,
        )
        stats = fleet.budget_stats()
        now = app.clock.now()
    finally:
        app.close()
    minted = {c.description.name: c.secret.rotated_at for c in secrets if c.secret is not None}
    for result in results:
        rotated_at = minted.get(result.name)
        emit_rotation_metrics(
            metrics,
            result.name,
            result.report,
            key_age_days=(
                max((now - rotated_at).total_seconds(), 0.0) / 86400 if rotated_at else None
            ),
        )
    failed = sorted((r for r in results if r.status is RotationStatus.FAILED), key=lambda r: r.name)
    extra: dict[str, Any] = {
        "admin_requests": stats.requests,
        "throttled": stats.throttled,
        "failed_secrets": [r.name for r in failed],
    }
    summary = progress.summary(extra)
    if json_lines:
        emit_json(summary)
    else:
        click.echo(
            f"rotated {summary['rotated']} of {summary['total']} secret(s) in "
            f"{summary['duration_ms']} ms ({summary['secrets_per_second']}/s); "
            f"{stats.throttled} throttled admin request(s)"
        )
    for result in failed:
        click.echo(f"failed: {result.name}: {result.report.get('error')}", err=True)
    if failed:
        raise CliError(f"{len(failed)} of {len(results)} rotation(s) failed", EXIT_FAILED)
