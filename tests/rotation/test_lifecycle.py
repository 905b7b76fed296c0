"""The key lifecycle: rotate inside the workload's own account, prove the secret, let OpenAI end
the old key. In-memory Secrets Manager + the OpenAI emulator (2026-11 contract), one clock."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from rotator.domain.protocol import Step
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    KeyLifetimeRequiredError,
    OwnershipError,
    ProjectArchivedError,
    RotationFailure,
)
from rotator.rotation.local import rotate_locally
from tests.rotation.conftest import World


def put_current(world: World, **changes: Any) -> None:
    """Replace AWSCURRENT's value with the seeded value plus ``changes`` (None removes a field)."""
    value = {**world.current(), **changes}
    value = {k: v for k, v in value.items() if v is not None}
    world.store.put_current(world.arn, Sensitive(json.dumps(value)))


def rotate(world: World, **settings: Any) -> Any:
    return rotate_locally(world.engine(**settings), world.arn)


def test_rotation_keeps_the_account_and_leaves_its_other_keys_alone(world: World) -> None:
    """GIVEN a hand-made account holding the workload's key and another workload's key
    WHEN the secret is rotated THEN the new key is on the same account, the old key is dead,
    and the other key still works."""
    other = world.emulator.add_service_account_key(world.project_id, world.seeded_account)
    report = rotate(world)
    current = world.current()
    assert report.strategy == "same_account"
    assert current["service_account_id"] == world.seeded_account
    assert world.seeded_account in world.accounts()
    assert world.emulator.key_works(current["api_key"])
    assert not world.emulator.key_works(world.seeded_value)
    assert world.emulator.key_works(other.value)
    assert report.previous_key_deleted
    new_key = world.emulator.key(current["key_id"])
    assert new_key is not None
    assert new_key.name.startswith("rotator-")
    assert new_key.service_account_id == world.seeded_account


def test_lambda_rotation_mints_on_the_same_account(world: World) -> None:
    """The Lambda's four steps take the same path as the CLI: same account, old key gone."""
    world.store.enable_rotation(world.arn, "arn:aws:lambda:us-east-1:123456789012:function:r")
    token = world.store.start_rotation(world.arn)
    engine = world.engine(require_rotation_enabled=True)
    results = [engine.run_step(world.event(step, token)) for step in Step]
    assert results[0].strategy == "same_account"
    assert world.current()["service_account_id"] == world.seeded_account
    assert not world.emulator.key_works(world.seeded_value)


def test_an_older_server_refusing_delete_still_ends_the_old_key_by_expiry(world: World) -> None:
    """GIVEN DELETE answers 400 for service-account keys THEN the old key is expired instead."""
    world.emulator.delete_service_account_keys = "refuse"
    report = rotate(world, revocation_timeout=5.0)
    assert report.status == "rotated"
    world.advance(2)
    assert not world.emulator.key_works(world.seeded_value)
    assert world.emulator.key_works(world.current()["api_key"])


def test_a_restricted_key_keeps_its_scopes(world: World) -> None:
    """GIVEN a key limited to api.responses.write WHEN rotated THEN the new key has exactly
    those scopes, and its 401 missing_scope on GET /models counts as working."""
    scoped = world.emulator.add_service_account_key(
        world.project_id, world.seeded_account, scopes=("api.responses.write",)
    )
    put_current(world, api_key=scoped.value, key_id=scoped.key_id, scopes=["api.responses.write"])
    report = rotate(world)
    current = world.current()
    key = world.emulator.key(current["key_id"])
    assert key is not None
    assert tuple(key.scopes) == ("api.responses.write",)
    assert current["scopes"] == ["api.responses.write"]
    assert world.emulator.key_authenticates(current["api_key"])
    assert report.previous_key_id == scoped.key_id


