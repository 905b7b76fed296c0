"""Handlers for admin API keys: create (value once), list (paged, ``order``), retrieve, delete."""

from __future__ import annotations

from rotator.testing.openai_emulator import common
from rotator.testing.openai_emulator.records import AdminKeyRecord, JsonObject
from rotator.testing.openai_emulator.wire import ApiError, Ctx, Reply, json_reply


def _caller_org(ctx: Ctx) -> str:
    assert ctx.admin is not None  # noqa: S101 - admin routes always authenticate an admin key
    return ctx.admin.org_id


def _found(ctx: Ctx) -> AdminKeyRecord:
    key_id = ctx.params["key_id"]
    found = ctx.state.admin_key_by_id(key_id)
    if found is None or found.org_id != _caller_org(ctx) or found.expired(ctx.now):
        raise ApiError(404, f"No admin API key found with id '{key_id}'.", param="key_id")
    return found


def list_admin_keys(ctx: Ctx) -> Reply:
    order = ctx.request.query.get("order", "asc")
    if order not in ("asc", "desc"):
        message = f"Invalid 'order': {order!r}. Expected asc or desc."
        raise ApiError(400, message, param="order", code="invalid_value")
    org = _caller_org(ctx)
    keys = [k for k in ctx.state.admin_keys.values() if k.org_id == org and not k.expired(ctx.now)]
    return common.page(ctx, [(k.id, k.to_json()) for k in keys], descending=order == "desc")


def create_admin_key(ctx: Ctx) -> Reply:
    """A new admin key with all permissions in the caller's organization."""
    body = common.body(ctx, "AdminApiKeyCreateRequest", required=True)
    raw = body.get("expires_in_seconds")
    if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int) or raw < 1):
        message = f"Invalid 'expires_in_seconds': expected a positive integer, but got {raw!r}."
        raise ApiError(400, message, param="expires_in_seconds", code="invalid_value")
    expires_at = None if raw is None else ctx.now + raw
    name = str(body.get("name", ""))
    key = ctx.state.add_admin_key(
        "all", _caller_org(ctx), ctx.now, name=name, expires_at=expires_at
    )
    return json_reply(200, key.to_json() | {"value": key.value})


def get_admin_key(ctx: Ctx) -> Reply:
    return json_reply(200, _found(ctx).to_json())


def delete_admin_key(ctx: Ctx) -> Reply:
    """Deletes the key: it answers 401 from the next request on (it may delete itself)."""
    key = _found(ctx)
    del ctx.state.admin_keys[key.value]
    answer: JsonObject = {
        "id": key.id,
        "object": "organization.admin_api_key.deleted",
        "deleted": True,
    }
    return json_reply(200, answer)
