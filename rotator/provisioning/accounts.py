"""``rotator init --new-service-account``: a new account and its first key, made safely.

A create whose answer is lost is reconciled by name (the account is deleted again, so nothing
untracked is left); ``--scopes`` restricts the first key at once, or the account is undone.
"""

from __future__ import annotations

from datetime import timedelta

from rotator.domain.models import CreatedKey, UpdateOutcome
from rotator.errors import CleanupError, ConfigError, ResponseLostError, RotatorError
from rotator.ports import OpenAIAdmin


def create_account(
    admin: OpenAIAdmin, project_id: str, name: str, *, lifetime: timedelta | None = None
) -> CreatedKey:
    """Create a service account; if the answer is lost, delete what it made (found as new)."""
    before = {account.id for account in admin.list_service_accounts(project_id)}
    try:
        return admin.create_service_account(
            project_id,
            name,
            expires_in_seconds=int(lifetime.total_seconds()) if lifetime is not None else None,
        )
    except ResponseLostError:
        try:
            for account in admin.list_service_accounts(project_id):
                if account.name == name and account.id not in before:
                    admin.delete_service_account(project_id, account.id)
        except RotatorError as error:
            raise CleanupError(
                f"OpenAI did not answer the create of service account {name!r}, and looking "
                f"for it failed too ({error}): delete any account named {name!r} made just now "
                "in project settings, then run `rotator init` again"
            ) from None
        raise ResponseLostError(
            f"OpenAI did not answer the create of service account {name!r}; any account it "
            "made was deleted again: run the same `rotator init` again"
        ) from None


def restrict(
    admin: OpenAIAdmin, project_id: str, created: CreatedKey, scopes: tuple[str, ...]
) -> None:
    """Limit a new account's first key to ``scopes``; undo the account if OpenAI cannot."""
    outcome = admin.update_api_key(project_id, created.key_id, scopes=list(scopes))
    if outcome is not UpdateOutcome.UPDATED:
        admin.delete_service_account(project_id, created.service_account_id)
        raise ConfigError(
            f"OpenAI could not restrict the new key to --scopes ({outcome.value}); the new "
            "service account was deleted again and nothing was stored"
        )
