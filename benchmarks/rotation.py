"""Benchmark 1: one rotation. Calls per rotation and wall time against the critical path.

Every OpenAI call of a rotation waits for the one before (each needs the previous answer or
must follow it), so the critical-path bound is ``#OpenAI calls x injected latency``; Secrets
Manager (moto on loopback) gets no injected latency, so its calls count only in the wall time.
"""

from __future__ import annotations

import importlib
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from common import LATENCY, CountingStore, median, openai_calls, seed

from rotator.adapters.secretsmanager import SecretsManagerStore
from rotator.app import Mode, build_app
from rotator.config import Settings
from rotator.domain.protocol import Step
from rotator.rotation.local import rotate_locally
from rotator.testing.moto_server import MotoServer
from rotator.testing.openai_emulator import OpenAIEmulator


@dataclass
class Measured:
    """One mode's calls per rotation (from the last run) and median wall time."""

    label: str
    sm: Counter[str]
    openai: Counter[str]
    repeated_reads: int
    walls: list[float] = field(default_factory=list)

    @property
    def openai_total(self) -> int:
        return sum(self.openai.values())

    @property
    def bound(self) -> float:
        return self.openai_total * LATENCY

    def row(self) -> dict[str, Any]:
        wall = median(self.walls)
        return {
            "mode": self.label,
            "sm_calls": sum(self.sm.values()),
            "sm_detail": dict(sorted(self.sm.items())),
            "openai_calls": self.openai_total,
            "openai_detail": dict(sorted(self.openai.items())),
            "repeated_reads": self.repeated_reads,
            "bound_s": round(self.bound, 3),
            "wall_over_bound": round(wall / self.bound, 3) if self.bound else None,
        }


def _local(aws: MotoServer, emulator: OpenAIEmulator, base_url: str, runs: int) -> Measured:
    seeded = seed(aws, emulator, 1, projects=1, prefix="one/")
    settings = Settings(openai_base_url=base_url)
    measured = Measured("local (`rotate SECRET --local`)", Counter(), Counter(), 0)
    for _ in range(runs):
        store = CountingStore(SecretsManagerStore(aws.client()))
        # As the CLI wires it: build_app puts the version cache in front of the store.
        runtime = build_app(settings, mode=Mode.CLI, store=store)
        emulator.reset_calls()
        started = time.perf_counter()
        rotate_locally(runtime.engine, seeded.names[0])
        measured.walls.append(time.perf_counter() - started)
        measured.sm, measured.openai = store.calls.copy(), openai_calls(emulator)
        measured.repeated_reads = store.repeated_reads
        runtime.close()
    return measured


def _fleet_path(aws: MotoServer, emulator: OpenAIEmulator, base_url: str, runs: int) -> Measured:
    seeded = seed(aws, emulator, 1, projects=1, prefix="fleet1/")
    settings = Settings(openai_base_url=base_url)
    measured = Measured("fleet path (`rotate --all`, 1 secret)", Counter(), Counter(), 0)
    for _ in range(runs):
        store = CountingStore(SecretsManagerStore(aws.client()))
        runtime = build_app(settings, mode=Mode.FLEET, concurrency=1, store=store)
        fleet = runtime.fleet
        emulator.reset_calls()
        started = time.perf_counter()
        found = fleet.discover(prefix="fleet1/", tags={}, concurrency=1)
        fleet.rotate_all([c.description for c in found], mode="local", concurrency=1, timeout=60)
        measured.walls.append(time.perf_counter() - started)
        measured.sm, measured.openai = store.calls.copy(), openai_calls(emulator)
        measured.repeated_reads = store.repeated_reads
        runtime.close()
    assert len(seeded.names) == 1  # noqa: S101
    return measured


def _lambda_steps(
    aws: MotoServer, emulator: OpenAIEmulator, base_url: str, runs: int
) -> list[Measured]:
    handler = importlib.import_module("handler")  # lambda/handler.py; run.py puts it on the path
    seeded = seed(aws, emulator, 1, projects=1, prefix="lambda/")
    arn = seeded.arns[seeded.names[0]]
    settings = Settings(openai_base_url=base_url)
    steps = {step: Measured(f"Lambda {step.value}", Counter(), Counter(), 0) for step in Step}
    for _ in range(runs):
        token = aws.seed_pending_version(arn)
        store = CountingStore(SecretsManagerStore(aws.client()))
        # A cold container: a fresh app, as default_app() builds on first use.
        runtime = build_app(settings, mode=Mode.LAMBDA, store=store)
        lambda_handler = handler.make_handler(lambda: runtime)  # noqa: B023 - used in this loop
        for step in Step:
            store.reset()
            emulator.reset_calls()
            event = {"SecretId": arn, "ClientRequestToken": token, "Step": step.value}
            context = type("Context", (), {"aws_request_id": str(uuid.uuid4())})()
            started = time.perf_counter()
            lambda_handler(event, context)
            measured = steps[step]
            measured.walls.append(time.perf_counter() - started)
            measured.sm, measured.openai = store.calls.copy(), openai_calls(emulator)
            measured.repeated_reads = store.repeated_reads
        runtime.close()
    return list(steps.values())


def run(aws: MotoServer, emulator: OpenAIEmulator, base_url: str, runs: int) -> list[Measured]:
    emulator.latency = LATENCY
    emulator.admin_rate_limit_rps = None
    try:
        return [
            _local(aws, emulator, base_url, runs),
            _fleet_path(aws, emulator, base_url, runs),
            *_lambda_steps(aws, emulator, base_url, runs),
        ]
    finally:
        emulator.latency = 0.0
