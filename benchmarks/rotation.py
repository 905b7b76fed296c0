"""Benchmark 1: one rotation. Calls per rotation, and wall time against the naive rotation and
the critical-path bound (issue 11 item 4, issue 9's ownership proof).

*Naive* (benchmarks/naive.py): mint on the same account, store, test once, promote, delete the
old key; 3 OpenAI calls in sequence, same libraries. Each path is divided by its naive
counterpart run alternately in the same conditions: in process; as whole processes (the CLI);
as a cold Lambda container on AWS's runtime client (benchmarks/lambda_runtime.py).

*Critical path*: the OpenAI round trips a rotation waited for in sequence, measured from the
emulator's latency spans (concurrent calls count once); the bound is that x the injected
latency. Secrets Manager (moto on loopback) gets no injected latency: its calls show only in the
wall time.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import naive
from common import LATENCY, CountingStore, LatencyTrace, median, openai_calls, seed

from rotator.adapters.secretsmanager import SecretsManagerStore
from rotator.app import Mode, build_app
from rotator.config import Settings
from rotator.domain.protocol import Step
from rotator.rotation.local import rotate_locally
from rotator.testing.moto_server import MotoServer
from rotator.testing.openai_emulator import OpenAIEmulator

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.25  # x the naive rotation (issue 11 item 4)


@dataclass
class Measured:
    """One path's calls per rotation (from the last run) and median wall times."""

    label: str
    sm: Counter[str] = field(default_factory=Counter)
    openai: Counter[str] = field(default_factory=Counter)
    repeated_reads: int = 0
    critical: int = 0
    walls: list[float] = field(default_factory=list)
    naive_walls: list[float] = field(default_factory=list)
    sm_note: str = ""

    @property
    def openai_total(self) -> int:
        return sum(self.openai.values())

    @property
    def bound(self) -> float:
        return self.critical * LATENCY

    @property
    def over_naive(self) -> float | None:
        return median(self.walls) / median(self.naive_walls) if self.naive_walls else None

    def row(self) -> dict[str, Any]:
        wall = median(self.walls)
        return {
            "mode": self.label,
            "sm_calls": sum(self.sm.values()),
            "sm_detail": dict(sorted(self.sm.items())),
            "sm_note": self.sm_note,
            "openai_calls": self.openai_total,
            "openai_detail": dict(sorted(self.openai.items())),
            "critical": self.critical,
            "repeated_reads": self.repeated_reads,
            "wall_s": round(wall, 3),
            "naive_s": round(median(self.naive_walls), 3) if self.naive_walls else None,
            "bound_s": round(self.bound, 3),
            "wall_over_bound": round(wall / self.bound, 3) if self.bound else None,
            "wall_over_naive": round(self.over_naive, 3) if self.over_naive else None,
        }


def _naive_in_process(aws: MotoServer, base_url: str, name: str) -> float:
    client, http = aws.client(), httpx.Client(base_url=base_url, timeout=30)
    try:
        started = time.perf_counter()
        naive.rotate(client, http, name)
        return time.perf_counter() - started
    finally:
        http.close()


def _local(
    aws: MotoServer, emulator: OpenAIEmulator, trace: LatencyTrace, base_url: str, runs: int
) -> Measured:
    seeded = seed(aws, emulator, 2, projects=1, prefix="one/")
    name, naive_name = seeded.names
    settings = Settings(openai_base_url=base_url)
    measured = Measured("local, in process (`rotate SECRET --local`)")
    for _ in range(runs):
        measured.naive_walls.append(_naive_in_process(aws, base_url, naive_name))
        store = CountingStore(SecretsManagerStore(aws.client()))
        # As the CLI wires it: build_app puts the version cache in front of the store.
        runtime = build_app(settings, mode=Mode.CLI, store=store)
        emulator.reset_calls()
        trace.reset()
        started = time.perf_counter()
        rotate_locally(runtime.engine, name)
        measured.walls.append(time.perf_counter() - started)
        measured.sm, measured.openai = store.calls.copy(), openai_calls(emulator)
        measured.repeated_reads = store.repeated_reads
        measured.critical = trace.round_trips()
        runtime.close()
    return measured


def _fleet_path(
    aws: MotoServer, emulator: OpenAIEmulator, trace: LatencyTrace, base_url: str, runs: int
) -> Measured:
    seed(aws, emulator, 1, projects=1, prefix="fleet1/")
    naive_name = seed(aws, emulator, 1, projects=1, prefix="naive-fleet/").names[0]
    settings = Settings(openai_base_url=base_url)
    measured = Measured("fleet path, in process (`rotate --all`, 1 secret)")
    for _ in range(runs):
        measured.naive_walls.append(_naive_in_process(aws, base_url, naive_name))
        store = CountingStore(SecretsManagerStore(aws.client()))
        runtime = build_app(settings, mode=Mode.FLEET, concurrency=1, store=store)
        fleet = runtime.fleet
        emulator.reset_calls()
        trace.reset()
        started = time.perf_counter()
        found = fleet.discover(prefix="fleet1/", tags={}, concurrency=1)
        fleet.rotate_all([c.description for c in found], mode="local", concurrency=1, timeout=60)
        measured.walls.append(time.perf_counter() - started)
        measured.sm, measured.openai = store.calls.copy(), openai_calls(emulator)
        measured.repeated_reads = store.repeated_reads
        measured.critical = trace.round_trips()
        runtime.close()
    return measured


