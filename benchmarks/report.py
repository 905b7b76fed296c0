"""Writes docs/benchmarks.md from the figures: ratios and counts (seconds only for the cold start
on AWS's runtime client, which has nothing in the same run to divide by)."""

from __future__ import annotations

from pathlib import Path

from coldstart import ColdStart
from common import ADMIN_RPS, LATENCY
from fleet import FleetRun
from lambda_runtime import LambdaColdStart
from rotation import TARGET, Measured


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _calls(detail: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in detail.items()) or "-"


def _single(single: list[Measured], lambda_cold: LambdaColdStart | None) -> list[str]:
    lines = [
        "| path / step | Secrets Manager calls | OpenAI calls | OpenAI round trips on the "
        "critical path | wall ÷ critical-path bound | wall ÷ naive | target ≤ 1.25x naive |",
        "|---|---|---|---|---|---|---|",
    ]
    for measured in single:
        row = measured.row()
        sm = row["sm_note"] or f"{row['sm_calls']} ({_calls(row['sm_detail'])})"
        bound = row["wall_over_bound"]
        naive = row["wall_over_naive"]
        lines.append(
            f"| {row['mode']} | {sm} | {row['openai_calls']} ({_calls(row['openai_detail'])}) "
            f"| {row['critical']} | {f'{bound:.2f}x' if bound else 'n/a (no OpenAI call)'} "
            f"| {f'{naive:.2f}x' if naive else '-'} "
            f"| {_verdict(naive <= TARGET) if naive else '-'} |"
        )
    if lambda_cold is not None and lambda_cold.over_naive is not None:
        ratio = lambda_cold.over_naive
        openai = sum(lambda_cold.openai.values())
        lines.append(
            f"| Lambda, cold container on awslambdaric (four invocations) | as the four steps "
            f"above | {openai} ({_calls(lambda_cold.openai)}) | {lambda_cold.critical} | - "
            f"| {ratio:.2f}x ({lambda_cold.rotator_s:.2f} s vs {lambda_cold.naive_s:.2f} s) "
            f"| {_verdict(ratio <= TARGET)} |"
        )
    return lines


#: Before the ownership proof and key-level lifecycle (issue 9): the last docs/benchmarks.md
#: written before it (commit 3f67bbd; every OpenAI call was sequential, bound = calls x 50 ms)
#: and issue 11's whole-process measure. (path, SM calls, OpenAI calls, round trips, wall s,
#: wall ÷ bound, wall ÷ naive)
BEFORE: dict[str, tuple[str, str, str, str, str, str]] = {
    "local": ("10", "5", "5", "0.33", "1.32x", "-"),
    "fleet path": ("11", "5", "5", "0.35", "1.38x", "-"),
    "Lambda createSecret": ("5", "2", "2", "0.15", "1.45x", "-"),
    "Lambda testSecret": ("2", "1", "1", "0.07", "1.34x", "-"),
    "Lambda finishSecret": ("4", "2", "2", "0.13", "1.26x", "-"),
    "Lambda, four": ("12", "5", "5", "0.34", "1.36x", "-"),  # the sum of the steps above
    "CLI": ("10", "5", "5", "-", "-", "1.5-1.7x"),
    "Lambda, cold": ("12", "5", "5", "-", "-", "1.5-1.7x"),
}


def _before_after(single: list[Measured], lambda_cold: LambdaColdStart | None) -> list[str]:
    lines = [
        "| path | SM calls before → now | OpenAI calls before → now | round trips before → now "
        "| wall (s) before → now | wall ÷ bound before → now | wall ÷ naive before → now |",
        "|---|---|---|---|---|---|---|",
    ]
    for measured in single:
        key = next((k for k in BEFORE if measured.label.startswith(k)), None)
        if key is None:
            continue
        sm, oa, trips, wall, bound, naive = BEFORE[key]
        row = measured.row()
        now_bound = f"{row['wall_over_bound']:.2f}x" if row["wall_over_bound"] else "-"
        now_naive = f"{row['wall_over_naive']:.2f}x" if row["wall_over_naive"] else "-"
        now_sm = "same as local" if row["sm_note"] else row["sm_calls"]
        lines.append(
            f"| {row['mode']} | {sm} → {now_sm} | {oa} → {row['openai_calls']} "
            f"| {trips} → {row['critical']} | {wall} → {row['wall_s']:.2f} "
            f"| {bound} → {now_bound} | {naive} → {now_naive} |"
        )
    if lambda_cold is not None and lambda_cold.over_naive is not None:
        sm, oa, trips, wall, bound, naive = BEFORE["Lambda, cold"]
        steps = next((m for m in single if m.label.startswith("Lambda, four")), None)
        now_sm = sum(steps.sm.values()) if steps is not None else "-"
        lines.append(
            f"| Lambda, cold container (four invocations) | {sm} → {now_sm} | {oa} → "
            f"{sum(lambda_cold.openai.values())} | {trips} → {lambda_cold.critical} "
            f"| {wall} → {lambda_cold.rotator_s:.2f} | - | {naive} → "
            f"{lambda_cold.over_naive:.2f}x |"
        )
    return lines


def _proof_cost(single: list[Measured], lambda_cold: LambdaColdStart | None) -> list[str]:
    local = next((m for m in single if m.label.startswith("local")), None)
    if local is None:
        return []
    wall = local.row()["wall_s"]
    probes = local.openai.get("GET /models", 0)
    return [
        "### Before and after the ownership proof (issue 9)",
        "",
        "Before: a new service account per rotation, no proof (figures from the last run before"
        " issue 9, same machine; the naive ratios are issue 11's measure).",
        "",
        *_before_after(single, lambda_cold),
        "",
        f"Cost of the proof, local rotation: {local.openai_total} OpenAI calls in "
        f"{local.critical} round trips (before: 5 in 5), wall {wall:.2f} s (before 0.33 s, "
        f"{(wall - 0.33) * 1000:+.0f} ms). The proof itself adds one call and no round trip:"
        " its key listing (`GET …/api_keys`) replaces the old account listing and its "
        "`GET /models` probe runs beside it. The rest of the new lifecycle adds the due "
        "entry's `DELETE` in createSecret (run beside the mint: no round trip) and "
        "finishSecret's probe of the new key right before the move (one round trip, 50 ms); "
        f"{probes} `GET /models` in all (proof, test, before the move, revocation check). "
        "Secrets Manager: one more DescribeSecret (the re-describe after the move that "
        "catches a concurrent `rotator recover`).",
        "",
    ]


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
        "*Naive* (`benchmarks/naive.py`): mint on the same account, store, test once, promote,"
        " delete the old key: 3 OpenAI calls in sequence with the same libraries, run "
        "alternately with each path in the same form (in process, whole process, cold "
        "container). *Critical path*: OpenAI round trips waited for in sequence, measured from"
        " the emulator's latency spans (overlapping calls count once); bound = that x "
        f"{LATENCY * 1000:g} ms. Secrets Manager calls get no injected latency, so they only "
        "show in the wall time. Issue 11's target (≤ 1.25x naive) is for whole processes (CLI,"
        " cold Lambda container); the in-process rows show what the calls alone cost.",
        "",
        *_single(single, lambda_cold),
        "",
        *_proof_cost(single, lambda_cold),
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
