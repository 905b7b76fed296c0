"""The OpenAI emulator against the 2026-11 spec: every endpoint, every status, every knob.

Every response body is validated against the vendored spec (``openapi_check.conforms``). The
2026-11 additions (expiry, update, scopes, lifetime policy, admin keys, older-server switches)
are covered in ``test_emulator_2026_11.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from rotator.testing.openai_emulator import (
    REFUSED_DELETE,
    REQUEST_SCHEMAS,
    Call,
    ManualClock,
    OpenAIEmulator,
    OpenAIEmulatorServer,
    SeededKey,
)
from tests.contract.openapi_check import SPEC, conforms

P = "/organization/projects/{project_id}"
SA = f"{P}/service_accounts/{{service_account_id}}"
KEY = f"{P}/api_keys/{{api_key_id}}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emu(clock: ManualClock) -> OpenAIEmulator:
    return OpenAIEmulator(now=clock.now, monotonic=clock.monotonic, sleep=clock.sleep)


@pytest.fixture
def project(emu: OpenAIEmulator) -> str:
    return emu.add_project(name="Payments")


@pytest.fixture
def seeded(emu: OpenAIEmulator, project: str) -> SeededKey:
    return emu.add_service_account(project, "payments-api")


@pytest.fixture
def admin(emu: OpenAIEmulator) -> Iterator[httpx.Client]:
    key = emu.add_admin_key()
    with httpx.Client(
        transport=emu.transport(),
        base_url="http://openai.test/v1",
        headers={"Authorization": f"Bearer {key}"},
    ) as client:
        yield client


def models(emu: OpenAIEmulator, key: str) -> httpx.Response:
    with httpx.Client(transport=emu.transport(), base_url="http://openai.test/v1") as client:
        return client.get("/models", headers={"Authorization": f"Bearer {key}"})


def test_embedded_request_schemas_are_the_spec_schemas() -> None:
    """The emulator's strict-mode request schemas equal the spec's components, unchanged."""
    schemas = dict(SPEC["components"]["schemas"])
    inline = SPEC["paths"]["/organization/admin_api_keys"]["post"]["requestBody"]
    schemas["AdminApiKeyCreateRequest"] = inline["content"]["application/json"]["schema"]
    assert set(REQUEST_SCHEMAS) == {
        "ProjectServiceAccountCreateRequest",
        "CreateProjectServiceAccountApiKeyBody",
        "UpdateProjectApiKeyBody",
        "AdminApiKeyCreateRequest",
    }
    for name, schema in REQUEST_SCHEMAS.items():
        assert schema == schemas[name]
    create = SPEC["paths"][f"{P}/service_accounts"]["post"]["requestBody"]
    assert create["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ProjectServiceAccountCreateRequest"
    )


def test_get_project_answers_a_project(admin: httpx.Client, project: str) -> None:
    """GET /organization/projects/{id} returns the Project object, status active."""
    body = conforms(admin.get(f"/organization/projects/{project}"), P)
    assert body == body | {"id": project, "name": "Payments", "status": "active"}
    assert project.startswith("proj_")


def test_list_service_accounts_paginates_with_cursor_fields(
    admin: httpx.Client, emu: OpenAIEmulator, project: str
) -> None:
    """limit/after walk every account once; first_id/last_id/has_more follow the spec."""
    made = [emu.add_service_account(project, f"sa-{i}").service_account_id for i in range(5)]
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        params = {"limit": "2"} | ({"after": after} if after else {})
        url = f"/organization/projects/{project}/service_accounts"
        page = conforms(admin.get(url, params=params), f"{P}/service_accounts")
        ids = [item["id"] for item in page["data"]]
        assert (page["first_id"], page["last_id"]) == (ids[0], ids[-1])
        seen += ids
        pages += 1
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert (seen, pages) == (made, 3)


def test_empty_list_has_null_cursors(admin: httpx.Client, project: str) -> None:
    """A page with no items has first_id and last_id null and has_more false."""
    page = conforms(
        admin.get(f"/organization/projects/{project}/service_accounts"), f"{P}/service_accounts"
    )
    assert page == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_limit_outside_one_to_hundred_is_refused(
    admin: httpx.Client, project: str, limit: str
) -> None:
    """limit must be an integer from 1 to 100: anything else is a 400 naming 'limit'."""
    response = admin.get(f"/organization/projects/{project}/api_keys", params={"limit": limit})
    assert response.status_code == 400
    assert conforms(response, f"{P}/api_keys")["error"]["param"] == "limit"


def test_create_service_account_returns_its_key_once(
    admin: httpx.Client, emu: OpenAIEmulator, project: str
) -> None:
    """POST .../service_accounts answers the create response with a working sk-svcacct- key."""
    response = admin.post(
        f"/organization/projects/{project}/service_accounts", json={"name": "app"}
    )
    body = conforms(response, f"{P}/service_accounts")
    key = body["api_key"]
    assert body["id"].startswith("svc_acct_")
    assert body["role"] == "member"
    assert key["id"].startswith("key_")
    assert key["value"].startswith("sk-svcacct-")
    assert models(emu, key["value"]).status_code == 200
    listed = admin.get(f"/organization/projects/{project}/api_keys").json()["data"]
    assert [item["redacted_value"] for item in listed] == [
        f"{key['value'][:6]}...{key['value'][-3:]}"
    ]


def test_create_service_account_only_has_no_key(admin: httpx.Client, project: str) -> None:
    """create_service_account_only gives role none and api_key null."""
    body = {"name": "bare", "create_service_account_only": True}
    response = admin.post(f"/organization/projects/{project}/service_accounts", json=body)
    created = conforms(response, f"{P}/service_accounts")
    assert (created["role"], created["api_key"]) == ("none", None)


def test_get_service_account_and_unknown_one(
    admin: httpx.Client, project: str, seeded: SeededKey
) -> None:
    """GET .../service_accounts/{id} answers the account; an unknown id is a 404 error body."""
    base = f"/organization/projects/{project}/service_accounts"
    found = conforms(admin.get(f"{base}/{seeded.service_account_id}"), SA)
    assert (found["id"], found["name"]) == (seeded.service_account_id, "payments-api")
    missing = admin.get(f"{base}/svc_acct_nope")
    assert missing.status_code == 404
    assert "svc_acct_nope" in conforms(missing, SA)["error"]["message"]


def test_create_key_for_existing_service_account(
    admin: httpx.Client, emu: OpenAIEmulator, project: str, seeded: SeededKey
) -> None:
    """POST .../service_accounts/{id}/api_keys mints another key; a body is optional."""
    path = f"/organization/projects/{project}/service_accounts/{seeded.service_account_id}/api_keys"
    named = conforms(
        admin.post(path, json={"name": "rotated", "scopes": ["api.model.read"]}), f"{SA}/api_keys"
    )
    unnamed = conforms(admin.post(path), f"{SA}/api_keys")
    assert named["name"] == "rotated"
    assert unnamed["name"] == "Secret Key"
    assert emu.live_key_ids(project) == {seeded.key_id, named["id"], unnamed["id"]}
    assert models(emu, named["value"]).status_code == 200


def test_delete_service_account_revokes_all_its_keys(
    admin: httpx.Client, emu: OpenAIEmulator, project: str, seeded: SeededKey
) -> None:
    """Deleting a service account deletes it and every key it owns answers 401 afterwards."""
    extra = emu.add_service_account_key(project, seeded.service_account_id)
    path = f"/organization/projects/{project}/service_accounts/{seeded.service_account_id}"
    body = conforms(admin.delete(path), SA)
    assert body == {
        "object": "organization.project.service_account.deleted",
        "id": seeded.service_account_id,
        "deleted": True,
    }
    assert [models(emu, k.value).status_code for k in (seeded, extra)] == [401, 401]
    assert emu.live_key_ids(project) == set()
    assert emu.service_accounts(project) == []
    assert admin.delete(path).status_code == 404


def test_list_api_keys_shows_service_account_owners(
    admin: httpx.Client, project: str, seeded: SeededKey
) -> None:
    """Project API keys are listed with owner type service_account and a redacted value."""
    url = f"/organization/projects/{project}/api_keys"
    page = conforms(admin.get(url, params={"owner_project_access": "any"}), f"{P}/api_keys")
    (item,) = page["data"]
    assert item["owner"]["type"] == "service_account"
    assert item["owner"]["service_account"]["id"] == seeded.service_account_id
    assert seeded.value not in str(page)
    assert item["redacted_value"].startswith("sk-svc...")
    inactive = conforms(
        admin.get(url, params={"owner_project_access": "inactive"}), f"{P}/api_keys"
    )
    assert inactive["data"] == []
    assert admin.get(url, params={"owner_project_access": "everyone"}).status_code == 400


def test_get_and_delete_project_api_key(
    admin: httpx.Client, emu: OpenAIEmulator, project: str, seeded: SeededKey
) -> None:
    """GET/DELETE .../api_keys/{id} (newer API): only that key is revoked, the account stays."""
    other = emu.add_service_account_key(project, seeded.service_account_id)
    path = f"/organization/projects/{project}/api_keys/{seeded.key_id}"
    assert conforms(admin.get(path), KEY)["id"] == seeded.key_id
    deleted = conforms(admin.delete(path), KEY)
    assert deleted == {
        "object": "organization.project.api_key.deleted",
        "id": seeded.key_id,
        "deleted": True,
    }
    assert (models(emu, seeded.value).status_code, models(emu, other.value).status_code) == (
        401,
        200,
    )
    assert [a.id for a in emu.service_accounts(project)] == [seeded.service_account_id]
    assert conforms(admin.get(path), KEY)["error"]["message"].endswith(f"'{seeded.key_id}'.")


def test_refuse_knob_answers_older_api_400(
    admin: httpx.Client, emu: OpenAIEmulator, project: str, seeded: SeededKey
) -> None:
    """With delete_service_account_keys='refuse' a service-account key cannot be deleted."""
    emu.delete_service_account_keys = "refuse"
    response = admin.delete(f"/organization/projects/{project}/api_keys/{seeded.key_id}")
    assert response.status_code == 400
    assert conforms(response, KEY)["error"]["message"] == REFUSED_DELETE
    assert emu.key_works(seeded.value)


def test_unknown_key_is_401_invalid_api_key_without_the_key(emu: OpenAIEmulator) -> None:
    """An unknown key gets the documented 401 body, quoting only a masked key."""
    value = "sk-proj-thisisnotarealkeybutlongenoughABCD"
    response = models(emu, value)
    body = conforms(response, "/models")
    assert response.status_code == 401
    assert body["error"] | {"message": ""} == {
        "message": "",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
    assert body["error"]["message"].startswith("Incorrect API key provided: sk-proj-****...ABCD.")
    assert value not in response.text


def test_missing_authorization_is_401(emu: OpenAIEmulator, project: str) -> None:
    """No Authorization header: 401 telling the caller to send a Bearer key."""
    with httpx.Client(transport=emu.transport(), base_url="http://openai.test/v1") as client:
        response = client.get(f"/organization/projects/{project}")
    assert response.status_code == 401
    assert "Authorization: Bearer" in conforms(response, P)["error"]["message"]


def test_project_key_on_admin_endpoint_is_refused(
    emu: OpenAIEmulator, project: str, seeded: SeededKey
) -> None:
    """A service-account key on an admin path is refused for lack of api.management.read."""
    with httpx.Client(transport=emu.transport(), base_url="http://openai.test/v1") as client:
        response = client.get(
            f"/organization/projects/{project}", headers={"Authorization": f"Bearer {seeded.value}"}
        )
    assert response.status_code == 401
    assert "Missing scopes: api.management.read" in conforms(response, P)["error"]["message"]


def test_admin_key_is_refused_on_models(emu: OpenAIEmulator) -> None:
    """Admin keys cannot call /models: 401 with a message that says so."""
    response = models(emu, emu.add_admin_key())
    assert response.status_code == 401
    assert "Admin API keys cannot be used" in conforms(response, "/models")["error"]["message"]


def test_read_only_admin_key_reads_but_cannot_write(emu: OpenAIEmulator, project: str) -> None:
    """A read-only admin key lists, but a create gets 403 missing api.management.write."""
    headers = {"Authorization": f"Bearer {emu.add_admin_key(scopes='read')}"}
    with httpx.Client(
        transport=emu.transport(), base_url="http://openai.test/v1", headers=headers
    ) as client:
        assert client.get(f"/organization/projects/{project}/service_accounts").status_code == 200
        response = client.post(
            f"/organization/projects/{project}/service_accounts", json={"name": "x"}
        )
    assert response.status_code == 403
    assert (
        "Missing scopes: api.management.write"
        in conforms(response, f"{P}/service_accounts")["error"]["message"]
    )
    assert emu.service_accounts(project) == []


def test_admin_key_of_another_org_does_not_see_the_project(
    emu: OpenAIEmulator, project: str
) -> None:
    """A valid admin key of another organization gets 404 for this organization's project."""
    headers = {"Authorization": f"Bearer {emu.add_admin_key(org_id='org_other')}"}
    with httpx.Client(
        transport=emu.transport(), base_url="http://openai.test/v1", headers=headers
    ) as client:
        response = client.get(f"/organization/projects/{project}")
    assert response.status_code == 404
    assert project in conforms(response, P)["error"]["message"]


