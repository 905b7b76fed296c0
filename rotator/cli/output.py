"""Rendering results for people (text) and programs (JSON). Never renders key values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import click

from rotator.domain.protocol import Step
from rotator.rotation.engine import StepResult


def emit_json(data: Mapping[str, Any]) -> None:
    click.echo(json.dumps(data, default=str, separators=(",", ":")))


def progress_line(step: Step, result: StepResult | None, duration_ms: int) -> None:
    """One line per step on stderr, with timing."""
    if result is None:
        click.echo(f"  {step.value:<13} failed", err=True)
        return
    detail = f" key {result.key_id}" if result.key_id and step is Step.CREATE else ""
    if result.deleted_key_ids:
        detail += f" deleted {', '.join(result.deleted_key_ids)}"
    click.echo(f"  {step.value:<13} {result.outcome:<16} {duration_ms:>6} ms{detail}", err=True)


def rotation_text(report: Mapping[str, Any]) -> str:
    if report["status"] == "rotated":
        lines = [
            f"rotated {report['secret_id']} in {report['duration_ms']} ms",
            f"  new version  {report['version_id']}",
        ]
        if report.get("key_id"):
            lines.append(f"  new key      {report['key_id']} ({report['service_account_id']})")
        if report.get("previous_key_id"):
            state = "still live (retiring)"
            if report["previous_key_deleted"]:
                state = {
                    "confirmed": "deleted, revoked (confirmed: it now gets 401)",
                    "unconfirmed": "deleted, but OpenAI still accepts it: check the dashboard",
                }.get(str(report.get("previous_key_revocation")), "deleted")
            lines.append(f"  old key      {report['previous_key_id']} {state}")
        return "\n".join(lines)
    return f"rotation of {report['secret_id']} failed at {report['step']}: {report['error']}"


def status_text(status: Mapping[str, Any]) -> str:
    lines = [f"secret            {status['name']}"]
    for label, key in (
        ("arn", "arn"),
        ("project", "project_id"),
        ("key id", "key_id"),
        ("service account", "service_account_id"),
        ("last rotated", "last_rotated"),
        ("rotation enabled", "rotation_enabled"),
        ("rotation lambda", "rotation_lambda_arn"),
        ("next rotation", "next_rotation"),
    ):
        lines.append(f"{label:<17} {status.get(key) if status.get(key) is not None else '-'}")
    lines.append("versions")
    for version_id, stages in status["versions"].items():
        lines.append(f"  {version_id}  {', '.join(stages) or '-'}")
    for entry in status.get("retiring", []):
        lines.append(f"retiring          {entry['key_id']} until {entry['not_after']}")
    stuck = status.get("stuck_version_id")
    age = status.get("stuck_age_s")
    since = f" for {_age(age)}" if isinstance(age, int) else ""
    lines.append(
        f"stuck rotation    version {stuck} has held AWSPENDING{since}; run `rotator recover "
        f"{status['name']}`"
        if stuck
        else "stuck rotation    no"
    )
    return "\n".join(lines)


def _age(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def plan_text(plan: Mapping[str, Any], *, applied: list[str] | None) -> str:
    lines = [f"{plan['secret_id']}:"]
    lines += [f"  note: {note}" for note in plan["notes"]]
    if applied is not None:
        lines += [f"  done: {line}" for line in applied]
    else:
        lines += [
            f"  would {a['action'].replace('_', ' ')} {a['target']} ({a['reason']})"
            for a in plan["actions"]
        ]
        if plan["actions"]:
            lines.append("  (dry run: add --yes to do it)")
    if not plan["actions"] and not plan["notes"]:
        lines.append("  nothing to do")
    return "\n".join(lines)
