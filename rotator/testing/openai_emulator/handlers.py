"""The endpoint handlers: each takes a :class:`Ctx` (state lock held) and returns a reply."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rotator.testing.openai_emulator.schemas import validate
from rotator.testing.openai_emulator.state import (
    ApiKeyRecord,
    JsonObject,
    ProjectRecord,
    ServiceAccountRecord,
)
from rotator.testing.openai_emulator.wire import ApiError, Ctx, Reply, json_reply

MODELS: tuple[str, ...] = ("gpt-4o-mini", "gpt-4.1", "text-embedding-3-small")
REFUSED_DELETE = "The API key belongs to a service account and cannot be deleted."
_BAD_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using"
    " your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was"
    " not valid JSON.)"
)


def _project(ctx: Ctx, *, active: bool = False) -> ProjectRecord:
    project_id = ctx.params["project_id"]
    project = ctx.state.projects.get(project_id)
    if project is None or ctx.admin is None or project.org_id != ctx.admin.org_id:
        raise ApiError(404, f"No project found with id '{project_id}'.", param="project_id")
    if active and project.archived_at is not None:
        raise ApiError(400, f"Project '{project_id}' is archived and cannot be modified.")
    return project


def _account(ctx: Ctx, *, active: bool = False) -> ServiceAccountRecord:
    project = _project(ctx, active=active)
    account_id = ctx.params["service_account_id"]
    account = ctx.state.service_accounts.get(account_id)
    if account is None or account.project_id != project.id:
        message = f"No service account found with id '{account_id}'."
        raise ApiError(404, message, param="service_account_id")
    return account


def _key(ctx: Ctx) -> ApiKeyRecord:
    project = _project(ctx)
    key_id = ctx.params["api_key_id"]
    key = ctx.state.keys.get(key_id)
    if key is None or key.project_id != project.id:
        raise ApiError(404, f"No API key found with id '{key_id}'.", param="api_key_id")
    return key


def _body(ctx: Ctx, schema: str, *, required: bool) -> dict[str, object]:
    raw = ctx.request.body
    if not raw.strip() and not required:
        return {}
    content_type = ctx.request.headers.get("content-type", "")
    if ctx.knobs.strict and not content_type.lower().startswith("application/json"):
        message = (
            f"Invalid Content-Type header ({content_type or 'none'}), expected application/json."
        )
        raise ApiError(400, message)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, _BAD_JSON) from None
    if ctx.knobs.strict:
        violation = validate(schema, body)
        if violation is not None:
            raise ApiError(400, violation.message, param=violation.param, code=violation.code)
    return body if isinstance(body, dict) else {}


def _limit(ctx: Ctx) -> int:
    raw = ctx.request.query.get("limit", "20")
    try:
        limit = int(raw)
    except ValueError:
        message = f"Invalid type for 'limit': expected an integer, but got '{raw}' instead."
        raise ApiError(400, message, param="limit", code="invalid_type") from None
    if not 1 <= limit <= 100:
        message = f"Invalid 'limit': expected a value between 1 and 100, but got {limit} instead."
        raise ApiError(400, message, param="limit", code="invalid_value")
    return limit


def _page(ctx: Ctx, items: Sequence[tuple[str, JsonObject]]) -> Reply:
    """One page of ``(id, json)`` items in creation order, shaped as the spec's list response."""
    limit = _limit(ctx)
    after = ctx.request.query.get("after")
    if after:
        position = ctx.state.order.get(after)
        if position is None:
            raise ApiError(400, f"Invalid 'after': no object with id '{after}'.", param="after")
        items = [item for item in items if ctx.state.order[item[0]] > position]
    chunk = items[:limit]
    body: JsonObject = {
        "object": "list",
        "data": [data for _, data in chunk],
        "first_id": chunk[0][0] if chunk else None,
        "last_id": chunk[-1][0] if chunk else None,
        "has_more": len(items) > limit,
    }
    return json_reply(200, body)


def list_models(ctx: Ctx) -> Reply:
    data: list[object] = [
        {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": "system"}
        for model in MODELS
    ]
    return json_reply(200, {"object": "list", "data": data})


def get_project(ctx: Ctx) -> Reply:
    return json_reply(200, _project(ctx).to_json())


def list_service_accounts(ctx: Ctx) -> Reply:
    project = _project(ctx, active=True)
    return _page(ctx, [(a.id, a.to_json()) for a in ctx.state.accounts_of(project.id)])


def create_service_account(ctx: Ctx) -> Reply:
    project = _project(ctx, active=True)
    body = _body(ctx, "ProjectServiceAccountCreateRequest", required=True)
    name = str(body.get("name", ""))
    only = body.get("create_service_account_only") is True
    state = ctx.state
    account = state.add_service_account(
        project.id, name, ctx.now, role="none" if only else "member"
    )
    answer = account.to_json()
    answer["api_key"] = None
    if not only:
        key = state.add_key(account, "Secret Key", ctx.now, ctx.monotonic)
        answer["api_key"] = key.created_json()
    return json_reply(200, answer)


def get_service_account(ctx: Ctx) -> Reply:
    return json_reply(200, _account(ctx).to_json())


def delete_service_account(ctx: Ctx) -> Reply:
    account = _account(ctx, active=True)
    ctx.state.delete_service_account(account.id)
    body: JsonObject = {
        "object": "organization.project.service_account.deleted",
        "id": account.id,
        "deleted": True,
    }
    return json_reply(200, body)


def create_service_account_key(ctx: Ctx) -> Reply:
    account = _account(ctx, active=True)
    body = _body(ctx, "CreateProjectServiceAccountApiKeyBody", required=False)
    name = str(body.get("name", "Secret Key"))
    raw_scopes = body.get("scopes")
    scopes = tuple(str(s) for s in raw_scopes) if isinstance(raw_scopes, list) else ()
    key = ctx.state.add_key(account, name, ctx.now, ctx.monotonic, scopes)
    return json_reply(200, key.created_json())


def list_api_keys(ctx: Ctx) -> Reply:
    project = _project(ctx)
    access = ctx.request.query.get("owner_project_access")
    if access not in (None, "active", "inactive", "any"):
        message = f"Invalid 'owner_project_access': {access!r}. Expected active, inactive or any."
        raise ApiError(400, message, param="owner_project_access", code="invalid_value")
    keys = [] if access == "inactive" else ctx.state.keys_of(project.id)
    return _page(ctx, [(k.id, k.to_json()) for k in keys])


def get_api_key(ctx: Ctx) -> Reply:
    return json_reply(200, _key(ctx).to_json())


def delete_api_key(ctx: Ctx) -> Reply:
    key = _key(ctx)
    if ctx.knobs.delete_service_account_keys == "refuse":
        raise ApiError(400, REFUSED_DELETE)
    ctx.state.delete_key(key.id)
    body: JsonObject = {
        "object": "organization.project.api_key.deleted",
        "id": key.id,
        "deleted": True,
    }
    return json_reply(200, body)
