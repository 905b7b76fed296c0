"""The one time seam: wall time, monotonic time, sleep and the jitter source.

Built once by :func:`rotator.app.build_app` and passed to everything that waits or stamps a
time; tests pass one driven by :class:`~rotator.testing.openai_emulator.faults.ManualClock`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Clock:
    """``now`` (aware UTC datetime), ``monotonic``, ``sleep`` and ``rng`` (jitter in [0, 1))."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = field(default=random.random)
    now: Callable[[], datetime] = _utcnow