def test_a_lifetime_policy_without_a_lifetime_is_refused_and_leaves_nothing(world: World) -> None:
    """GIVEN the organization requires keys to expire WHEN no lifetime is set THEN the error
    names the fix and no key is left behind; with a lifetime THEN the key records expires_at."""
    world.emulator.max_key_lifetime = 30 * 86400
    keys_before = sorted(k.id for k in world.emulator.keys(world.project_id))
    with pytest.raises(RotationFailure) as caught:
        rotate(world)
    assert isinstance(caught.value.cause, KeyLifetimeRequiredError)
    assert "--key-lifetime" in str(caught.value)
    assert sorted(k.id for k in world.emulator.keys(world.project_id)) == keys_before
    rotate(world, key_lifetime=timedelta(days=7))
    current = world.current()
    assert current["expires_at"].endswith("Z")
    key = world.emulator.key(current["key_id"])
    assert key is not None
    assert key.expires_at is not None


def test_the_secret_lifetime_field_wins_over_the_setting(world: World) -> None:
    """A per-secret key_lifetime sets expires_in_seconds on the new key."""
    put_current(world, key_lifetime="2d")
    rotate(world)
    key = world.emulator.key(world.current()["key_id"])
    assert key is not None
    assert key.expires_at is not None
    assert key.expires_at - key.created_at == 2 * 86400


def test_the_grace_period_is_ended_by_openai_without_another_run(world: World) -> None:
    """GIVEN a grace period of 1 h WHEN rotated THEN the old key works for the hour and then
    stops, although rotator never runs again."""
    report = rotate(world, grace_period=timedelta(hours=1))
    assert report.previous_key_expiry_set
    assert not report.previous_key_deleted
    assert world.emulator.key_works(world.seeded_value)
    world.advance(3599)
    assert world.emulator.key_works(world.seeded_value)
    world.advance(2)
    assert not world.emulator.key_works(world.seeded_value)
    assert world.emulator.key_works(world.current()["api_key"])


def _forged(world: World, kind: str) -> None:
    emulator, project = world.emulator, world.project_id
    if kind == "another account named":
        other = emulator.add_service_account(project, "prod-api")
        put_current(world, service_account_id=other.service_account_id)
    elif kind == "another account's key id":
        other = emulator.add_service_account(project, "prod-api")
        put_current(world, key_id=other.key_id)
    elif kind == "another account's key and id":
        other = emulator.add_service_account(project, "prod-api")
        put_current(world, key_id=other.key_id, service_account_id=other.service_account_id)
    elif kind == "a key of another project":
        elsewhere = emulator.add_project(name="prod")
        other = emulator.add_service_account(elsewhere, "prod-api")
        put_current(
            world,
            project_id=elsewhere,
            key_id=other.key_id,
            service_account_id=other.service_account_id,
        )
    elif kind == "a dead key":
        emulator.revoke_key(world.seeded_key_id)
    elif kind == "a value that is not the key":
        put_current(world, api_key="sk-svcacct-" + "Q" * 40)
    else:  # pragma: no cover - the table below names every kind
        raise AssertionError(kind)


def _all_keys(world: World) -> set[str]:
    return {k.id for p in world.emulator.project_ids() for k in world.emulator.keys(p)}


FORGERIES = [
    "another account named",
    "another account's key id",
    "another account's key and id",
    "a key of another project",
    "a dead key",
    "a value that is not the key",
]


@pytest.mark.parametrize("kind", FORGERIES)
def test_forged_secrets_are_refused_with_nothing_changed(world: World, kind: str) -> None:
    """Whoever writes a secret cannot steer the admin key: every forgery is refused, no key is
    minted, none deleted, and the error never shows a key."""
    _forged(world, kind)
    before = world.snapshot()
    keys_before = _all_keys(world)
    with pytest.raises(RotationFailure) as caught:
        rotate(world)
    assert isinstance(caught.value.cause, OwnershipError), caught.value.cause
    assert caught.value.cause.exit_code == 2
    assert "nothing was changed" in str(caught.value)
    assert "sk-" not in str(caught.value)
    assert world.snapshot() == before
    assert _all_keys(world) == keys_before


def test_replace_dead_key_replaces_a_revoked_key_on_its_own_account(world: World) -> None:
    """GIVEN OpenAI revoked the stored key (a leak) WHEN --replace-dead-key THEN a new key is
    minted on the named account; the Lambda never offers the hatch."""
    world.emulator.revoke_key(world.seeded_key_id)
    with pytest.raises(RotationFailure, match="--replace-dead-key"):
        rotate(world)
    report = rotate(world, replace_dead_key=True)
    assert report.status == "rotated"
    assert world.current()["service_account_id"] == world.seeded_account
    assert world.emulator.key_works(world.current()["api_key"])
    lambda_engine = world.engine(require_rotation_enabled=True, replace_dead_key=True)
    assert not lambda_engine.ctx.policy.replace_dead_key


