"""The emulator's public face: seeding, knobs, inspection, faults, and the httpx transport."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple
from urllib.parse import parse_qsl, urlsplit

import httpx

from rotator.testing.openai_emulator.app import (
    Route,
    dispatch,
    find_route,
    invalid_url,
    method_not_allowed,
)
from rotator.testing.openai_emulator.faults import Fault, FaultBook, FaultKind, TokenBucket
from rotator.testing.openai_emulator.seeding import Seeding
from rotator.testing.openai_emulator.state import State
from rotator.testing.openai_emulator.wire import ApiError, DeleteKnob, EndpointKnob, Reply, Request

#: Scopes that let a restricted key call ``GET /models`` (scope names vary between sources:
#: openai-admin-api.md §8 and openai-admin-api-2026-12.md §6). A key with no scopes has All.
MODEL_READ_SCOPES = frozenset(
    {"api.model.read", "api.model.request", "model.request", "api.all.read"}
)

_SERVER_ERRORS = {
    500: "The server had an error while processing your request. Sorry about that!",
    502: "Bad gateway.",
    503: "The server is overloaded or not ready yet.",
    504: "The server did not respond in time.",
}


class Call(NamedTuple):
    """One request as the emulator saw it; ``status`` is None when the connection was dropped."""

    method: str
    route: str
    status: int | None


class OpenAIEmulator(Seeding):
    """A stateful, thread-safe fake of the OpenAI Administration API (plus ``GET /models``).

    Knobs, read on every request: ``latency`` (seconds slept per request, outside the lock),
    ``propagation_delay`` (seconds a newly minted key answers 401 on ``/models``),
    ``admin_rate_limit_rps`` (token bucket on admin routes; 429 + ``Retry-After`` beyond it),
    ``delete_service_account_keys`` (``"allow"``, or ``"refuse"`` for the older API's 400 on a
    service-account key), ``per_account_key_endpoint`` and ``key_update_endpoint``
    (``"present"``, or ``"404"``/``"405"`` for an older server without the endpoint),
    ``max_key_lifetime`` (the organization's key-lifetime policy in seconds, None for none; a
    project's own is set with :meth:`set_project_key_lifetime`), ``model_read_scopes`` (scopes
    that let a restricted key list models), ``bare_string_errors`` (``{"error": "<message>"}``)
    and ``strict`` (400 for request bodies that do not conform to the 2026-11 spec).
    """

    def __init__(
        self,
        *,
        strict: bool = True,
        now: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        org_id: str = "org_emulator",
    ) -> None:
        self.strict = strict
        self.latency = 0.0
        self.propagation_delay = 0.0
        self.admin_rate_limit_rps: float | None = None
        self.delete_service_account_keys: DeleteKnob = "allow"
        self.per_account_key_endpoint: EndpointKnob = "present"
        self.key_update_endpoint: EndpointKnob = "present"
        self.max_key_lifetime: int | None = None
        self.model_read_scopes: frozenset[str] = MODEL_READ_SCOPES
        self.bare_string_errors = False
        self.calls: list[Call] = []
        self._now = now
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.RLock()
        self._state = State(org_id)
        self._faults = FaultBook()
        self._bucket = TokenBucket()

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()

    # -- faults --------------------------------------------------------------------------

    def inject(
        self,
        method: str,
        path_regex: str,
        kind: FaultKind,
        *,
        times: int = 1,
        status: int = 500,
        retry_after: int | None = None,
        retry_after_ms: int | None = None,
    ) -> None:
        """Arm a fault for requests whose method matches (``"*"`` for any) and whose path
        (after ``/v1``, without the query) matches ``path_regex`` (``re.search``)."""
        fault = Fault(
            method.upper(),
            re.compile(path_regex),
            kind,
            times,
            status,
            retry_after,
            retry_after_ms,
        )
        with self._lock:
            self._faults.add(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def armed_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    # -- serving -------------------------------------------------------------------------

    def handle_raw(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> Reply:
        """Answer one request given as method, request target (``/v1/...?query``), headers, body."""
        if self.latency > 0:
            self._sleep(self.latency)
        split = urlsplit(target)
        versioned = split.path.startswith("/v1/")
        request = Request(
            method=method.upper(),
            path=split.path.removeprefix("/v1") if versioned else split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in headers.items()},
            body=body,
        )
        with self._lock:
            reply = self._answer(request, versioned=versioned)
        return reply.with_header("x-request-id", f"req_{secrets.token_hex(16)}")

    def _answer(self, request: Request, *, versioned: bool) -> Reply:
        found = find_route(request.method, request.path) if versioned else None
        fault = self._faults.take(request.method, request.path)
        if fault is not None and fault.kind == "status":
            reply = self._fault_reply(fault).reply(bare=self.bare_string_errors)
        elif fault is not None and fault.kind == "drop_before":
            reply = Reply(0, drop="before")
        elif found is None:
            reply = invalid_url(request).reply(bare=self.bare_string_errors)
        elif (absent := self._absent(found[0], request)) is not None:
            reply = absent.reply(bare=self.bare_string_errors)
        else:
            route, params = found
            refused = self._admit(route.auth)
            reply = refused or dispatch(
                self._state,
                self,
                request,
                route,
                params,
                now=int(self._now()),
                monotonic=self._monotonic(),
            )
            if fault is not None:
                reply = Reply(0, drop="after")
        template = found[0].template if found else request.path
        self.calls.append(Call(request.method, template, None if reply.drop else reply.status))
        return reply

    def _absent(self, route: Route, request: Request) -> ApiError | None:
        """The older server's answer for an endpoint switched off by its knob, else None."""
        knob: EndpointKnob = "present" if route.feature is None else getattr(self, route.feature)
        if knob == "404":
            return invalid_url(request)
        if knob == "405":
            return method_not_allowed(request)
        return None

    def _admit(self, auth: str) -> Reply | None:
        if auth == "project":
            return None
        wait = self._bucket.take(self.admin_rate_limit_rps, self._monotonic())
        if wait is None:
            return None
        error = ApiError(
            429,
            f"Rate limit reached for requests to the Administration API in organization"
            f" {self._state.org_id}. Please try again in {wait}s.",
            type_="requests",
            code="rate_limit_exceeded",
            headers=(("retry-after", str(wait)),),
        )
        return error.reply(bare=self.bare_string_errors)

    @staticmethod
    def _fault_reply(fault: Fault) -> ApiError:
        headers: list[tuple[str, str]] = []
        if fault.retry_after is not None:
            headers.append(("retry-after", str(fault.retry_after)))
        if fault.retry_after_ms is not None:
            headers.append(("retry-after-ms", str(fault.retry_after_ms)))
        if fault.status == 429:
            message = "Rate limit reached for requests. Please try again later."
            return ApiError(
                429, message, type_="requests", code="rate_limit_exceeded", headers=tuple(headers)
            )
        message = _SERVER_ERRORS.get(fault.status, f"Injected error {fault.status}.")
        kind = "server_error" if fault.status >= 500 else "invalid_request_error"
        return ApiError(fault.status, message, type_=kind, headers=tuple(headers))

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The ``httpx.MockTransport`` handler; a dropped connection raises as httpx would."""
        target = request.url.raw_path.decode("ascii")
        reply = self.handle_raw(request.method, target, request.headers, request.read())
        if reply.drop == "before":
            raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
        if reply.drop == "after":
            message = "Server disconnected without sending a response."
            raise httpx.RemoteProtocolError(message, request=request)
        return httpx.Response(reply.status, headers=list(reply.headers), content=reply.body)

    def transport(self) -> httpx.MockTransport:
        """An in-process transport: ``httpx.Client(transport=emu.transport())``."""
        return httpx.MockTransport(self.handle)
