"""Rotating an admin-key secret: the same engine, the secret's own admin key, the old key ended."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

import handler
from rotator.adapters.openai_http import OpenAIHttp
from rotator.app import Mode
from rotator.domain.models import AWSCURRENT, DeleteOutcome
from rotator.domain.naming import rotation_name
from rotator.domain.protocol import RotationEvent, Step
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    CleanupError,
    KeyTestFailedError,
    OwnershipError,
    ResponseLostError,
    RotationFailure,
    UnknownVersionError,
)
from rotator.ports import OpenAIAdmin
from rotator.rotation.local import rotate_locally
from rotator.rotation.results import Revocation, RotationStatus
from tests.rotation.conftest import ADMIN_SECRET, BASE_URL, World, make_world

ORG_ADMIN = "openai/org-admin"
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:rotator"


@pytest.fixture
def world() -> Iterator[World]:
    made = make_world()
    yield made
    made.http.close()


def seed_admin(world: World, value: str | dict[str, Any]) -> str:
    """A second admin-key secret, ``ORG_ADMIN``, holding ``value`` (bare string or JSON)."""
    text = value if isinstance(value, str) else json.dumps(value)
    return world.store.create_secret(ORG_ADMIN, Sensitive(text))


def admin_current(world: World, secret_id: str = ORG_ADMIN) -> dict[str, Any]:
    raw = world.store.get_value(secret_id, stage=AWSCURRENT)
    assert raw is not None
    data: dict[str, Any] = json.loads(raw.reveal())
    return data


@dataclass
class DeleteLog:
    """Which admin key value sent each admin-key DELETE (a recording wrapper, not a mock)."""

    deletes: list[tuple[str, str]] = field(default_factory=list)


class RecordingAdmin:
    def __init__(self, inner: OpenAIAdmin, key: Sensitive, log: DeleteLog) -> None:
        self._inner, self._key, self._log = inner, key, log

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def delete_admin_key(self, key_id: str) -> DeleteOutcome:
        self._log.deletes.append((self._key.reveal(), key_id))
        return self._inner.delete_admin_key(key_id)


def recording_app(world: World, log: DeleteLog, **settings: Any) -> Any:
    from rotator.app import build_app

    openai = OpenAIHttp(world.http, BASE_URL, clock=world.retry_clock())
    return build_app(
        world.settings(**settings),
        mode=Mode.CLI,
        store=world.store,
        http=world.http,
        clock=world.retry_clock(),
        admin_factory=lambda key: RecordingAdmin(openai.admin(key), key, log),  # type: ignore[arg-type,return-value]
    )


def test_bare_admin_key_is_adopted_rotated_and_stored_as_json(world: World) -> None:
    """GIVEN the bare sk-admin-... value WHEN rotated THEN JSON with the new key and its id."""
    old = world.emulator.add_admin_key()
    seed_admin(world, old)
    report = rotate_locally(world.app().engine, ORG_ADMIN)
    assert report.status is RotationStatus.ROTATED
    stored = admin_current(world)
    new = stored["admin_key"]
    assert new != old
    assert world.emulator.admin_key_works(new)
    assert stored["admin_key_id"] == world.emulator.admin_key_id(new) == report.key_id
    assert not world.emulator.admin_key_works(old)
    assert stored["retiring"][0]["key_id"] not in (None, report.key_id)


def test_json_admin_secret_old_key_deleted_with_new_key_and_refused(world: World) -> None:
    old = world.emulator.add_admin_key()
    old_id = world.emulator.admin_key_id(old)
    seed_admin(world, {"admin_key": old, "admin_key_id": old_id, "owner": "platform"})
    log = DeleteLog()
    report = rotate_locally(recording_app(world, log).engine, ORG_ADMIN)
    stored = admin_current(world)
    assert log.deletes == [(stored["admin_key"], old_id)]
    assert report.previous_key_id == old_id
    assert report.previous_key_deleted
    assert report.previous_key_revocation is Revocation.CONFIRMED
    assert stored["owner"] == "platform"  # unknown fields carried
    listing = world.app().admin_factory(Sensitive(stored["admin_key"])).list_admin_keys()
    new_info = next(info for info in listing if info.id == stored["admin_key_id"])
    assert new_info.name == rotation_name(world.store.describe(ORG_ADMIN).arn, report.version_id)


def test_lost_create_answer_is_reconciled_by_name(world: World) -> None:
    """GIVEN the create's answer is lost WHEN Secrets Manager retries createSecret with the same
    token THEN the key made for it is found by name and deleted; one new key lives on."""
    old = world.emulator.add_admin_key()
    arn = seed_admin(world, old)
    world.store.enable_rotation(arn, LAMBDA_ARN)
    token = world.store.start_rotation(arn)
    engine = world.app().engine
    world.emulator.inject("POST", r"/organization/admin_api_keys$", "drop_after")
    with pytest.raises(ResponseLostError):
        engine.run_step(RotationEvent(Step.CREATE, arn, token))
    admin = world.app().admin_factory(Sensitive(old))
    name = rotation_name(arn, token)
    assert [k.name for k in admin.list_admin_keys()].count(name) == 1
    for step in Step:
        engine.run_step(RotationEvent(step, arn, token))
    stored = admin_current(world)
    live_named = [
        k
        for k in world.app().admin_factory(Sensitive(stored["admin_key"])).list_admin_keys()
        if k.name == name
    ]
    assert [k.id for k in live_named] == [stored["admin_key_id"]]
    assert not world.emulator.admin_key_works(old)


def test_forged_admin_secret_is_refused_with_nothing_changed(world: World) -> None:
    """GIVEN a working admin key stored with another admin key's id THEN refused, no change."""
    mine = world.emulator.add_admin_key()
    other = world.emulator.add_admin_key()
    seed_admin(world, {"admin_key": mine, "admin_key_id": world.emulator.admin_key_id(other)})
    before = world.store.versions(ORG_ADMIN)
    with pytest.raises(RotationFailure) as failed:
        rotate_locally(world.app().engine, ORG_ADMIN)
    assert isinstance(failed.value.cause, OwnershipError)
    assert world.store.versions(ORG_ADMIN) == before
    assert world.emulator.admin_key_works(mine)
    assert world.emulator.admin_key_works(other)
    keys = world.app().admin_factory(Sensitive(mine)).list_admin_keys()
    assert not [k for k in keys if k.name.startswith("rotator-")]


