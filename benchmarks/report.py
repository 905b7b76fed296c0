"""Writes docs/benchmarks.md from the figures: ratios and counts (seconds only for the cold start
on AWS's runtime client, which has nothing in the same run to divide by)."""

from __future__ import annotations

from pathlib import Path

from coldstart import ColdStart
from common import ADMIN_RPS, LATENCY
from fleet import FleetRun
from lambda_runtime import LambdaColdStart
from rotation import Measured


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _single(single: list[Measured]) -> list[str]:
    lines = [
        "| mode / step | Secrets Manager calls | OpenAI calls (all sequential) "
        "| repeated version reads | wall ÷ bound | target ≤ 1.25x |",
        "|---|---|---|---|---|---|",
    ]
    for measured in single:
        row = measured.row()
        sm = ", ".join(f"{k} {v}" for k, v in row["sm_detail"].items()) or "-"
        oa = ", ".join(f"{k} {v}" for k, v in row["openai_detail"].items()) or "-"
        ratio = row["wall_over_bound"]
        shown = f"{ratio:.2f}x" if ratio is not None else "n/a (no OpenAI call)"
        verdict = _verdict(ratio <= 1.25) if ratio is not None else "-"
        lines.append(
            f"| {row['mode']} | {row['sm_calls']} ({sm}) | {row['openai_calls']} ({oa}) "
            f"| {row['repeated_reads']} | {shown} | {verdict} |"
        )
    return lines


def _fleet(runs: list[FleetRun]) -> list[str]:
    lines = [
        "| run | secrets | concurrency | secrets/s | wall ÷ rate-limit bound | failed "
        "| orphans | 429s | admin requests | target ≤ 1.2x (concurrency ≥ 8) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        ok = run.ratio <= 1.2 and run.failed == 0 and run.orphans == 0
        target = _verdict(ok) if run.concurrency >= 8 else "(not targeted)"
        lines.append(
            f"| {run.label} | {run.secrets} | {run.concurrency} | {run.per_second:.2f} "
            f"| {run.ratio:.2f}x | {run.failed} | {run.orphans} | {run.throttled} "
            f"| {run.admin_requests} | {target} |"
        )
    return lines


def _adaptive(runs: list[FleetRun], adaptive: list[str] | None) -> list[str]:
    """Section 2b: the adaptive budget (issue 11 item 1), (a) quoted from the fleet table."""
    if adaptive is None:
        return []
    quoted = [
        f"{run.label} over {run.secrets}: {run.ratio:.2f}x of the bound, {run.throttled} 429s"
        for run in runs
        if run.secrets >= 200 and run.concurrency == 8
    ]
    return [
        "## 2b. Adaptive rate control (CUBIC-style shared budget)",
        "",
        "(a) 200 secrets, concurrency 8, under the emulator's 5 req/s token bucket (target ≤ "
        "1.2x of the rate-limit bound, rows above): " + "; ".join(quoted) + ".",
        "",
        *adaptive,
        "",
    ]


def write_report(
    path: Path,
    *,
    cpus: int,
    runs: int,
    single: list[Measured],
    fleet_runs: list[FleetRun],
    cold: ColdStart,
    package_size: int | None,
    seconds: float,
    lambda_cold: LambdaColdStart | None = None,
    adaptive: list[str] | None = None,
    discovery: list[str] | None = None,
) -> str:
    rate_bound = fleet_runs[0].secrets / fleet_runs[0].bound_s if fleet_runs else 0
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`benchmarks/run.py`); do not edit by hand. Servers: moto's",
        "Secrets Manager and the OpenAI emulator on 127.0.0.1; the emulator sleeps "
        f"{LATENCY * 1000:g} ms per request.",
        f"Machine: {cpus} CPU(s). Single rotations and cold start are medians of {runs} "
        "(cold start: "
        f"{cold.runs}) runs; each fleet figure is one run (each takes over a minute). "
        f"The suite took {seconds / 60:.1f} min.",
        "",
        "## 1. One rotation",
        "",
        "Bound = number of OpenAI calls (each waits for the one before) x the injected latency."
        " Secrets Manager calls get no injected latency, so they only show in the wall time.",
        "",
        *_single(single),
        "",
        "## 2. Fleet",
        "",
        f"Admin API limited to {ADMIN_RPS:g} requests/s (429 + Retry-After beyond). A rotation "
        "needs two admin calls (create, delete) plus one listing per project per run, so the "
        f"rate-limit bound is {rate_bound:.2f} secrets/s.",
        "",
        *_fleet(fleet_runs),
        "",
        *_adaptive(fleet_runs, adaptive),
        "## 3. Cold start (ratios to `import boto3` in the same run)",
        "",
        "| what | ratio | target |",
        "|---|---|---|",
        f"| `python -X importtime` of lambda/handler.py (the issue's measure; clients are built "
        f"lazily) | {cold.handler_import:.2f}x | ≤ 1.30x {_verdict(cold.handler_import <= 1.3)} |",
        f"| stricter: handler + its first invocation's imports (adapters, botocore, httpx) | "
        f"{cold.handler_first_call:.2f}x | ≤ 1.30x {_verdict(cold.handler_first_call <= 1.3)} |",
        f"| `rotator --help` wall time vs `python -c 'import boto3'` | {cold.help_wall:.2f}x | - |",
        f"| `rotator --help` imports boto3/botocore | {'yes' if cold.help_imports_boto3 else 'no'}"
        f" | no: {_verdict(not cold.help_imports_boto3)} |",
        "",
        "Largest imports of a cold Lambda start (cumulative, as a ratio to `import boto3`): "
        + ", ".join(f"`{name}` {ratio:.2f}x" for name, ratio in cold.biggest)
        + ".",
        "",
        "## 4. Package",
        "",
        (
            f"`dist/rotator-lambda.zip`: {package_size / 1024:.0f} KiB; target ≤ 4 MiB (it was "
            f"17.5 MiB before botocore's data was pruned): {_verdict(package_size <= 4 << 20)}."
            if package_size is not None
            else "`dist/rotator-lambda.zip` does not exist yet (run `make package` first)."
        ),
        "",
        *_lambda_cold(lambda_cold),
        *(discovery or []),
    ]
    text = "\n".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text


def _lambda_cold(cold: LambdaColdStart | None) -> list[str]:
    head = ["## 5. Cold start on AWS's runtime client (awslambdaric, python3.13)", ""]
    if cold is None:
        return [*head, "Not measured: no python3.13 with awslambdaric (`make lambda-rt`).", ""]
    return [
        *head,
        f"`benchmarks/lambda_runtime.py`: a fresh `{cold.python} -m awslambdaric` in the "
        "unzipped package per run, a createSecret event waiting, moto and the emulator "
        f"answering at once (no injected latency). Medians of {cold.runs} runs, from process "
        "start.",
        "",
        "| to | seconds |",
        "|---|---|",
        f"| init done (first `GET /invocation/next`) | {cold.init:.2f} |",
        f"| first response (createSecret answered) | {cold.first_response:.2f} |",
        f"| whole rotation (four steps answered) | {cold.rotation:.2f} |",
        "",
    ]
