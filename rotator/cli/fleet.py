"""``rotate --all`` and ``status --all``: the fleet commands' bodies, called from ``main``.

Exit codes: 0 every secret rotated (or, for status, every key within ``--max-age``); 1 any
rotation failed (the failed secrets are listed on stderr) or any key is too old; 2 bad usage,
or no rotator secret matched the filters (nothing was changed).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from rotator.cli.output import emit_json
from rotator.cli.progress import FleetProgress
from rotator.config import Settings
from rotator.errors import ConfigError
from rotator.fleet_runtime import build_fleet_runtime
from rotator.rotation.fleet import Candidate
from rotator.rotation.fleet_status import status_row, status_table

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def parse_tags(pairs: tuple[str, ...]) -> dict[str, str]:
    """``KEY=VALUE`` pairs (repeated ``--tag``) as a mapping."""
    tags: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--tag {pair[:60]!r} is not KEY=VALUE; e.g. --tag team=payments")
        tags[key] = value
    return tags


def _rotator_secrets(candidates: list[Candidate], filters: str) -> list[Candidate]:
    found = [c for c in candidates if c.secret is not None]
    skipped = len(candidates) - len(found)
    if skipped:
        click.echo(f"skipping {skipped} secret(s) that hold no rotator key", err=True)
    if not found:
        click.echo(f"error: no rotator secret matches {filters}; nothing was changed", err=True)
        sys.exit(EXIT_USAGE)
    return found


def _filters(prefix: str | None, tags: Mapping[str, str]) -> str:
    parts = [f"--prefix {prefix}"] if prefix else []
    parts += [f"--tag {key}={value}" for key, value in tags.items()]
    return " ".join(parts) or "(no filter)"


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
) -> None:
    """Rotate every rotator secret matching the filters; exit 1 when any failed."""
    runtime = build_fleet_runtime(settings, max_rps=max_rps, concurrency=concurrency)
    try:
        candidates = runtime.discover(prefix=prefix, tags=tags, concurrency=concurrency)
        secrets = _rotator_secrets(candidates, _filters(prefix, tags))
        json_lines = output == "json" or not sys.stdout.isatty()
        progress = FleetProgress(
            len(secrets),
            bar=sys.stderr if sys.stderr.isatty() else None,
            lines=sys.stdout if json_lines else None,
        )
        click.echo(
            f"rotating {len(secrets)} secret(s), {concurrency} at a time"
            + (f", at most {max_rps:g} admin requests/s" if max_rps else ""),
            err=True,
        )
        results = runtime.rotate_all(
            [c.description for c in secrets],
            mode=mode,
            concurrency=concurrency,
            timeout=timeout,
            listener=progress,
        )
        stats = runtime.budget.stats()
    finally:
        runtime.close()
    failed = sorted((r for r in results if r.status == "failed"), key=lambda r: r.name)
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
        sys.exit(EXIT_FAILED)


def status_all(
    settings: Settings,
    *,
    prefix: str | None,
    tags: Mapping[str, str],
    max_age: timedelta | None,
    output: str,
) -> None:
    """The fleet's keys as a table (or JSON lines); exit 1 when any key is older than max_age."""
    runtime = build_fleet_runtime(settings, max_rps=None, concurrency=8)
    try:
        candidates = runtime.discover(prefix=prefix, tags=tags, concurrency=8)
    finally:
        runtime.close()
    secrets = _rotator_secrets(candidates, _filters(prefix, tags))
    now = datetime.now(UTC)
    rows = sorted(
        (status_row(c, now=now, max_age=max_age) for c in secrets),
        key=lambda row: str(row["secret_id"]),
    )
    too_old = [str(row["secret_id"]) for row in rows if row["too_old"]]
    if output == "json":
        for row in rows:
            emit_json(row)
        emit_json({"summary": True, "total": len(rows), "too_old": too_old})
    else:
        click.echo(status_table(rows))
    if too_old:
        click.echo(
            f"{len(too_old)} key(s) older than the maximum age: {', '.join(too_old)}; "
            "rotate them with `rotator rotate --all`",
            err=True,
        )
        sys.exit(EXIT_FAILED)
