"""A secret's value is input, not authority: forged retiring entries, pending values and copies.

Each test is a way someone who can only write a rotated secret tried to steer the admin key
(the independent review of the key lifecycle, 2026-12); each must change nothing it cannot
prove belongs to the secret.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from rotator.domain.durations import MIN_SAFE_AGE
from rotator.domain.naming import rotation_name
from rotator.domain.protocol import Step
from rotator.domain.sensitive import Sensitive
from rotator.errors import OwnershipError, RotationFailure
from rotator.rotation.local import rotate_locally
from rotator.rotation.maintenance import apply_plan, plan_prune, plan_recover
from tests.rotation.conftest import World, make_world


def put_current(world: World, **changes: Any) -> None:
    value = {**world.current(), **changes}
    world.store.put_current(world.arn, Sensitive(json.dumps(value)))


def _victim(world: World, project: str | None = None) -> Any:
    """Another workload's key: on its own account, or on the secret's own account."""
    if project is None:
        return world.emulator.add_service_account_key(world.project_id, world.seeded_account)
    return world.emulator.add_service_account(project, "prod-api")


@pytest.mark.parametrize("grace", [timedelta(0), timedelta(hours=1)], ids=["due", "in-grace"])
@pytest.mark.parametrize("where", ["same-account", "other-project"])
def test_a_forged_retiring_entry_is_never_acted_on(
    world: World, grace: timedelta, where: str
) -> None:
    """GIVEN a writer adds another workload's key to `retiring` (due, or still in its grace)
    WHEN the secret is rotated THEN that key keeps working and stays recorded with a reason."""
    other_project = world.emulator.add_project(name="prod") if where == "other-project" else None
    victim = _victim(world, other_project)
    not_after = "2000-01-01T00:00:00Z" if grace == timedelta(0) else "2099-01-01T00:00:00Z"
    entry = {"key_id": victim.key_id, "not_after": not_after}
    if other_project:
        entry["project_id"] = other_project
    put_current(world, retiring=[entry])
    engine = world.engine(grace_period=grace, allowed_project_ids=frozenset({world.project_id}))
    rotate_locally(engine, world.arn)
    world.advance(2 * 3600)
    assert world.emulator.key_works(victim.value)
    kept = {e["key_id"]: e for e in world.current()["retiring"]}
    assert victim.key_id in kept
    assert kept[victim.key_id].get("reason")


def test_prune_never_deletes_a_forged_due_entry(world: World) -> None:
    """The scheduled prune proves entries too: another workload's key listed as due stays."""
    victim = _victim(world)
    put_current(world, retiring=[{"key_id": victim.key_id, "not_after": "2000-01-01T00:00:00Z"}])
    engine = world.engine()
    plan = plan_prune(engine.ctx, world.arn)
    assert victim.key_id not in [a.target for a in plan.actions]
    assert any(victim.key_id in note for note in plan.notes)
    apply_plan(engine.ctx, plan)
    assert world.emulator.key_works(victim.value)


def test_prune_refuses_a_project_outside_the_allow_list(world: World) -> None:
    """A value naming another project is refused by prune before any OpenAI call."""
    engine = world.engine(allowed_project_ids=frozenset({"proj_other"}))
    world.emulator.reset_calls()
    with pytest.raises(OwnershipError, match="ROTATOR_ALLOWED_PROJECT_IDS"):
        plan_prune(engine.ctx, world.arn)
    assert world.emulator.calls == []


def test_recover_never_deletes_an_account_a_forged_pending_value_names(world: World) -> None:
    """A hand-written AWSPENDING value naming another workload's account: recover only drops
    the label; the account and its keys survive."""
    victim = world.emulator.add_service_account(world.project_id, "batch-jobs")
    forged = {
        **world.current(),
        "service_account_id": victim.service_account_id,
        "key_id": victim.key_id,
    }
    token = str(uuid.uuid4())
    world.store.put_pending(world.arn, token, Sensitive(json.dumps(forged)))
    world.advance(MIN_SAFE_AGE.total_seconds())
    engine = world.engine()
    plan = plan_recover(engine.ctx, world.arn)
    targets = [a.target for a in plan.actions]
    assert victim.service_account_id not in targets
    assert victim.key_id not in targets
    apply_plan(engine.ctx, plan)
    assert victim.service_account_id in world.accounts()
    assert world.emulator.key_works(victim.value)


def test_a_copied_value_cannot_end_the_original_secrets_key() -> None:
    """GIVEN secret A rotated once (its key is rotator-named for A) WHEN A's value is copied
    into B and B is rotated THEN B is refused, and A's key keeps working."""
    world = make_world()
    rotate_locally(world.engine(), world.arn)
    a_value = world.current()
    copy_arn = world.store.create_secret("openai/copy", Sensitive(json.dumps(a_value)))
    with pytest.raises(RotationFailure) as caught:
        rotate_locally(world.engine(), copy_arn)
    assert isinstance(caught.value.cause, OwnershipError)
    assert "another secret" in str(caught.value)
    assert world.emulator.key_works(a_value["api_key"])


def test_a_grace_period_never_extends_a_key_past_its_own_lifetime(world: World) -> None:
    """The old key expires in 30 min by its own lifetime; a 24 h grace leaves it at 30 min."""
    short = world.emulator.add_service_account_key(
        world.project_id, world.seeded_account, expires_in_seconds=1800
    )
    put_current(world, api_key=short.value, key_id=short.key_id)
    rotate_locally(world.engine(grace_period=timedelta(hours=24)), world.arn)
    world.advance(3600)
    assert not world.emulator.key_works(short.value)


def test_a_retried_finish_retires_nothing_while_awscurrent_does_not_work(world: World) -> None:
    """After a promotion whose key died, a retried finishSecret leaves the old key alone."""
    world.store.enable_rotation(world.arn, "arn:aws:lambda:us-east-1:123456789012:function:r")
    token = world.store.start_rotation(world.arn)
    engine = world.engine(require_rotation_enabled=True)
    for step in (Step.CREATE, Step.SET, Step.TEST):
        engine.run_step(world.event(step, token))
    old = next(v for v, s in world.store.versions(world.arn).items() if "AWSCURRENT" in s)
    world.store.move_stage(world.arn, "AWSCURRENT", to_version=token, from_version=old)
    world.emulator.revoke_key(world.current()["key_id"])
    with pytest.raises(Exception, match="does not authenticate"):
        engine.run_step(world.event(Step.FINISH, token))
    assert world.emulator.key_works(world.seeded_value)


def test_names_for_another_token_are_not_the_stuck_rotations() -> None:
    """Sanity: names carry the token, so recover's name test is specific."""
    world = make_world()
    assert rotation_name(world.arn, "a" * 36) != rotation_name(world.arn, "b" * 36)