def test_dead_admin_key_is_refused_with_nothing_changed(world: World) -> None:
    dead = world.emulator.add_admin_key(expires_in_seconds=1)
    world.advance(5)
    seed_admin(world, dead)
    with pytest.raises(RotationFailure) as failed:
        rotate_locally(world.app().engine, ORG_ADMIN)
    assert isinstance(failed.value.cause, OwnershipError)
    assert "does not authenticate" in str(failed.value)
    assert dead not in str(failed.value)


@pytest.mark.parametrize(
    ("secret_lifetime", "setting", "expected"),
    [("30d", None, 30 * 86400), (None, timedelta(days=7), 7 * 86400), (None, None, None)],
)
def test_key_lifetime_sets_the_new_admin_keys_expiry(
    world: World, secret_lifetime: str | None, setting: timedelta | None, expected: int | None
) -> None:
    old = world.emulator.add_admin_key()
    value: dict[str, Any] = {"admin_key": old, "admin_key_id": world.emulator.admin_key_id(old)}
    if secret_lifetime:
        value["key_lifetime"] = secret_lifetime
    seed_admin(world, value)
    rotate_locally(world.app(key_lifetime=setting).engine, ORG_ADMIN)
    stored = admin_current(world)
    expires_at = world.emulator.admin_key_expires_at(stored["admin_key"])
    if expected is None:
        assert expires_at is None
    else:
        assert expires_at == pytest.approx(world.clock.now() + expected, abs=120)
    assert stored.get("key_lifetime") == secret_lifetime


def test_second_rotation_drops_the_deleted_entry_and_rotates_again(world: World) -> None:
    seed_admin(world, world.emulator.add_admin_key())
    engine = world.app().engine
    first = rotate_locally(engine, ORG_ADMIN)
    second = rotate_locally(engine, ORG_ADMIN)
    stored = admin_current(world)
    assert [e["key_id"] for e in stored["retiring"]] == [first.key_id]
    assert second.previous_key_id == first.key_id
    assert second.previous_key_deleted
    assert world.emulator.admin_key_works(stored["admin_key"])


def test_warm_lambda_rotates_admin_key_then_an_app_secret_with_the_new_key(
    world: World,
) -> None:
    """GIVEN one warm Lambda app that already rotated an app secret with the admin key
    WHEN it rotates the admin-key secret (four steps, the old admin key deleted)
    THEN its very next app-secret rotation uses the new admin key and succeeds."""
    admin_arn = world.store.describe(ADMIN_SECRET).arn
    for arn in (admin_arn, world.arn):
        world.store.enable_rotation(arn, LAMBDA_ARN)
    app = world.app(mode=Mode.LAMBDA)
    run = handler.make_handler(lambda: app)

    def rotate(arn: str) -> str:
        token = world.store.start_rotation(arn)
        for step in Step:
            run({"Step": step.value, "SecretId": arn, "ClientRequestToken": token}, None)
        return token

    rotate(world.arn)  # the resolver now caches the old admin key
    first_app_key = world.current()["key_id"]
    rotate(admin_arn)
    new_admin = admin_current(world, ADMIN_SECRET)["admin_key"]
    assert not world.emulator.admin_key_works(world.admin_key)
    assert world.emulator.admin_key_works(new_admin)
    world.emulator.reset_calls()
    token = rotate(world.arn)
    assert world.current()["key_id"] != first_app_key
    # The finishSecret that rotated the admin key dropped the cached one: no admin call was
    # even tried with the deleted key (no 401 to re-read on).
    admin_401s = [c for c in world.emulator.calls if "organization" in c.route and c.status == 401]
    assert admin_401s == []
    assert AWSCURRENT in world.store.versions(world.arn)[token]


