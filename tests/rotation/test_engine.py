"""The four steps against the in-memory store and the OpenAI emulator (MockTransport)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from rotator.domain.naming import service_account_name
from rotator.domain.protocol import Step
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    CleanupError,
    KeyTestFailedError,
    ResponseLostError,
    RotationFailure,
    StageConflictError,
    VersionConflictError,
)
from rotator.rotation.local import rotate_locally
from tests.rotation.conftest import World, make_world


def new_token() -> str:
    return str(uuid.uuid4())


def run_lambda_rotation(world: World, token: str, **policy: object) -> None:
    """Drive the four steps as Secrets Manager does for one token."""
    engine = world.engine(require_rotation_enabled=True, **policy)
    for step in Step:
        engine.run_step(world.event(step, token))


def start_lambda_rotation(world: World) -> str:
    world.store.enable_rotation(world.arn, "arn:aws:lambda:us-east-1:123456789012:function:r")
    return world.store.start_rotation(world.arn)


def test_local_rotation_replaces_the_key_and_deletes_the_old_one(world: World) -> None:
    """GIVEN a seeded secret WHEN rotated locally THEN a new working key is AWSCURRENT."""
    report = rotate_locally(world.engine(), world.arn)
    current = world.current()
    assert report.status == "rotated"
    assert current["key_id"] == report.key_id != world.seeded_key_id
    assert world.emulator.key_works(current["api_key"])
    assert not world.emulator.key_works(world.seeded_value)
    assert report.previous_key_id == world.seeded_key_id
    assert report.previous_key_deleted
    assert world.accounts() == [current["service_account_id"]]
    assert current["rotated_at"].endswith("Z")
    stages = world.store.versions(world.arn)
    assert stages[report.version_id] == frozenset({"AWSCURRENT"})
    assert "AWSPREVIOUS" in next(s for v, s in stages.items() if v != report.version_id)


def test_lambda_rotation_runs_the_four_steps_on_the_pending_version(world: World) -> None:
    """A RotateSecret-made empty AWSPENDING version is filled, tested and promoted."""
    token = start_lambda_rotation(world)
    run_lambda_rotation(world, token)
    assert world.store.versions(world.arn)[token] >= {"AWSCURRENT"}
    assert world.emulator.key_works(world.current()["api_key"])
    assert not world.emulator.key_works(world.seeded_value)


def test_unknown_fields_survive_and_the_replaced_key_is_recorded() -> None:
    """Extra fields are carried forward; the replaced key is listed as retiring."""
    from tests.rotation.conftest import make_world

    world = make_world(extra={"team": "payments", "tier": 1})
    rotate_locally(world.engine(), world.arn)
    current = world.current()
    assert current["team"] == "payments"
    assert current["tier"] == 1
    assert [e["key_id"] for e in current["retiring"]] == [world.seeded_key_id]


@pytest.mark.parametrize("step", list(Step))
def test_every_step_can_be_rerun_with_the_same_token(world: World, step: Step) -> None:
    """Running any step twice gives the same end state as running it once."""
    token = start_lambda_rotation(world)
    engine = world.engine(require_rotation_enabled=True)
    for each in Step:
        engine.run_step(world.event(each, token))
        if each is step:
            engine.run_step(world.event(each, token))
    current = world.current()
    assert world.store.versions(world.arn)[token] >= {"AWSCURRENT"}
    assert world.accounts() == [current["service_account_id"]]
    assert world.emulator.key_works(current["api_key"])


def test_rerun_after_crash_between_create_and_put_leaves_no_orphan(world: World) -> None:
    """A key minted before a failed put is deleted by the retry, which mints a fresh one."""
    token = start_lambda_rotation(world)
    engine = world.engine(require_rotation_enabled=True)

    def fail_put(operation: str, _secret: str) -> None:
        if operation == "PutSecretValue":
            world.store.before_call = None
            raise ResponseLostError("simulated crash before the put")

    world.store.before_call = fail_put
    with pytest.raises(ResponseLostError):
        engine.run_step(world.event(Step.CREATE, token))
    assert len(world.emulator.keys(world.project_id)) == 2  # the orphan and the seeded key
    run_lambda_rotation(world, token)
    assert world.accounts() == [world.current()["service_account_id"]]
    assert [k.id for k in world.emulator.keys(world.project_id)] == [world.current()["key_id"]]


def test_lost_create_response_is_reconciled_by_name(world: World) -> None:
    """When the create's answer is lost, the retry deletes that key and mints a fresh one."""
    token = start_lambda_rotation(world)
    world.emulator.inject("POST", r"/service_accounts/[^/]+/api_keys$", "drop_after")
    engine = world.engine(require_rotation_enabled=True)
    with pytest.raises(ResponseLostError):
        engine.run_step(world.event(Step.CREATE, token))
    orphan = [
        k
        for k in world.emulator.keys(world.project_id)
        if k.name == service_account_name(world.arn, token)
    ]
    assert len(orphan) == 1
    run_lambda_rotation(world, token)
    assert world.accounts() == [world.current()["service_account_id"]]
    assert world.emulator.key(orphan[0].id) is None