def test_an_archived_project_is_named_with_the_way_out(world: World) -> None:
    """An archived project's keys stop working: the refusal says archived, not 'dead key'."""
    world.emulator.archive_project(world.project_id)
    with pytest.raises(RotationFailure) as caught:
        rotate(world)
    assert isinstance(caught.value.cause, ProjectArchivedError)
    assert "init --force" in str(caught.value)


def test_a_project_outside_the_allow_list_is_refused_before_any_openai_call(world: World) -> None:
    """ROTATOR_ALLOWED_PROJECT_IDS: another project is refused with no admin API call."""
    engine = world.engine(allowed_project_ids=frozenset({"proj_other"}))
    world.emulator.reset_calls()
    with pytest.raises(RotationFailure) as caught:
        rotate_locally(engine, world.arn)
    assert isinstance(caught.value.cause, OwnershipError)
    assert "ROTATOR_ALLOWED_PROJECT_IDS" in str(caught.value)
    assert world.emulator.calls == []


@pytest.mark.parametrize("status", ["404", "405"])
def test_a_server_without_the_per_account_endpoint_falls_back_to_a_new_account(
    world: World, status: str
) -> None:
    """An older server: a new account per rotation; the hand-made account is never deleted,
    only its old key."""
    world.emulator.per_account_key_endpoint = status  # type: ignore[assignment]
    report = rotate(world)
    current = world.current()
    assert report.strategy == "new_account"
    assert current["service_account_id"] != world.seeded_account
    assert world.seeded_account in world.accounts()
    assert not world.emulator.key_works(world.seeded_value)


def test_a_user_owned_key_is_replaced_by_a_new_account(world: World) -> None:
    """A secret naming no service account (a user's key) falls back to a new account."""
    user = world.emulator.add_user_key(world.project_id)
    put_current(world, api_key=user.value, key_id=user.key_id, service_account_id=None)
    report = rotate(world)
    assert report.strategy == "new_account"
    assert world.current()["service_account_id"] is not None
    assert not world.emulator.key_works(user.value)


def test_a_legacy_rotator_account_is_kept_and_rotated_in_place(world: World) -> None:
    """Secrets rotated by the old code name a rotator-made account: it stays their identity."""
    legacy = world.emulator.add_service_account(
        world.project_id, f"rotator-{'a' * 8}-{uuid.uuid4()}"
    )
    put_current(
        world,
        api_key=legacy.value,
        key_id=legacy.key_id,
        service_account_id=legacy.service_account_id,
    )
    rotate(world)
    rotate(world)
    assert world.current()["service_account_id"] == legacy.service_account_id
    assert legacy.service_account_id in world.accounts()
    live = list(world.emulator.keys(world.project_id))
    assert [k.service_account_id for k in live].count(legacy.service_account_id) == 1


def test_a_replayed_stale_event_never_kills_a_key_in_its_grace_period(world: World) -> None:
    """M3: GIVEN grace 24 h and two rotations WHEN the first rotation's event is replayed
    THEN the key it made (now retiring, not due) still works."""
    first = rotate(world, grace_period=timedelta(hours=24))
    first_key = world.current()["api_key"]
    rotate(world, grace_period=timedelta(hours=24))
    rotate(world, grace_period=timedelta(hours=24))
    engine = world.engine(require_rotation_enabled=False, grace_period=timedelta(hours=24))
    with pytest.raises(Exception):  # noqa: B017, PT011 - the replay fails; what matters is below
        engine.run_step(world.event(Step.TEST, first.version_id))
    assert world.emulator.key_works(first_key)


def test_rotations_leave_no_live_key_beside_the_current_and_the_retiring(world: World) -> None:
    """After several rotations, the account holds only the current key (grace 0)."""
    for _ in range(3):
        rotate(world)
    live = {k.id for k in world.emulator.keys(world.project_id)}
    assert live == {world.current()["key_id"]}
