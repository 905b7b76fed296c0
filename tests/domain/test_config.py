"""Settings read once from the environment, validated with clear errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rotator.config import DEFAULT_OPENAI_BASE_URL, Settings, parse_duration, validate_base_url
from rotator.errors import ConfigError


@pytest.mark.parametrize(
    "url",
    [
        "https://api.openai.com/v1",
        "http://127.0.0.1:8080/v1",
        "http://127.8.9.10/v1",
        "http://localhost:1/v1",
        "http://[::1]:9/v1",
    ],
)
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    """https anywhere, plain http only on loopback."""
    assert validate_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://api.openai.com/v1", "non-loopback"),
        ("http://10.0.0.1/v1", "non-loopback"),
        ("ftp://127.0.0.1/", "not an http"),
        ("api.openai.com", "not an http"),
    ],
)
def test_other_base_urls_are_refused(url: str, fragment: str) -> None:
    """A plain-http URL to a remote host is refused with the fix."""
    with pytest.raises(ConfigError, match=fragment):
        validate_base_url(url)


def test_settings_from_env_reads_each_variable_once() -> None:
    """Environment variables map onto settings; the admin key only where allowed."""
    env = {
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1/",
        "ROTATOR_ADMIN_KEY_SECRET_ID": "openai/admin",
        "OPENAI_ADMIN_KEY": "sk-admin-xyz",
        "LOG_LEVEL": "debug",
        "ROTATOR_TEST_TIMEOUT": "90s",
        "ROTATOR_GRACE_PERIOD": "15m",
        "ROTATOR_HTTP_TIMEOUT": "20",
        "ROTATOR_RETRY_DEADLINE": "2m",
        "ROTATOR_REVOCATION_TIMEOUT": "0",
        "ROTATOR_ORPHAN_MARGIN": "1h",
    }
    cli = Settings.from_env(env, allow_env_admin_key=True)
    assert cli.openai_base_url == "http://127.0.0.1:9/v1"
    assert cli.admin_key_secret_id == "openai/admin"
    assert cli.env_admin_key is not None
    assert cli.env_admin_key.reveal() == "sk-admin-xyz"
    assert cli.log_level == "DEBUG"
    assert cli.test_timeout == 90
    assert cli.grace_period == timedelta(minutes=15)
    assert cli.http_read_timeout == 20
    assert cli.retry_deadline == 120
    assert cli.revocation_timeout == 0
    assert cli.orphan_margin == timedelta(hours=1)
    assert "sk-admin-xyz" not in repr(cli)
    lam = Settings.from_env(env, allow_env_admin_key=False)
    assert lam.env_admin_key is None
    assert Settings.from_env({}, allow_env_admin_key=True).openai_base_url == (
        DEFAULT_OPENAI_BASE_URL
    )


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"ROTATOR_TEST_TIMEOUT": "soon"}, "ROTATOR_TEST_TIMEOUT"),
        ({"ROTATOR_TEST_TIMEOUT": "0"}, "more than 0"),
        ({"ROTATOR_GRACE_PERIOD": "-1h"}, "ROTATOR_GRACE_PERIOD"),
        ({"ROTATOR_GRACE_PERIOD": "99999999999d"}, "at most 365d"),
        ({"ROTATOR_GRACE_PERIOD": "1" + "0" * 400}, "at most 365d"),
        ({"OPENAI_BASE_URL": "http://example.com"}, "non-loopback"),
    ],
)
def test_bad_environment_values_are_refused(env: dict[str, str], fragment: str) -> None:
    """Each malformed variable is named in a one-line error."""
    with pytest.raises(ConfigError, match=fragment):
        Settings.from_env(env, allow_env_admin_key=False)


@pytest.mark.parametrize(
    ("text", "seconds"), [("0", 0), ("90", 90), ("90s", 90), ("15m", 900), ("24h", 86400)]
)
def test_durations(text: str, seconds: float) -> None:
    """Durations accept s, m, h and d suffixes."""
    assert parse_duration(text, name="x").total_seconds() == seconds


def test_a_refused_base_url_is_quoted_without_its_credentials() -> None:
    """user:password in a URL never reaches the error message."""
    with pytest.raises(ConfigError) as caught:
        validate_base_url("http://me:hunter2@example.com/v1")
    assert "hunter2" not in str(caught.value)
    assert "example.com" in str(caught.value)


def test_settings_refuse_a_key_as_the_admin_key_secret_id_naming_the_variable() -> None:
    """ROTATOR_ADMIN_KEY_SECRET_ID (or the flag) holding a key: one line naming it, no echo."""
    key = "sk-admin-" + "k3Y" * 20
    with pytest.raises(ConfigError, match="ROTATOR_ADMIN_KEY_SECRET_ID") as caught:
        Settings.from_env({"ROTATOR_ADMIN_KEY_SECRET_ID": key}, allow_env_admin_key=False)
    assert key not in str(caught.value)
    with pytest.raises(ConfigError, match="--admin-key-secret-id"):
        Settings().with_overrides(admin_key_secret_id=key)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://127.0.0.1/v1?x=1", "a query"),
        ("https://api.openai.com/v1?", "a query"),
        ("https://api.openai.com/v1#frag", "a fragment"),
        ("https://user:pw@api.openai.com/v1", "a user name or password"),
        ("http://me@127.0.0.1/v1", "a user name or password"),
        ("https://api.openai.com/v1/../x", "'..' path segment"),
        ("https://api.openai.com/./v1", "'.' or '..'"),
        ("https://api.openai.com/v1/%2e%2e/x", "'..' path segment"),
    ],
)
def test_base_urls_with_a_query_fragment_userinfo_or_dot_segments_are_refused(
    url: str, fragment: str
) -> None:
    """The base URL is a prefix for paths: anything that would bend those paths is refused (L3)."""
    with pytest.raises(ConfigError, match=fragment) as caught:
        validate_base_url(url)
    assert "pw@" not in str(caught.value)
    assert "e.g. https://api.openai.com/v1" in str(caught.value)


def test_a_dotted_host_or_path_name_is_still_a_base_url() -> None:
    """Dots inside a segment (a versioned path, a host name) are not dot segments."""
    assert validate_base_url("https://proxy.example.com/openai.v1/v1/") == (
        "https://proxy.example.com/openai.v1/v1"
    )


def test_an_orphan_margin_below_twice_the_lambda_timeout_is_refused() -> None:
    """ROTATOR_ORPHAN_MARGIN below 10m would let prune delete a running rotation's account."""
    with pytest.raises(ConfigError, match="ROTATOR_ORPHAN_MARGIN 5m is below the floor of 10m"):
        Settings.from_env({"ROTATOR_ORPHAN_MARGIN": "5m"}, allow_env_admin_key=False)
    ok = Settings.from_env({"ROTATOR_ORPHAN_MARGIN": "10m"}, allow_env_admin_key=False)
    assert ok.orphan_margin == timedelta(minutes=10)
