"""Answers lost or late at the AWS side: a put that was not seen, a stage move that was done."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rotator.domain.protocol import Step
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    KeyTestFailedError,
    RotationFailure,
    RotationInProgressError,
    SecretFormatError,
    StageConflictError,
)
from rotator.rotation.local import rotate_locally
from rotator.testing.memory_store import InMemorySecretStore
from tests.rotation.conftest import World, make_world


class _MissOnce(InMemorySecretStore):
    """Eventual consistency: the next AWSPENDING read of a version returns nothing."""

    miss_pending = False

    def get_value(self, secret_id: str, **kwargs: Any) -> Sensitive | None:
        if self.miss_pending and kwargs.get("stage") == "AWSPENDING":
            self.miss_pending = False
            return None
        return super().get_value(secret_id, **kwargs)


class _MoveAnswerLost(InMemorySecretStore):
    """UpdateSecretVersionStage takes effect, its answer is lost, the retry is refused."""

    lose_next_move = False

    def move_stage(self, secret_id: str, stage: str, **kwargs: Any) -> None:
        super().move_stage(secret_id, stage, **kwargs)
        if self.lose_next_move and stage == "AWSCURRENT":
            self.lose_next_move = False
            raise StageConflictError("AWSCURRENT is not on the version to remove it from")


def test_a_put_whose_answer_was_not_seen_is_not_undone_by_the_retry() -> None:
    """L10: GIVEN createSecret stored its key WHEN the retry's AWSPENDING read misses
    THEN the stored key is kept (not deleted as a stray) and the rotation completes with it."""
    world = make_world(store_type=_MissOnce)
    store = world.store
    assert isinstance(store, _MissOnce)
    world.store.enable_rotation(world.arn, "arn:aws:lambda:us-east-1:123456789012:function:r")
    token = world.store.start_rotation(world.arn)
    engine = world.engine(require_rotation_enabled=True)
    first = engine.run_step(world.event(Step.CREATE, token))
    store.miss_pending = True
    again = engine.run_step(world.event(Step.CREATE, token))
    assert again.outcome == "already_created"
    assert again.key_id == first.key_id
    pending = world.value_at(token)
    assert pending is not None
    assert world.emulator.key_works(pending["api_key"])
    for step in (Step.SET, Step.TEST, Step.FINISH):
        engine.run_step(world.event(step, token))
    assert world.current()["key_id"] == first.key_id


def test_a_promotion_whose_answer_was_lost_is_recognised_as_done() -> None:
    """L11: the stage move happened, the retried call was refused: finishSecret carries on,
    retires the old key and reports the promotion."""
    world = make_world(store_type=_MoveAnswerLost)
    store = world.store
    assert isinstance(store, _MoveAnswerLost)
    world.store.enable_rotation(world.arn, "arn:aws:lambda:us-east-1:123456789012:function:r")
    token = world.store.start_rotation(world.arn)
    engine = world.engine(require_rotation_enabled=True)
    for step in (Step.CREATE, Step.SET, Step.TEST):
        engine.run_step(world.event(step, token))
    store.lose_next_move = True
    result = engine.run_step(world.event(Step.FINISH, token))
    assert result.outcome == "promoted"
    assert "AWSCURRENT" in world.store.versions(world.arn)[token]
    assert not world.emulator.key_works(world.seeded_value)


def test_finish_never_promotes_a_pending_key_that_stopped_working(world: World) -> None:
    """L7/M4: the pending key is probed right before the move; a dead key is not promoted and
    the working key stays AWSCURRENT."""
    world.store.enable_rotation(world.arn, "arn:aws:lambda:us-east-1:123456789012:function:r")
    token = world.store.start_rotation(world.arn)
    engine = world.engine(require_rotation_enabled=True)
    for step in (Step.CREATE, Step.SET, Step.TEST):
        engine.run_step(world.event(step, token))
    pending = world.value_at(token)
    assert pending is not None
    world.emulator.revoke_key(pending["key_id"])
    with pytest.raises(KeyTestFailedError, match="was not promoted"):
        engine.run_step(world.event(Step.FINISH, token))
    assert world.current()["key_id"] == world.seeded_key_id
    assert world.emulator.key_works(world.seeded_value)


def test_awspending_removed_during_the_promotion_moves_awscurrent_back(world: World) -> None:
    """M4: `rotator recover` removes AWSPENDING between finishSecret's guard and its move:
    the move is undone with a compare-and-swap, and the working key stays current."""
    world.store.enable_rotation(world.arn, "arn:aws:lambda:us-east-1:123456789012:function:r")
    token = world.store.start_rotation(world.arn)
    engine = world.engine(require_rotation_enabled=True)
    for step in (Step.CREATE, Step.SET, Step.TEST):
        engine.run_step(world.event(step, token))

    def recover_meanwhile(operation: str, _secret: str) -> None:
        if operation == "UpdateSecretVersionStage":
            world.store.before_call = None
            world.store.move_stage(world.arn, "AWSPENDING", to_version=None, from_version=token)

    world.store.before_call = recover_meanwhile
    with pytest.raises(RotationInProgressError, match="moved back"):
        engine.run_step(world.event(Step.FINISH, token))
    assert world.current()["key_id"] == world.seeded_key_id
    assert world.emulator.key_works(world.seeded_value)


def test_a_retiring_list_too_long_to_store_is_refused_before_any_key_is_minted(
    world: World,
) -> None:
    """L5: the next value must fit in 64 KiB; the check runs before the create."""
    entries: list[dict[str, str]] = []
    value = world.current()
    while len(json.dumps({**value, "retiring": entries}, separators=(",", ":"))) < 65536 - 60:
        entries.append({"key_id": f"key_{len(entries):06d}", "not_after": "2099-01-01T00:00:00Z"})
    value = {**value, "retiring": entries[:-1]}
    world.store.put_current(world.arn, Sensitive(json.dumps(value, separators=(",", ":"))))
    keys_before = world.emulator.live_key_ids(world.project_id)
    with pytest.raises(RotationFailure, match="prune") as caught:
        rotate_locally(world.engine(), world.arn)
    assert isinstance(caught.value.cause, SecretFormatError)
    assert world.emulator.live_key_ids(world.project_id) == keys_before