@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("GET", P),
        ("GET", f"{P}/service_accounts"),
        ("POST", f"{P}/service_accounts"),
        ("GET", SA),
        ("DELETE", SA),
        ("POST", f"{SA}/api_keys"),
        ("GET", f"{P}/api_keys"),
        ("GET", KEY),
        ("DELETE", KEY),
    ],
)
def test_unknown_project_is_404_on_every_admin_path(
    admin: httpx.Client, method: str, template: str
) -> None:
    """Every admin path answers 404 with an error body naming the unknown project."""
    path = template.format(
        project_id="proj_missing", service_account_id="svc_acct_x", api_key_id="key_x"
    )
    response = admin.request(method, path, json={"name": "x"} if method == "POST" else None)
    assert response.status_code == 404
    assert "proj_missing" in conforms(response, template)["error"]["message"]


def test_unknown_url_is_404_invalid_url(admin: httpx.Client) -> None:
    """A path the API does not have is a 404 'Invalid URL' error."""
    response = admin.get("/organization/nothing")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (GET /v1/organization/nothing)"


def test_new_key_answers_401_until_propagation_delay_passes(
    admin: httpx.Client, emu: OpenAIEmulator, clock: ManualClock, project: str
) -> None:
    """With propagation_delay a minted key is refused on /models until the clock moves on."""
    emu.propagation_delay = 30
    value = admin.post(
        f"/organization/projects/{project}/service_accounts", json={"name": "n"}
    ).json()["api_key"]["value"]
    assert (models(emu, value).status_code, emu.key_works(value)) == (401, False)
    clock.advance(29.9)
    assert models(emu, value).status_code == 401
    clock.advance(0.2)
    assert (models(emu, value).status_code, emu.key_works(value)) == (200, True)


