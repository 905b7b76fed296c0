"""OpenAI over HTTP: the Administration API port and the key probe, on one ``httpx.Client``.

The only module of rotator (besides ``rotator/testing``) that imports httpx; every httpx
exception and every non-2xx answer is translated here into :mod:`rotator.errors`:

=====================  =====================================================================
admin 401              ``AdminKeyError`` (invalid key, or a non-admin key: names the scope)
admin 403              ``AdminKeyError`` naming the missing permission and the fix
404 on a project path  ``ProjectNotFoundError`` (deletes: ``DeleteOutcome.NOT_FOUND``)
400 on key delete      ``DeleteOutcome.REFUSED_SERVICE_ACCOUNT_KEY`` (older API)
other 4xx              ``ServiceError``
429, 5xx               ``TransientServiceError(status=..., retry_after=...)``
connect failure        ``TransientServiceError`` (nothing was sent)
lost answer            ``ResponseLostError`` for a create (it may have taken effect);
                       ``TransientServiceError`` for reads and deletes
=====================  =====================================================================

GETs and DELETEs are retried with :func:`rotator.retry.call_with_retry`, honouring
``retry-after-ms`` and ``Retry-After``; creates are sent once. The probe (``GET /models``) is
sent once. Messages never carry a key, an Authorization header or a raw body: a provider
message is quoted only after masking anything shaped like ``sk-...``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import quote

import httpx

from rotator.adapters.openai_wire import Fields, Problem, bearer, error_for, retry_after
from rotator.clock import Clock
from rotator.domain.models import (
    ApiKeyInfo,
    CreatedKey,
    DeleteOutcome,
    ProbeResult,
    Project,
    ServiceAccount,
)
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    AdminKeyError,
    ConfigError,
    ResponseLostError,
    RotatorError,
    ServiceError,
    TransientServiceError,
)
from rotator.ports import OpenAIAdmin, RequestBudget
from rotator.retry import Backoff, call_with_retry

T = TypeVar("T")
PAGE_SIZE = 100


def build_http_client(*, connect_timeout: float = 5.0, read_timeout: float = 15.0) -> httpx.Client:
    """The shared client: explicit timeouts, no redirects followed."""
    timeout = httpx.Timeout(
        connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
    )
    return httpx.Client(timeout=timeout, follow_redirects=False)


class OpenAIHttp:
    """OpenAI at ``base_url`` (``https://api.openai.com/v1``): admin clients and the key probe."""

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        *,
        backoff: Backoff | None = None,
        clock: Clock | None = None,
        budget: RequestBudget | None = None,
    ) -> None:
        host = ""
        with contextlib.suppress(httpx.InvalidURL):  # reported below, outside the handler
            host = httpx.URL(base_url).host if base_url.startswith(("http://", "https://")) else ""
        if not host:
            raise ConfigError(
                f"OpenAI base URL {base_url!r} is not an http(s) URL; use https://api.openai.com/v1"
            )
        self._http = http
        self._base = base_url.rstrip("/")
        self._backoff = backoff or Backoff()
        self._clock = clock or Clock()
        #: Shared by every admin client made here (a fleet run shares one ``OpenAIHttp``).
        self.budget = budget

    def __repr__(self) -> str:
        return f"OpenAIHttp(base_url={self._base!r})"

    def admin(self, admin_key: Sensitive) -> OpenAIAdmin:
        """An :class:`~rotator.ports.OpenAIAdmin` bound to ``admin_key``."""
        authorization = bearer(admin_key)
        if authorization is None:
            raise AdminKeyError(
                "the admin key holds whitespace or non-ASCII characters; store the sk-admin-..."
                " key exactly as OpenAI showed it in the admin-key secret"
            )
        return OpenAIAdminClient(self, authorization)

    def check(self, key: Sensitive) -> ProbeResult:
        """``GET /models`` once with ``key``: 200 accepted, 401 rejected, anything else unknown."""
        authorization = bearer(key)
        if authorization is None:
            return ProbeResult.REJECTED
        try:
            response = self._http.get(
                f"{self._base}/models", headers=self._headers(authorization.reveal())
            )
        except httpx.HTTPError:
            return ProbeResult.UNAVAILABLE
        if response.is_success:
            return ProbeResult.ACCEPTED
        if response.status_code == 401:
            return ProbeResult.REJECTED
        return ProbeResult.UNAVAILABLE

    @staticmethod
    def _headers(authorization: str) -> dict[str, str]:
        return {
            "Authorization": authorization,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

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
        """One admin request, paced by the shared budget; a 429 pauses every worker.

        A transport failure becomes a rotator error with no httpx context.
        """
        failure: RotatorError
        if self.budget is not None:
            self.budget.acquire()
        try:
            response = self._http.request(
                method,
                f"{self._base}{path}",
                params=params,
                content=None if body is None else json.dumps(body).encode(),
                headers=self._headers(authorization.reveal()),
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            failure = TransientServiceError(
                f"could not connect to OpenAI for {what} ({type(error).__name__}); nothing was"
                " sent; check network access to the OpenAI base URL"
            )
        except httpx.TransportError as error:
            kind = ResponseLostError if method == "POST" else TransientServiceError
            failure = kind(
                f"no answer from OpenAI to {what} ({type(error).__name__}); the request may have"
                " taken effect"
            )
        except httpx.HTTPError as error:
            failure = ServiceError(
                f"HTTP failure calling OpenAI for {what} ({type(error).__name__})"
            )
        else:
            if self.budget is not None:
                if response.status_code == 429:
                    self.budget.throttled(retry_after(response.headers))
                else:
                    self.budget.accepted()
            return response
        raise failure

    def retrying(self, operation: Callable[[], T]) -> T:
        return call_with_retry(operation, backoff=self._backoff, clock=self._clock)


class OpenAIAdminClient:
    """The Administration API bound to one admin key (implements ``OpenAIAdmin``)."""

    def __init__(self, owner: OpenAIHttp, authorization: Sensitive) -> None:
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
