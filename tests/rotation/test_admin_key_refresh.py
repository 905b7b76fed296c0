"""issue 10 M6: the admin key can change. A warm app re-reads the admin-key secret after a TTL
and at once when OpenAI refuses the key in use (401/403), then retries the call once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import handler
from rotator.app import Mode
from rotator.domain.protocol import Step
from rotator.domain.secret_value import RotatorSecret
from rotator.domain.sensitive import Sensitive
from rotator.errors import AdminKeyError
from rotator.rotation.admin_key import ADMIN_KEY_TTL, AdminKeyResolver
from rotator.rotation.local import rotate_locally
from tests.rotation.conftest import ADMIN_SECRET, BASE_URL, World

LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:rotator"


def _admin_call(world: World, method: str, path: str, key: str, **kw: Any) -> Any:
    answer = world.http.request(
        method, f"{BASE_URL}{path}", headers={"Authorization": f"Bearer {key}"}, **kw
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def rotate_admin_key(world: World, old: str) -> str:
    """What an org admin does: mint a new admin key, store it, then delete the old one."""
    created = _admin_call(world, "POST", "/organization/admin_api_keys", old, json={"name": "n"})
    new: str = created["value"]
    world.store.put_current(ADMIN_SECRET, Sensitive(json.dumps({"admin_key": new})))
    listed = _admin_call(world, "GET", "/organization/admin_api_keys", new)
    for key in listed["data"]:
        if key["id"] != created["id"]:
            _admin_call(world, "DELETE", f"/organization/admin_api_keys/{key['id']}", new)
    assert not world.emulator.admin_key_works(old)
    return new


class Context:
    aws_request_id = "req-m6"


@pytest.fixture
def warm_lambda(world: World) -> Iterator[handler.Handler]:
    """One container: the app built once and kept across invocations, as on Lambda."""
    world.store.enable_rotation(world.arn, LAMBDA_ARN)
    app = world.app(mode=Mode.LAMBDA)
    yield handler.make_handler(lambda: app)
    app.close()


def _rotate_through(run: handler.Handler, world: World) -> str:
    token = world.store.start_rotation(world.arn)
    for step in Step:
        run({"Step": step.value, "SecretId": world.arn, "ClientRequestToken": token}, Context())
    return token


def test_a_warm_lambda_rotates_after_the_admin_key_was_rotated_and_the_old_one_revoked(
    world: World, warm_lambda: handler.Handler
) -> None:
    """GIVEN a warm container that used admin key A WHEN A is replaced by B in the secret and
    revoked THEN the next rotation, within the TTL, succeeds with B (401 → re-read → retry)."""
    _rotate_through(warm_lambda, world)
    rotate_admin_key(world, world.admin_key)
    token = _rotate_through(warm_lambda, world)
    assert "AWSCURRENT" in world.store.versions(world.arn)[token]
    assert world.emulator.key_works(world.current()["api_key"])


def test_a_warm_cli_app_prunes_and_rotates_after_an_admin_key_rotation(world: World) -> None:
    """The same for the CLI's wiring (one app across calls, e.g. a fleet run)."""
    app = world.app()
    rotate_locally(app.engine, world.arn)
    rotate_admin_key(world, world.admin_key)
    assert rotate_locally(app.engine, world.arn).status == "rotated"
    app.close()


def test_a_refused_admin_key_that_the_secret_still_holds_fails_without_a_retry(
    world: World,
) -> None:
    """Revoked but not replaced: one re-read, the same key, the AdminKeyError stands."""
    app = world.app()
    rotate_locally(app.engine, world.arn)
    new = rotate_admin_key(world, world.admin_key)
    listed = _admin_call(world, "GET", "/organization/admin_api_keys", new)
    _admin_call(world, "DELETE", f"/organization/admin_api_keys/{listed['data'][0]['id']}", new)
    current = RotatorSecret.parse_or_none(world.store.get_value(world.arn, stage="AWSCURRENT"))
    assert current is not None
    admin = app.ctx.admin_for(current)
    with pytest.raises(AdminKeyError, match="rejected the admin key"):
        admin.list_service_accounts(world.project_id)
    app.close()


def test_the_resolver_rereads_an_admin_key_secret_after_its_ttl(world: World) -> None:
    """Within the TTL the cached key is used; after it, the secret is read again."""
    resolver = AdminKeyResolver(
        world.store, default_secret_id=ADMIN_SECRET, env_admin_key=None, clock=world.retry_clock()
    )
    first = resolver.resolve(None)
    world.store.put_current(
        ADMIN_SECRET, Sensitive(json.dumps({"admin_key": "sk-admin-" + "n" * 40}))
    )
    world.advance(ADMIN_KEY_TTL - 1)
    assert resolver.resolve(None) == first
    world.advance(1)
    assert resolver.resolve(None).reveal() == "sk-admin-" + "n" * 40


def test_the_resolver_cannot_refresh_a_key_from_the_environment(world: World) -> None:
    """OPENAI_ADMIN_KEY has no secret to re-read: refresh says so (None)."""
    key = Sensitive("sk-admin-" + "e" * 40)
    resolver = AdminKeyResolver(world.store, default_secret_id=None, env_admin_key=key)
    assert resolver.resolve(None) == key
    assert resolver.refresh(key) is None