def test_status_fault_answers_429_with_retry_after_without_acting(
    admin: httpx.Client, emu: OpenAIEmulator, project: str
) -> None:
    """A 'status' fault answers 429 + Retry-After and creates nothing; the next call acts."""
    emu.inject("POST", r"/service_accounts$", "status", status=429, retry_after=3)
    url = f"/organization/projects/{project}/service_accounts"
    refused = admin.post(url, json={"name": "a"})
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "3")
    assert conforms(refused, f"{P}/service_accounts")["error"]["code"] == "rate_limit_exceeded"
    assert emu.service_accounts(project) == []
    assert admin.post(url, json={"name": "a"}).status_code == 200
    assert emu.armed_faults == 0


@pytest.mark.parametrize("status", [500, 503])
def test_status_fault_answers_server_errors_with_error_body(
    admin: httpx.Client, emu: OpenAIEmulator, project: str, status: int
) -> None:
    """5xx faults carry an ErrorResponse body of type server_error and do not act."""
    emu.inject("DELETE", r"/service_accounts/", "status", status=status, retry_after_ms=250)
    seeded = emu.add_service_account(project, "kept")
    path = f"/organization/projects/{project}/service_accounts/{seeded.service_account_id}"
    response = admin.delete(path)
    assert (response.status_code, response.headers["retry-after-ms"]) == (status, "250")
    assert conforms(response, SA)["error"]["type"] == "server_error"
    assert emu.key_works(seeded.value)


