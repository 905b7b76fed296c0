"""Parsing and writing an admin-key secret's value (bare ``sk-admin-…`` or JSON)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from rotator.domain.admin_secret import (
    AdminKeySecret,
    held_key,
    is_admin_secret,
    matches_redacted,
)
from rotator.domain.secret_value import RotatorSecret
from rotator.domain.sensitive import REDACTED, Sensitive
from rotator.errors import AdminKeySecretError, SecretFormatError

KEY = "sk-admin-ABCDEFGHIJKLMNOPxyz"
VALID = {"admin_key": KEY, "admin_key_id": "key_abc"}


def parse(data: object) -> AdminKeySecret:
    text = data if isinstance(data, str) else json.dumps(data)
    return AdminKeySecret.parse(Sensitive(text))


@pytest.mark.parametrize(
    ("raw", "key_id", "bare"),
    [
        (KEY, None, True),
        (f"  {KEY}\n", None, True),
        (VALID, "key_abc", False),
        ({"admin_key": KEY}, None, False),
    ],
)
def test_both_shapes_parse(raw: object, key_id: str | None, bare: bool) -> None:
    parsed = parse(raw)
    assert parsed.admin_key.reveal() == KEY
    assert parsed.admin_key_id == key_id
    assert parsed.bare is bare


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("sk-proj-abcdefghijkl", "does not hold an OpenAI admin key"),
        ("hello", "does not hold an OpenAI admin key"),
        ("{not json", "not JSON"),
        ("[1]", "does not hold an OpenAI admin key"),
        ({"admin_key": 7}, "no string field 'admin_key'"),
        ({"admin_key": "sk-proj-abc"}, "does not hold an OpenAI admin key"),
        ({**VALID, "admin_key_id": "svc_acct_1"}, "key_…"),
        ({**VALID, "admin_key_id": "../x"}, "key_…"),
        ({**VALID, "admin_key_id": KEY}, "holds a key, not an id"),
        ({**VALID, "rotated_at": "yesterday"}, "ISO 8601"),
        ({**VALID, "key_lifetime": "forever"}, "key_lifetime"),
        ({**VALID, "retiring": "x"}, "'retiring' must be a list"),
        ({**VALID, "pad": "x" * 70000}, "larger than"),
    ],
)
def test_bad_admin_values_get_one_line_errors_without_the_key(raw: object, fragment: str) -> None:
    with pytest.raises(SecretFormatError) as raised:
        parse(raw)
    message = str(raised.value)
    assert fragment in message
    assert "ABCDEFGH" not in message
    assert "\n" not in message


def test_round_trip_keeps_fields_and_always_writes_json() -> None:
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    parsed = parse(
        {**VALID, "key_lifetime": "90d", "rotated_at": "2026-11-01T00:00:00Z", "team": "p"}
    )
    nxt = parsed.successor(
        admin_key=Sensitive("sk-admin-NEW0000000000000000"),
        admin_key_id="key_new",
        rotated_at=moment,
        retiring=(),
    )
    data = json.loads(nxt.to_json().reveal())
    assert data["admin_key"] == "sk-admin-NEW0000000000000000"
    assert data["admin_key_id"] == "key_new"
    assert data["key_lifetime"] == "90d"
    assert data["team"] == "p"
    assert parse(data).key_lifetime == timedelta(days=90)
    bare = parse(KEY).adopted("key_abc")
    assert json.loads(bare.to_json().reveal()) == VALID


def test_repr_never_shows_the_key() -> None:
    parsed = parse({**VALID, "note": KEY})
    assert KEY not in repr(parsed)
    assert REDACTED in repr(parsed)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (KEY, True),
        ("sk-admin-" + "A" * 20, True),
        ('{"admin_key": "sk-admin-x"}', True),
        ('{"api_key": "sk-proj-x", "admin_key": "sk-admin-x"}', False),
        ('{"api_key": "sk-proj-x"}', False),
        ("sk-proj-abc", False),
        ("{bad", False),
    ],
)
def test_is_admin_secret(value: str, expected: bool) -> None:
    assert is_admin_secret(Sensitive(value)) is expected


@pytest.mark.parametrize(
    ("redacted", "fits"),
    [
        ("sk-admin...xyz", True),
        ("sk-admin-ABC…xyz", True),
        ("sk-admin****xyz", True),
        ("sk-admin...xya", False),
        ("sk-...", False),  # too few visible characters to prove anything
        ("sk-adminxyz", False),  # no elision
        ("sk-admin-ABCD...", False),  # no tail: the prefix is every admin key's
        ("sk-admin-ABCDEFGHIJKLMNOPxyz...xyz", False),  # longer than the value
    ],
)
def test_matches_redacted(redacted: str, fits: bool) -> None:
    assert matches_redacted(Sensitive(KEY), redacted) is fits


def test_project_secret_parser_names_an_admin_secret() -> None:
    for raw in (KEY, json.dumps(VALID)):
        with pytest.raises(AdminKeySecretError, match="admin-key secret"):
            RotatorSecret.parse(Sensitive(raw))


def test_held_key_reads_both_kinds() -> None:
    project = {"api_key": "sk-svcacct-ABCDEFGHIJ", "project_id": "proj_1", "key_id": "key_1"}
    held = held_key(Sensitive(json.dumps(project)))
    assert held is not None
    assert held.key_id == "key_1"
    admin = held_key(Sensitive(json.dumps(VALID)))
    assert admin is not None
    assert admin.key_id == "key_abc"
    assert held_key(None) is None
