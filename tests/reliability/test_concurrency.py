"""Concurrent rotations of one secret: one wins at a time, the others stop cleanly.

Forced interleavings run against the in-memory store (AWS's real label semantics) through its
``before_call`` seam; real threads run against moto's server. moto departs from AWS here
(reference §4.2): C2 (a token's value may be replaced), E2 (two versions may carry AWSPENDING
when it is moved without ``RemoveFromVersionId``), H1/H2 (RotateSecret's "in progress" check is
inverted). rotator never moves AWSPENDING without ``RemoveFromVersionId`` and never reuses a
token, and ``seed_pending_version`` makes the AWS check itself, so those gaps do not decide the
outcome; moto does honour the compare-and-swap on ``RemoveFromVersionId`` for AWSCURRENT, and a
PutSecretValue with ``VersionStages=[AWSPENDING]`` takes the label from any other version, as
AWS does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from rotator.adapters.secretsmanager import SecretsManagerStore
from rotator.app import Mode, build_app
from rotator.clock import Clock
from rotator.config import Settings
from rotator.domain.models import AWSCURRENT, AWSPENDING
from rotator.domain.protocol import RotationEvent, Step
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    RotationFailure,
    RotationInProgressError,
    RotatorError,
    StageConflictError,
)
from rotator.rotation.engine import RotationEngine
from rotator.rotation.local import rotate_locally
from rotator.testing.moto_server import MotoServer
from rotator.testing.openai_emulator import OpenAIEmulator
from tests.reliability import harness, recovery
from tests.rotation.conftest import World

WAIT = 10.0  # seconds any gate may block: bounded, never reached when the test is right


def clear_error(error: BaseException) -> bool:
    """A loser's error says another rotation is in the way."""
    cause = error.cause if isinstance(error, RotationFailure) else error
    text = str(error)
    return isinstance(cause, RotationInProgressError | StageConflictError) or (
        "another rotation" in text
    )


def lambda_steps(world: World, token: str, steps: tuple[Step, ...] = tuple(Step)) -> None:
    engine = world.engine(require_rotation_enabled=True)
    for step in steps:
        engine.run_step(world.event(step, token))


def assert_end_state(world: World) -> None:
    assert harness.current_key_works(world)
    assert harness.final_problems(world) == []


# -- forced interleavings on the in-memory store ----------------------------------------------


def hook_once(world: World, operation: str, action: Callable[[], None], skip: int = 0) -> None:
    """Run ``action`` (in this thread) just before the ``skip+1``-th ``operation`` call."""
    seen = {"n": 0}

    def hook(op: str, _secret: str) -> None:
        if op != operation or world.store.before_call is not hook:
            return
        seen["n"] += 1
        if seen["n"] > skip:
            world.store.before_call = None
            action()

    world.store.before_call = hook


def test_rotation_started_during_another_stops_with_rotation_in_progress(world: World) -> None:
    """A local and a Lambda-style rotation started while one is pending both refuse at once."""
    refused: list[BaseException] = []
    accounts_before: list[str] = []

    def others() -> None:
        accounts_before.extend(world.accounts())
        with pytest.raises(RotationInProgressError, match="another rotation") as local:
            rotate_locally(world.engine(), world.arn)
        world.store.enable_rotation(world.arn, harness.LAMBDA_ARN)
        with pytest.raises(RotationInProgressError, match="isn't complete") as remote:
            world.store.start_rotation(world.arn)
        refused.extend([local.value, remote.value])
        assert world.accounts() == accounts_before  # they made nothing

    hook_once(world, "DescribeSecret", others, skip=2)  # start, createSecret, then setSecret
    report = rotate_locally(world.engine(), world.arn)
    assert report.status == "rotated"
    assert len(refused) == 2
    assert_end_state(world)


def test_rotation_that_loses_the_promotion_rolls_back_its_key(world: World) -> None:
    """B rotates fully while A is about to store its key: A's finish loses the CAS, A rolls back."""
    winner: list[str] = []
    hook_once(
        world,
        "PutSecretValue",
        lambda: winner.append(rotate_locally(world.engine(), world.arn).key_id or ""),
    )
    with pytest.raises(RotationFailure, match="another rotation promoted") as lost:
        rotate_locally(world.engine(), world.arn)
    assert "rolled back" in str(lost.value.report.error)
    assert world.current()["key_id"] == winner[0]
    assert_end_state(world)