def test_drop_before_loses_the_connection_and_does_nothing(
    admin: httpx.Client, emu: OpenAIEmulator, project: str
) -> None:
    """'drop_before' raises the transport error a reset connection gives, before acting."""
    emu.inject("POST", r"/service_accounts$", "drop_before")
    with pytest.raises(httpx.ReadError) as raised:
        admin.post(f"/organization/projects/{project}/service_accounts", json={"name": "a"})
    assert raised.value.request.method == "POST"
    assert emu.service_accounts(project) == []


def test_drop_after_acts_then_loses_the_answer(
    admin: httpx.Client, emu: OpenAIEmulator, project: str
) -> None:
    """'drop_after' creates the account, then the client sees a disconnect, not a response."""
    emu.inject("POST", r"/service_accounts$", "drop_after")
    with pytest.raises(httpx.RemoteProtocolError):
        admin.post(f"/organization/projects/{project}/service_accounts", json={"name": "a"})
    assert [a.name for a in emu.service_accounts(project)] == ["a"]
    assert emu.calls[-1] == Call("POST", f"{P}/service_accounts", None)


def test_fault_matches_method_and_fires_the_given_number_of_times(
    admin: httpx.Client, emu: OpenAIEmulator, project: str
) -> None:
    """A fault fires only for its method and path, exactly ``times`` times, then disarms."""
    emu.inject("GET", r"/service_accounts$", "status", times=2, status=503)
    url = f"/organization/projects/{project}/service_accounts"
    assert admin.get(f"/organization/projects/{project}").status_code == 200
    assert admin.post(url, json={"name": "a"}).status_code == 200
    assert [admin.get(url).status_code for _ in range(3)] == [503, 503, 200]
    with pytest.raises(ValueError, match="fault kind"):
        emu.inject("GET", ".", "explode")  # type: ignore[arg-type]


