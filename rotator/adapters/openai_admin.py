"""The OpenAI Administration API bound to one admin key, over :class:`AdminTransport`.

Projects, service accounts and API keys, each answer parsed by :mod:`rotator.adapters.openai_wire`
and every non-2xx answer mapped by :func:`~rotator.adapters.openai_wire.error_for`. Reads and
deletes go through the transport's retry; creates are sent once (a lost answer is reconciled by
name by the caller).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar
from urllib.parse import quote

import httpx

from rotator.adapters.openai_wire import Fields, Problem, error_for
from rotator.domain.models import ApiKeyInfo, CreatedKey, DeleteOutcome, Project, ServiceAccount
from rotator.domain.sensitive import Sensitive
from rotator.errors import ResponseLostError, ServiceError

T = TypeVar("T")
PAGE_SIZE = 100


class AdminTransport(Protocol):
    """What the admin client needs from :class:`~rotator.adapters.openai_http.OpenAIHttp`."""

    def send(
        self,
        authorization: Sensitive,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, object] | None = None,
    ) -> httpx.Response:
        """One admin request; transport failures arrive as rotator errors."""
        ...

    def retrying(self, operation: Callable[[], T]) -> T:
        """``operation`` under the transport's retry policy (idempotent calls only)."""
        ...


class OpenAIAdminClient:
    """The Administration API bound to one admin key (implements ``OpenAIAdmin``)."""

    def __init__(self, owner: AdminTransport, authorization: Sensitive) -> None:
        self._owner = owner
        self._authorization = authorization

    def __repr__(self) -> str:
        return f"OpenAIAdminClient({self._owner!r})"

    def _call(
        self,
        method: str,
        path: str,
        *,
        project_id: str,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, object] | None = None,
    ) -> httpx.Response | Problem:
        """Send once; 2xx returns the response, 404 and 400 the problem, the rest raises."""
        what = f"{method} {path}"
        response = self._owner.send(
            self._authorization, method, path, what=what, params=params, body=body
        )
        if response.is_success:
            return response
        problem = Problem(response.status_code, response.headers, response.content)
        if problem.status in (400, 404):
            return problem
        raise error_for(problem, what=what, method=method, project_id=project_id)

    def _get(self, path: str, project_id: str, params: Mapping[str, str] | None = None) -> Fields:
        def once() -> httpx.Response | Problem:
            return self._call("GET", path, project_id=project_id, params=params)

        answer = self._owner.retrying(once)
        if isinstance(answer, Problem):
            raise error_for(answer, what=f"GET {path}", method="GET", project_id=project_id)
        return Fields.parse(answer.content, f"GET {path}")

    def _list(self, path: str, project_id: str, extra: Mapping[str, str]) -> list[Fields]:
        """Every item of a paginated list: ``limit=100``, then ``after=last_id`` while has_more."""
        items: list[Fields] = []
        after: str | None = None
        seen: set[str] = set()
        while True:
            params = {"limit": str(PAGE_SIZE), **extra, **({"after": after} if after else {})}
            page = self._get(path, project_id, params)
            data = page.children("data")
            items.extend(data)
            if not page.flag("has_more"):
                return items
            after = page.optional_text("last_id") or (data[-1].text("id") if data else None)
            if after is None or after in seen:
                raise ServiceError(
                    f"OpenAI's pagination of GET {path} did not advance; retry later"
                )
            seen.add(after)

    def _delete(self, path: str, project_id: str) -> httpx.Response | Problem:
        return self._owner.retrying(lambda: self._call("DELETE", path, project_id=project_id))

    def get_project(self, project_id: str) -> Project:
        found = self._get(_project_path(project_id), project_id)
        return Project(
            id=found.text("id"),
            name=found.optional_text("name"),
            status=found.optional_text("status"),
        )

    def list_service_accounts(self, project_id: str) -> list[ServiceAccount]:
        items = self._list(f"{_project_path(project_id)}/service_accounts", project_id, {})
        return [ServiceAccount(i.text("id"), i.text("name"), i.number("created_at")) for i in items]

    def create_service_account(self, project_id: str, name: str) -> CreatedKey:
        path = f"{_project_path(project_id)}/service_accounts"
        what = f"POST {path}"
        answer = self._call("POST", path, project_id=project_id, body={"name": name})
        if isinstance(answer, Problem):
            raise error_for(answer, what=what, method="POST", project_id=project_id)
        try:
            account = Fields.parse(answer.content, what)
            key = account.child("api_key")
            return CreatedKey(
                key_id=key.text("id"),
                value=Sensitive(key.text("value")),
                service_account_id=account.text("id"),
                service_account_name=account.text("name"),
                created_at=key.number("created_at"),
            )
        except ServiceError as error:
            raise ResponseLostError(
                f"{error.message}; the service account may exist: reconcile by name {name!r}",
                status=answer.status_code,
            ) from None

    def delete_service_account(self, project_id: str, service_account_id: str) -> DeleteOutcome:
        path = f"{_project_path(project_id)}/service_accounts/{quote(service_account_id, safe='')}"
        return _outcome(
            self._delete(path, project_id), f"DELETE {path}", project_id, refusable=False
        )

    def delete_api_key(self, project_id: str, key_id: str) -> DeleteOutcome:
        path = f"{_project_path(project_id)}/api_keys/{quote(key_id, safe='')}"
        return _outcome(
            self._delete(path, project_id), f"DELETE {path}", project_id, refusable=True
        )

    def list_api_keys(self, project_id: str) -> list[ApiKeyInfo]:
        path = f"{_project_path(project_id)}/api_keys"
        return [
            _api_key(item) for item in self._list(path, project_id, {"owner_project_access": "any"})
        ]


def _project_path(project_id: str) -> str:
    return f"/organization/projects/{quote(project_id, safe='')}"


def _api_key(item: Fields) -> ApiKeyInfo:
    owner = item.child("owner")
    account_id = None
    if owner.optional_text("type") == "service_account" and owner.has("service_account"):
        account_id = owner.child("service_account").text("id")
    return ApiKeyInfo(
        id=item.text("id"),
        name=item.optional_text("name") or "",
        redacted_value=item.text("redacted_value"),
        created_at=item.number("created_at"),
        service_account_id=account_id,
    )


def _outcome(
    answer: httpx.Response | Problem, what: str, project_id: str, *, refusable: bool
) -> DeleteOutcome:
    if not isinstance(answer, Problem):
        return DeleteOutcome.DELETED
    if answer.status == 404:
        return DeleteOutcome.NOT_FOUND
    if refusable:
        return DeleteOutcome.REFUSED_SERVICE_ACCOUNT_KEY
    raise error_for(answer, what=what, method="DELETE", project_id=project_id)
