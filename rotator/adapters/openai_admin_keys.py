"""The organization's admin keys on the Administration API: list, create (sent once), delete.

Mixed into :class:`~rotator.adapters.openai_admin.OpenAIAdminClient`, whose ``_call``, ``_list``
and ``_delete`` they use; the admin-key routes name no project (``project_id=""``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol
from urllib.parse import quote

import httpx

from rotator.adapters.openai_wire import (
    LIFETIME_REQUIRED,
    Fields,
    Problem,
    admin_key_info,
    created_admin_key,
    error_for,
    mask_keys,
)
from rotator.domain.ids import check_id
from rotator.domain.models import AdminKeyInfo, CreatedAdminKey, DeleteOutcome
from rotator.errors import KeyLifetimeRequiredError, ResponseLostError, ServiceError

ADMIN_KEYS_PATH = "/organization/admin_api_keys"


class _Calls(Protocol):
    """What the mixin needs from the client (its request helpers)."""

    def _call(
        self,
        method: str,
        path: str,
        *,
        project_id: str,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, object] | None = None,
    ) -> httpx.Response | Problem: ...

    def _list(self, path: str, project_id: str, extra: Mapping[str, str]) -> list[Fields]: ...

    def _delete(self, path: str, project_id: str) -> httpx.Response | Problem: ...


class AdminKeyCalls:
    """``list_admin_keys``, ``create_admin_key`` and ``delete_admin_key`` of the port."""

    def list_admin_keys(self: _Calls) -> list[AdminKeyInfo]:
        return [admin_key_info(item) for item in self._list(ADMIN_KEYS_PATH, "", {})]

    def create_admin_key(
        self: _Calls, name: str, *, expires_in_seconds: int | None
    ) -> CreatedAdminKey:
        body: dict[str, object] = {"name": name}
        if expires_in_seconds is not None:
            body["expires_in_seconds"] = expires_in_seconds
        what = f"POST {ADMIN_KEYS_PATH}"
        answer = self._call("POST", ADMIN_KEYS_PATH, project_id="", body=body)
        if isinstance(answer, Problem):
            field = "expires_in_seconds"
            names_lifetime = answer.param == field or field in (answer.message or "")
            if answer.status == 400 and names_lifetime:
                raise KeyLifetimeRequiredError(LIFETIME_REQUIRED)
            raise error_for(answer, what=what, method="POST", project_id="")
        try:
            return created_admin_key(Fields.parse(answer.content, what), default_name=name)
        except ServiceError as error:
            raise ResponseLostError(
                f"{error.message}; the admin key may exist: reconcile by name"
                f" {mask_keys(name, 120)!r}",
                status=answer.status_code,
            ) from None

    def delete_admin_key(self: _Calls, key_id: str) -> DeleteOutcome:
        path = f"{ADMIN_KEYS_PATH}/{quote(check_id(key_id, field='admin_key_id'), safe='')}"
        answer = self._delete(path, "")
        if not isinstance(answer, Problem):
            return DeleteOutcome.DELETED
        if answer.status == 404:
            return DeleteOutcome.NOT_FOUND
        raise error_for(answer, what=f"DELETE {path}", method="DELETE", project_id="")