def test_admin_rate_limit_answers_429_with_integer_retry_after(
    admin: httpx.Client, emu: OpenAIEmulator, clock: ManualClock, project: str, seeded: SeededKey
) -> None:
    """Beyond admin_rate_limit_rps admin calls get 429 rate_limit_exceeded; /models is exempt."""
    emu.admin_rate_limit_rps = 2
    url = f"/organization/projects/{project}"
    statuses = [admin.get(url).status_code for _ in range(3)]
    limited = admin.get(url)
    assert statuses == [200, 200, 429]
    assert limited.status_code == 429
    assert limited.headers["retry-after"].isdigit()
    assert int(limited.headers["retry-after"]) >= 1
    assert conforms(limited, P)["error"]["code"] == "rate_limit_exceeded"
    assert models(emu, seeded.value).status_code == 200
    clock.advance(1.0)
    assert admin.get(url).status_code == 200


def test_bare_string_errors_knob(admin: httpx.Client, emu: OpenAIEmulator) -> None:
    """bare_string_errors sends {"error": "<message>"} as third parties report."""
    emu.bare_string_errors = True
    response = admin.get("/organization/projects/proj_missing")
    assert response.status_code == 404
    assert response.json() == {"error": "No project found with id 'proj_missing'."}


@pytest.mark.parametrize(
    ("content", "content_type", "param", "code"),
    [
        (b"{}", "application/json", "name", "missing_required_parameter"),
        (b'{"name": 7}', "application/json", "name", "invalid_type"),
        (b'{"name": "a", "colour": "red"}', "application/json", "colour", "unknown_parameter"),
        (
            b'{"name": "a", "create_service_account_only": "yes"}',
            "application/json",
            "create_service_account_only",
            "invalid_type",
        ),
        (b"[]", "application/json", None, "invalid_type"),
        (b"{not json", "application/json", None, None),
        (b'{"name": "a"}', "text/plain", None, None),
    ],
)
def test_strict_mode_refuses_bodies_that_break_the_spec(
    admin: httpx.Client,
    emu: OpenAIEmulator,
    project: str,
    content: bytes,
    content_type: str,
    param: str | None,
    code: str | None,
) -> None:
    """Strict mode answers 400 invalid_request_error for a body the spec's schema refuses."""
    url = f"/organization/projects/{project}/service_accounts"
    response = admin.post(url, content=content, headers={"Content-Type": content_type})
    error = conforms(response, f"{P}/service_accounts")["error"]
    assert (response.status_code, error["type"]) == (400, "invalid_request_error")
    assert (error["param"], error["code"]) == (param, code)
    assert emu.service_accounts(project) == []


