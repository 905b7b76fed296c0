"""The OpenAI base URL check, in one place: https anywhere, plain http only on loopback.

Settings validate the configured URL with it; the OpenAI adapter checks the URL it is given
with it too, so a URL that bypassed Settings is refused the same way.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, unquote, urlsplit

from rotator.errors import ConfigError

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _shown(url: str) -> str:
    """A URL as it may appear in a message: no user:password, at most 80 characters."""
    try:
        parts = urlsplit(url.strip())
        if parts.username or parts.password:
            url = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    except ValueError:
        return "(unparsable)"
    return url[:80]


def _split(url: str) -> tuple[SplitResult, str]:
    """``urlsplit`` plus the host; a URL it cannot parse is refused, never a crash."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        raise ConfigError(
            "OpenAI base URL is not a valid URL (bad host or port); use e.g. "
            f"{DEFAULT_OPENAI_BASE_URL}"
        ) from None
    if (port is not None and not 0 < port < 65536) or any(c.isspace() for c in host):
        raise ConfigError(
            f"OpenAI base URL has a bad host or port; use e.g. {DEFAULT_OPENAI_BASE_URL}"
        )
    return parts, host


def validate_base_url(url: str) -> str:
    """Accept https URLs, and plain http only on a loopback host."""
    parts, _host = _split(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(
            f"OpenAI base URL {_shown(url)!r} is not an http(s) URL; use e.g. "
            f"{DEFAULT_OPENAI_BASE_URL}"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"OpenAI base URL {_shown(url)!r} uses plain http on a non-loopback host; use https "
            "(plain http is only allowed for 127.0.0.0/8, ::1 and localhost)"
        )
    problem = _extra_parts(url.strip())
    if problem is not None:
        raise ConfigError(
            f"OpenAI base URL {_shown(url)!r} has {problem}; give only scheme, host, port and "
            f"path, e.g. {DEFAULT_OPENAI_BASE_URL}"
        )
    return url.strip().rstrip("/")


def _extra_parts(url: str) -> str | None:
    """What a base URL carries beyond scheme, host, port and a plain path, or None.

    Paths are appended to the base URL, so a query or fragment would swallow them, userinfo
    would replace the admin key's Bearer header with Basic auth, and dot segments would let
    the URL address another path than the one it shows.
    """
    parts = urlsplit(url)
    if "?" in url:
        return "a query (?...)"
    if "#" in url:
        return "a fragment (#...)"
    if "@" in parts.netloc:
        return "a user name or password (user@host)"
    segments = unquote(parts.path).replace("\\", "/").split("/")
    if any(segment in {".", ".."} for segment in segments):
        return "a '.' or '..' path segment"
    return None