def test_failed_test_leaves_awscurrent_untouched_and_rolls_back(world: World) -> None:
    """A key that never works is not promoted; a local rotation deletes it and AWSPENDING."""
    world.emulator.propagation_delay = 3600
    before = world.snapshot()
    with pytest.raises(RotationFailure) as caught:
        rotate_locally(world.engine(test_timeout=5), world.arn)
    assert isinstance(caught.value.cause, KeyTestFailedError)
    assert caught.value.report.step == "testSecret"
    assert "rolled back" in caught.value.report.error
    assert world.snapshot()[1:] == before[1:]
    assert world.emulator.key_works(world.seeded_value)
    assert all("AWSPENDING" not in s for s in world.store.versions(world.arn).values())


def test_new_key_that_propagates_slowly_is_waited_for(world: World) -> None:
    """A 401 during propagation is retried until the key answers, within the deadline."""
    world.emulator.propagation_delay = 4
    report = rotate_locally(world.engine(test_timeout=30), world.arn)
    assert report.status == "rotated"


def test_test_only_mode_checks_the_current_key(world: World) -> None:
    """testSecret with an empty pending version (RotateImmediately=false) tests AWSCURRENT."""
    token = start_lambda_rotation(world)
    result = world.engine(require_rotation_enabled=True).run_step(world.event(Step.TEST, token))
    assert result.outcome == "tested_current_key"
    assert world.accounts() == [world.seeded_account]


def test_finish_rerun_after_the_label_moved_still_deletes_the_old_key(world: World) -> None:
    """If the old key's delete failed after promotion, re-running finish deletes it."""
    token = start_lambda_rotation(world)
    engine = world.engine(require_rotation_enabled=True)
    for step in (Step.CREATE, Step.SET, Step.TEST):
        engine.run_step(world.event(step, token))
    world.emulator.inject("DELETE", r"/api_keys/", "status", status=500, times=100)
    with pytest.raises(CleanupError, match=world.seeded_key_id):
        engine.run_step(world.event(Step.FINISH, token))
    assert "AWSCURRENT" in world.store.versions(world.arn)[token]
    assert world.emulator.key_works(world.seeded_value)  # not forgotten: still recorded
    world.emulator.clear_faults()
    result = engine.run_step(world.event(Step.FINISH, token))
    assert result.outcome == "cleaned_up"
    assert not world.emulator.key_works(world.seeded_value)
    assert world.emulator.key_works(world.current()["api_key"])


def test_finish_refuses_when_another_rotation_promoted_first(world: World) -> None:
    """The compare-and-swap on AWSCURRENT: a stale rotation is not promoted."""
    engine = world.engine()
    token = new_token()
    engine.run_step(world.event(Step.CREATE, token), token_may_be_new=True)
    world.store.move_stage(world.arn, "AWSPENDING", to_version=None, from_version=token)
    rotate_locally(engine, world.arn)
    winner = world.current()
    world.store.move_stage(world.arn, "AWSPENDING", to_version=token, from_version=None)
    with pytest.raises(StageConflictError, match="another rotation promoted"):
        engine.run_step(world.event(Step.FINISH, token))
    assert world.current() == winner
    assert world.emulator.key_works(winner["api_key"])