def _context() -> object:
    return type("Context", (), {"aws_request_id": str(uuid.uuid4())})()


def _lambda_steps(
    aws: MotoServer, emulator: OpenAIEmulator, trace: LatencyTrace, base_url: str, runs: int
) -> list[Measured]:
    handler = importlib.import_module("handler")  # lambda/handler.py; run.py puts it on the path
    seeded = seed(aws, emulator, 2, projects=1, prefix="lambda/")
    arn, naive_arn = (seeded.arns[n] for n in seeded.names)
    settings = Settings(openai_base_url=base_url)
    steps = {step: Measured(f"Lambda {step.value}") for step in Step}
    whole = Measured("Lambda, four steps in process (warm imports, fresh app)")
    os.environ["OPENAI_BASE_URL"] = base_url  # naive.lambda_handler reads it, as a Lambda would
    for _ in range(runs):
        naive._clients.clear()
        naive._clients["sm"] = aws.client()
        naive_token = aws.seed_pending_version(naive_arn)
        started = time.perf_counter()
        for step in Step:
            event = {"SecretId": naive_arn, "ClientRequestToken": naive_token, "Step": step.value}
            naive.lambda_handler(event, _context())
        whole.naive_walls.append(time.perf_counter() - started)
        token = aws.seed_pending_version(arn)
        store = CountingStore(SecretsManagerStore(aws.client()))
        # A cold container: a fresh app, as default_app() builds on first use.
        runtime = build_app(settings, mode=Mode.LAMBDA, store=store)
        lambda_handler = handler.make_handler(lambda: runtime)  # noqa: B023 - used in this loop
        sm: Counter[str] = Counter()
        oa: Counter[str] = Counter()
        critical, total = 0, 0.0
        for step in Step:
            store.reset()
            emulator.reset_calls()
            trace.reset()
            event = {"SecretId": arn, "ClientRequestToken": token, "Step": step.value}
            started = time.perf_counter()
            lambda_handler(event, _context())
            seconds = time.perf_counter() - started
            measured = steps[step]
            measured.walls.append(seconds)
            measured.sm, measured.openai = store.calls.copy(), openai_calls(emulator)
            measured.repeated_reads = store.repeated_reads
            measured.critical = trace.round_trips()
            sm, oa, critical, total = (
                sm + measured.sm,
                oa + measured.openai,
                critical + measured.critical,
                total + seconds,
            )
        whole.walls.append(total)
        whole.sm, whole.openai, whole.critical = sm, oa, critical
        runtime.close()
    naive._clients.clear()
    return [*steps.values(), whole]


def _process(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[1:3]} failed: {done.stderr[-1500:]}")
    return seconds


def _cli_process(
    aws: MotoServer, emulator: OpenAIEmulator, trace: LatencyTrace, base_url: str, runs: int
) -> Measured:
    """Whole processes: ``rotator rotate SECRET --local`` against ``python naive.py SECRET``."""
    seeded = seed(aws, emulator, 2, projects=1, prefix="process/")
    name, naive_name = seeded.names
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        **aws.env(),
        "OPENAI_BASE_URL": base_url,
        "PYTHONPATH": str(ROOT),
    }
    measured = Measured("CLI, whole process (`rotator rotate SECRET --local`)")
    measured.sm_note = "as the in-process local row"
    for _ in range(runs):
        measured.naive_walls.append(
            _process([sys.executable, str(ROOT / "benchmarks" / "naive.py"), naive_name], env)
        )
        emulator.reset_calls()
        trace.reset()
        measured.walls.append(
            _process([sys.executable, "-m", "rotator", "rotate", name, "--local"], env)
        )
        measured.openai = openai_calls(emulator)
        measured.critical = trace.round_trips()
    return measured


def run(
    aws: MotoServer, emulator: OpenAIEmulator, trace: LatencyTrace, base_url: str, runs: int
) -> list[Measured]:
    emulator.latency = LATENCY
    emulator.admin_rate_limit_rps = None
    try:
        return [
            _local(aws, emulator, trace, base_url, runs),
            _fleet_path(aws, emulator, trace, base_url, runs),
            *_lambda_steps(aws, emulator, trace, base_url, runs),
            _cli_process(aws, emulator, trace, base_url, runs),
        ]
    finally:
        emulator.latency = 0.0
