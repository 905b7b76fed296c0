"""The httpx adapter against the OpenAI emulator, in process (MockTransport) and over loopback."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from rotator.adapters.openai_http import OpenAIHttp, build_http_client
from rotator.domain.models import DeleteOutcome, ProbeResult
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    AdminKeyError,
    ConfigError,
    KeyLifetimeRequiredError,
    ProjectNotFoundError,
    ResponseLostError,
    RotatorError,
    ServiceError,
    TransientServiceError,
)
from rotator.ports import OpenAIAdmin
from rotator.retry import Backoff
from rotator.testing.openai_emulator import ManualClock, OpenAIEmulator, OpenAIEmulatorServer
from tests.adapters.conftest import World, retry_clock

P = "/organization/projects/{project_id}"


def _posts(world: World) -> int:
    return sum(1 for call in world.emu.calls if call.method == "POST")


def test_get_project_returns_id_name_and_status(world: World) -> None:
    """get_project maps the Project object."""
    project = world.admin().get_project(world.project)
    assert (project.id, project.name, project.status) == (world.project, "Payments", "active")


def test_unknown_project_raises_project_not_found_naming_it(world: World) -> None:
    """A 404 on a project path is ProjectNotFoundError with the id and the fix."""
    for call in (
        lambda a: a.get_project("proj_gone"),
        lambda a: a.list_service_accounts("proj_gone"),
        lambda a: a.list_api_keys("proj_gone"),
        lambda a: a.create_service_account("proj_gone", "n"),
    ):
        with pytest.raises(
            ProjectNotFoundError, match=r"proj_gone was not found \(404\); check project_id"
        ):
            call(world.admin())


def test_list_service_accounts_follows_pagination_past_100(world: World) -> None:
    """130 accounts come back in two pages of limit=100, all of them, in order."""
    made = [
        world.emu.add_service_account(world.project, f"sa-{i}").service_account_id
        for i in range(130)
    ]
    world.emu.reset_calls()
    accounts = world.admin().list_service_accounts(world.project)
    assert [a.id for a in accounts] == made
    assert accounts[0].name == "sa-0"
    assert accounts[0].created_at > 0
    assert world.emu.calls == [("GET", f"{P}/service_accounts", 200)] * 2


def test_list_api_keys_follows_pagination_and_maps_owners(world: World) -> None:
    """101 keys are listed over two pages with their owning service account and redacted value."""
    seeded = world.emu.add_service_account(world.project, "app")
    extra = [
        world.emu.add_service_account_key(world.project, seeded.service_account_id)
        for _ in range(100)
    ]
    keys = world.admin().list_api_keys(world.project)
    assert [k.id for k in keys] == [seeded.key_id] + [k.key_id for k in extra]
    assert {k.service_account_id for k in keys} == {seeded.service_account_id}
    assert keys[0].redacted_value.startswith("sk-svc...")
    assert seeded.value not in repr(keys)
    assert world.emu.calls == [("GET", f"{P}/api_keys", 200)] * 2


def test_create_service_account_returns_a_working_key(world: World) -> None:
    """create_service_account returns the new key (wrapped) and its service account."""
    created = world.admin().create_service_account(world.project, "rotator-abc")
    assert created.service_account_name == "rotator-abc"
    assert created.service_account_id.startswith("svc_acct_")
    assert created.key_id.startswith("key_")
    assert world.emu.key_works(created.value.reveal())
    assert created.value.reveal() not in repr(created)
    assert world.openai.check(created.value) is ProbeResult.ACCEPTED


def test_create_sends_exactly_the_name_with_bearer_and_json_headers() -> None:
    """The create body is exactly {"name": ...} with Authorization and Content-Type headers."""
    emu = OpenAIEmulator()
    project, admin_key = emu.add_project(), emu.add_admin_key()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return emu.handle(request)

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        OpenAIHttp(http, "https://openai.test/v1").admin(
            Sensitive(admin_key)
        ).create_service_account(project, "n")
    (request,) = seen
    assert json.loads(request.content) == {"name": "n"}
    assert request.headers["authorization"] == f"Bearer {admin_key}"
    assert request.headers["content-type"] == "application/json"


@pytest.mark.parametrize("kind", ["drop_after", "drop_before"])
def test_create_is_never_retried_when_the_answer_is_lost(world: World, kind: str) -> None:
    """A lost create answer raises ResponseLostError after exactly one POST."""
    world.emu.inject("POST", r"/service_accounts$", kind)  # type: ignore[arg-type]
    with pytest.raises(ResponseLostError, match="may have taken effect"):
        world.admin().create_service_account(world.project, "rotator-lost")
    assert _posts(world) == 1
    created = [a.name for a in world.emu.service_accounts(world.project)]
    assert created == (["rotator-lost"] if kind == "drop_after" else [])


def test_create_on_429_is_transient_and_not_retried(world: World) -> None:
    """A throttled create raises TransientServiceError with Retry-After, after one POST."""
    world.emu.inject("POST", r"/service_accounts$", "status", status=429, retry_after=9)
    with pytest.raises(TransientServiceError) as raised:
        world.admin().create_service_account(world.project, "n")
    assert not isinstance(raised.value, ResponseLostError)
    assert (raised.value.status, raised.value.retry_after, _posts(world)) == (429, 9.0, 1)


def test_create_on_5xx_may_have_taken_effect(world: World) -> None:
    """A 5xx to a create is ResponseLostError: the caller reconciles by name, no retry."""
    world.emu.inject("POST", r"/service_accounts$", "status", status=502)
    with pytest.raises(ResponseLostError) as raised:
        world.admin().create_service_account(world.project, "n")
    assert (raised.value.status, _posts(world)) == (502, 1)


def test_delete_service_account_deleted_then_not_found(world: World) -> None:
    """Deleting a service account revokes its key; deleting it again is NOT_FOUND."""
    seeded = world.emu.add_service_account(world.project, "old")
    admin = world.admin()
    assert (
        admin.delete_service_account(world.project, seeded.service_account_id)
        is DeleteOutcome.DELETED
    )
    assert world.openai.check(Sensitive(seeded.value)) is ProbeResult.REJECTED
    assert (
        admin.delete_service_account(world.project, seeded.service_account_id)
        is DeleteOutcome.NOT_FOUND
    )


def test_delete_api_key_on_the_newer_api_deletes_only_that_key(world: World) -> None:
    """DELETE .../api_keys/{id} deletes the key; a second delete is NOT_FOUND."""
    seeded = world.emu.add_service_account(world.project, "app")
    admin = world.admin()
    assert admin.delete_api_key(world.project, seeded.key_id) is DeleteOutcome.DELETED
    assert admin.delete_api_key(world.project, seeded.key_id) is DeleteOutcome.NOT_FOUND
    assert [a.id for a in admin.list_service_accounts(world.project)] == [seeded.service_account_id]


def test_delete_api_key_on_the_older_api_is_refused(world: World) -> None:
    """The older API's 400 for a service-account key is REFUSED_SERVICE_ACCOUNT_KEY."""
    world.emu.delete_service_account_keys = "refuse"
    seeded = world.emu.add_service_account(world.project, "app")
    outcome = world.admin().delete_api_key(world.project, seeded.key_id)
    assert outcome is DeleteOutcome.REFUSED_SERVICE_ACCOUNT_KEY
    assert world.emu.key_works(seeded.value)


