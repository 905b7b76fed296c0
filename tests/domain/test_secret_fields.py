"""The secret value's lifecycle fields, id shapes, time bounds and name tags."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from rotator.domain.durations import format_duration, parse_key_lifetime
from rotator.domain.ids import check_id, check_secret_reference, looks_like_key
from rotator.domain.naming import (
    is_named_for,
    parse_service_account_name,
    rotation_name,
    secret_tag,
)
from rotator.domain.secret_value import RetiringKey, RotatorSecret
from rotator.domain.sensitive import Sensitive
from rotator.errors import ConfigError, SecretFormatError

KEY = "sk-svcacct-ABCDEFGHIJKLMNOP"
ADMIN = "sk-admin-QRSTUVWXYZ0123456789"
VALID = {"api_key": KEY, "project_id": "proj_1", "key_id": "key_1"}
ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:openai/app-AbCdEf"
TOKEN = "6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"


def parse(data: object) -> RotatorSecret:
    return RotatorSecret.parse(Sensitive(json.dumps(data)))


def test_scopes_lifetime_and_expiry_round_trip() -> None:
    """GIVEN scopes, a lifetime and an expiry WHEN parsed and written THEN they survive."""
    secret = parse(
        {
            **VALID,
            "service_account_id": "svc_acct_1",
            "scopes": ["api.responses.write", "api.model.request"],
            "key_lifetime": "90d",
            "expires_at": "2027-03-01T00:00:00Z",
        }
    )
    assert secret.scopes == ("api.responses.write", "api.model.request")
    assert secret.key_lifetime == timedelta(days=90)
    assert secret.expires_at == datetime(2027, 3, 1, tzinfo=UTC)
    again = RotatorSecret.parse(secret.to_json())
    assert again == secret
    assert json.loads(secret.to_json().reveal())["key_lifetime"] == "90d"


def test_an_empty_scope_list_is_kept_distinct_from_no_scopes() -> None:
    """An empty list is written back as [] (All permissions, said so); absent stays absent."""
    assert parse({**VALID, "scopes": []}).scopes == ()
    assert parse(VALID).scopes is None
    assert "scopes" not in json.loads(parse(VALID).to_json().reveal())


def test_successor_keeps_scopes_lifetime_and_account() -> None:
    """A rotation keeps the workload's identity: account, scopes and lifetime."""
    current = parse(
        {**VALID, "service_account_id": "svc_acct_1", "scopes": ["a.b"], "key_lifetime": "7d"}
    )
    new = current.successor(
        api_key=Sensitive("sk-svcacct-NEWNEWNEWNEWNEW"),
        key_id="key_2",
        service_account_id="svc_acct_1",
        rotated_at=datetime(2026, 12, 1, tzinfo=UTC),
        retiring=(),
        expires_at=datetime(2026, 12, 8, tzinfo=UTC),
    )
    assert (new.service_account_id, new.scopes, new.key_lifetime) == (
        "svc_acct_1",
        ("a.b",),
        timedelta(days=7),
    )
    assert new.expires_at == datetime(2026, 12, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("project_id", KEY, "holds an API key"),
        ("key_id", KEY, "holds an API key"),
        ("service_account_id", ADMIN, "holds an API key"),
        ("project_id", "..", "not an OpenAI id"),
        ("service_account_id", "../../x", "not an OpenAI id"),
        ("key_id", "key_1/../x", "not an OpenAI id"),
        ("project_id", "proj_1?x=1", "not an OpenAI id"),
        ("admin_key_secret_id", ADMIN, "holds an API key"),
        ("scopes", ["ok", "has space"], "not a scope name"),
        ("scopes", "api.all.read", "must be a list"),
        ("scopes", [KEY], "not a scope name"),
        ("key_lifetime", "forever", "not a duration"),
        ("key_lifetime", "0", "shorter than a second"),
        ("key_lifetime", "400d", "longer than a year"),
        ("key_lifetime", 90, "duration string"),
        ("expires_at", "9999-12-31T23:59:59-23:59", "outside the years"),
        ("rotated_at", "0001-01-01T00:00:00+01:00", "outside the years"),
    ],
)
def test_bad_fields_are_refused_by_name_without_echoing_the_value(
    field: str, value: object, fragment: str
) -> None:
    """A key pasted into an id field, a path-traversing id or a bad lifetime is refused."""
    with pytest.raises(SecretFormatError) as caught:
        parse({**VALID, field: value})
    message = str(caught.value)
    assert fragment in message
    assert f"'{field}'" in message
    assert "sk-" not in message.replace("sk-...", "")
    assert "\n" not in message