def test_a_crashed_runs_admin_key_is_deleted_by_a_later_rotation_not_a_concurrent_one(
    world: World,
) -> None:
    """GIVEN an admin key a crashed run made for another token (named for this secret)
    WHEN a rotation runs within 15 minutes THEN it is kept (its run may be alive)
    WHEN the next runs after the margin THEN it is deleted."""
    old = world.emulator.add_admin_key()
    arn = seed_admin(world, old)
    stray = (
        world.app()
        .admin_factory(Sensitive(old))
        .create_admin_key(
            rotation_name(arn, "crashed-run-token-000000000000000000"), expires_in_seconds=None
        )
    )
    rotate_locally(world.app().engine, ORG_ADMIN)
    assert world.emulator.admin_key_works(stray.value.reveal())
    world.advance(16 * 60)
    rotate_locally(world.app().engine, ORG_ADMIN)
    assert not world.emulator.admin_key_works(stray.value.reveal())
    live = world.app().admin_factory(Sensitive(admin_current(world)["admin_key"])).list_admin_keys()
    assert {k.id for k in live} == {
        admin_current(world)["admin_key_id"],
        world.emulator.admin_key_id(world.admin_key),
    }


def test_schedule_accepts_an_admin_key_secret(world: World) -> None:
    from rotator.domain.schedule import build_schedule
    from rotator.provisioning.schedule import schedule_rotation

    seed_admin(world, world.emulator.add_admin_key())
    schedule_rotation(
        world.store,
        ORG_ADMIN,
        lambda_arn=LAMBDA_ARN,
        schedule=build_schedule(every="30 days", cron=None, window=None),
    )
    assert world.store.describe(ORG_ADMIN).rotation_enabled


def lambda_ready(world: World) -> tuple[str, str, Any]:
    """The admin-key secret with rotation on, a started rotation's token, and an engine."""
    key = world.emulator.add_admin_key()
    arn = seed_admin(world, {"admin_key": key, "admin_key_id": world.emulator.admin_key_id(key)})
    world.store.enable_rotation(arn, LAMBDA_ARN)
    return arn, world.store.start_rotation(arn), world.app(mode=Mode.LAMBDA).engine


def test_test_only_invocation_proves_the_current_admin_key(world: World) -> None:
    """GIVEN a version with no value (RotateImmediately=false) WHEN testSecret runs THEN the
    current admin key is proven with an admin read and nothing is created."""
    arn, token, engine = lambda_ready(world)
    result = engine.run_step(RotationEvent(Step.TEST, arn, token))
    assert result.outcome == "tested_current_key"
    assert len(world.app().admin_factory(Sensitive(world.admin_key)).list_admin_keys()) == 2


def test_a_failed_delete_of_the_old_key_fails_finish_and_its_replay_deletes_it(
    world: World,
) -> None:
    arn, token, engine = lambda_ready(world)
    old = admin_current(world)["admin_key"]
    for step in (Step.CREATE, Step.SET, Step.TEST):
        engine.run_step(RotationEvent(step, arn, token))
    world.emulator.inject("DELETE", r"/organization/admin_api_keys/", "status", status=400)
    with pytest.raises(CleanupError, match="was not deleted"):
        engine.run_step(RotationEvent(Step.FINISH, arn, token))
    new = admin_current(world)["admin_key"]
    assert new != old  # promoted: the new key is current and works
    assert world.emulator.admin_key_works(new)
    assert world.emulator.admin_key_works(old)
    replay = engine.run_step(RotationEvent(Step.FINISH, arn, token))
    assert replay.outcome == "cleaned_up"
    assert not world.emulator.admin_key_works(old)


def test_an_unknown_token_deletes_the_admin_key_named_for_it(world: World) -> None:
    arn, _token, engine = lambda_ready(world)
    stray_token = "0" * 8 + "-0000-0000-0000-" + "0" * 12
    admin = world.app().admin_factory(Sensitive(admin_current(world)["admin_key"]))
    stray = admin.create_admin_key(rotation_name(arn, stray_token), expires_in_seconds=None)
    with pytest.raises(UnknownVersionError):
        engine.run_step(RotationEvent(Step.CREATE, arn, stray_token))
    assert not world.emulator.admin_key_works(stray.value.reveal())


def test_promotion_refuses_a_new_admin_key_deleted_meanwhile(world: World) -> None:
    arn, token, engine = lambda_ready(world)
    for step in (Step.CREATE, Step.SET, Step.TEST):
        engine.run_step(RotationEvent(step, arn, token))
    pending = world.store.value_of(arn, token)
    assert pending is not None
    new = json.loads(pending.reveal())
    admin = world.app().admin_factory(Sensitive(new["admin_key"]))
    admin.delete_admin_key(new["admin_key_id"])
    before = world.store.versions(arn)
    with pytest.raises(KeyTestFailedError, match="no longer authenticates"):
        engine.run_step(RotationEvent(Step.FINISH, arn, token))
    assert world.store.versions(arn) == before
