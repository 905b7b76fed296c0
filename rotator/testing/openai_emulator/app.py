"""Routing and authentication: which handler answers a request, and who may call it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from rotator.testing.openai_emulator import admin_handlers, handlers, key_handlers
from rotator.testing.openai_emulator.records import AdminKeyRecord, mask_key
from rotator.testing.openai_emulator.state import State
from rotator.testing.openai_emulator.wire import ApiError, Ctx, Knobs, Reply, Request

Auth = Literal["project", "admin_read", "admin_write"]
#: Endpoints an older server lacks, each switched by the emulator knob of the same name.
Feature = Literal["per_account_key_endpoint", "key_update_endpoint"]

NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header"
    " using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
)
ADMIN_KEY_ON_MODELS = (
    "Admin API keys cannot be used for non-administration endpoints. Use a project API key to"
    " call /v1/models."
)
_MISSING_SCOPE = (
    "You have insufficient permissions for this operation. Missing scopes: {scope}. Check that"
    " you have the correct role in your organization (Reader, Writer, Owner) and project"
    " (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes."
)


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    auth: Auth
    handler: Callable[[Ctx], Reply]
    feature: Feature | None = None
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))


_P = "/organization/projects/{project_id}"
_SA = f"{_P}/service_accounts/{{service_account_id}}"
_KEY = f"{_P}/api_keys/{{api_key_id}}"
_ADMIN = "/organization/admin_api_keys"
ROUTES: tuple[Route, ...] = (
    Route("GET", "/models", "project", handlers.list_models),
    Route("GET", _P, "admin_read", handlers.get_project),
    Route("POST", f"{_P}/archive", "admin_write", handlers.archive_project),
    Route("GET", f"{_P}/service_accounts", "admin_read", handlers.list_service_accounts),
    Route("POST", f"{_P}/service_accounts", "admin_write", handlers.create_service_account),
    Route("GET", _SA, "admin_read", handlers.get_service_account),
    Route("DELETE", _SA, "admin_write", handlers.delete_service_account),
    Route(
        "POST",
        f"{_SA}/api_keys",
        "admin_write",
        key_handlers.create_service_account_key,
        "per_account_key_endpoint",
    ),
    Route("GET", f"{_P}/api_keys", "admin_read", key_handlers.list_api_keys),
    Route("GET", _KEY, "admin_read", key_handlers.get_api_key),
    Route("POST", _KEY, "admin_write", key_handlers.update_api_key, "key_update_endpoint"),
    Route("DELETE", _KEY, "admin_write", key_handlers.delete_api_key),
    Route("GET", _ADMIN, "admin_read", admin_handlers.list_admin_keys),
    Route("POST", _ADMIN, "admin_write", admin_handlers.create_admin_key),
    Route("GET", f"{_ADMIN}/{{key_id}}", "admin_read", admin_handlers.get_admin_key),
    Route("DELETE", f"{_ADMIN}/{{key_id}}", "admin_write", admin_handlers.delete_admin_key),
)


def find_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        match = route.pattern.match(path)
        if match is not None and route.method == method.upper():
            return route, match.groupdict()
    return None


def invalid_url(request: Request) -> ApiError:
    return ApiError(404, f"Invalid URL ({request.method} /v1{request.path})")


def method_not_allowed(request: Request) -> ApiError:
    return ApiError(405, f"Method Not Allowed ({request.method} /v1{request.path})")


def _bearer(headers: Mapping[str, str]) -> str:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, NO_KEY)
    return token.strip()


def _incorrect_key(token: str) -> ApiError:
    message = (
        f"Incorrect API key provided: {mask_key(token)}. You can find your API key at"
        " https://platform.openai.com/account/api-keys."
    )
    return ApiError(401, message, code="invalid_api_key")


def authenticate(
    state: State, knobs: Knobs, route: Route, request: Request, *, now: int, monotonic: float
) -> AdminKeyRecord | None:
    """The admin key calling an admin route (None for ``/models``), or the 401/403 to answer."""
    token = _bearer(request.headers)
    admin = state.admin_keys.get(token)
    if admin is not None and admin.expired(now):
        admin = None
    project_key = state.keys_by_value.get(token)
    # An expired key, or a key of an archived project, is refused like a revoked one: the
    # references give no other status or code for either (openai-admin-api-2026-12.md §6, §9).
    if project_key is not None and (
        project_key.expired(now) or state.projects[project_key.project_id].archived
    ):
        project_key = None
    if route.auth == "project":
        if admin is not None:
            raise ApiError(401, ADMIN_KEY_ON_MODELS, code="invalid_api_key")
        if project_key is None or monotonic < project_key.minted_at + knobs.propagation_delay:
            raise _incorrect_key(token)
        project_key.last_used_at = now
        if project_key.scopes and not knobs.model_read_scopes & set(project_key.scopes):
            message = _MISSING_SCOPE.format(scope="api.model.read")
            raise ApiError(401, message, code="missing_scope")
        return None
    if admin is None:
        if project_key is not None:
            message = _MISSING_SCOPE.format(scope="api.management.read")
            raise ApiError(401, message, code="missing_scope")
        raise _incorrect_key(token)
    if route.auth == "admin_write" and admin.scopes == "read":
        message = _MISSING_SCOPE.format(scope="api.management.write")
        raise ApiError(403, message, code="missing_scope")
    admin.last_used_at = now
    return admin


def dispatch(
    state: State,
    knobs: Knobs,
    request: Request,
    route: Route,
    params: Mapping[str, str],
    *,
    now: int,
    monotonic: float,
) -> Reply:
    """Authenticate, then run the route's handler; any :class:`ApiError` becomes its reply."""
    try:
        admin = authenticate(state, knobs, route, request, now=now, monotonic=monotonic)
        ctx = Ctx(state, knobs, request, params, now, monotonic, admin)
        return route.handler(ctx)
    except ApiError as error:
        return error.reply(bare=knobs.bare_string_errors)
