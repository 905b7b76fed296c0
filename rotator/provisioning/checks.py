"""Checks `init` and `schedule` run before any write, so a refused command changed nothing."""

from __future__ import annotations

from dataclasses import dataclass

from rotator.domain import protocol
from rotator.domain.models import SecretDescription
from rotator.domain.secret_value import ADMIN_KEY_PREFIX
from rotator.domain.sensitive import Sensitive
from rotator.errors import ConfigError, RotationInProgressError, SecretNotFoundError
from rotator.ports import SecretStore

MAX_SERVICE_ACCOUNT_NAME = 100


@dataclass(frozen=True)
class KeySource:
    """Where the first key comes from: exactly one of the two."""

    existing_key: Sensitive | None = None
    new_service_account: str | None = None


def validate_init_request(project_id: str, source: KeySource) -> None:
    """Pure checks of ``rotator init``'s input, before anything is read or written."""
    if not project_id.startswith("proj_") or len(project_id) <= len("proj_"):
        raise ConfigError(
            f"--project-id {project_id[:40]!r} is not an OpenAI project id; copy it (proj_...) "
            "from the project's settings page"
        )
    if (source.existing_key is None) == (source.new_service_account is None):
        raise ConfigError("give exactly one of --from-env VAR and --new-service-account NAME")
    key = source.existing_key.reveal().strip() if source.existing_key else None
    if key is not None and (not key.startswith("sk-") or key.startswith(ADMIN_KEY_PREFIX)):
        raise ConfigError(
            "the key to store is not a project or service-account key (sk-...; an sk-admin- "
            "key belongs in the admin-key secret)"
        )
    name = source.new_service_account
    if name is not None and not (0 < len(name.strip()) <= MAX_SERVICE_ACCOUNT_NAME):
        raise ConfigError(
            f"--new-service-account needs a name of 1 to {MAX_SERVICE_ACCOUNT_NAME} characters"
        )


def existing_secret(store: SecretStore, secret_id: str) -> SecretDescription | None:
    """The secret, or None when it does not exist; refuses deleted and mid-rotation secrets."""
    try:
        description = store.describe(secret_id)
    except SecretNotFoundError:
        return None
    if description.deleted:
        raise SecretNotFoundError(
            f"secret {secret_id} is scheduled for deletion; restore it with "
            f"`aws secretsmanager restore-secret --secret-id {secret_id}`"
        )
    stuck = protocol.stuck_pending(description.versions)
    if stuck is not None:
        raise RotationInProgressError(
            f"a rotation of {secret_id} is unfinished (AWSPENDING on version {stuck}); "
            "finish or recover it first (see docs/deploy.md, 'A stuck rotation')"
        )
    return description
