"""The emulator's 2026-11 behaviour, over httpx.MockTransport and over real HTTP on 127.0.0.1.

Per-account keys with scopes and lifetimes, expiry, the key update, ``missing_scope`` on
``/models``, both DELETE behaviours, an older server without the newer endpoints, lifetime
policies, ``owner_project_access``, archived projects and admin API keys. Every answer is
validated against the vendored 2026-11 spec.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from rotator.testing.openai_emulator import (
    REFUSED_DELETE,
    EndpointKnob,
    ManualClock,
    OpenAIEmulator,
    OpenAIEmulatorServer,
    SeededKey,
)
from rotator.testing.openai_emulator.app import ROUTES
from tests.contract.openapi_check import SPEC, conforms

P = "/organization/projects/{project_id}"
SA = f"{P}/service_accounts/{{service_account_id}}"
KEY = f"{P}/api_keys/{{api_key_id}}"
ADMIN = "/organization/admin_api_keys"
START = 1_750_000_000


@dataclass
class Api:
    """An admin client and a way to probe ``/models`` with a key, over one transport."""

    admin: httpx.Client
    probe: Callable[[str], httpx.Response]
    project: str
    client: Callable[[str], httpx.Client]

    def sa_keys(self, account: str) -> str:
        return f"/organization/projects/{self.project}/service_accounts/{account}/api_keys"

    def key(self, key_id: str) -> str:
        return f"/organization/projects/{self.project}/api_keys/{key_id}"

    def keys(self, **params: str) -> Any:
        url = f"/organization/projects/{self.project}/api_keys"
        return conforms(self.admin.get(url, params=params), f"{P}/api_keys")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=START)


@pytest.fixture
def emu(clock: ManualClock) -> OpenAIEmulator:
    return OpenAIEmulator(now=clock.now, monotonic=clock.monotonic, sleep=clock.sleep)


@pytest.fixture(params=["mock", "http"])
def api(request: pytest.FixtureRequest, emu: OpenAIEmulator) -> Iterator[Api]:
    """The same API in process (MockTransport) and over a real server on 127.0.0.1."""
    server = OpenAIEmulatorServer(emu).start() if request.param == "http" else None
    base = server.base_url if server else "http://openai.test/v1"
    opened: list[httpx.Client] = []

    def client(key: str) -> httpx.Client:
        transport = None if server else emu.transport()
        made = httpx.Client(
            transport=transport, base_url=base, headers={"Authorization": f"Bearer {key}"}
        )
        opened.append(made)
        return made

    def probe(key: str) -> httpx.Response:
        response = client(key).get("/models")
        conforms(response, "/models")
        return response

    try:
        yield Api(client(emu.add_admin_key()), probe, emu.add_project(name="Payments"), client)
    finally:
        for made in opened:
            made.close()
        if server:
            server.stop()


@pytest.fixture
def seeded(emu: OpenAIEmulator, api: Api) -> SeededKey:
    return emu.add_service_account(api.project, "payments-api")


def _error(response: httpx.Response, template: str) -> dict[str, Any]:
    error: dict[str, Any] = conforms(response, template)["error"]
    return error


# -- per-account key create --------------------------------------------------------------------


def test_per_account_create_returns_value_once_with_expires_at(
    api: Api, emu: OpenAIEmulator, seeded: SeededKey
) -> None:
    """name, scopes and expires_in_seconds are accepted; expires_at is now + lifetime."""
    body = {"name": "rotator-x-1", "scopes": ["api.model.read"], "expires_in_seconds": 3600}
    created = conforms(
        api.admin.post(api.sa_keys(seeded.service_account_id), json=body), f"{SA}/api_keys"
    )
    assert created | {"id": "", "value": ""} == {
        "object": "organization.project.service_account.api_key",
        "id": "",
        "value": "",
        "name": "rotator-x-1",
        "created_at": START,
        "expires_at": START + 3600,
    }
    view = emu.key(created["id"])
    assert view is not None
    assert (view.service_account_id, view.scopes) == (
        seeded.service_account_id,
        ("api.model.read",),
    )
    (listed,) = [
        k for k in api.keys(owner_project_access="any")["data"] if k["id"] == created["id"]
    ]
    assert listed["expires_at"] == START + 3600
    assert created["value"] not in str(listed)
    assert api.probe(created["value"]).status_code == 200


def test_keys_without_a_lifetime_have_expires_at_null(api: Api, seeded: SeededKey) -> None:
    """A key made without expires_in_seconds (or with null) reports expires_at null everywhere."""
    path = api.sa_keys(seeded.service_account_id)
    created = conforms(api.admin.post(path, json={"expires_in_seconds": None}), f"{SA}/api_keys")
    account = conforms(
        api.admin.post(
            f"/organization/projects/{api.project}/service_accounts", json={"name": "b"}
        ),
        f"{P}/service_accounts",
    )
    assert (created["expires_at"], account["api_key"]["expires_at"]) == (None, None)
    assert {k["expires_at"] for k in api.keys(owner_project_access="any")["data"]} == {None}


def test_service_account_create_mints_a_key_with_a_lifetime(api: Api) -> None:
    """POST .../service_accounts takes expires_in_seconds for its initial key."""
    url = f"/organization/projects/{api.project}/service_accounts"
    created = conforms(
        api.admin.post(url, json={"name": "a", "expires_in_seconds": 60}), f"{P}/service_accounts"
    )
    assert created["api_key"]["expires_at"] == START + 60


def test_service_account_only_refuses_a_lifetime(api: Api, emu: OpenAIEmulator) -> None:
    """expires_in_seconds cannot be combined with create_service_account_only (spec text)."""
    url = f"/organization/projects/{api.project}/service_accounts"
    body = {"name": "a", "create_service_account_only": True, "expires_in_seconds": 60}
    response = api.admin.post(url, json=body)
    assert response.status_code == 400
    assert _error(response, f"{P}/service_accounts")["param"] == "expires_in_seconds"
    assert emu.service_accounts(api.project) == []


@pytest.mark.parametrize(
    ("lifetime", "code"),
    [
        (0, "integer_below_min_value"),
        (31_536_001, "integer_above_max_value"),
        ("60", "invalid_type"),
    ],
)
def test_strict_mode_bounds_expires_in_seconds(
    api: Api, emu: OpenAIEmulator, seeded: SeededKey, lifetime: object, code: str
) -> None:
    """expires_in_seconds must be an integer from 1 to 31536000, per the 2026-11 schema."""
    response = api.admin.post(
        api.sa_keys(seeded.service_account_id), json={"expires_in_seconds": lifetime}
    )
    assert response.status_code == 400
    assert (
        _error(response, f"{SA}/api_keys")["param"],
        _error(response, f"{SA}/api_keys")["code"],
    ) == (
        "expires_in_seconds",
        code,
    )
    assert emu.live_key_ids(api.project) == {seeded.key_id}


# -- expiry and last_used_at -------------------------------------------------------------------


def test_expired_key_answers_401_and_drops_out_of_the_listing(
    api: Api, emu: OpenAIEmulator, clock: ManualClock, seeded: SeededKey
) -> None:
    """At expires_at the key stops authenticating and is no longer listed; others are unaffected."""
    short = emu.add_service_account_key(
        api.project, seeded.service_account_id, expires_in_seconds=10
    )
    clock.advance(9)
    assert api.probe(short.value).status_code == 200
    clock.advance(1)
    refused = api.probe(short.value)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "invalid_api_key")
    assert [k["id"] for k in api.keys(owner_project_access="any")["data"]] == [seeded.key_id]
    assert emu.live_key_ids(api.project) == {seeded.key_id}
    assert not emu.key_works(short.value)
    view = emu.key(short.key_id)
    assert view is not None
    assert (view.expired, view.expires_at) == (True, START + 10)
    retrieved = conforms(api.admin.get(api.key(short.key_id)), KEY)
    assert retrieved["expires_at"] == START + 10


def test_last_used_at_is_set_when_the_key_authenticates(
    api: Api, clock: ManualClock, seeded: SeededKey
) -> None:
    """last_used_at is null until the key calls /models, then the time of the latest call."""
    assert conforms(api.admin.get(api.key(seeded.key_id)), KEY)["last_used_at"] is None
    clock.advance(100)
    api.probe(seeded.value)
    assert conforms(api.admin.get(api.key(seeded.key_id)), KEY)["last_used_at"] == START + 100


# -- scopes and /models ------------------------------------------------------------------------


def test_restricted_key_without_model_read_gets_missing_scope(
    api: Api, emu: OpenAIEmulator, seeded: SeededKey
) -> None:
    """A valid key limited to api.responses.write gets 401 missing_scope on /models."""
    path = api.sa_keys(seeded.service_account_id)
    created = conforms(
        api.admin.post(path, json={"scopes": ["api.responses.write"]}), f"{SA}/api_keys"
    )
    response = api.probe(created["value"])
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["type"]) == (
        401,
        "missing_scope",
        "invalid_request_error",
    )
    assert "Missing scopes: api.model.read" in error["message"]
    assert (emu.key_authenticates(created["value"]), emu.key_works(created["value"])) == (
        True,
        False,
    )


def test_unknown_key_is_still_invalid_api_key(api: Api) -> None:
    """An unknown key is 401 invalid_api_key, never missing_scope."""
    response = api.probe("sk-svcacct-unknownunknownunknownABCD")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "invalid_api_key")


# -- key update --------------------------------------------------------------------------------


def test_update_sets_expiry_relative_to_the_request(
    api: Api, clock: ManualClock, seeded: SeededKey
) -> None:
    """expires_in_seconds counts from the update request; the answer is redacted."""
    clock.advance(500)
    response = api.admin.post(api.key(seeded.key_id), json={"expires_in_seconds": 120})
    updated = conforms(response, KEY)
    assert (updated["id"], updated["expires_at"]) == (seeded.key_id, START + 620)
    assert "value" not in updated
    assert seeded.value not in response.text
    again = conforms(api.admin.post(api.key(seeded.key_id), json={"expires_in_seconds": 120}), KEY)
    assert again["expires_at"] == START + 620
    clock.advance(10)
    retried = conforms(
        api.admin.post(api.key(seeded.key_id), json={"expires_in_seconds": 120}), KEY
    )
    assert retried["expires_at"] == START + 630


def test_update_to_one_second_retires_the_key(
    api: Api, clock: ManualClock, emu: OpenAIEmulator, seeded: SeededKey
) -> None:
    """{"expires_in_seconds": 1} ends the key a second later: the fallback revoke."""
    conforms(api.admin.post(api.key(seeded.key_id), json={"expires_in_seconds": 1}), KEY)
    assert api.probe(seeded.value).status_code == 200
    clock.advance(1)
    assert api.probe(seeded.value).status_code == 401
    assert emu.live_key_ids(api.project) == set()


def test_update_replaces_scopes(api: Api, emu: OpenAIEmulator, seeded: SeededKey) -> None:
    """scopes replaces the restriction; an empty list means All permissions again."""
    conforms(api.admin.post(api.key(seeded.key_id), json={"scopes": ["api.files.read"]}), KEY)
    assert api.probe(seeded.value).json()["error"]["code"] == "missing_scope"
    conforms(api.admin.post(api.key(seeded.key_id), json={"scopes": []}), KEY)
    assert api.probe(seeded.value).status_code == 200
    view = emu.key(seeded.key_id)
    assert view is not None
    assert (view.scopes, view.expires_at) == ((), None)


def test_expired_key_refuses_updates(
    api: Api, clock: ManualClock, emu: OpenAIEmulator, seeded: SeededKey
) -> None:
    """An expired key cannot be updated (400) and stays expired."""
    short = emu.add_service_account_key(
        api.project, seeded.service_account_id, expires_in_seconds=5
    )
    clock.advance(6)
    response = api.admin.post(api.key(short.key_id), json={"expires_in_seconds": 3600})
    assert response.status_code == 400
    error = _error(response, KEY)
    assert "expired" in error["message"]
    assert error["param"] == "api_key_id"
    assert not emu.key_works(short.value)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, None),
        ({"expires_in_seconds": None}, "expires_in_seconds"),
        ({"scopes": None}, "scopes"),
        ({"name": "renamed", "scopes": []}, "name"),
    ],
)
def test_update_body_follows_the_schema(
    api: Api, emu: OpenAIEmulator, seeded: SeededKey, body: dict[str, object], param: str | None
) -> None:
    """At least one of scopes or expires_in_seconds, neither null, nothing else."""
    response = api.admin.post(api.key(seeded.key_id), json=body)
    assert response.status_code == 400
    assert _error(response, KEY)["param"] == param
    view = emu.key(seeded.key_id)
    assert view is not None
    assert (view.scopes, view.expires_at) == ((), None)


def test_update_of_an_unknown_key_is_404(api: Api) -> None:
    """Updating a key the project does not have is a 404 naming it."""
    response = api.admin.post(api.key("key_nope"), json={"scopes": []})
    assert response.status_code == 404
    assert "key_nope" in _error(response, KEY)["message"]


# -- DELETE on service-account keys, and older servers ------------------------------------------


def test_refuse_knob_applies_to_service_account_keys_only(
    api: Api, emu: OpenAIEmulator, seeded: SeededKey
) -> None:
    """The older API's 400 is for service-account keys; a user's key is still deleted."""
    emu.delete_service_account_keys = "refuse"
    user = emu.add_user_key(api.project)
    refused = api.admin.delete(api.key(seeded.key_id))
    assert (refused.status_code, _error(refused, KEY)["message"]) == (400, REFUSED_DELETE)
    deleted = conforms(api.admin.delete(api.key(user.key_id)), KEY)
    assert deleted == {
        "object": "organization.project.api_key.deleted",
        "id": user.key_id,
        "deleted": True,
    }
    assert emu.live_key_ids(api.project) == {seeded.key_id}
    emu.delete_service_account_keys = "allow"
    conforms(api.admin.delete(api.key(seeded.key_id)), KEY)
    assert [a.id for a in emu.service_accounts(api.project)] == [seeded.service_account_id]
    assert api.probe(seeded.value).status_code == 401


@pytest.mark.parametrize("answer", ["404", "405"])
def test_older_server_lacks_the_per_account_create(
    api: Api, emu: OpenAIEmulator, seeded: SeededKey, answer: EndpointKnob
) -> None:
    """per_account_key_endpoint makes POST .../service_accounts/{id}/api_keys a 404 or 405."""
    emu.per_account_key_endpoint = answer
    response = api.admin.post(api.sa_keys(seeded.service_account_id), json={"name": "x"})
    assert response.status_code == int(answer)
    assert "/service_accounts/" in _error(response, f"{SA}/api_keys")["message"]
    assert emu.live_key_ids(api.project) == {seeded.key_id}
    url = f"/organization/projects/{api.project}/service_accounts"
    assert api.admin.post(url, json={"name": "fallback"}).status_code == 200


@pytest.mark.parametrize("answer", ["404", "405"])
def test_older_server_lacks_the_key_update(
    api: Api, emu: OpenAIEmulator, seeded: SeededKey, answer: EndpointKnob
) -> None:
    """key_update_endpoint makes POST .../api_keys/{id} a 404 or 405; nothing changes."""
    emu.key_update_endpoint = answer
    response = api.admin.post(api.key(seeded.key_id), json={"expires_in_seconds": 1})
    assert response.status_code == int(answer)
    conforms(response, KEY)
    view = emu.key(seeded.key_id)
    assert view is not None
    assert view.expires_at is None


# -- lifetime policies -------------------------------------------------------------------------


def _creates(
    api: Api, account: str, body: Mapping[str, object]
) -> tuple[httpx.Response, httpx.Response]:
    url = f"/organization/projects/{api.project}/service_accounts"
    return (
        api.admin.post(url, json={"name": "new", **body}),
        api.admin.post(api.sa_keys(account), json=dict(body)),
    )


@pytest.mark.parametrize("where", ["organization", "project"])
def test_lifetime_policy_refuses_creates_without_or_above_the_maximum(
    api: Api, emu: OpenAIEmulator, seeded: SeededKey, where: str
) -> None:
    """Under a maximum lifetime both creates need expires_in_seconds <= max (400 otherwise)."""
    if where == "organization":
        emu.max_key_lifetime = 86_400
    else:
        emu.set_project_key_lifetime(api.project, 86_400)
    for body in ({}, {"expires_in_seconds": 86_401}):
        account_create, key_create = _creates(api, seeded.service_account_id, body)
        for response, template in (
            (account_create, f"{P}/service_accounts"),
            (key_create, f"{SA}/api_keys"),
        ):
            error = _error(response, template)
            assert (response.status_code, error["param"]) == (400, "expires_in_seconds")
            assert "expires_in_seconds" in error["message"]
    assert emu.live_key_ids(api.project) == {seeded.key_id}
    assert len(emu.service_accounts(api.project)) == 1
    account_create, key_create = _creates(
        api, seeded.service_account_id, {"expires_in_seconds": 86_400}
    )
    assert (
        conforms(account_create, f"{P}/service_accounts")["api_key"]["expires_at"] == START + 86_400
    )
    assert conforms(key_create, f"{SA}/api_keys")["expires_at"] == START + 86_400


def test_stricter_policy_wins_and_applies_to_updates(
    api: Api, emu: OpenAIEmulator, seeded: SeededKey
) -> None:
    """The lower of the organization and project maxima applies, to updates as well."""
    emu.max_key_lifetime = 86_400
    emu.set_project_key_lifetime(api.project, 3_600)
    too_long = api.admin.post(api.key(seeded.key_id), json={"expires_in_seconds": 3_601})
    assert (too_long.status_code, _error(too_long, KEY)["param"]) == (400, "expires_in_seconds")
    assert (
        conforms(api.admin.post(api.key(seeded.key_id), json={"scopes": []}), KEY)["expires_at"]
        is None
    )
    assert (
        conforms(api.admin.post(api.key(seeded.key_id), json={"expires_in_seconds": 3_600}), KEY)[
            "expires_at"
        ]
        == START + 3_600
    )
    emu.set_project_key_lifetime(api.project, None)
    emu.max_key_lifetime = None
    assert (
        conforms(api.admin.post(api.sa_keys(seeded.service_account_id)), f"{SA}/api_keys")[
            "expires_at"
        ]
        is None
    )


def test_policy_does_not_stop_an_account_without_a_key(api: Api, emu: OpenAIEmulator) -> None:
    """create_service_account_only mints no key, so a lifetime policy does not apply."""
    emu.max_key_lifetime = 60
    url = f"/organization/projects/{api.project}/service_accounts"
    body = {"name": "bare", "create_service_account_only": True}
    assert conforms(api.admin.post(url, json=body), f"{P}/service_accounts")["api_key"] is None


# -- owner_project_access ------------------------------------------------------------------------


def test_owner_project_access_filters_by_the_owner_s_access(
    api: Api, emu: OpenAIEmulator, seeded: SeededKey
) -> None:
    """A key of a role-none account is inactive: shown by inactive and any, hidden by default."""
    url = f"/organization/projects/{api.project}/service_accounts"
    bare = conforms(
        api.admin.post(url, json={"name": "bare", "create_service_account_only": True}),
        f"{P}/service_accounts",
    )
    inactive_key = conforms(api.admin.post(api.sa_keys(bare["id"])), f"{SA}/api_keys")["id"]
    user = emu.add_user_key(api.project)

    def ids(**params: str) -> list[str]:
        return [k["id"] for k in api.keys(**params)["data"]]

    assert ids() == ids(owner_project_access="active") == [seeded.key_id, user.key_id]
    assert ids(owner_project_access="inactive") == [inactive_key]
    assert ids(owner_project_access="any") == [seeded.key_id, inactive_key, user.key_id]
    by_id = {k["id"]: k for k in api.keys(owner_project_access="any")["data"]}
    assert by_id[inactive_key]["owner_project_access"] == "inactive"
    assert by_id[user.key_id]["owner"]["type"] == "user"
    assert by_id[user.key_id]["owner"]["user"]["id"] == user.user_id


def test_key_listing_pages_over_enabled_keys_only(
    api: Api, emu: OpenAIEmulator, clock: ManualClock, seeded: SeededKey
) -> None:
    """limit/after walk the unexpired keys once, with first_id/last_id/has_more."""
    made = [seeded.key_id]
    for index in range(4):
        lifetime = 5 if index % 2 else None
        made.append(
            emu.add_service_account_key(
                api.project, seeded.service_account_id, expires_in_seconds=lifetime
            ).key_id
        )
    clock.advance(5)
    seen: list[str] = []
    after: str | None = None
    while True:
        page = api.keys(
            owner_project_access="any", limit="2", **({"after": after} if after else {})
        )
        ids = [k["id"] for k in page["data"]]
        assert (page["first_id"], page["last_id"]) == (ids[0], ids[-1])
        seen += ids
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert seen == [made[0], made[1], made[3]]


# -- archived projects ---------------------------------------------------------------------------


def test_archived_project_refuses_new_accounts_and_keys_and_its_keys_stop(
    api: Api, emu: OpenAIEmulator, clock: ManualClock, seeded: SeededKey
) -> None:
    """POST .../archive: status archived; creates and updates are 400; its keys answer 401."""
    clock.advance(7)
    archived = conforms(
        api.admin.post(f"/organization/projects/{api.project}/archive"), f"{P}/archive"
    )
    assert (archived["status"], archived["archived_at"]) == ("archived", START + 7)
    url = f"/organization/projects/{api.project}/service_accounts"
    refusals = [
        (api.admin.post(url, json={"name": "a"}), f"{P}/service_accounts"),
        (api.admin.post(api.sa_keys(seeded.service_account_id)), f"{SA}/api_keys"),
        (api.admin.post(api.key(seeded.key_id), json={"scopes": []}), KEY),
    ]
    for response, template in refusals:
        assert response.status_code == 400
        assert "archived" in _error(response, template)["message"]
    assert api.probe(seeded.value).status_code == 401
    assert not emu.key_authenticates(seeded.value)


def test_archive_seed_method_matches_the_endpoint(
    api: Api, emu: OpenAIEmulator, seeded: SeededKey
) -> None:
    """emu.archive_project archives as the endpoint does."""
    emu.archive_project(api.project)
    project = conforms(api.admin.get(f"/organization/projects/{api.project}"), P)
    assert (project["status"], project["archived_at"]) == ("archived", START)
    assert api.probe(seeded.value).status_code == 401


# -- admin API keys ------------------------------------------------------------------------------


def test_admin_key_lifecycle(api: Api, emu: OpenAIEmulator, clock: ManualClock) -> None:
    """Create (value once), retrieve, list, delete; the deleted key answers 401 afterwards."""
    created = conforms(
        api.admin.post(ADMIN, json={"name": "next", "expires_in_seconds": 600}), ADMIN
    )
    assert created["value"].startswith("sk-admin-")
    assert (created["name"], created["expires_at"], created["created_at"]) == (
        "next",
        START + 600,
        START,
    )
    fresh = api.client(created["value"])
    fetched = conforms(fresh.get(f"{ADMIN}/{created['id']}"), f"{ADMIN}/{{key_id}}")
    assert "value" not in fetched
    assert fetched["redacted_value"].startswith("sk-admin...")
    assert fetched["last_used_at"] == START
    listed = [k["id"] for k in conforms(fresh.get(ADMIN), ADMIN)["data"]]
    assert created["id"] in listed
    assert len(listed) == 2
    gone = conforms(api.admin.delete(f"{ADMIN}/{created['id']}"), f"{ADMIN}/{{key_id}}")
    assert gone == {
        "id": created["id"],
        "object": "organization.admin_api_key.deleted",
        "deleted": True,
    }
    refused = fresh.get(f"/organization/projects/{api.project}")
    assert (refused.status_code, _error(refused, P)["code"]) == (401, "invalid_api_key")
    assert not emu.admin_key_works(created["value"])
    missing = api.admin.get(f"{ADMIN}/{created['id']}")
    assert missing.status_code == 404
    conforms(missing, f"{ADMIN}/{{key_id}}")


def test_admin_key_without_lifetime_never_expires_and_one_with_expires(
    api: Api, emu: OpenAIEmulator, clock: ManualClock
) -> None:
    """expires_in_seconds omitted: expires_at null; set: the key answers 401 once it passes."""
    forever = conforms(api.admin.post(ADMIN, json={"name": "forever"}), ADMIN)
    brief = conforms(api.admin.post(ADMIN, json={"name": "brief", "expires_in_seconds": 30}), ADMIN)
    assert forever["expires_at"] is None
    clock.advance(30)
    assert (
        api.client(brief["value"]).get(f"/organization/projects/{api.project}").status_code == 401
    )
    assert (
        api.client(forever["value"]).get(f"/organization/projects/{api.project}").status_code == 200
    )
    assert (emu.admin_key_works(brief["value"]), emu.admin_key_works(forever["value"])) == (
        False,
        True,
    )


def test_admin_key_list_pages_in_either_order(api: Api, emu: OpenAIEmulator) -> None:
    """limit/after/order page the organization's admin keys; another org's keys are not shown."""
    emu.add_admin_key(org_id="org_other")
    made = [conforms(api.admin.post(ADMIN, json={"name": f"k{i}"}), ADMIN)["id"] for i in range(3)]
    for order in ("asc", "desc"):
        seen: list[str] = []
        after: str | None = None
        while True:
            params = {"limit": "2", "order": order} | ({"after": after} if after else {})
            page = conforms(api.admin.get(ADMIN, params=params), ADMIN)
            seen += [k["id"] for k in page["data"]]
            if not page["has_more"]:
                break
            after = page["last_id"]
        assert len(seen) == 4
        assert [i for i in seen if i in made] == (made if order == "asc" else made[::-1])
    bad = api.admin.get(ADMIN, params={"order": "sideways"})
    assert (bad.status_code, _error(bad, ADMIN)["param"]) == (400, "order")


def test_admin_key_create_follows_the_schema_and_needs_write(api: Api, emu: OpenAIEmulator) -> None:
    """name is required; a read-only admin key cannot create (403)."""
    missing = api.admin.post(ADMIN, json={})
    assert (missing.status_code, _error(missing, ADMIN)["param"]) == (400, "name")
    reader = api.client(emu.add_admin_key(scopes="read"))
    assert reader.get(ADMIN).status_code == 200
    denied = reader.post(ADMIN, json={"name": "x"})
    assert (denied.status_code, _error(denied, ADMIN)["code"]) == (403, "missing_scope")


# -- the emulator's surface is the spec's --------------------------------------------------------


def test_every_route_is_an_operation_of_the_spec() -> None:
    """Each route the emulator serves is a path and method of the 2026-11 spec."""
    served = {(route.method.lower(), route.template) for route in ROUTES}
    declared = {
        (method, path)
        for path, item in SPEC["paths"].items()
        for method in item
        if method in {"get", "post", "delete"}
    }
    assert served <= declared
    assert ("post", KEY) in served
    assert {("get", ADMIN), ("post", ADMIN), ("delete", f"{ADMIN}/{{key_id}}")} <= served


def test_expire_key_seed_ends_a_key_now(api: Api, emu: OpenAIEmulator, seeded: SeededKey) -> None:
    """emu.expire_key ends a key as its lifetime would: 401, unlisted, updates refused."""
    emu.expire_key(seeded.key_id)
    assert api.probe(seeded.value).status_code == 401
    assert api.keys(owner_project_access="any")["data"] == []
    assert api.admin.post(api.key(seeded.key_id), json={"scopes": []}).status_code == 400
