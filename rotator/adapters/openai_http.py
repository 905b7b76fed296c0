"""OpenAI over HTTP: the transport (``send``, budgeted and retried) and the key probe.

With :mod:`rotator.adapters.openai_admin` (the Administration API over this transport) the only
modules of rotator (besides ``rotator/testing``) that import httpx; every httpx exception and
every non-2xx answer is translated into :mod:`rotator.errors`:

=====================  =====================================================================
admin 401              ``AdminKeyError`` (invalid key, or a non-admin key: names the scope)
admin 403              ``AdminKeyError`` naming the missing permission and the fix
404 on a project path  ``ProjectNotFoundError`` (deletes: ``DeleteOutcome.NOT_FOUND``)
400 on key delete      ``DeleteOutcome.REFUSED_SERVICE_ACCOUNT_KEY`` (older API)
400 on a create        ``ProjectArchivedError`` when it says archived, else
                       ``KeyLifetimeRequiredError`` when it names ``expires_in_seconds`` or
                       the create sent none; other 400s ``ServiceError``
404/405 on key create  ``EndpointUnsupportedError(status=...)`` (per-account create: an older
                       server, or the account is gone; the caller lists accounts to tell)
key update             2xx ``UPDATED``; 405 or 404 ``Invalid URL`` ``UNSUPPORTED``; other 404
                       ``NOT_FOUND``; 400 ``REFUSED`` (expired key, policy, archived project)
probe 401/403          ``RESTRICTED`` when error.code is ``missing_scope``, else ``REJECTED``
over 1,000 pages       ``ServiceError`` naming the listing's endpoint (review L1)
malformed id           ``SecretFormatError`` naming the field, before any request (L2, M1)
other 4xx              ``ServiceError``
429, 5xx               ``TransientServiceError(status=..., retry_after=...)``
connect failure        ``TransientServiceError`` (nothing was sent)
lost answer            ``ResponseLostError`` for a create (it may have taken effect);
                       ``TransientServiceError`` for reads and deletes
=====================  =====================================================================

GETs, DELETEs and key updates are retried with :func:`rotator.retry.call_with_retry`, honouring
``retry-after-ms`` and ``Retry-After``; creates are sent once. The probe (``GET /models``) is
sent once. Messages never carry a key, an Authorization header or a raw body: a provider
message is quoted only after masking anything shaped like ``sk-...``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TypeVar

import httpx

from rotator.adapters.openai_admin import OpenAIAdminClient
from rotator.adapters.openai_wire import Problem, bearer, retry_after
from rotator.clock import Clock
from rotator.domain.base_url import validate_base_url
from rotator.domain.models import (
    ProbeResult,
)
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    AdminKeyError,
    ResponseLostError,
    RotatorError,
    ServiceError,
    TransientServiceError,
)
from rotator.ports import OpenAIAdmin, RequestBudget
from rotator.retry import Backoff, call_with_retry

T = TypeVar("T")


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
        self._http = http
        self._base = validate_base_url(base_url)
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
        """``GET /models`` once with ``key``: 200 accepted, 401/403 ``missing_scope`` restricted
        (the key works, its scopes exclude model reads), other 401/403 rejected, else unknown.
        """
        authorization = bearer(key)
        if authorization is None:
            return ProbeResult.REJECTED
        try:
            response = self._http.get(
                f"{self._base}/models", headers=self._headers(authorization.reveal())
            )
        except (httpx.HTTPError, httpx.InvalidURL):
            return ProbeResult.UNAVAILABLE
        if response.is_success:
            return ProbeResult.ACCEPTED
        if response.status_code in (401, 403):
            problem = Problem(response.status_code, response.headers, response.content)
            if problem.code == "missing_scope":
                return ProbeResult.RESTRICTED
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
        except (httpx.HTTPError, httpx.InvalidURL) as error:
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
