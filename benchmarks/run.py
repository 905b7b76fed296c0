"""`make bench`: run the benchmark suite and write docs/benchmarks.md.

Needs the dev extras (moto, the emulator). Servers bind 127.0.0.1 only. Takes about nine
minutes on 2 cores; most of it is the fleet runs, which the admin rate limit paces.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lambda"))

import adaptive  # noqa: E402 - after lambda/ is on sys.path
import coldstart  # noqa: E402
import discovery  # noqa: E402
import fleet  # noqa: E402
import lambda_runtime  # noqa: E402
import rotation  # noqa: E402
from common import ADMIN_RPS, LATENCY, LatencyTrace, quiet_servers, seed  # noqa: E402
from report import write_report  # noqa: E402

from rotator import log  # noqa: E402
from rotator.testing.moto_server import MotoServer  # noqa: E402
from rotator.testing.openai_emulator import OpenAIEmulator, OpenAIEmulatorServer  # noqa: E402

FLEET = int(os.environ.get("BENCH_FLEET", "200"))
LEARNT_FLEET = int(os.environ.get("BENCH_LEARNT_FLEET", "200"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
DISCOVERY = int(os.environ.get("BENCH_DISCOVERY", "1000"))
PROJECTS = 4


def main() -> int:
    started = time.perf_counter()
    cpus = os.cpu_count() or 0
    print(f"CPUs: {cpus}; emulator latency {LATENCY * 1000:g} ms; admin limit {ADMIN_RPS:g}/s")
    quiet_servers()
    log.configure(json=True, level="ERROR")  # the handler's step lines would drown the figures
    print("3. cold start ...", flush=True)
    cold = coldstart.run(RUNS + 2)
    print("5. cold start on awslambdaric ...", flush=True)
    lambda_cold = lambda_runtime.run(RUNS)
    trace = LatencyTrace()
    emulator = OpenAIEmulator(sleep=trace.sleep)
    with MotoServer() as aws, OpenAIEmulatorServer(emulator) as server:
        aws.reset()  # moto's backends are per process: drop the admin key seeded for section 5
        print("1. one rotation ...", flush=True)
        single = rotation.run(aws, emulator, trace, server.base_url, RUNS)
        print(f"2. fleet of {FLEET} ...", flush=True)
        seeded = seed(aws, emulator, FLEET, projects=PROJECTS, prefix="fleet/")
        runs = []
        for concurrency in (1, 8, 32):
            runs.append(
                fleet.rotate_all(
                    aws,
                    emulator,
                    server.base_url,
                    seeded,
                    prefix="fleet/",
                    concurrency=concurrency,
                    max_rps=ADMIN_RPS,
                )
            )
            print(f"   concurrency {concurrency}: {runs[-1].per_second:.2f}/s", flush=True)
        if LEARNT_FLEET:
            learnt = seed(aws, emulator, LEARNT_FLEET, projects=PROJECTS, prefix="learnt/")
            runs.append(
                fleet.rotate_all(
                    aws,
                    emulator,
                    server.base_url,
                    learnt,
                    prefix="learnt/",
                    concurrency=8,
                    max_rps=None,
                )
            )
        print("5. adaptive budget: sporadic 429s, a day-long Retry-After ...", flush=True)
        sporadic = adaptive.sporadic(aws, emulator, server.base_url, 3)
        day = adaptive.day_long(aws, emulator, server.base_url)
    print(f"6. fleet discovery: status --all over {DISCOVERY:,} secrets ...", flush=True)
    discovered = discovery.run(DISCOVERY)
    package = ROOT / "dist" / "rotator-lambda.zip"
    size = package.stat().st_size if package.exists() else None
    text = write_report(
        ROOT / "docs" / "benchmarks.md",
        cpus=cpus,
        runs=RUNS,
        single=single,
        fleet_runs=runs,
        cold=cold,
        package_size=size,
        seconds=time.perf_counter() - started,
        lambda_cold=lambda_cold,
        adaptive=adaptive.report(sporadic, day),
        discovery=discovery.report(discovered),
    )
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
