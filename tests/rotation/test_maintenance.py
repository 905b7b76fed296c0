"""recover and prune: plans first, deletions only when applied, never the working key."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from rotator.domain.durations import MIN_SAFE_AGE
from rotator.domain.models import ApiKeyInfo
from rotator.domain.naming import service_account_name
from rotator.domain.protocol import Step
from rotator.errors import CleanupError, RotationInProgressError
from rotator.rotation.context import RotationContext
from rotator.rotation.local import rotate_locally
from rotator.rotation.maintenance import ActionKind, apply_plan, plan_prune, plan_recover
from tests.rotation.conftest import World


def stuck_rotation(world: World, *, age: timedelta = MIN_SAFE_AGE) -> str:
    """A local rotation abandoned after createSecret ``age`` ago: AWSPENDING holds a live key."""
    token = str(uuid.uuid4())
    world.engine().run_step(world.event(Step.CREATE, token), token_may_be_new=True)
    world.advance(age.total_seconds())
    return token


def test_recover_plan_is_a_dry_run_until_applied(world: World) -> None:
    """The plan names the stuck key and the label; nothing changes until it is applied."""
    token = stuck_rotation(world)
    before = world.snapshot()
    plan = plan_recover(world.engine().ctx, world.arn)
    kinds = [a.kind for a in plan.actions]
    assert kinds == [ActionKind.REMOVE_PENDING_LABEL, ActionKind.DELETE_API_KEY]
    assert plan.actions[1].target == world.value_at(token)["key_id"]  # type: ignore[index]
    assert plan.actions[0].target == token
    assert world.snapshot() == before


def test_recover_deletes_the_stuck_key_and_unblocks_rotation(world: World) -> None:
    """After recover, the stuck key is gone, AWSPENDING is cleared and a rotation runs."""
    token = stuck_rotation(world)
    stuck_key = world.value_at(token)["key_id"]  # type: ignore[index]
    engine = world.engine()
    apply_plan(engine.ctx, plan_recover(engine.ctx, world.arn))
    assert world.emulator.key(stuck_key) is None
    assert world.accounts() == [world.seeded_account]
    assert all("AWSPENDING" not in s for s in world.store.versions(world.arn).values())
    assert world.emulator.key_works(world.seeded_value)
    assert rotate_locally(engine, world.arn).status == "rotated"


def test_recover_finds_an_account_made_before_a_crashed_put(world: World) -> None:
    """A stuck empty version's account is found by the name carrying its token."""
    world.store.enable_rotation(world.arn, "arn:aws:lambda:us-east-1:123456789012:function:r")
    token = world.store.start_rotation(world.arn)
    world.emulator.add_service_account(world.project_id, service_account_name(world.arn, token))
    world.advance(MIN_SAFE_AGE.total_seconds())
    engine = world.engine()
    apply_plan(engine.ctx, plan_recover(engine.ctx, world.arn))
    assert world.accounts() == [world.seeded_account]


def test_recover_with_nothing_stuck_does_nothing(world: World) -> None:
    """No stuck rotation: an empty plan with a note."""
    plan = plan_recover(world.engine().ctx, world.arn)
    assert plan.actions == ()
    assert plan.notes == ("no rotation is stuck",)


def test_prune_has_nothing_to_do_when_openai_ended_the_key_on_time(world: World) -> None:
    """The grace period's end is enforced by OpenAI (the key's expiry): prune finds it gone."""
    engine = world.engine(grace_period=timedelta(hours=1))
    rotate_locally(engine, world.arn)
    world.advance(3601)
    assert not world.emulator.key_works(world.seeded_value)
    assert plan_prune(engine.ctx, world.arn).actions == ()


def test_prune_deletes_retiring_keys_only_once_due(world: World) -> None:
    """Where OpenAI cannot set the old key's expiry (an older server), prune leaves the old key
    until its time, then deletes it."""
    world.emulator.key_update_endpoint = "404"
    engine = world.engine(grace_period=timedelta(hours=1))
    rotate_locally(engine, world.arn)
    assert plan_prune(engine.ctx, world.arn).actions == ()
    world.advance(3601)
    plan = plan_prune(engine.ctx, world.arn)
    assert [a.target for a in plan.actions] == [world.seeded_key_id]
    apply_plan(engine.ctx, plan)
    assert not world.emulator.key_works(world.seeded_value)
    assert world.emulator.key_works(world.current()["api_key"])
    assert world.seeded_account in world.accounts()


