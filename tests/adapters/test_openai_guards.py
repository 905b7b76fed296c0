"""The adapter's guards: ids checked by shape before any request (L2, M1), the page cap (L1)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

import httpx
import pytest

from rotator.adapters.openai_admin import MAX_PAGES
from rotator.adapters.openai_http import OpenAIHttp
from rotator.domain.models import ProbeResult
from rotator.domain.sensitive import Sensitive
from rotator.errors import RotatorError, SecretFormatError, ServiceError
from rotator.ports import OpenAIAdmin

LEAKED = "sk-proj-" + "A1b2C3d4" * 6
GOOD = {"project_id": "proj_ok", "service_account_id": "svc_acct_ok", "key_id": "key_ok"}


class Counting:
    """A fake OpenAI that counts requests and answers every one with ``answer``."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.requests: list[httpx.Request] = []
        self._answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._answer(request)

    def admin(self) -> OpenAIAdmin:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return OpenAIHttp(http, "https://openai.test/v1").admin(Sensitive("sk-admin-test"))


def _calls(ids: dict[str, str]) -> list[Callable[[OpenAIAdmin], object]]:
    p, sa, key = ids["project_id"], ids["service_account_id"], ids["key_id"]
    return [
        lambda a: a.get_project(p),
        lambda a: a.list_service_accounts(p),
        lambda a: a.list_api_keys(p),
        lambda a: a.create_service_account(p, "n"),
        lambda a: a.create_service_account_key(
            p, sa, name="n", scopes=None, expires_in_seconds=None
        ),
        lambda a: a.update_api_key(p, key, expires_in_seconds=1),
        lambda a: a.delete_service_account(p, sa),
        lambda a: a.delete_api_key(p, key),
    ]


def _cases() -> list[tuple[str, str, int]]:
    """(field, bad value, index of a call that puts that field in its URL path)."""
    cases = []
    for field, calls in (
        ("project_id", range(8)),
        ("service_account_id", (4, 6)),
        ("key_id", (5, 7)),
    ):
        for bad in ("..", "proj_ok/../x", "", "key_ok?x=1", LEAKED, f"x {LEAKED}"):
            cases.extend((field, bad, index) for index in calls)
    return cases


@pytest.mark.parametrize(("field", "bad", "index"), _cases())
def test_malformed_id_is_refused_naming_the_field_before_any_request(
    field: str, bad: str, index: int
) -> None:
    """GIVEN an id of the wrong shape (``..``, a path, a key) WHEN any call would put it in a URL
    THEN SecretFormatError names the field, quotes no key, and nothing is sent."""
    fake = Counting(lambda _: httpx.Response(500))
    call = _calls({**GOOD, field: bad})[index]
    with pytest.raises(SecretFormatError) as raised:
        call(fake.admin())
    assert fake.requests == []
    message = str(raised.value)
    assert f"'{field}'" in message
    assert LEAKED not in message
    assert "sk-proj-" not in message
    assert bad not in message or bad == ""


def test_well_shaped_ids_pass_the_guard() -> None:
    """The guard lets real ids through: each call sends exactly one request."""
    fake = Counting(lambda _: httpx.Response(404, json={"error": {"message": "No."}}))
    for call in _calls(GOOD):
        with contextlib.suppress(RotatorError):
            call(fake.admin())
    assert len(fake.requests) == 8


def test_listing_that_never_ends_stops_at_the_page_cap_naming_the_endpoint() -> None:
    """GIVEN a server whose pages always say has_more (with fresh ids) WHEN listing keys THEN
    the adapter stops after MAX_PAGES requests with a ServiceError naming the endpoint."""
    counter = iter(range(10**6))

    def endless(_: httpx.Request) -> httpx.Response:
        item_id = f"key_{next(counter)}"
        item = {
            "id": item_id,
            "name": "k",
            "redacted_value": "sk-***",
            "created_at": 1,
            "owner": {"type": "user"},
        }
        page = {"object": "list", "data": [item], "has_more": True, "last_id": item_id}
        return httpx.Response(200, content=json.dumps(page).encode())

    fake = Counting(endless)
    with pytest.raises(ServiceError) as raised:
        fake.admin().list_api_keys("proj_ok")
    assert len(fake.requests) == MAX_PAGES == 1000
    assert "GET /organization/projects/proj_ok/api_keys" in str(raised.value)
    assert "1,000 pages" in str(raised.value)


def test_listing_of_exactly_the_page_cap_still_completes() -> None:
    """A listing whose last page is page 1,000 is read in full (the cap is not off by one)."""
    served = iter(range(MAX_PAGES))

    def pages(_: httpx.Request) -> httpx.Response:
        n = next(served)
        item = {"id": f"svc_acct_{n}", "name": "a", "created_at": 1}
        page = {"object": "list", "data": [item], "has_more": n < MAX_PAGES - 1}
        return httpx.Response(200, content=json.dumps(page).encode())

    fake = Counting(pages)
    accounts = fake.admin().list_service_accounts("proj_ok")
    assert len(accounts) == MAX_PAGES
    assert len(fake.requests) == MAX_PAGES


def _probe(status: int, body: bytes) -> ProbeResult:
    http = httpx.Client(
        transport=httpx.MockTransport(lambda _: httpx.Response(status, content=body))
    )
    return OpenAIHttp(http, "https://openai.test/v1").check(Sensitive("sk-proj-probe"))


def _error(code: str | None) -> bytes:
    return json.dumps(
        {"error": {"message": "Missing scopes: api.model.read", "code": code}}
    ).encode()


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, b'{"object": "list", "data": []}', ProbeResult.ACCEPTED),
        (401, _error("missing_scope"), ProbeResult.RESTRICTED),
        (403, _error("missing_scope"), ProbeResult.RESTRICTED),
        (401, _error("invalid_api_key"), ProbeResult.REJECTED),
        (403, _error(None), ProbeResult.REJECTED),
        (401, b"not json", ProbeResult.REJECTED),
        (401, b'{"error": "missing_scope"}', ProbeResult.REJECTED),
        (429, _error("missing_scope"), ProbeResult.UNAVAILABLE),
        (503, b"", ProbeResult.UNAVAILABLE),
    ],
)
def test_probe_classifies_by_status_and_error_code(
    status: int, body: bytes, expected: ProbeResult
) -> None:
    """Only error.code missing_scope on a 401/403 means RESTRICTED (the key works); other
    401/403 answers are REJECTED; 429 and 5xx say nothing about the key."""
    assert _probe(status, body) is expected