def test_strict_mode_checks_key_create_scopes(
    admin: httpx.Client, project: str, seeded: SeededKey
) -> None:
    """scopes must be a list of strings on POST .../service_accounts/{id}/api_keys."""
    path = f"/organization/projects/{project}/service_accounts/{seeded.service_account_id}/api_keys"
    response = admin.post(path, json={"scopes": ["ok", 3]})
    assert response.status_code == 400
    assert conforms(response, f"{SA}/api_keys")["error"]["param"] == "scopes[1]"


def test_lenient_mode_accepts_unknown_arguments(emu: OpenAIEmulator, project: str) -> None:
    """With strict off, arguments no spec names are accepted."""
    emu.strict = False
    headers = {"Authorization": f"Bearer {emu.add_admin_key()}"}
    with httpx.Client(
        transport=emu.transport(), base_url="http://openai.test/v1", headers=headers
    ) as client:
        body = {"name": "a", "colour": "red"}
        response = client.post(f"/organization/projects/{project}/service_accounts", json=body)
    assert response.status_code == 200


def test_every_answer_carries_a_request_id(admin: httpx.Client, emu: OpenAIEmulator) -> None:
    """Success and error answers both carry a fresh x-request-id header."""
    ids = {
        admin.get("/organization/projects/proj_missing").headers["x-request-id"] for _ in range(2)
    }
    ids.add(models(emu, "sk-nothing").headers["x-request-id"])
    assert len(ids) == 3
    assert all(i.startswith("req_") for i in ids)


def test_calls_record_route_templates_and_statuses(
    admin: httpx.Client, emu: OpenAIEmulator, project: str
) -> None:
    """emu.calls lists (method, route template, status); reset_calls empties it."""
    admin.get(f"/organization/projects/{project}/service_accounts")
    admin.get("/organization/projects/proj_missing")
    assert emu.calls == [("GET", f"{P}/service_accounts", 200), ("GET", P, 404)]
    emu.reset_calls()
    assert emu.calls == []


def test_seeding_rejects_unknown_projects_and_foreign_accounts(
    emu: OpenAIEmulator, project: str
) -> None:
    """The Python API refuses to seed into a project that does not exist or does not match."""
    other = emu.add_project(name="Other")
    seeded = emu.add_service_account(project, "a")
    with pytest.raises(ValueError, match="proj_nope"):
        emu.add_service_account("proj_nope", "a")
    with pytest.raises(ValueError, match="is not in"):
        emu.add_service_account_key(other, seeded.service_account_id)
    emu.revoke_key(seeded.key_id)
    assert not emu.key_works(seeded.value)


def test_archived_project_refuses_service_account_changes(
    admin: httpx.Client, emu: OpenAIEmulator, project: str
) -> None:
    """An archived project answers 400 on listing or creating service accounts."""
    emu.archive_project(project)
    url = f"/organization/projects/{project}/service_accounts"
    assert conforms(admin.get(f"/organization/projects/{project}"), P)["status"] == "archived"
    assert conforms(admin.get(url), f"{P}/service_accounts")["error"]["message"].endswith(
        "archived and cannot be modified."
    )
    assert admin.post(url, json={"name": "a"}).status_code == 400


