"""Handlers for ``/models``, projects and service accounts: each takes a :class:`Ctx` (state
lock held) and returns a reply. Project keys are in :mod:`key_handlers`, admin keys in
:mod:`admin_handlers`."""

from __future__ import annotations

from rotator.testing.openai_emulator import common
from rotator.testing.openai_emulator.records import JsonObject
from rotator.testing.openai_emulator.wire import ApiError, Ctx, Reply, json_reply

MODELS: tuple[str, ...] = ("gpt-4o-mini", "gpt-4.1", "text-embedding-3-small")


def list_models(ctx: Ctx) -> Reply:
    data: list[object] = [
        {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": "system"}
        for model in MODELS
    ]
    return json_reply(200, {"object": "list", "data": data})


def get_project(ctx: Ctx) -> Reply:
    return json_reply(200, common.project(ctx).to_json())


def archive_project(ctx: Ctx) -> Reply:
    """POST .../archive: the project, archived (archiving twice keeps the first time)."""
    project = common.project(ctx)
    if project.archived_at is None:
        project.archived_at = ctx.now
    return json_reply(200, project.to_json())


def list_service_accounts(ctx: Ctx) -> Reply:
    project = common.project(ctx, active=True)
    return common.page(ctx, [(a.id, a.to_json()) for a in ctx.state.accounts_of(project.id)])


def create_service_account(ctx: Ctx) -> Reply:
    project = common.project(ctx, active=True)
    body = common.body(ctx, "ProjectServiceAccountCreateRequest", required=True)
    name = str(body.get("name", ""))
    only = body.get("create_service_account_only") is True
    raw_lifetime = body.get("expires_in_seconds")
    if only and raw_lifetime is not None:
        message = "'expires_in_seconds' cannot be used when 'create_service_account_only' is true."
        raise ApiError(400, message, param="expires_in_seconds")
    seconds = None if only else common.lifetime(ctx, project, raw_lifetime, creating=True)
    state = ctx.state
    account = state.add_service_account(
        project.id, name, ctx.now, role="none" if only else "member"
    )
    answer = account.to_json()
    answer["api_key"] = None
    if not only:
        expires_at = None if seconds is None else ctx.now + seconds
        key = state.add_key(account, "Secret Key", ctx.now, ctx.monotonic, expires_at=expires_at)
        answer["api_key"] = key.created_json()
    return json_reply(200, answer)


def get_service_account(ctx: Ctx) -> Reply:
    return json_reply(200, common.account(ctx).to_json())


def delete_service_account(ctx: Ctx) -> Reply:
    account = common.account(ctx, active=True)
    ctx.state.delete_service_account(account.id)
    body: JsonObject = {
        "object": "organization.project.service_account.deleted",
        "id": account.id,
        "deleted": True,
    }
    return json_reply(200, body)
