"""The possession proof: a secret's key must be what the secret claims, or nothing happens."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from rotator.domain.ownership import prove_listed, redacted_matches, refuse_dead_key
from rotator.errors import InputError, OwnershipError

KEY = "sk-svcacct-ABCDEFGHIJKLMNOPQRSTUVWX"


@dataclass(frozen=True)
class Listed:
    id: str
    redacted_value: str
    service_account_id: str | None


LISTING = [
    Listed("key_other", "sk-svcacct-Z...ZZZZ", "svc_acct_other"),
    Listed("key_1", "sk-svcacct-ABC...UVWX", "svc_acct_1"),
    Listed("key_user", "sk-proj-abc...wxyz", None),
]


def prove(**changes: object) -> Listed:
    claims: dict[str, object] = {
        "secret_name": "openai/app",
        "project_id": "proj_1",
        "key_id": "key_1",
        "service_account_id": "svc_acct_1",
        "api_key": KEY,
        **changes,
    }
    found = prove_listed(LISTING, **claims)  # type: ignore[arg-type]
    assert isinstance(found, Listed)
    return found


def test_a_genuine_secret_is_proven() -> None:
    """GIVEN the key, its owner and its value agree with OpenAI's listing THEN the proof holds."""
    assert prove().id == "key_1"
    assert prove(service_account_id=None).id == "key_1"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"key_id": "key_unknown"}, "not a key of project proj_1"),
        ({"service_account_id": "svc_acct_other"}, "belongs to another owner"),
        ({"key_id": "key_other", "service_account_id": "svc_acct_other"}, "prefix and suffix"),
        ({"key_id": "key_user", "service_account_id": None}, "prefix and suffix"),
        ({"api_key": "sk-svcacct-ABCDEFGHIJKLMNOPQRSTUVWY"}, "prefix and suffix"),
    ],
)
def test_forged_claims_are_refused_without_echoing_the_key(
    changes: dict[str, object], fragment: str
) -> None:
    """Another account, another key or another value: refused with exit code 2, key unshown."""
    with pytest.raises(OwnershipError) as caught:
        prove(**changes)
    assert fragment in str(caught.value)
    assert "nothing was changed" in str(caught.value)
    assert KEY not in str(caught.value)
    assert isinstance(caught.value, InputError)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("redacted", "key", "expected"),
    [
        ("sk-abc...def", "sk-abcXYZdef", True),
        ("sk-admin...xyz", "sk-admin-1234xyz", True),
        ("sk-abc...def", "sk-abcdef", False),
        ("sk...def", "sk-abcdef", False),
        ("sk-abc-def", "sk-abc-def", False),
        ("sk-abc...def", "sk-abdXYZdef", False),
    ],
)
def test_redacted_forms_match_only_on_prefix_and_suffix(
    redacted: str, key: str, expected: bool
) -> None:
    """A match needs the dots, at least three visible characters and something hidden between."""
    assert redacted_matches(redacted, key) is expected


def test_a_dead_key_is_refused_with_the_emergency_hatch_named() -> None:
    """The CLI names --replace-dead-key; the Lambda says it is a CLI-only escape."""
    with pytest.raises(OwnershipError, match="--replace-dead-key") as caught:
        refuse_dead_key(secret_name="openai/app", key_id="key_1", replace_dead_key_allowed=True)
    assert "from the CLI" not in str(caught.value)
    with pytest.raises(OwnershipError, match="from the CLI"):
        refuse_dead_key(secret_name="openai/app", key_id="key_1", replace_dead_key_allowed=False)
