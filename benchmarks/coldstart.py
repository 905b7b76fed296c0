"""Benchmark 3: cold start, as ratios to ``import boto3`` measured in the same run.

* the Lambda handler: ``import handler`` alone, and with the imports its first invocation adds
  (the adapters, botocore — rotator creates its client from botocore, not boto3 — and httpx):
  what a cold container really pays;
* ``rotator --help``: wall time of the whole process, and whether it loaded boto3.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from common import median

ROOT = Path(__file__).resolve().parent.parent
FIRST_CALL = (
    "import handler; import rotator.adapters.secretsmanager, rotator.adapters.openai_http; "
    "import botocore.session, botocore.config"
)


def _importtime(code: str) -> tuple[float, str]:
    """Total import time (sum of top-level cumulative microseconds) and the raw report."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lambda")}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    total = 0
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        if not name.startswith("  "):  # a top-level import (not nested in another)
            total += int(cumulative)
    return total / 1e6, done.stderr


def _wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True)
    return time.perf_counter() - started


@dataclass(frozen=True)
class ColdStart:
    runs: int
    handler_import: float
    handler_first_call: float
    help_wall: float
    help_imports_boto3: bool
    biggest: list[tuple[str, float]]


def _biggest(report: str, top: int = 6) -> list[tuple[str, float]]:
    rows = []
    for line in report.splitlines():
        if line.startswith("import time:") and "cumulative" not in line:
            _, cumulative, name = line.split("|")
            if name.startswith(" ") and not name.startswith("   "):
                rows.append((name.strip(), int(cumulative) / 1e6))
    return sorted(rows, key=lambda row: -row[1])[:top]


def run(runs: int) -> ColdStart:
    boto, handler, first, help_wall, boto_wall = [], [], [], [], []
    report = ""
    python = [sys.executable]
    for _ in range(runs):
        boto.append(_importtime("import boto3")[0])
        handler.append(_importtime("import handler")[0])
        seconds, report = _importtime(FIRST_CALL)
        first.append(seconds)
        boto_wall.append(_wall([*python, "-c", "import boto3"]))
        help_wall.append(_wall([*python, "-m", "rotator", "--help"]))
    _, help_report = _importtime(
        "import sys; from rotator.cli.app import main; sys.argv = ['rotator', '--help']; main()"
    )
    base = median(boto)
    return ColdStart(
        runs=runs,
        handler_import=median(handler) / base,
        handler_first_call=median(first) / base,
        help_wall=median(help_wall) / median(boto_wall),
        help_imports_boto3=re.search(r"\|\s*(boto3|botocore)\b", help_report) is not None,
        biggest=[(name, seconds / base) for name, seconds in _biggest(report)],
    )
