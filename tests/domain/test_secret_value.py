"""Parsing and writing the rotated secret's JSON value."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from rotator.domain.naming import parse_service_account_name, secret_tag, service_account_name
from rotator.domain.secret_value import RetiringKey, RotatorSecret
from rotator.domain.sensitive import REDACTED, Sensitive
from rotator.errors import SecretFormatError

KEY = "sk-svcacct-ABCDEFGHIJKLMNOP"
VALID = {"api_key": KEY, "project_id": "proj_1", "key_id": "key_1"}


def parse(data: object) -> RotatorSecret:
    return RotatorSecret.parse(Sensitive(json.dumps(data)))


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not an object"),
        (json.dumps({"project_id": "p", "key_id": "k"}), "'api_key'"),
        (json.dumps({**VALID, "project_id": 7}), "'project_id' must be a non-empty string"),
        (json.dumps({**VALID, "key_id": ""}), "'key_id'"),
        (json.dumps({**VALID, "service_account_id": 3}), "'service_account_id'"),
        (json.dumps({**VALID, "api_key": "sk-admin-abc"}), "admin key"),
        (json.dumps({**VALID, "rotated_at": "yesterday"}), "ISO 8601"),
        (json.dumps({**VALID, "retiring": {"key_id": "x"}}), "'retiring' must be a list"),
        (json.dumps({**VALID, "retiring": ["x"]}), "non-object"),
        (json.dumps({**VALID, "pad": "x" * 70000}), "larger than"),
    ],
)
def test_bad_secret_values_get_one_line_errors_without_the_key(raw: str, fragment: str) -> None:
    """Each malformed value names the problem and the fix, and never echoes the key."""
    with pytest.raises(SecretFormatError, match=fragment) as caught:
        RotatorSecret.parse(Sensitive(raw))
    assert KEY not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unknown_fields_are_carried_into_the_successor() -> None:
    """Fields rotator does not know survive a rotation unchanged; rotated_at is added."""
    current = parse({**VALID, "team": "payments", "nested": {"a": [1, 2]}})
    moment = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)
    retiring = (RetiringKey("key_1", None, moment, version_id="v1"),)
    new = current.successor(
        api_key=Sensitive("sk-svcacct-NEW"),
        key_id="key_2",
        service_account_id="svc_acct_2",
        rotated_at=moment,
        retiring=retiring,
    )
    data = json.loads(new.to_json().reveal())
    assert data["team"] == "payments"
    assert data["nested"] == {"a": [1, 2]}
    assert data["api_key"] == "sk-svcacct-NEW"
    assert data["rotated_at"] == "2026-11-26T10:30:00Z"
    assert data["retiring"] == [
        {"key_id": "key_1", "not_after": "2026-11-26T10:30:00Z", "version_id": "v1"}
    ]
    assert RotatorSecret.parse(new.to_json()) == new


def test_repr_of_a_secret_never_shows_the_key() -> None:
    """The parsed secret's repr and str hide the key value."""
    value = parse(VALID)
    assert KEY not in repr(value)
    assert KEY not in str(value)
    assert REDACTED in repr(value.api_key)
    assert f"{value.api_key}" == REDACTED
    assert value.api_key.reveal() == KEY


def test_service_account_names_round_trip() -> None:
    """A rotator-made name carries the secret's tag and the full token."""
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:openai/app-AbCdEf"
    token = "11111111-2222-3333-4444-555555555555"
    name = service_account_name(arn, token)
    parsed = parse_service_account_name(name)
    assert parsed is not None
    assert parsed.tag == secret_tag(arn)
    assert parsed.token == token
    assert parse_service_account_name("my-app") is None
    assert secret_tag(arn) != secret_tag(arn + "x")


def test_unknown_fields_stay_out_of_the_repr() -> None:
    """Fields rotator does not know may be credentials too: repr leaves them out."""
    value = parse({**VALID, "db_password": "hunter2"})
    assert "hunter2" not in repr(value)
    assert value.extra["db_password"] == "hunter2"
