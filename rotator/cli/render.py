"""Rendering results for people (text) and programs (JSON). Never renders key values.

Reports, status, maintenance plans, the fleet status table, and the one age formatter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from rotator.domain.protocol import Step
from rotator.errors import RotatorError
from rotator.rotation.results import Revocation, RotationReport, RotationStatus, StepResult

if TYPE_CHECKING:
    from rotator.domain.audit import AuditReport


def emit_json(data: Mapping[str, Any]) -> None:
    """One JSON object on one stdout line."""
    click.echo(json.dumps(data, default=str, separators=(",", ":")))


def failure_json(
    error: RotatorError, secret_id: str | None, *, rotation: bool = False
) -> dict[str, object]:
    """A failed command as JSON; a failed rotation keeps the report's shape (every field)."""
    shape: dict[str, object] = {"secret_id": secret_id}
    if rotation:
        shape = RotationReport(
            secret_id=secret_id or "", version_id="", status=RotationStatus.FAILED
        ).to_json()
        shape["version_id"] = None
    return {**shape, "status": RotationStatus.FAILED, "error": str(error), "step": error.step}


def progress_line(step: Step, result: StepResult | None, duration_ms: int) -> None:
    """One line per step on stderr, with timing."""
    if result is None:
        click.echo(f"  {step.value:<13} failed", err=True)
        return
    detail = f" key {result.key_id}" if result.key_id and step is Step.CREATE else ""
    if result.deleted_key_ids:
        detail += f" deleted {', '.join(result.deleted_key_ids)}"
    click.echo(f"  {step.value:<13} {result.outcome:<16} {duration_ms:>6} ms{detail}", err=True)


_REVOCATION_TEXT: dict[str, str] = {
    Revocation.CONFIRMED: "deleted, revoked (confirmed: it now gets 401)",
    Revocation.UNCONFIRMED: "deleted, but OpenAI still accepts it: check the dashboard",
}


def rotation_text(report: Mapping[str, Any]) -> str:
    if report["status"] == RotationStatus.ROTATED:
        lines = [
            f"rotated {report['secret_id']} in {report['duration_ms']} ms",
            f"  new version  {report['version_id']}",
        ]
        if report.get("key_id"):
            lines.append(f"  new key      {report['key_id']} ({report['service_account_id']})")
        if report.get("previous_key_id"):
            state = "still live (retiring)"
            if report["previous_key_deleted"]:
                state = _REVOCATION_TEXT.get(str(report.get("previous_key_revocation")), "deleted")
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
    lines += _key_lines(status)
    stuck = status.get("stuck_version_id")
    age = status.get("stuck_age_s")
    since = f" for {format_age(age)}" if isinstance(age, int) else ""
    lines.append(
        f"stuck rotation    version {stuck} has held AWSPENDING{since}; run `rotator recover "
        f"{status['name']}`"
        if stuck
        else "stuck rotation    no"
    )
    return "\n".join(lines)


def _key_lines(status: Mapping[str, Any]) -> list[str]:
    """Scopes, lifetime, expiry, the project, each key as OpenAI lists it, and the warnings."""
    scopes = status.get("scopes")
    shown = "All permissions (no scopes recorded)" if scopes is None else ", ".join(scopes)
    lines = [
        f"scopes            {shown or '(none)'}",
        f"key lifetime      {status.get('key_lifetime') or '-'}",
        f"expires at        {status.get('expires_at') or '-'}",
    ]
    archived = status.get("project_archived")
    state = "unknown" if archived is None else ("ARCHIVED" if archived else "active")
    lines.append(f"project state     {state}")
    if status.get("keys_error"):
        lines.append(f"openai keys       not listed: {status['keys_error']}")
    if status.get("keys"):
        table = [["  key", "role", "created", "expires", "last used *"]]
        for key in status["keys"]:
            if not key["listed"]:
                table.append([f"  {key['key_id']}", key["role"], "(not in OpenAI's listing)"])
                continue
            table.append(
                [
                    f"  {key['key_id']}",
                    key["role"],
                    key["created_at"] or "-",
                    key["expires_at"] or "never",
                    key["last_used_at"] or "never reported",
                ]
            )
        width = max(len(row) for row in table)
        padded = [row + [""] * (width - len(row)) for row in table]
        lines.append("openai keys")
        lines += _table(padded).splitlines()
        lines.append(f"  * {status.get('last_used_at_note')}")
    lines += [f"warning: {warning}" for warning in status.get("warnings", [])]
    return lines


def format_age(seconds: float) -> str:
    """``45s``, ``12m``, ``5h07m``, ``100d``: the one way an age is shown."""
    whole = int(seconds)
    if whole < 120:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m"
    if whole < 86400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d"


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


COLUMNS = (
    ("secret", "secret_id"),
    ("key id", "key_id"),
    ("key age", "key_age"),
    ("last rotated", "last_rotated"),
    ("next rotation", "next_rotation"),
    ("rotation", "rotation_enabled"),
    ("stuck?", "stuck_version_id"),
    ("project", "project_archived"),
)


def status_table(rows: list[dict[str, object]]) -> str:
    """A plain-text table of ``status --all`` rows; ``too_old`` rows are marked ``!``."""

    def cell(row: dict[str, object], key: str) -> str:
        value = row.get(key)
        if key == "rotation_enabled":
            return "on" if value else "off"
        if key == "stuck_version_id":
            return f"yes ({value})" if value else "no"
        if key == "project_archived":
            return "-" if value is None else ("archived !" if value else "active")
        text = "-" if value is None else str(value)
        return f"{text} !" if key == "key_age" and row.get("too_old") else text

    table = [[label for label, _ in COLUMNS]]
    table += [[cell(row, key) for _, key in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in table
    )


def with_age(row: dict[str, object]) -> dict[str, object]:
    """A ``status --all`` row with ``key_age`` (the age as text) after ``key_age_s``."""
    shown: dict[str, object] = {}
    for key, value in row.items():
        shown[key] = value
        if key == "key_age_s":
            shown["key_age"] = format_age(value) if isinstance(value, int | float) else None
    return shown


def _table(table: list[list[str]]) -> str:
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in table
    )


def audit_text(report: AuditReport) -> str:
    """``rotator audit``'s table: one row per secret, its findings (or ``ok``), then a total."""
    table = [["secret", "key age", "expires", "next rotation", "findings"]]
    for entry in report.secrets:
        data = entry.to_json()
        age = entry.key_age_days
        table.append(
            [
                entry.secret_name,
                "-" if age is None else format_age(age * 86400),
                data["expires_at"] or "-",
                data["next_rotation_at"] or "-",
                "; ".join(f"{f.reason.value}: {f.detail}" for f in entry.findings) or "ok",
            ]
        )
    total = f"{report.secrets_out_of_policy} of {len(report.secrets)} secret(s) out of policy"
    return f"{_table(table)}\n{total}"
