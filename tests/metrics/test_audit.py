"""The key-age audit's decisions, as tables: which reasons a secret's facts raise, and its age."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rotator.domain.audit import (
    DEFAULT_STUCK_AFTER,
    AuditPolicy,
    Reason,
    SecretFacts,
    audit_fleet,
    audit_secret,
    key_age,
)
from rotator.errors import ConfigError

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = AuditPolicy(max_age=90 * DAY, expiring_within=7 * DAY)


def facts(**overrides: Any) -> SecretFacts:
    """A healthy secret: 10-day-old key, rotation on, next rotation in 20 days, no expiry."""
    values: dict[str, Any] = {
        "name": "openai/app",
        "rotation_enabled": True,
        "key_created_at": NOW - 10 * DAY,
        "next_rotation_at": NOW + 20 * DAY,
    }
    values.update(overrides)
    return SecretFacts(**values)


@pytest.mark.parametrize(
    ("overrides", "policy", "reasons"),
    [
        pytest.param({}, POLICY, (), id="healthy"),
        pytest.param({"key_created_at": NOW - 91 * DAY}, POLICY, (Reason.TOO_OLD,), id="too-old"),
        pytest.param({"key_created_at": NOW - 90 * DAY}, POLICY, (), id="exactly-max-age-is-ok"),
        pytest.param(
            {"key_created_at": NOW - 400 * DAY}, AuditPolicy(), (), id="no-max-age-no-too-old"
        ),
        pytest.param(
            {"key_created_at": None, "last_rotated_at": NOW - 100 * DAY},
            POLICY,
            (Reason.TOO_OLD,),
            id="age-falls-back-to-last-rotation",
        ),
        pytest.param({"key_created_at": None}, POLICY, (), id="unknown-age-is-not-too-old"),
        pytest.param(
            {"expires_at": NOW + 15 * DAY},
            POLICY,
            (Reason.EXPIRES_BEFORE_NEXT_ROTATION,),
            id="expires-before-next-rotation",
        ),
        pytest.param(
            {"expires_at": NOW + 20 * DAY},
            POLICY,
            (Reason.EXPIRES_BEFORE_NEXT_ROTATION,),
            id="expires-at-the-next-rotation",
        ),
        pytest.param({"expires_at": NOW + 30 * DAY}, POLICY, (), id="expires-after-next-rotation"),
        pytest.param(
            {"expires_at": NOW + 30 * DAY, "next_rotation_at": None},
            POLICY,
            (Reason.EXPIRES_BEFORE_NEXT_ROTATION,),
            id="expiry-with-no-next-rotation-known",
        ),
        pytest.param(
            {"expires_at": NOW + 5 * DAY, "next_rotation_at": NOW + 2 * DAY},
            POLICY,
            (Reason.EXPIRING_SOON,),
            id="expiring-soon-but-rotates-first",
        ),
        pytest.param(
            {"expires_at": NOW + 5 * DAY},
            POLICY,
            (Reason.EXPIRES_BEFORE_NEXT_ROTATION, Reason.EXPIRING_SOON),
            id="expiring-soon-and-before-rotation",
        ),
        pytest.param(
            {"expires_at": NOW + 5 * DAY, "next_rotation_at": NOW + 2 * DAY},
            AuditPolicy(max_age=90 * DAY),
            (),
            id="no-expiring-within-no-expiring-soon",
        ),
        pytest.param(
            {"expires_at": NOW - DAY, "next_rotation_at": NOW + 2 * DAY},
            POLICY,
            (Reason.EXPIRES_BEFORE_NEXT_ROTATION, Reason.EXPIRING_SOON),
            id="already-expired",
        ),
        pytest.param(
            {"rotation_enabled": False, "next_rotation_at": None},
            POLICY,
            (Reason.ROTATION_DISABLED,),
            id="rotation-disabled",
        ),
        pytest.param(
            {"rotation_enabled": False, "expires_at": NOW + 60 * DAY},
            POLICY,
            (Reason.EXPIRES_BEFORE_NEXT_ROTATION, Reason.ROTATION_DISABLED),
            id="disabled-with-an-expiry-never-rotates-before-it",
        ),
        pytest.param(
            {"pending_since": NOW - 2 * DEFAULT_STUCK_AFTER},
            POLICY,
            (Reason.STUCK_ROTATION,),
            id="stuck",
        ),
        pytest.param(
            {"pending_since": NOW - timedelta(minutes=5)}, POLICY, (), id="pending-but-recent"
        ),
        pytest.param(
            {"pending_since": NOW - timedelta(minutes=5)},
            AuditPolicy(stuck_after=timedelta(0)),
            (Reason.STUCK_ROTATION,),
            id="any-pending-is-stuck-with-zero-threshold",
        ),
        pytest.param(
            {
                "key_created_at": NOW - 200 * DAY,
                "expires_at": NOW + DAY,
                "rotation_enabled": False,
                "pending_since": NOW - 3 * DAY,
            },
            POLICY,
            (
                Reason.TOO_OLD,
                Reason.EXPIRES_BEFORE_NEXT_ROTATION,
                Reason.EXPIRING_SOON,
                Reason.ROTATION_DISABLED,
                Reason.STUCK_ROTATION,
            ),
            id="everything-wrong",
        ),
    ],
)
def test_reasons_follow_the_facts_and_the_policy(
    overrides: dict[str, Any], policy: AuditPolicy, reasons: tuple[Reason, ...]
) -> None:
    result = audit_secret(facts(**overrides), policy=policy, now=NOW)
    assert result.reasons == reasons
    assert result.in_policy is (not reasons)


@pytest.mark.parametrize(
    ("overrides", "days"),
    [
        ({}, 10.0),
        ({"key_created_at": NOW - timedelta(hours=36)}, 1.5),
        ({"key_created_at": NOW - timedelta(seconds=1)}, 0.0),
        ({"key_created_at": NOW + timedelta(minutes=3)}, 0.0),  # clock skew: never negative
        ({"key_created_at": None, "last_rotated_at": NOW - 4 * DAY}, 4.0),
        ({"key_created_at": NOW - DAY, "last_rotated_at": NOW - 4 * DAY}, 1.0),
        ({"key_created_at": None}, None),
    ],
)
def test_key_age_days(overrides: dict[str, Any], days: float | None) -> None:
    assert audit_secret(facts(**overrides), policy=POLICY, now=NOW).key_age_days == days


def test_key_age_is_a_timedelta_from_the_minting_date() -> None:
    assert key_age(facts(), now=NOW) == 10 * DAY


@pytest.mark.parametrize(
    ("overrides", "reason", "detail"),
    [
        ({"key_created_at": NOW - 120 * DAY}, Reason.TOO_OLD, "key is 120d old (policy: 90d)"),
        (
            {"expires_at": NOW + timedelta(hours=5), "next_rotation_at": NOW + timedelta(hours=1)},
            Reason.EXPIRING_SOON,
            "key expires in 5h (policy: within 7d)",
        ),
        (
            {"expires_at": NOW - timedelta(minutes=30)},
            Reason.EXPIRING_SOON,
            "key expired 30m ago",
        ),
        (
            {"pending_since": NOW - timedelta(hours=3)},
            Reason.STUCK_ROTATION,
            "a rotation has been pending for 3h",
        ),
        (
            {"expires_at": NOW + 15 * DAY},
            Reason.EXPIRES_BEFORE_NEXT_ROTATION,
            "key expires 2026-12-16T12:00:00Z, before the next rotation 2026-12-21T12:00:00Z",
        ),
        (
            {"expires_at": NOW + 15 * DAY, "rotation_enabled": False},
            Reason.EXPIRES_BEFORE_NEXT_ROTATION,
            "key expires 2026-12-16T12:00:00Z and no rotation is scheduled",
        ),
        ({"rotation_enabled": False}, Reason.ROTATION_DISABLED, "rotation is switched off"),
    ],
)
def test_each_finding_explains_itself_in_one_line(
    overrides: dict[str, Any], reason: Reason, detail: str
) -> None:
    findings = audit_secret(facts(**overrides), policy=POLICY, now=NOW).findings
    assert {f.reason: f.detail for f in findings}[reason] == detail


def test_a_fleet_report_counts_out_of_policy_secrets_and_sets_the_exit_code() -> None:
    report = audit_fleet(
        [
            facts(name="openai/a"),
            facts(name="openai/b", rotation_enabled=False),
            facts(name="openai/c", key_created_at=NOW - 100 * DAY),
        ],
        policy=POLICY,
        now=NOW,
    )
    assert report.secrets_out_of_policy == 2
    assert [s.secret_name for s in report.out_of_policy] == ["openai/b", "openai/c"]
    assert report.exit_code == 1
    assert audit_fleet([facts()], policy=POLICY, now=NOW).exit_code == 0
    assert audit_fleet([], policy=POLICY, now=NOW).exit_code == 0


def test_the_report_serialises_to_json() -> None:
    report = audit_fleet(
        [facts(key_created_at=NOW - 100 * DAY, expires_at=NOW + 30 * DAY)], policy=POLICY, now=NOW
    )
    assert json.loads(json.dumps(report.to_json())) == {
        "secrets_audited": 1,
        "secrets_out_of_policy": 1,
        "secrets": [
            {
                "secret_name": "openai/app",
                "in_policy": False,
                "key_age_days": 100.0,
                "expires_at": "2026-12-31T12:00:00Z",
                "next_rotation_at": "2026-12-21T12:00:00Z",
                "findings": [{"reason": "too_old", "detail": "key is 100d old (policy: 90d)"}],
            }
        ],
    }


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: facts(name=""), "need the secret's name"),
        (lambda: facts(expires_at=datetime(2027, 1, 1)), "expires_at has no timezone"),  # noqa: DTZ001
        (lambda: AuditPolicy(max_age=-DAY), "max_age is negative"),
        (lambda: AuditPolicy(stuck_after=-DAY), "stuck_after is negative"),
        (
            lambda: audit_secret(facts(), policy=POLICY, now=datetime(2026, 12, 1)),  # noqa: DTZ001
            "audit time has no timezone",
        ),
    ],
)
def test_bad_inputs_are_refused_with_a_clear_error(build: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build()