def test_invalid_admin_key_is_admin_key_error_with_the_fix(world: World) -> None:
    """A 401 invalid_api_key says the admin key was rejected and how to fix it."""
    key = "sk-admin-not-a-real-key-0123456789"
    with pytest.raises(AdminKeyError) as raised:
        world.admin(key).get_project(world.project)
    assert str(raised.value).startswith(
        "OpenAI rejected the admin key (401 invalid_api_key); store a valid sk-admin-... key in"
        " the admin-key secret"
    )
    assert "x-request-id req_" in str(raised.value)


def test_project_key_used_as_admin_key_names_the_missing_scope(world: World) -> None:
    """A service-account key on admin paths is AdminKeyError naming api.management.read."""
    seeded = world.emu.add_service_account(world.project, "app")
    with pytest.raises(AdminKeyError, match=r"401: it lacks api\.management\.read"):
        world.admin(seeded.value).list_service_accounts(world.project)


@pytest.mark.parametrize("bare", [False, True])
def test_read_only_admin_key_write_names_permission_and_fix(world: World, bare: bool) -> None:
    """403 on a write names the missing scope and Organization Administration: Write."""
    world.emu.bare_string_errors = bare
    admin = world.admin(world.emu.add_admin_key(scopes="read"))
    assert admin.list_service_accounts(world.project) == []
    with pytest.raises(AdminKeyError) as raised:
        admin.create_service_account(world.project, "n")
    message = str(raised.value)
    assert "403: it lacks api.management.write" in message
    assert "Organization Administration: Write" in message