def test_put_that_loses_a_race_deletes_its_own_key(world: World) -> None:
    """If another attempt stored this token's version first, our new key is deleted."""
    token = start_lambda_rotation(world)
    engine = world.engine(require_rotation_enabled=True)
    other = world.engine(require_rotation_enabled=True)

    def race(operation: str, _secret: str) -> None:
        if operation == "PutSecretValue" and world.store.before_call is race:
            world.store.before_call = None
            other.run_step(world.event(Step.CREATE, token))

    world.store.before_call = race
    # The racing attempt deletes our orphan by name first, so ours finds itself refused.
    try:
        result = engine.run_step(world.event(Step.CREATE, token))
    except VersionConflictError:
        result = None
    pending = world.value_at(token)
    assert pending is not None
    assert world.accounts() == [world.seeded_account]
    live = sorted(k.id for k in world.emulator.keys(world.project_id))
    assert live == sorted([world.seeded_key_id, pending["key_id"]])
    if result is not None:
        assert result.key_id == pending["key_id"]


def test_grace_period_keeps_the_old_key_until_it_is_due(world: World) -> None:
    """With a grace period the old key stays live and is deleted by a later rotation."""
    engine = world.engine(grace_period=timedelta(hours=1))
    first = rotate_locally(engine, world.arn)
    assert not first.previous_key_deleted
    assert world.emulator.key_works(world.seeded_value)
    world.advance(3601)
    rotate_locally(engine, world.arn)
    assert not world.emulator.key_works(world.seeded_value)
    # OpenAI ended the seeded key when its hour was up; the second rotation's DELETE of that
    # exact key answered, so the entry is dropped.
    assert [e["key_id"] for e in world.current()["retiring"]] == [first.key_id]
    world.advance(3601)
    rotate_locally(engine, world.arn)
    assert world.seeded_key_id not in [e["key_id"] for e in world.current()["retiring"]]


def test_never_deletes_the_key_that_is_current(world: World) -> None:
    """A retiring entry naming the current service account is skipped, not deleted."""
    rotate_locally(world.engine(), world.arn)
    rotate_locally(world.engine(), world.arn)
    current = world.current()
    assert world.emulator.key_works(current["api_key"])
    assert world.accounts() == [current["service_account_id"]]


def test_old_api_refusing_key_delete_falls_back_to_service_account() -> None:
    """Older API: DELETE api_keys/{id} of a service-account key is 400; the account is deleted."""
    from tests.rotation.conftest import make_world

    world = make_world()
    world.emulator.delete_service_account_keys = "refuse"
    rotate_locally(world.engine(), world.arn)
    assert not world.emulator.key_works(world.seeded_value)


def test_retiring_list_too_long_until_the_due_entries_are_retired_still_rotates() -> None:
    """GIVEN a retiring list whose next value fits in 64 KiB only once its due entries are gone,
    WHEN the secret is rotated, THEN they are retired first and the rotation succeeds."""

    def compact(value: object) -> str:
        return json.dumps(value, separators=(",", ":"))

    world = make_world()
    try:
        value = world.current()
        value["retiring"] = []
        while len(compact(value)) < 65_536 - 100:
            value["retiring"].append(
                {
                    "key_id": f"key_gone{len(value['retiring']):04d}",
                    "not_after": "2000-01-01T00:00:00Z",
                }
            )
        # Stored as rotator stores it (compact): it fits today; with the key it replaces added
        # as one more entry it would not.
        (current_id,) = world.store.describe(world.arn).versions
        token = new_token()
        world.store.put_pending(world.arn, token, Sensitive(compact(value)))
        world.store.move_stage(world.arn, "AWSCURRENT", to_version=token, from_version=current_id)
        world.store.move_stage(world.arn, "AWSPENDING", to_version=None, from_version=token)
        result = rotate_locally(world.engine(), world.arn)
        assert result.key_id == world.current()["key_id"]
        assert [e["key_id"] for e in world.current()["retiring"]] == [world.seeded_key_id]
    finally:
        world.http.close()