def test_prune_deletes_old_orphans_but_not_young_ones_or_foreign_accounts(world: World) -> None:
    """Unrecorded rotator-made accounts past the margin go; others stay."""
    engine = world.engine()
    old = world.emulator.add_service_account(
        world.project_id, service_account_name(world.arn, str(uuid.uuid4()))
    )
    world.emulator.add_service_account(world.project_id, "someone-elses-app")
    other_secret = world.emulator.add_service_account(
        world.project_id, service_account_name(world.arn + "x", str(uuid.uuid4()))
    )
    world.advance(3600)
    young = world.emulator.add_service_account(
        world.project_id, service_account_name(world.arn, str(uuid.uuid4()))
    )
    plan = plan_prune(engine.ctx, world.arn, margin=timedelta(minutes=15))
    assert [a.target for a in plan.actions] == [old.service_account_id]
    apply_plan(engine.ctx, plan)
    live = world.accounts()
    assert old.service_account_id not in live
    assert {young.service_account_id, other_secret.service_account_id} <= set(live)
    assert world.seeded_account in live


def _orphan_key(world: World) -> str:
    """A key a crashed run minted for this secret on its account, never recorded."""
    return world.emulator.add_service_account_key(
        world.project_id,
        world.seeded_account,
        service_account_name(world.arn, str(uuid.uuid4())),
    ).key_id


def test_the_next_rotation_also_prunes_orphan_keys(world: World) -> None:
    """createSecret deletes this secret's old unrecorded keys on the way (from its listing)."""
    orphan = _orphan_key(world)
    world.advance(3600)
    rotate_locally(world.engine(), world.arn)
    assert world.emulator.key(orphan) is None
    assert world.emulator.live_key_ids(world.project_id) == {world.current()["key_id"]}


def test_a_failing_orphan_delete_does_not_block_the_rotation(world: World) -> None:
    """Pruning inside createSecret is best effort: the rotation goes on, prune retries later."""
    orphan = _orphan_key(world)
    world.advance(3600)
    world.emulator.inject("DELETE", orphan, "status", status=500, times=1000)
    assert rotate_locally(world.engine(), world.arn).status == "rotated"
    assert world.emulator.key(orphan) is not None
    world.emulator.clear_faults()
    engine = world.engine()
    apply_plan(engine.ctx, plan_prune(engine.ctx, world.arn))
    assert world.emulator.live_key_ids(world.project_id) == {world.current()["key_id"]}


def test_prune_deletes_a_due_key_while_awspending_sits_on_the_current_version(
    world: World,
) -> None:
    """AWSPENDING left on AWSCURRENT after a rotation does not keep due keys alive (M5)."""
    world.emulator.key_update_endpoint = "404"
    engine = world.engine(grace_period=timedelta(hours=24))
    rotate_locally(engine, world.arn)
    current_id = next(v for v, s in world.store.versions(world.arn).items() if "AWSCURRENT" in s)
    world.store.move_stage(world.arn, "AWSPENDING", to_version=current_id, from_version=None)
    world.advance(2 * 86400)
    plan = plan_prune(engine.ctx, world.arn)
    assert [a.target for a in plan.actions] == [world.seeded_key_id]
    apply_plan(engine.ctx, plan)
    assert not world.emulator.key_works(world.seeded_value)
    assert world.emulator.key_works(world.current()["api_key"])


def test_prune_deletes_a_due_key_while_a_rotation_is_stuck_but_spares_the_pending_key(
    world: World,
) -> None:
    """A stuck attempt re-records the due key; prune deletes it and keeps only the pending key."""
    world.emulator.key_update_endpoint = "404"
    engine = world.engine(grace_period=timedelta(hours=24))
    rotate_locally(engine, world.arn)
    world.advance(2 * 86400)
    # The stuck attempt could not retire the due key on its way (its DELETE failed).
    world.emulator.inject("DELETE", world.seeded_key_id, "status", status=500, times=1000)
    token = stuck_rotation(world)
    world.emulator.clear_faults()
    pending_key = world.value_at(token)["key_id"]  # type: ignore[index]
    plan = plan_prune(engine.ctx, world.arn)
    targets = [a.target for a in plan.actions]
    assert world.seeded_key_id in targets
    assert pending_key not in targets
    apply_plan(engine.ctx, plan)
    assert not world.emulator.key_works(world.seeded_value)
    assert world.emulator.key(pending_key) is not None


def test_recover_refuses_a_pending_version_younger_than_the_safe_age(world: World) -> None:
    """A pending version younger than twice the Lambda timeout may be a running rotation (M4)."""
    token = stuck_rotation(world, age=timedelta(minutes=3))
    before = world.snapshot()
    with pytest.raises(RotationInProgressError, match="--force") as caught:
        plan_recover(world.engine().ctx, world.arn)
    assert "3m old, younger than 10m" in str(caught.value)
    assert token in str(caught.value)
    assert world.snapshot() == before
    plan = plan_recover(world.engine().ctx, world.arn, min_age=timedelta(minutes=2))
    assert plan.actions[0].kind is ActionKind.REMOVE_PENDING_LABEL