def test_get_is_retried_on_429_honouring_retry_after(world: World) -> None:
    """Two 429s with Retry-After: 7 are waited out on the fake clock, then the list succeeds."""
    world.emu.inject("GET", r"/service_accounts$", "status", times=2, status=429, retry_after=7)
    assert world.admin().list_service_accounts(world.project) == []
    assert world.sleeps == [7.0, 7.0]


def test_get_is_retried_honouring_retry_after_ms(world: World) -> None:
    """retry-after-ms wins over the computed backoff when longer."""
    world.emu.inject("GET", r"/projects/[^/]+$", "status", status=503, retry_after_ms=1500)
    assert world.admin().get_project(world.project).id == world.project
    assert world.sleeps == [1.5]


def test_delete_is_retried_on_500_then_succeeds(world: World) -> None:
    """A 500 on a delete is retried with backoff; the second attempt deletes."""
    seeded = world.emu.add_service_account(world.project, "old")
    world.emu.inject("DELETE", r"/service_accounts/", "status", status=500)
    outcome = world.admin().delete_service_account(world.project, seeded.service_account_id)
    assert outcome is DeleteOutcome.DELETED
    assert [c.status for c in world.emu.calls] == [500, 200]
    assert len(world.sleeps) == 1


def test_dropped_get_is_retried(world: World) -> None:
    """A GET whose connection drops is simply sent again."""
    world.emu.inject("GET", r"/api_keys$", "drop_after")
    assert world.admin().list_api_keys(world.project) == []
    assert [c.status for c in world.emu.calls] == [None, 200]


def test_admin_rate_limit_is_waited_out(world: World) -> None:
    """Under the emulator's admin rate limit, retries wait Retry-After and every call succeeds."""
    world.emu.admin_rate_limit_rps = 1
    admin = world.admin()
    for _ in range(3):
        admin.get_project(world.project)
    assert [c.status for c in world.emu.calls] == [200, 429, 200, 429, 200]
    assert world.sleeps == [1.0, 1.0]


def test_retries_stop_at_the_deadline(world: World) -> None:
    """A service that keeps answering 503 gives TransientServiceError(status=503) in the end."""
    world.emu.inject("GET", ".", "status", times=1000, status=503)
    with pytest.raises(TransientServiceError) as raised:
        world.admin().get_project(world.project)
    assert raised.value.status == 503
    assert sum(world.sleeps) <= 20.0
    assert len(world.sleeps) >= 3


def test_probe_accepts_rejects_and_reports_unavailable(world: World) -> None:
    """check: 200 ACCEPTED; 401 (unknown, admin, unsendable key) REJECTED; else UNAVAILABLE."""
    seeded = world.emu.add_service_account(world.project, "app")
    key = Sensitive(seeded.value)
    check = world.openai.check
    assert check(key) is ProbeResult.ACCEPTED
    assert check(Sensitive("sk-svcacct-unknown-key-000000000")) is ProbeResult.REJECTED
    assert check(Sensitive(world.admin_key)) is ProbeResult.REJECTED
    assert check(Sensitive("sk-with a space\n")) is ProbeResult.REJECTED
    for kind, status in (("status", 429), ("status", 503), ("drop_before", 0), ("drop_after", 0)):
        world.emu.inject("GET", r"/models$", kind, status=status)  # type: ignore[arg-type]
        assert check(key) is ProbeResult.UNAVAILABLE
    assert len([c for c in world.emu.calls if c.route == "/models"]) == 7  # one never sendable
    assert world.sleeps == []


