"""The ``--output json`` contract: one test per shape, pinning its fields and their order."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from rotator.cli.progress import FleetProgress
from rotator.cli.render import failure_json, with_age
from rotator.domain.audit import AuditPolicy, SecretFacts, audit_fleet
from rotator.errors import KeyTestFailedError
from rotator.fleet.run import FleetResult
from rotator.fleet.status import StatusRow
from rotator.provisioning.init import InitResult
from rotator.provisioning.schedule import ScheduleResult
from rotator.rotation.maintenance import Action, ActionKind, Plan
from rotator.rotation.results import Revocation, RotationReport, RotationStatus
from rotator.rotation.status import KeyState, SecretStatus
from rotator.testing.openai_emulator import ManualClock

REPORT_FIELDS = [
    "secret_id",
    "version_id",
    "status",
    "key_id",
    "service_account_id",
    "previous_key_id",
    "previous_key_deleted",
    "previous_key_revocation",
    "previous_key_expiry_set",
    "strategy",
    "duration_ms",
]


def _report(status: RotationStatus) -> RotationReport:
    return RotationReport(
        secret_id="openai/app",
        version_id="v2",
        status=status,
        key_id="key_2",
        previous_key_id="key_1",
        previous_key_deleted=True,
        previous_key_revocation=Revocation.CONFIRMED,
        error="boom" if status is RotationStatus.FAILED else None,
        step="testSecret" if status is RotationStatus.FAILED else None,
    )


def test_rotate_json_shape() -> None:
    """`rotate --output json`: the report's fields, in order, with plain string values."""
    data = json.loads(json.dumps(_report(RotationStatus.ROTATED).to_json()))
    assert list(data) == REPORT_FIELDS
    assert (data["status"], data["previous_key_revocation"]) == ("rotated", "confirmed")


def test_failed_rotate_json_shape() -> None:
    """A failed rotation keeps every report field and adds error and step."""
    assert list(_report(RotationStatus.FAILED).to_json()) == [*REPORT_FIELDS, "error", "step"]


def test_rotation_refused_before_it_started_json_shape() -> None:
    """An error before any step (bad input) still prints the report's shape."""
    data = failure_json(KeyTestFailedError("no", step="testSecret"), "openai/app", rotation=True)
    assert list(data) == [*REPORT_FIELDS, "error", "step"]
    assert (data["status"], data["version_id"], data["step"]) == ("failed", None, "testSecret")


def test_status_json_shape() -> None:
    """`status SECRET_ID --output json`: the secret's fields, never a key value."""
    status = SecretStatus(
        name="openai/app",
        arn="arn:1",
        project_id="proj_1",
        key_id="key_1",
        service_account_id="sa_1",
        last_rotated=None,
        rotation_enabled=True,
        rotation_lambda_arn=None,
        next_rotation=None,
        versions={"v1": ["AWSCURRENT"]},
        current_version_id="v1",
        stuck_version_id=None,
        stuck_since=None,
        stuck_age_s=None,
    )
    assert list(status.to_json()) == [
        "name",
        "arn",
        "project_id",
        "key_id",
        "service_account_id",
        "last_rotated",
        "rotation_enabled",
        "rotation_lambda_arn",
        "next_rotation",
        "versions",
        "current_version_id",
        "stuck_version_id",
        "stuck_since",
        "stuck_age_s",
        "retiring",
        "scopes",
        "key_lifetime",
        "expires_at",
        "project_archived",
        "keys",
        "keys_error",
        "last_used_at_note",
        "warnings",
        "expires_before_rotation",
    ]


def test_status_key_json_shape() -> None:
    """`status SECRET_ID --output json`: each entry of ``keys``, in order."""
    key = KeyState("key_1", "retiring", "proj_1", listed=True, last_used_at="2026-12-01T00:00:00Z")
    assert list(key.to_json()) == [
        "key_id",
        "role",
        "project_id",
        "listed",
        "created_at",
        "expires_at",
        "last_used_at",
        "in_use_after_rotation",
        "note",
    ]


def test_audit_json_shape() -> None:
    """`audit --output json`: one object, the totals then one entry per secret."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    report = audit_fleet(
        [SecretFacts("openai/app", rotation_enabled=False, key_created_at=now)],
        policy=AuditPolicy(max_age=timedelta(days=90)),
        now=now,
    )
    data = json.loads(json.dumps(report.to_json()))
    assert list(data) == ["secrets_audited", "secrets_out_of_policy", "secrets"]
    assert list(data["secrets"][0]) == [
        "secret_name",
        "in_policy",
        "key_age_days",
        "expires_at",
        "next_rotation_at",
        "findings",
    ]
    assert data["secrets"][0]["findings"] == [
        {"reason": "rotation_disabled", "detail": "rotation is switched off"}
    ]


def test_status_all_row_json_shape() -> None:
    """`status --all --output json`: one row per secret, ``key_age`` as text after its seconds."""
    row = StatusRow("openai/app", "key_1", 90000, None, None, True, None, too_old=False)
    shown = with_age(row.to_json())
    assert list(shown) == [
        "secret_id",
        "key_id",
        "key_age_s",
        "key_age",
        "last_rotated",
        "next_rotation",
        "rotation_enabled",
        "stuck_version_id",
        "too_old",
        "project_archived",
    ]
    assert shown["key_age"] == "1d"


def test_rotate_all_line_and_summary_json_shape() -> None:
    """`rotate --all`: one line per secret (the report plus attempts), then a summary line."""
    lines = io.StringIO()
    clock = ManualClock(start=0)
    progress = FleetProgress(1, bar=None, lines=lines, monotonic=clock.monotonic)
    report = _report(RotationStatus.ROTATED).to_json()
    progress.finished(FleetResult("openai/app", RotationStatus.ROTATED, report, attempts=2))
    (line,) = [json.loads(text) for text in lines.getvalue().splitlines()]
    assert list(line) == [*REPORT_FIELDS, "attempts"]
    clock.advance(1)
    summary = progress.summary({"admin_requests": 4, "throttled": 0, "failed_secrets": []})
    assert list(summary) == [
        "summary",
        "total",
        "rotated",
        "failed",
        "duration_ms",
        "secrets_per_second",
        "admin_requests",
        "throttled",
        "failed_secrets",
    ]


def test_recover_and_prune_plan_json_shape() -> None:
    """`recover`/`prune --output json`: the plan's actions and notes (``applied`` added by CLI)."""
    action = Action(ActionKind.DELETE_SERVICE_ACCOUNT, "sa_1", "orphan")
    data = Plan("openai/app", "arn:1", "proj_1", (action,), ("a note",)).to_json()
    assert list(data) == ["secret_id", "actions", "notes"]
    assert data["actions"] == [
        {"action": "delete_service_account", "target": "sa_1", "reason": "orphan"}
    ]


def test_init_json_shape() -> None:
    """`init --output json`: what was written, with ``status`` first."""
    result = InitResult("openai/app", "arn:1", True, "v1", "proj_1", "key_1", None, "existing_key")
    assert list(result.to_json()) == [
        "status",
        "secret_id",
        "arn",
        "created_secret",
        "version_id",
        "project_id",
        "key_id",
        "service_account_id",
        "source",
    ]


def test_schedule_json_shape() -> None:
    """`schedule --output json`: the rotation configuration as set."""
    assert list(ScheduleResult("openai/app", "arn:1", rotation_enabled=False).to_json()) == [
        "secret_id",
        "arn",
        "rotation_enabled",
        "schedule_expression",
        "duration",
        "lambda_arn",
        "started_version_id",
    ]
