"""Benchmark 2: a fleet of secrets through `rotator rotate --all`, under an admin rate limit.

The CLI runs as a subprocess (as a user runs it), against moto's server and the emulator
served from this process. The bound is the rate limit: every rotation needs one create and
one delete, plus one listing per project, so the fastest possible run takes
``(2 x secrets + projects) / rate`` seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

from common import ADMIN_RPS, LATENCY, Seeded, orphans

from rotator.testing.moto_server import MotoServer
from rotator.testing.openai_emulator import OpenAIEmulator


@dataclass(frozen=True)
class FleetRun:
    label: str
    secrets: int
    concurrency: int
    wall_s: float
    rotated: int
    failed: int
    throttled: int
    admin_requests: int
    orphans: int
    bound_s: float

    @property
    def per_second(self) -> float:
        return self.secrets / self.wall_s

    @property
    def ratio(self) -> float:
        return self.wall_s / self.bound_s


def rotate_all(
    aws: MotoServer,
    emulator: OpenAIEmulator,
    base_url: str,
    seeded: Seeded,
    *,
    prefix: str,
    concurrency: int,
    max_rps: float | None,
) -> FleetRun:
    emulator.latency = LATENCY
    emulator.admin_rate_limit_rps = ADMIN_RPS
    emulator.reset_calls()
    time.sleep(1.5)  # let the emulator's bucket refill between runs
    env = {**os.environ, **aws.env(), "OPENAI_BASE_URL": base_url}
    command = [sys.executable, "-m", "rotator", "rotate", "--all", "--prefix", prefix]
    command += ["--concurrency", str(concurrency), "--output", "json", "--local"]
    command += ["--max-rps", f"{max_rps:g}"] if max_rps else []
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    emulator.latency, emulator.admin_rate_limit_rps = 0.0, None
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    secrets = len(seeded.names)
    label = f"--max-rps {max_rps:g}" if max_rps else "no --max-rps (learnt)"
    return FleetRun(
        label=label,
        secrets=secrets,
        concurrency=concurrency,
        wall_s=wall,
        rotated=summary["rotated"],
        failed=summary["failed"],
        throttled=sum(1 for call in emulator.calls if call.status == 429),
        admin_requests=sum(1 for call in emulator.calls if call.route != "/models"),
        orphans=orphans(aws, emulator, seeded),
        bound_s=(2 * secrets + len(seeded.projects)) / ADMIN_RPS,
    )