def test_probe_rejects_a_new_key_until_it_propagates(world: World) -> None:
    """During the emulator's propagation delay a new key is REJECTED, then ACCEPTED."""
    world.emu.propagation_delay = 10
    created = world.admin().create_service_account(world.project, "n")
    assert world.openai.check(created.value) is ProbeResult.REJECTED
    world.clock.advance(10)
    assert world.openai.check(created.value) is ProbeResult.ACCEPTED


def test_connection_refused_is_transient() -> None:
    """Nothing listening: GETs retry then raise TransientServiceError; the probe is UNAVAILABLE."""
    emu = OpenAIEmulator()
    with OpenAIEmulatorServer(emu) as server:
        base_url = server.base_url
    clock, sleeps = ManualClock(), []
    with build_http_client(connect_timeout=1.0) as http:
        openai = OpenAIHttp(
            http, base_url, backoff=Backoff(deadline=2.0), clock=retry_clock(clock, sleeps)
        )
        with pytest.raises(TransientServiceError, match="could not connect") as raised:
            openai.admin(Sensitive("sk-admin-x")).get_project("proj_x")
        assert openai.check(Sensitive("sk-svcacct-x")) is ProbeResult.UNAVAILABLE
    assert raised.value.__context__ is None
    assert sleeps


def _fixed(status: int, content: bytes, headers: dict[str, str] | None = None) -> OpenAIHttp:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers=headers or {})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    clock = retry_clock(ManualClock(), [])
    return OpenAIHttp(http, "https://openai.test/v1", backoff=Backoff(deadline=1.0), clock=clock)


@pytest.mark.parametrize(
    ("status", "content", "error", "match"),
    [
        (200, b"<html>oops</html>", ServiceError, "is not JSON"),
        (200, b"[]", ServiceError, "expected a JSON object"),
        (200, b'{"id": "proj_1", "object": "organization.project"}', None, None),
        (200, b'{"object": "organization.project", "name": 5}', ServiceError, "'id' is missing"),
        (418, b"I'm a teapot", ServiceError, r"\(418\)$"),
        (
            400,
            b'{"error": {"message": "bad", "type": "x", "param": null, "code": "c"}}',
            ServiceError,
            "400 c: bad",
        ),
        (400, b'{"code": 404, "message": "flat shape"}', ServiceError, "400: flat shape"),
        (403, b'{"error": 42}', AdminKeyError, "403: permission denied"),
        (401, b"", AdminKeyError, "401 invalid_api_key"),
        (500, b"\xff\xfe", TransientServiceError, r"500 to GET"),
    ],
)
def test_malformed_provider_bodies_map_to_rotator_errors(
    status: int, content: bytes, error: type[RotatorError] | None, match: str | None
) -> None:
    """Non-JSON, wrongly typed or oddly shaped bodies become rotator errors, never crashes."""
    openai = _fixed(status, content)
    admin = openai.admin(Sensitive("sk-admin-x"))
    if error is None:
        assert admin.get_project("proj_1").name is None
    else:
        with pytest.raises(error, match=match) as raised:
            admin.get_project("proj_1")
        assert "oops" not in str(raised.value)
        assert "teapot" not in str(raised.value)


@pytest.mark.parametrize(
    "content",
    [b"{}", b'{"id": "svc_acct_1", "name": "n", "api_key": null}', b"not json"],
)
def test_malformed_create_answer_is_response_lost(content: bytes) -> None:
    """A 200 to a create that cannot be read may still have created the account."""
    with pytest.raises(ResponseLostError, match="reconcile by name 'n'"):
        _fixed(200, content).admin(Sensitive("sk-admin-x")).create_service_account("proj_1", "n")


