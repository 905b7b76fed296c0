"""Benchmark: a cold Lambda start on AWS's runtime client, interpreter start to first response.

Each run starts a fresh ``python3.13 -m awslambdaric handler.lambda_handler`` (build/lambda-rt,
set up by ``make lambda-rt``) in the unzipped ``dist/rotator-lambda.zip``, exactly as
tests/deploy/test_lambda_runtime_client.py does, with a createSecret event already waiting, as
Secrets Manager's first invocation of a cold container. Measured from ``Popen`` to:

* *init*: the runtime's first ``GET /invocation/next`` (interpreter, awslambdaric, handler
  import);
* *first response*: createSecret answered (the above, plus building the Secrets Manager and
  HTTP clients and the step's calls to moto and the emulator, which answer at once here);
* *rotation*: all four steps answered.

Run alone with ``python benchmarks/lambda_runtime.py``; ``make bench`` includes it.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import (  # noqa: E402
    ADMIN_KEY_NAME,
    LATENCY,
    LatencyTrace,
    median,
    openai_calls,
    quiet_servers,
    seed,
)

from rotator.testing.moto_server import MotoServer  # noqa: E402
from rotator.testing.openai_emulator import OpenAIEmulator, OpenAIEmulatorServer  # noqa: E402
from tests.deploy.lambda_runtime import LambdaProcess, RuntimeAPI  # noqa: E402

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
PACKAGE = ROOT / "dist" / "rotator-lambda.zip"
HANDLER = "handler.lambda_handler"


@dataclass(frozen=True)
class LambdaColdStart:
    runs: int
    python: str
    init: float
    first_response: float
    rotation: float
    #: Paired runs with 50 ms per OpenAI call: rotator's whole cold rotation and the naive one.
    rotator_s: float | None = None
    naive_s: float | None = None
    openai: dict[str, int] = field(default_factory=dict)
    critical: int = 0

    @property
    def over_naive(self) -> float | None:
        return self.rotator_s / self.naive_s if self.rotator_s and self.naive_s else None


def _find_python313() -> str | None:
    spec = importlib.util.spec_from_file_location(
        "lambda_runtime_env", ROOT / "scripts" / "lambda_runtime_env.py"
    )
    assert spec is not None  # noqa: S101 - our own file
    assert spec.loader is not None  # noqa: S101
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    python: str | None = module.find_python313()
    return python if python is not None and module.ready(python) else None


def _cold_rotation(
    task: Path, env: dict[str, str], aws: MotoServer, arn: str, handler: str
) -> tuple[float, float, float]:
    """One fresh container rotating ``arn``: seconds to init, first response, four answers."""
    token = aws.seed_pending_version(arn)
    events = [{"Step": s, "SecretId": arn, "ClientRequestToken": token} for s in STEPS]
    with RuntimeAPI() as api:
        first_event = api.submit(events[0])
        with LambdaProcess(task, api, env, handler=handler) as fn:
            if not first_event.done.wait(120):
                raise RuntimeError(f"no first response: {fn.stop()[-2000:]}")
            answers = [first_event, *(api.invoke(e) for e in events[1:])]
            fn.stop()
    if any(a.outcome != "response" for a in answers):
        raise RuntimeError(f"a step failed: {[a.body for a in answers]}")
    return (
        api.first_next_at - fn.started_at,
        first_event.answered_at - fn.started_at,
        answers[-1].answered_at - fn.started_at,
    )


def run(runs: int) -> LambdaColdStart | None:
    """None when there is no python3.13 with awslambdaric (``make lambda-rt``) or no package."""
    python = _find_python313()
    if python is None or not PACKAGE.exists():
        return None
    init, first, whole, rotator_s, naive_s = [], [], [], [], []
    trace = LatencyTrace()
    emulator = OpenAIEmulator(sleep=trace.sleep)
    with (
        tempfile.TemporaryDirectory() as scratch,
        MotoServer() as aws,
        OpenAIEmulatorServer(emulator) as server,
    ):
        task = Path(scratch) / "task"
        with zipfile.ZipFile(PACKAGE) as archive:
            archive.extractall(task)
        shutil.copy(ROOT / "benchmarks" / "naive.py", task / "naive_rotation.py")
        env = {
            **aws.env(),
            "AWS_SESSION_TOKEN": "session-token",
            "ROTATOR_ADMIN_KEY_SECRET_ID": ADMIN_KEY_NAME,
            "OPENAI_BASE_URL": server.base_url,
            "ROTATOR_TEST_TIMEOUT": "90",
            "ROTATOR_GRACE_PERIOD": "0",
            "LOG_LEVEL": "ERROR",
        }
        for index in range(runs):
            seeded = seed(aws, emulator, 1, projects=1, prefix=f"cold{index}/")
            times = _cold_rotation(task, env, aws, seeded.arns[seeded.names[0]], HANDLER)
            init.append(times[0])
            first.append(times[1])
            whole.append(times[2])
        # Against the naive rotation, in the conditions: 50 ms per OpenAI call.
        emulator.latency = LATENCY
        seeded = seed(aws, emulator, 2, projects=1, prefix="paired/")
        ours, theirs = (seeded.arns[name] for name in seeded.names)
        openai: dict[str, int] = {}
        critical = 0
        for _ in range(runs):
            naive_s.append(
                _cold_rotation(task, env, aws, theirs, "naive_rotation.lambda_handler")[2]
            )
            emulator.reset_calls()
            trace.reset()
            rotator_s.append(_cold_rotation(task, env, aws, ours, HANDLER)[2])
            openai = dict(sorted(openai_calls(emulator).items()))
            critical = trace.round_trips()
    return LambdaColdStart(
        runs,
        python,
        median(init),
        median(first),
        median(whole),
        rotator_s=median(rotator_s),
        naive_s=median(naive_s),
        openai=openai,
        critical=critical,
    )


def main() -> int:
    quiet_servers()
    result = run(5)
    if result is None:
        print("no python3.13 with awslambdaric (make lambda-rt) or no dist/rotator-lambda.zip")
        return 1
    print(
        f"{result.python}, median of {result.runs}: init {result.init:.2f} s, "
        f"first response {result.first_response:.2f} s, rotation {result.rotation:.2f} s; "
        f"with {LATENCY * 1000:g} ms per OpenAI call: rotator {result.rotator_s:.2f} s, "
        f"naive {result.naive_s:.2f} s, {result.over_naive:.2f}x; {result.critical} round trips "
        f"on the critical path; {result.openai}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
