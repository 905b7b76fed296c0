"""What a request and an answer look like inside the emulator, independent of the transport."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from rotator.testing.openai_emulator.records import AdminKeyRecord, JsonObject
from rotator.testing.openai_emulator.state import State

DeleteKnob = Literal["allow", "refuse"]
#: An endpoint the server has (``"present"``), or an older server's answer for it.
EndpointKnob = Literal["present", "404", "405"]


@dataclass(frozen=True)
class Request:
    method: str
    #: The path after the ``/v1`` prefix, without the query string.
    path: str
    query: Mapping[str, str]
    #: Header names in lower case.
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    """An answer, or (``drop`` set) a connection closed without one."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    drop: Literal["before", "after"] | None = None

    def with_header(self, name: str, value: str) -> Reply:
        return Reply(self.status, self.body, (*self.headers, (name, value)), self.drop)

    def json(self) -> object:
        return json.loads(self.body)


class ApiError(Exception):
    """An error the API answers with: ``{"error": {"message", "type", "param", "code"}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.param = param
        self.code = code
        self.headers = headers

    def reply(self, *, bare: bool) -> Reply:
        """The error as sent; ``bare`` sends ``{"error": "<message>"}`` as some reports show."""
        error: object = self.message
        if not bare:
            error = {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        return json_reply(self.status, {"error": error}, self.headers)


def json_reply(status: int, body: JsonObject, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    encoded = json.dumps(body).encode()
    return Reply(status, encoded, (("content-type", "application/json"), *headers))


class Knobs(Protocol):
    """The emulator settings a handler reads."""

    strict: bool
    propagation_delay: float
    delete_service_account_keys: DeleteKnob
    bare_string_errors: bool
    max_key_lifetime: int | None
    model_read_scopes: frozenset[str]


@dataclass
class Ctx:
    """Everything a handler needs: the state (lock held), the request and the caller."""

    state: State
    knobs: Knobs
    request: Request
    params: Mapping[str, str]
    now: int
    monotonic: float
    admin: AdminKeyRecord | None = None