def race_two_puts(world: World) -> dict[str, object]:
    """A and B pass the in-progress check; A puts, B puts (taking AWSPENDING), A goes on."""
    gates = {name: threading.Event() for name in ("b_at_put", "a_put_done", "b_put_done")}
    seen: dict[str, list[str]] = {"A": [], "B": []}

    def hook(operation: str, _secret: str) -> None:
        me = threading.current_thread().name
        if me not in seen:
            return
        calls = seen[me]
        calls.append(operation)
        put_at = calls.index("PutSecretValue") if "PutSecretValue" in calls else None
        if me == "A" and operation == "PutSecretValue":
            assert gates["b_at_put"].wait(WAIT)
        elif me == "A" and put_at is not None and len(calls) == put_at + 2:
            gates["a_put_done"].set()
            assert gates["b_put_done"].wait(WAIT)
        elif me == "B" and operation == "PutSecretValue":
            gates["b_at_put"].set()
            assert gates["a_put_done"].wait(WAIT)
        elif me == "B" and put_at is not None:
            gates["b_put_done"].set()

    world.store.before_call = hook
    results: dict[str, object] = {}

    def rotate(name: str) -> None:
        try:
            results[name] = rotate_locally(world.engine(), world.arn)
        except RotatorError as error:
            results[name] = error

    threads = [threading.Thread(target=rotate, args=(n,), name=n) for n in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    world.store.before_call = None
    return results


def test_second_put_takes_awspending_and_the_first_rotation_cleans_up(world: World) -> None:
    """Two rotations pass the in-progress check; the later put wins; the other rolls back."""
    results = race_two_puts(world)
    assert isinstance(results["A"], RotationFailure), results
    assert "deleted" in str(results["A"])  # its key: by the step that saw it lost, or rollback
    assert getattr(results["B"], "status", None) == "rotated"
    assert_end_state(world)


def test_rotation_that_lost_awspending_says_another_rotation_took_it(world: World) -> None:
    """The loser of the put race names the other rotation as the cause."""
    results = race_two_puts(world)
    assert isinstance(results["A"], RotationFailure), results
    assert clear_error(results["A"]), results["A"]


def test_lambda_rotation_overtaken_by_a_local_one_cleans_up_its_account(world: World) -> None:
    """A local rotation that passed its check before RotateSecret takes AWSPENDING at its put."""
    world.store.enable_rotation(world.arn, harness.LAMBDA_ARN)
    token: list[str] = []

    def lambda_creates() -> None:
        token.append(world.store.start_rotation(world.arn))
        lambda_steps(world, token[0], (Step.CREATE,))

    hook_once(world, "PutSecretValue", lambda_creates)
    report = rotate_locally(world.engine(), world.arn)
    assert report.status == "rotated"
    with pytest.raises(RotatorError):
        lambda_steps(world, token[0], (Step.SET, Step.TEST, Step.FINISH))
    assert harness.current_key_works(world)
    assert harness.orphans(world) == []


def test_lambda_rotation_overtaken_leaves_nothing_after_a_prune(world: World) -> None:
    """Whatever the overtaken Lambda rotation left is removed by `rotator prune`."""
    world.store.enable_rotation(world.arn, harness.LAMBDA_ARN)
    token: list[str] = []

    def lambda_creates() -> None:
        token.append(world.store.start_rotation(world.arn))
        lambda_steps(world, token[0], (Step.CREATE,))

    hook_once(world, "PutSecretValue", lambda_creates)
    rotate_locally(world.engine(), world.arn)
    with pytest.raises(RotatorError):
        lambda_steps(world, token[0], (Step.SET,))
    recovery.prune(world.engine(), world.arn)
    assert_end_state(world)


# -- real threads against moto's server -------------------------------------------------------


def moto_engine(
    server: MotoServer, emulator: OpenAIEmulator, *, mode: Mode
) -> tuple[RotationEngine, httpx.Client]:
    """An engine wired by build_app (one process's) over moto's server and the emulator."""
    http = httpx.Client(transport=emulator.transport())
    settings = Settings(
        openai_base_url="http://127.0.0.1:9/v1",
        admin_key_secret_id="openai/admin",
        test_timeout=5.0,
        revocation_timeout=2.0,
        orphan_margin=timedelta(minutes=15),
    )
    app = build_app(
        settings,
        mode=mode,
        store=SecretsManagerStore(server.client()),
        http=http,
        clock=Clock(rng=lambda: 0.5),
    )
    return app.engine, http


K = 4


def seed_moto(server: MotoServer, emulator: OpenAIEmulator) -> tuple[str, set[str]]:
    """A fresh secret on moto with a working key; its ARN and the key values to watch for."""
    server.reset()
    project_id = emulator.add_project(name="race")
    admin_key = emulator.add_admin_key()
    seeded = emulator.add_service_account(project_id, "app")
    store = SecretsManagerStore(server.client())
    store.create_secret("openai/admin", Sensitive(json.dumps({"admin_key": admin_key})))
    value = {
        "api_key": seeded.value,
        "project_id": project_id,
        "service_account_id": seeded.service_account_id,
        "key_id": seeded.key_id,
        "admin_key_secret_id": "openai/admin",
    }
    return store.create_secret("openai/race", Sensitive(json.dumps(value))), {
        seeded.value,
        admin_key,
    }


def run_race(server: MotoServer, emulator: OpenAIEmulator, arn: str) -> dict[str, Any]:
    """K local rotations and one Lambda-style rotation, released at once; each one's result."""
    barrier = threading.Barrier(K + 1, timeout=WAIT)
    results: dict[str, Any] = {}

    def local(name: str) -> None:
        engine, http = moto_engine(server, emulator, mode=Mode.CLI)
        try:
            barrier.wait()
            results[name] = rotate_locally(engine, arn)
        except RotatorError as error:
            results[name] = error
        finally:
            http.close()

    def remote() -> None:
        engine, http = moto_engine(server, emulator, mode=Mode.LAMBDA)
        try:
            barrier.wait()
            token = server.seed_pending_version(arn)
            for step in Step:
                engine.run_step(RotationEvent(step=step, secret_id=arn, token=token))
            results["lambda"] = token
        except RotatorError as error:
            results["lambda"] = error
        finally:
            http.close()

    threads = [threading.Thread(target=local, args=(f"local{i}",)) for i in range(K)]
    threads.append(threading.Thread(target=remote))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_concurrent_rotations_on_moto_have_one_winner_at_a_time(moto_server: MotoServer) -> None:
    """K local rotations and one Lambda-style rotation at once: a chain of winners, no leftovers."""
    emulator = OpenAIEmulator()
    arn, keys = seed_moto(moto_server, emulator)
    store = SecretsManagerStore(moto_server.client())
    first_version = next(iter(store.describe(arn).versions))
    results = run_race(moto_server, emulator, arn)
    assert len(results) == K + 1
    failures = [r for r in results.values() if isinstance(r, BaseException)]
    assert len(failures) < K + 1, results
    for failure in failures:
        assert clear_error(failure), failure
        assert "\n" not in str(failure)
    for name, loser in results.items():
        if name != "lambda" and isinstance(loser, BaseException):
            assert "rolled back" in str(loser) or isinstance(loser, RotationInProgressError)
    # Each promoted version replaced a different one: a linear chain, never two at once.
    described = store.describe(arn).versions
    replaced: list[str] = []
    for version_id in described:
        raw = store.get_value(arn, version_id=version_id)
        data = json.loads(raw.reveal()) if raw is not None else {}
        keys.add(data.get("api_key", ""))
        if data.get("retiring") and version_id != first_version:
            replaced.append(data["retiring"][-1]["version_id"])
    assert len(replaced) == len(set(replaced)), "two rotations replaced the same version"
    current = json.loads((store.get_value(arn, stage=AWSCURRENT) or Sensitive("{}")).reveal())
    assert emulator.key_works(current["api_key"])
    project = current["project_id"]
    live = {a.id for a in emulator.service_accounts(project)}
    assert live == {current["service_account_id"]}
    assert emulator.live_key_ids(project) >= {current["key_id"]}
    pending = [v for v, s in described.items() if AWSPENDING in s]
    assert all(AWSCURRENT in described[v] for v in pending)
    for name, result in results.items():
        for key in keys - {""}:
            assert key not in str(result), name