def test_latency_is_slept_without_holding_the_state_lock() -> None:
    """A request sleeping out its latency does not block another request from being answered."""
    release, sleeping = threading.Event(), threading.Event()

    def sleep(seconds: float) -> None:
        if not sleeping.is_set():  # only the first request blocks in its latency
            sleeping.set()
            release.wait(5)

    emu = OpenAIEmulator(sleep=sleep)
    emu.latency = 0.5
    url = f"http://openai.test/v1/organization/projects/{emu.add_project()}"
    headers = {"Authorization": f"Bearer {emu.add_admin_key()}"}
    with httpx.Client(transport=emu.transport(), headers=headers) as client:
        first = threading.Thread(target=client.get, args=(url,))
        first.start()
        assert sleeping.wait(5)
        answer = client.get(url)
        release.set()
        first.join(5)
    assert answer.status_code == 200
    assert [c.status for c in emu.calls] == [200, 200]


@pytest.fixture
def server(emu: OpenAIEmulator) -> Iterator[OpenAIEmulatorServer]:
    with OpenAIEmulatorServer(emu) as running:
        yield running


def test_server_serves_the_api_on_loopback(
    server: OpenAIEmulatorServer, emu: OpenAIEmulator, project: str, seeded: SeededKey
) -> None:
    """The real server binds 127.0.0.1 on a free port and answers like the transport."""
    assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
    assert server.port > 0
    with httpx.Client(base_url=server.base_url) as client:
        response = client.get("/models", headers={"Authorization": f"Bearer {seeded.value}"})
        created = client.post(
            f"/organization/projects/{project}/service_accounts",
            json={"name": "over-http"},
            headers={"Authorization": f"Bearer {emu.add_admin_key()}"},
        )
    assert response.status_code == 200
    assert response.headers["x-request-id"].startswith("req_")
    assert conforms(response, "/models")["data"]
    assert conforms(created, f"{P}/service_accounts")["name"] == "over-http"


def test_server_drop_after_is_seen_by_httpx_as_a_disconnect(
    server: OpenAIEmulatorServer, emu: OpenAIEmulator, project: str
) -> None:
    """Over real HTTP a dropped answer is an httpx exception, and the create still happened."""
    emu.inject("POST", r"/service_accounts$", "drop_after")
    headers = {"Authorization": f"Bearer {emu.add_admin_key()}"}
    with (
        httpx.Client(base_url=server.base_url, headers=headers) as client,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        client.post(f"/organization/projects/{project}/service_accounts", json={"name": "lost"})
    assert [a.name for a in emu.service_accounts(project)] == ["lost"]


def test_server_handles_concurrent_creates(
    server: OpenAIEmulatorServer, emu: OpenAIEmulator, project: str
) -> None:
    """Parallel creates over HTTP each get their own account: the state is thread-safe."""
    headers = {"Authorization": f"Bearer {emu.add_admin_key()}"}
    url = f"{server.base_url}/organization/projects/{project}/service_accounts"

    def create(index: int) -> None:
        with httpx.Client(headers=headers) as client:
            assert client.post(url, json={"name": f"sa-{index}"}).status_code == 200

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(a.name for a in emu.service_accounts(project)) == [f"sa-{i}" for i in range(8)]
    assert len(emu.live_key_ids(project)) == 8


def test_server_stops_cleanly_even_with_an_idle_keep_alive_connection(emu: OpenAIEmulator) -> None:
    """stop() returns promptly while a client holds a keep-alive connection."""
    server = OpenAIEmulatorServer(emu).start()
    with pytest.raises(RuntimeError, match="already running"):
        server.start()
    with httpx.Client(base_url=server.base_url) as client:
        assert client.get("/models").status_code == 401
        server.stop()
        with pytest.raises(httpx.TransportError):
            client.get("/models")
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url
    server.stop()
