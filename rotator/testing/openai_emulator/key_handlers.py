"""Handlers for project API keys: mint one on a service account, list, retrieve, update, delete."""

from __future__ import annotations

from rotator.testing.openai_emulator import common
from rotator.testing.openai_emulator.records import JsonObject
from rotator.testing.openai_emulator.wire import ApiError, Ctx, Reply, json_reply

REFUSED_DELETE = "The API key belongs to a service account and cannot be deleted."
_ACCESS = ("active", "inactive", "any")


def _scopes(raw: object) -> tuple[str, ...]:
    return tuple(str(scope) for scope in raw) if isinstance(raw, list) else ()


def create_service_account_key(ctx: Ctx) -> Reply:
    """POST .../service_accounts/{id}/api_keys: a new key on an existing account, value once."""
    account = common.account(ctx, active=True)
    body = common.body(ctx, "CreateProjectServiceAccountApiKeyBody", required=False)
    project = ctx.state.projects[account.project_id]
    seconds = common.lifetime(ctx, project, body.get("expires_in_seconds"), creating=True)
    name = str(body.get("name", "Secret Key"))
    expires_at = None if seconds is None else ctx.now + seconds
    scopes = _scopes(body.get("scopes"))
    key = ctx.state.add_key(
        account, name, ctx.now, ctx.monotonic, scopes=scopes, expires_at=expires_at
    )
    return json_reply(200, key.created_json())


def list_api_keys(ctx: Ctx) -> Reply:
    """The project's enabled (unexpired) keys, filtered by ``owner_project_access``.

    Omitted, the filter applies "membership-based visibility rules, which may exclude some
    enabled keys": here it lists the keys whose owner has access (as ``active`` does), so only
    ``any`` is sure to show every enabled key.
    """
    project = common.project(ctx)
    access = ctx.request.query.get("owner_project_access")
    if access is not None and access not in _ACCESS:
        message = f"Invalid 'owner_project_access': {access!r}. Expected active, inactive or any."
        raise ApiError(400, message, param="owner_project_access", code="invalid_value")
    keys = ctx.state.keys_of(project.id, ctx.now)
    if access != "any":
        keys = [k for k in keys if k.owner_active == (access != "inactive")]
    return common.page(ctx, [(k.id, k.to_json()) for k in keys])


def get_api_key(ctx: Ctx) -> Reply:
    """The key, redacted; an expired key is still found here (``expires_at`` in the past)."""
    return json_reply(200, common.key(ctx).to_json())


def update_api_key(ctx: Ctx) -> Reply:
    """POST .../api_keys/{id}: replace ``scopes`` and/or set ``expires_in_seconds`` from now.

    An expired key refuses: the reference says only "Expired keys cannot be updated", so the
    emulator answers the most plausible 400 ``invalid_request_error`` (param ``api_key_id``).
    """
    key = common.key(ctx, active=True)
    body = common.body(ctx, "UpdateProjectApiKeyBody", required=True)
    if "scopes" not in body and "expires_in_seconds" not in body:
        raise ApiError(400, "Provide at least one of 'expires_in_seconds' or 'scopes'.")
    if key.expired(ctx.now):
        message = f"API key '{key.id}' has expired and cannot be updated."
        raise ApiError(400, message, param="api_key_id")
    project = ctx.state.projects[key.project_id]
    if "expires_in_seconds" in body:
        seconds = common.lifetime(ctx, project, body["expires_in_seconds"], creating=False)
        if seconds is None:
            message = "Invalid type for 'expires_in_seconds': expected an integer, but got null."
            raise ApiError(400, message, param="expires_in_seconds", code="invalid_type")
        key.expires_at = ctx.now + seconds
    if "scopes" in body:
        key.scopes = _scopes(body["scopes"])
    return json_reply(200, key.to_json())


def delete_api_key(ctx: Ctx) -> Reply:
    """Deletes the key only (its account and other keys stay), or answers the older API's 400."""
    key = common.key(ctx, active=True)
    owned_by_account = key.service_account is not None
    if owned_by_account and ctx.knobs.delete_service_account_keys == "refuse":
        raise ApiError(400, REFUSED_DELETE)
    ctx.state.delete_key(key.id)
    body: JsonObject = {
        "object": "organization.project.api_key.deleted",
        "id": key.id,
        "deleted": True,
    }
    return json_reply(200, body)