def test_retiring_entries_carry_project_reason_and_expiry() -> None:
    """Entries record their project, why they are still live and whether OpenAI ends them."""
    entry = RetiringKey(
        "key_9",
        "svc_acct_9",
        datetime(2026, 12, 2, tzinfo=UTC),
        version_id="v1",
        project_id="proj_9",
        reason="DELETE answered 400",
        expiry_set=True,
    )
    secret = parse({**VALID, "retiring": [entry.to_json()]})
    assert secret.retiring == (entry,)
    assert entry.in_project("proj_1") == "proj_9"
    legacy = parse(
        {**VALID, "retiring": [{"key_id": "key_8", "not_after": "2026-12-02T00:00:00Z"}]}
    )
    assert legacy.retiring[0].in_project("proj_1") == "proj_1"
    with pytest.raises(SecretFormatError, match="expiry_set"):
        parse({**VALID, "retiring": [{**entry.to_json(), "expiry_set": "yes"}]})


def test_id_checks_and_key_detection() -> None:
    """Ids of the right shape pass; anything key-shaped is detected wherever it sits."""
    assert check_id("proj_abc123", field="project_id") == "proj_abc123"
    assert check_id("svc_acct_abc", field="service_account_id") == "svc_acct_abc"
    assert looks_like_key(f"prefix {KEY}")
    assert not looks_like_key("openai/admin-key")
    assert not looks_like_key("openai/task-runner")
    assert check_secret_reference("openai/admin", field="--admin-key-secret-id") == "openai/admin"
    with pytest.raises(ConfigError) as caught:
        check_secret_reference(ADMIN, field="--admin-key-secret-id")
    assert ADMIN not in str(caught.value)
    assert "--admin-key-secret-id" in str(caught.value)


def test_durations_format_exactly_and_lifetimes_are_bounded() -> None:
    """A lifetime prints in its shortest exact form and must lie in 1 s .. 365 d."""
    assert [format_duration(timedelta(seconds=s)) for s in (86400 * 7, 5400, 45, 0)] == [
        "7d",
        "90m",
        "45s",
        "0s",
    ]
    assert parse_key_lifetime("1s", name="--key-lifetime") == timedelta(seconds=1)
    with pytest.raises(ConfigError, match="--key-lifetime"):
        parse_key_lifetime("0.5s", name="--key-lifetime")


def test_names_carry_a_sixteen_character_tag_and_legacy_names_still_belong() -> None:
    """New names use 64 bits of the ARN's hash; names with the old 8-character tag still match."""
    name = rotation_name(ARN, TOKEN)
    assert name == f"rotator-{secret_tag(ARN)}-{TOKEN}"
    assert len(secret_tag(ARN)) == 16
    assert is_named_for(name, ARN, TOKEN)
    legacy = f"rotator-{secret_tag(ARN)[:8]}-{TOKEN}"
    assert is_named_for(legacy, ARN, TOKEN)
    assert not is_named_for(name, ARN + "x")
    assert not is_named_for(name, ARN, TOKEN.replace("6", "7"))
    custom = "my_custom_token_with_underscores_0001"
    parsed = parse_service_account_name(rotation_name(ARN, custom))
    assert parsed is not None
    assert parsed.token == custom
