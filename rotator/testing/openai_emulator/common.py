"""What every handler shares: finding the addressed object, reading the body, paging, lifetimes."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rotator.testing.openai_emulator.records import (
    ApiKeyRecord,
    JsonObject,
    ProjectRecord,
    ServiceAccountRecord,
)
from rotator.testing.openai_emulator.schemas import validate
from rotator.testing.openai_emulator.wire import ApiError, Ctx, Reply, json_reply

_BAD_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using"
    " your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was"
    " not valid JSON.)"
)


def archived_error(project_id: str) -> ApiError:
    return ApiError(400, f"Project '{project_id}' is archived and cannot be modified.")


def project(ctx: Ctx, *, active: bool = False) -> ProjectRecord:
    """The addressed project of the caller's organization (404), active when asked (400)."""
    project_id = ctx.params["project_id"]
    found = ctx.state.projects.get(project_id)
    if found is None or ctx.admin is None or found.org_id != ctx.admin.org_id:
        raise ApiError(404, f"No project found with id '{project_id}'.", param="project_id")
    if active and found.archived:
        raise archived_error(project_id)
    return found


def account(ctx: Ctx, *, active: bool = False) -> ServiceAccountRecord:
    owner = project(ctx, active=active)
    account_id = ctx.params["service_account_id"]
    found = ctx.state.service_accounts.get(account_id)
    if found is None or found.project_id != owner.id:
        message = f"No service account found with id '{account_id}'."
        raise ApiError(404, message, param="service_account_id")
    return found


def key(ctx: Ctx, *, active: bool = False) -> ApiKeyRecord:
    owner = project(ctx)
    key_id = ctx.params["api_key_id"]
    found = ctx.state.keys.get(key_id)
    if found is None or found.project_id != owner.id:
        raise ApiError(404, f"No API key found with id '{key_id}'.", param="api_key_id")
    if active and owner.archived:
        raise archived_error(owner.id)
    return found


def body(ctx: Ctx, schema: str, *, required: bool) -> dict[str, object]:
    """The JSON body, checked against the spec's schema in strict mode (400 when it breaks it)."""
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
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, _BAD_JSON) from None
    if ctx.knobs.strict:
        violation = validate(schema, parsed)
        if violation is not None:
            raise ApiError(400, violation.message, param=violation.param, code=violation.code)
    return parsed if isinstance(parsed, dict) else {}


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


def page(ctx: Ctx, items: Sequence[tuple[str, JsonObject]], *, descending: bool = False) -> Reply:
    """One page of ``(id, json)`` items in creation order (or its reverse), as a list response."""
    limit = _limit(ctx)
    after = ctx.request.query.get("after")
    order = ctx.state.order
    ordered = sorted(items, key=lambda item: order[item[0]], reverse=descending)
    if after:
        position = order.get(after)
        if position is None:
            raise ApiError(400, f"Invalid 'after': no object with id '{after}'.", param="after")
        if descending:
            ordered = [item for item in ordered if order[item[0]] < position]
        else:
            ordered = [item for item in ordered if order[item[0]] > position]
    chunk = ordered[:limit]
    answer: JsonObject = {
        "object": "list",
        "data": [data for _, data in chunk],
        "first_id": chunk[0][0] if chunk else None,
        "last_id": chunk[-1][0] if chunk else None,
        "has_more": len(ordered) > limit,
    }
    return json_reply(200, answer)


def max_lifetime(ctx: Ctx, owner: ProjectRecord) -> int | None:
    """The effective maximum key lifetime: the stricter of the organization's and project's."""
    limits = [s for s in (ctx.knobs.max_key_lifetime, owner.max_key_lifetime) if s is not None]
    return min(limits) if limits else None


def lifetime(ctx: Ctx, owner: ProjectRecord, raw: object, *, creating: bool) -> int | None:
    """``expires_in_seconds`` checked against the lifetime policy (None: the key never expires).

    The exact refusal is not documented (openai-admin-api-2026-12.md §5): a 400
    ``invalid_request_error`` naming ``expires_in_seconds`` in ``param`` and in the message.
    """
    limit = max_lifetime(ctx, owner)
    if raw is None:
        if creating and limit is not None:
            message = (
                "Your organization or project requires every new API key to expire: provide"
                f" 'expires_in_seconds' (at most {limit} seconds)."
            )
            raise ApiError(400, message, param="expires_in_seconds")
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        message = f"Invalid 'expires_in_seconds': expected a positive integer, but got {raw!r}."
        raise ApiError(400, message, param="expires_in_seconds", code="invalid_value")
    if limit is not None and raw > limit:
        message = (
            f"'expires_in_seconds' ({raw}) exceeds the maximum API key lifetime of {limit}"
            " seconds set by your organization or project."
        )
        raise ApiError(400, message, param="expires_in_seconds")
    return raw
