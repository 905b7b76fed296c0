"""Odd input found by the second review: URLs that crash parsers, ids with a trailing newline."""

from __future__ import annotations

import pytest

from rotator.domain.base_url import validate_base_url
from rotator.domain.ids import check_id, looks_like_key
from rotator.errors import ConfigError, SecretFormatError

KEY = "sk-proj-" + "Q" * 48


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "https://[zz]/v1",
        "https://api.openai.com:abc/v1",
        "https://api.openai.com:99999/v1",
        f"https://[{KEY}]/v1",
    ],
)
def test_unparsable_base_urls_are_refused_not_crashed_on(url: str) -> None:
    """A URL urlsplit cannot parse is a ConfigError (exit 2) that never echoes the host."""
    with pytest.raises(ConfigError) as caught:
        validate_base_url(url)
    assert "QQQQ" not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "field"),
    [("key_abc\n", "key_id"), ("proj_abc\n", "project_id"), ("svc_acct_a\n", "service_account_id")],
)
def test_ids_with_a_trailing_newline_are_refused(value: str, field: str) -> None:
    """``^…$`` matches before a final newline; ids are matched whole."""
    with pytest.raises(SecretFormatError):
        check_id(value, field=field)


def test_a_long_key_glued_to_a_word_still_counts_as_a_key() -> None:
    """``a<key>`` is key material; ``openai/task-runner`` is a name."""
    assert looks_like_key("a" + KEY)
    assert not looks_like_key("openai/task-runner-production")