def test_recover_force_clears_a_young_pending_version(world: World) -> None:
    """--force: the operator knows no rotation runs; the young version is cleared."""
    token = stuck_rotation(world, age=timedelta(0))
    engine = world.engine()
    apply_plan(engine.ctx, plan_recover(engine.ctx, world.arn, force=True))
    assert "AWSPENDING" not in world.store.versions(world.arn)[token]
    assert world.accounts() == [world.seeded_account]


def test_recover_removes_the_label_before_it_deletes_the_key(world: World) -> None:
    """When the pending key's account is deleted, AWSPENDING is already gone from its version."""
    token = stuck_rotation(world)
    at_delete: list[frozenset[str]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            at_delete.append(world.store.versions(world.arn)[token])
        return world.emulator.handle(request)

    world.http = httpx.Client(transport=httpx.MockTransport(handle))
    engine = world.engine()
    apply_plan(engine.ctx, plan_recover(engine.ctx, world.arn))
    assert at_delete
    assert all("AWSPENDING" not in stages for stages in at_delete)
    assert world.accounts() == [world.seeded_account]


def test_recover_racing_finish_secret_deletes_no_key_the_promotion_made_current(
    world: World,
) -> None:
    """GIVEN finishSecret promotes the pending version between recover's plan and its apply
    WHEN recover applies THEN the now-current key is not deleted, and the error says why (M4).
    """
    token = str(uuid.uuid4())
    engine = world.engine()
    for step in (Step.CREATE, Step.SET, Step.TEST):
        engine.run_step(world.event(step, token), token_may_be_new=step is Step.CREATE)
    world.advance(MIN_SAFE_AGE.total_seconds())
    plan = plan_recover(engine.ctx, world.arn)
    promoted = False

    def finish_first(operation: str, _secret: str) -> None:
        nonlocal promoted
        if operation == "UpdateSecretVersionStage" and not promoted:
            promoted = True
            world.store.before_call = None
            engine.run_step(world.event(Step.FINISH, token))

    world.store.before_call = finish_first
    with pytest.raises(CleanupError, match="promoted to AWSCURRENT meanwhile"):
        apply_plan(engine.ctx, plan)
    assert "AWSCURRENT" in world.store.versions(world.arn)[token]
    assert world.emulator.key_works(world.current()["api_key"])


class _ReportsUse:
    """The admin API with OpenAI's ``last_used_at`` for chosen keys (the listing's field)."""

    def __init__(self, inner: Any, used: dict[str, int]) -> None:
        self._inner = inner
        self._used = used

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def list_api_keys(self, project_id: str) -> list[ApiKeyInfo]:
        listed = self._inner.list_api_keys(project_id)
        return [replace(k, last_used_at=self._used.get(k.id, k.last_used_at)) for k in listed]


def _with_use(ctx: RotationContext, used: dict[str, int]) -> RotationContext:
    return replace(ctx, admin_factory=lambda key: _ReportsUse(ctx.admin_factory(key), used))


def test_prune_idle_for_keeps_a_due_key_used_recently_and_says_last_used_at_is_undocumented(
    world: World,
) -> None:
    """--idle-for 30m: a due key OpenAI reports used 5 min ago is kept, and named (issue 12)."""
    world.emulator.key_update_endpoint = "404"  # no OpenAI-enforced end: prune must act
    engine = world.engine(grace_period=timedelta(hours=1))
    rotate_locally(engine, world.arn)
    world.advance(2 * 3600)
    now = int(world.now().timestamp())
    ctx = _with_use(engine.ctx, {world.seeded_key_id: now - 300})
    plan = plan_prune(ctx, world.arn, idle_for=timedelta(minutes=30))
    assert plan.actions == ()
    assert any(
        f"kept retiring key {world.seeded_key_id}" in n and "5m ago" in n for n in plan.notes
    )
    assert "OpenAI does not document how often last_used_at updates" in plan.notes[-1]
    apply_plan(ctx, plan)
    assert world.emulator.key_works(world.seeded_value)
    idle = plan_prune(ctx, world.arn, idle_for=timedelta(minutes=4))
    assert [a.target for a in idle.actions] == [world.seeded_key_id]
    assert [a.target for a in plan_prune(ctx, world.arn).actions] == [world.seeded_key_id]


def test_prune_idle_for_deletes_a_key_idle_for_longer_than_the_window(world: World) -> None:
    """Last used (by rotator's own proof) 2 h ago, window 1 h: the due key goes, and the note
    still says how little last_used_at proves."""
    world.emulator.key_update_endpoint = "404"  # no OpenAI-enforced end: prune must act
    engine = world.engine(grace_period=timedelta(hours=1))
    rotate_locally(engine, world.arn)
    world.advance(2 * 3600)
    plan = plan_prune(_with_use(engine.ctx, {}), world.arn, idle_for=timedelta(hours=1))
    assert [a.target for a in plan.actions] == [world.seeded_key_id]
    assert "last_used_at" in plan.notes[-1]