def test_pagination_that_does_not_advance_is_an_error() -> None:
    """has_more with a cursor that repeats stops with ServiceError instead of looping."""
    page = b'{"object": "list", "data": [], "first_id": null, "last_id": "x", "has_more": true}'
    with pytest.raises(ServiceError, match="did not advance"):
        _fixed(200, page).admin(Sensitive("sk-admin-x")).list_api_keys("proj_1")


def test_no_error_message_or_repr_contains_a_key_value() -> None:
    """Errors quote provider text only with sk-... masked; keys never reach str, repr or context."""
    admin_key, leaked = "sk-admin-SECRETSECRETSECRET1234", "sk-svcacct-LEAKEDLEAKEDLEAKED9876"
    body = json.dumps({"error": f"bad key {admin_key} and {leaked}"}).encode()
    raised: list[BaseException] = []
    scenarios: list[Callable[[OpenAIAdmin], object]] = [
        lambda a: a.get_project("proj_1"),
        lambda a: a.create_service_account("proj_1", "n"),
        lambda a: a.delete_service_account("proj_1", "svc_acct_1"),
        lambda a: a.create_service_account("proj_1", "n", expires_in_seconds=60),
        lambda a: a.create_service_account_key(
            "proj_1", "svc_acct_1", name="n", scopes=None, expires_in_seconds=60
        ),
    ]
    for status in (400, 401, 403, 409, 429, 500):
        openai = _fixed(status, body, {"x-request-id": leaked})
        for scenario in scenarios:
            with pytest.raises(RotatorError) as caught:
                scenario(openai.admin(Sensitive(admin_key)))
            raised.append(caught.value)
    with pytest.raises(AdminKeyError) as caught:
        _fixed(200, b"{}").admin(Sensitive(f"{admin_key}\u00e9"))
    raised.append(caught.value)
    assert len(raised) == 31
    for error in raised:
        chain = [error, error.__cause__, error.__context__]
        text = " ".join(f"{e!s} {e!r}" for e in chain if e is not None)
        assert admin_key not in text
        assert leaked not in text
        # A lifetime refusal is a fixed sentence: it quotes no provider text at all.
        assert "sk-***" in text or isinstance(error, AdminKeyError | KeyLifetimeRequiredError)
    assert admin_key not in repr(_fixed(200, b"{}").admin(Sensitive(admin_key)))


def test_bad_base_url_is_a_config_error() -> None:
    """A base URL that is not http(s) is refused at construction with the fix."""
    with (
        httpx.Client() as http,
        pytest.raises(ConfigError, match=r"use e\.g\. https://api\.openai\.com/v1"),
    ):
        OpenAIHttp(http, "api.openai.com/v1")


def test_build_http_client_sets_explicit_timeouts() -> None:
    """The shared client carries the given connect and read timeouts."""
    with build_http_client(connect_timeout=2.0, read_timeout=9.0) as http:
        assert (http.timeout.connect, http.timeout.read) == (2.0, 9.0)
        assert not http.follow_redirects


def test_user_owned_keys_have_no_service_account() -> None:
    """A key owned by a user (not a service account) is listed with service_account_id None."""
    item = {
        "object": "organization.project.api_key",
        "redacted_value": "sk-abc...def",
        "name": "mine",
        "created_at": 1,
        "last_used_at": None,
        "id": "key_user",
        "owner_project_access": "active",
        "owner": {"type": "user", "user": {"id": "user_1"}},
    }
    page = {"object": "list", "data": [item], "has_more": False}
    admin = _fixed(200, json.dumps(page).encode()).admin(Sensitive("sk-admin-x"))
    keys = admin.list_api_keys("proj_p")
    assert [(k.id, k.service_account_id) for k in keys] == [("key_user", None)]


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None), ("-3", None)],
)
def test_retry_after_dates_and_junk_are_handled(retry_after: str, expected: float | None) -> None:
    """An HTTP-date in the past waits 0 s; an unreadable or negative Retry-After is ignored."""
    openai = _fixed(429, b"{}", {"retry-after": retry_after})
    with pytest.raises(TransientServiceError) as raised:
        openai.admin(Sensitive("sk-admin-x")).create_service_account("proj_p", "n")
    assert raised.value.retry_after == expected
