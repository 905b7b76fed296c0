"""Durations as people write them (`0`, `90s`, `15m`, `24h`, `7d`), parsed in one place."""

from __future__ import annotations

import re
from datetime import timedelta

from rotator.errors import ConfigError

_DURATION = re.compile(r"^(?P<n>\d+(?:\.\d+)?)(?P<unit>[smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
#: No timeout, grace period, margin or key lifetime rotator takes is sensibly longer than this.
MAX_DURATION = timedelta(days=365)
#: Twice the rotation Lambda's time budget (5 minutes; the template's Timeout is 180 s): a
#: rotation step may still be running on anything younger. ``recover`` leaves a younger pending
#: version alone (unless forced), and ``prune --margin`` / ROTATOR_ORPHAN_MARGIN may not go
#: below it, so a running createSecret's new, not yet recorded account is never an "orphan".
MIN_SAFE_AGE = timedelta(minutes=10)


def parse_duration(text: str, *, name: str) -> timedelta:
    """``0``, ``90s``, ``15m``, ``24h``, ``7d`` → timedelta; a clear error otherwise."""
    match = _DURATION.match(text.strip().lower())
    if match is None:
        raise ConfigError(
            f"{name} {text[:40]!r} is not a duration; use a number with s, m, h or d, "
            "e.g. 0, 15m or 24h"
        )
    seconds = float(match["n"]) * _UNITS[match["unit"]]
    if seconds > MAX_DURATION.total_seconds():
        raise ConfigError(f"{name} {text[:40]!r} is longer than a year; use at most 365d")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The shortest exact form: ``7d``, ``36h``, ``90m``, ``45s``."""
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_key_lifetime(text: str, *, name: str) -> timedelta:
    """A key lifetime: 1 s to 365 d (OpenAI's ``expires_in_seconds`` range)."""
    lifetime = parse_duration(text, name=name)
    if lifetime < timedelta(seconds=1):
        raise ConfigError(
            f"{name} {text[:40]!r} is shorter than a second; use e.g. 90d (1s to 365d)"
        )
    return lifetime
