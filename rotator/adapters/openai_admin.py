"""The OpenAI Administration API bound to one admin key, over :class:`AdminTransport`.

Projects, service accounts and API keys, each answer parsed by :mod:`rotator.adapters.openai_wire`
and every non-2xx answer mapped by :func:`~rotator.adapters.openai_wire.error_for`. Reads and
deletes go through the transport's retry; creates are sent once (a lost answer is reconciled by
name by the caller; the key update is idempotent and retried). Every id is checked by shape
(:func:`rotator.domain.ids.check_id`) before it reaches a URL path, so neither ``..`` nor a key
pasted into an id field is ever sent or quoted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar
from urllib.parse import quote

import httpx

from rotator.adapters.openai_admin_keys import AdminKeyCalls
from rotator.adapters.openai_wire import (
    Fields,
    Problem,
    api_key_info,
    create_refusal,
    created_key,
    error_for,
    mask_keys,
)
from rotator.domain.ids import check_id
from rotator.domain.models import (
    ApiKeyInfo,
    CreatedKey,
    DeleteOutcome,
    Project,
    ServiceAccount,
    UpdateOutcome,
)
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    ConfigError,
    EndpointUnsupportedError,
    ResponseLostError,
    ServiceError,
)

T = TypeVar("T")
PAGE_SIZE = 100
#: A listing longer than this many pages is refused (review L1): a server that keeps answering
#: ``has_more`` must not hold a rotation in a loop.
MAX_PAGES = 1000
_KEPT = frozenset({400, 404})


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


class OpenAIAdminClient(AdminKeyCalls):
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
        kept: frozenset[int] = _KEPT,
    ) -> httpx.Response | Problem:
        """Send once: 2xx is the response, a status in ``kept`` the problem; the rest raises."""
        what = f"{method} {path}"
        response = self._owner.send(
            self._authorization, method, path, what=what, params=params, body=body
        )
        if response.is_success:
            return response
        problem = Problem(response.status_code, response.headers, response.content)
        if problem.status in kept:
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
        for _ in range(MAX_PAGES):
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
        raise ServiceError(
            f"OpenAI's listing GET {path} still had more after {MAX_PAGES:,} pages; refusing to"
            " read further; retry later or report it"
        )

    def _delete(self, path: str, project_id: str) -> httpx.Response | Problem:
        return self._owner.retrying(lambda: self._call("DELETE", path, project_id=project_id))

    def get_project(self, project_id: str) -> Project:
        found = self._get(_project_path(project_id), project_id)
        return Project(
            id=found.text("id"),
            name=found.optional_text("name"),
            status=found.optional_text("status"),
            archived_at=found.optional_number("archived_at"),
        )

    def list_service_accounts(self, project_id: str) -> list[ServiceAccount]:
        items = self._list(f"{_project_path(project_id)}/service_accounts", project_id, {})
        return [ServiceAccount(i.text("id"), i.text("name"), i.number("created_at")) for i in items]

    def create_service_account(
        self, project_id: str, name: str, *, expires_in_seconds: int | None = None
    ) -> CreatedKey:
        path = f"{_project_path(project_id)}/service_accounts"
        body: dict[str, object] = {"name": name}
        if expires_in_seconds is not None:
            body["expires_in_seconds"] = expires_in_seconds
        answer = self._create(path, project_id, body)
        try:
            account = Fields.parse(answer.content, f"POST {path}")
            return created_key(account.child("api_key"), account.text("id"), account.text("name"))
        except ServiceError as error:
            raise ResponseLostError(
                f"{error.message}; the service account may exist: reconcile by name"
                f" {mask_keys(name, 120)!r}",
                status=answer.status_code,
            ) from None

    def create_service_account_key(
        self,
        project_id: str,
        service_account_id: str,
        *,
        name: str,
        scopes: Sequence[str] | None,
        expires_in_seconds: int | None,
    ) -> CreatedKey:
        path = f"{_account_path(project_id, service_account_id)}/api_keys"
        body: dict[str, object] = {"name": name}
        if scopes is not None:
            body["scopes"] = list(scopes)
        if expires_in_seconds is not None:
            body["expires_in_seconds"] = expires_in_seconds
        answer = self._create(path, project_id, body, per_account=True)
        try:
            key = Fields.parse(answer.content, f"POST {path}")
            return created_key(key, service_account_id, None, default_name=name)
        except ServiceError as error:
            raise ResponseLostError(
                f"{error.message}; the key may exist: reconcile by name {mask_keys(name, 120)!r}",
                status=answer.status_code,
            ) from None

    def _create(
        self, path: str, project_id: str, body: Mapping[str, object], *, per_account: bool = False
    ) -> httpx.Response:
        """POST once; 400 becomes the create's refusal, 404/405 (per-account) unsupported."""
        what = f"POST {path}"
        kept = _KEPT | {405} if per_account else _KEPT
        answer = self._call("POST", path, project_id=project_id, body=body, kept=kept)
        if not isinstance(answer, Problem):
            return answer
        if per_account and answer.status in (404, 405):
            raise EndpointUnsupportedError(
                f"OpenAI answered {answer.status} to {what}: this server has no per-account key"
                f" create, or the service account is gone{answer.suffix}",
                status=answer.status,
            )
        raise create_refusal(
            answer, what=what, project_id=project_id, sent_lifetime="expires_in_seconds" in body
        )

    def update_api_key(
        self,
        project_id: str,
        key_id: str,
        *,
        expires_in_seconds: int | None = None,
        scopes: Sequence[str] | None = None,
    ) -> UpdateOutcome:
        path = _key_path(project_id, key_id)
        body: dict[str, object] = {}
        if expires_in_seconds is not None:
            body["expires_in_seconds"] = expires_in_seconds
        if scopes is not None:
            body["scopes"] = list(scopes)
        if not body:
            raise ConfigError("a key update needs expires_in_seconds or scopes")
        kept = _KEPT | {405}

        def once() -> httpx.Response | Problem:
            return self._call("POST", path, project_id=project_id, body=body, kept=kept)

        answer = self._owner.retrying(once)
        if not isinstance(answer, Problem):
            return UpdateOutcome.UPDATED
        if answer.route_missing:
            return UpdateOutcome.UNSUPPORTED
        if answer.status == 404:
            return UpdateOutcome.NOT_FOUND
        return UpdateOutcome.REFUSED

    def delete_service_account(self, project_id: str, service_account_id: str) -> DeleteOutcome:
        path = _account_path(project_id, service_account_id)
        return _outcome(
            self._delete(path, project_id), f"DELETE {path}", project_id, refusable=False
        )

    def delete_api_key(self, project_id: str, key_id: str) -> DeleteOutcome:
        path = _key_path(project_id, key_id)
        return _outcome(
            self._delete(path, project_id), f"DELETE {path}", project_id, refusable=True
        )

    def list_api_keys(self, project_id: str) -> list[ApiKeyInfo]:
        path = f"{_project_path(project_id)}/api_keys"
        items = self._list(path, project_id, {"owner_project_access": "any"})
        return [api_key_info(item) for item in items]


def _project_path(project_id: str) -> str:
    return f"/organization/projects/{quote(check_id(project_id, field='project_id'), safe='')}"


def _account_path(project_id: str, service_account_id: str) -> str:
    account = quote(check_id(service_account_id, field="service_account_id"), safe="")
    return f"{_project_path(project_id)}/service_accounts/{account}"


def _key_path(project_id: str, key_id: str) -> str:
    key = quote(check_id(key_id, field="key_id"), safe="")
    return f"{_project_path(project_id)}/api_keys/{key}"


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
