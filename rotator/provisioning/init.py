"""``rotator init``: seed a secret with a correctly shaped value for a service-account key.

Every check that can fail on bad input runs before the first write, so a refused command has
changed nothing. The only write that can precede a failure is a service account created by
``--new-service-account``; it is deleted again if the secret cannot be written (and when the
create's answer is lost, the account it made is found as new and deleted). ``--force`` records
the key it replaces as retiring, so the next rotation or ``prune`` deletes it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from rotator.domain.models import (
    AWSCURRENT,
    ApiKeyInfo,
    ProbeResult,
    SecretDescription,
)
from rotator.domain.ownership import redacted_matches
from rotator.domain.secret_value import RetiringKey, RotatorSecret
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    CleanupError,
    ConfigError,
    ProjectArchivedError,
    RotatorError,
    SecretFormatError,
    SecretNotFoundError,
    ServiceError,
)
from rotator.ports import KeyProbe, OpenAIAdmin, SecretProvisioner, SecretStore
from rotator.provisioning.accounts import create_account, restrict
from rotator.provisioning.checks import KeySource, existing_secret, validate_init_request


@dataclass(frozen=True)
class InitResult:
    """What ``init`` did, as ``--output json`` prints it."""

    secret_id: str
    arn: str
    created_secret: bool
    version_id: str | None
    project_id: str
    key_id: str
    service_account_id: str | None
    source: str

    def to_json(self) -> dict[str, Any]:
        return {"status": "initialised", **asdict(self)}


def find_key(admin: OpenAIAdmin, probe: KeyProbe, project_id: str, key: Sensitive) -> ApiKeyInfo:
    """The admin API's record of ``key`` in the project, matched on its redacted form."""
    if probe.check(key) is ProbeResult.REJECTED:
        raise ConfigError("OpenAI rejects the key to store (401 on GET /models); check the key")
    listed = admin.list_api_keys(project_id)
    found = [info for info in listed if redacted_matches(info.redacted_value, key.reveal())]
    if not found:
        raise ConfigError(
            f"the key to store is not a key of project {project_id}; check --project-id"
        )
    if len(found) > 1:
        ids = ", ".join(info.id for info in found)
        raise ConfigError(f"the key to store matches several keys of {project_id} ({ids})")
    return found[0]


def _parse_quietly(raw: Sensitive | None) -> RotatorSecret | None:
    try:
        return RotatorSecret.parse_or_none(raw)
    except SecretFormatError:
        return None


def _holds_key(store: SecretStore, secret_id: str, key_id: str) -> bool | None:
    """Whether AWSCURRENT now holds ``key_id``; None when that cannot be read."""
    try:
        held = _parse_quietly(store.get_value(secret_id, stage=AWSCURRENT))
    except SecretNotFoundError:
        return False
    except RotatorError:
        return None
    return held is not None and held.key_id == key_id


def _init_result(
    secret_id: str,
    store: SecretStore,
    *,
    project_id: str,
    key_id: str,
    account_id: str | None,
    source: KeySource,
    existing: SecretDescription | None,
) -> InitResult:
    description = store.describe(secret_id)
    return InitResult(
        secret_id=secret_id,
        arn=description.arn,
        created_secret=existing is None,
        version_id=description.version_with(AWSCURRENT),
        project_id=project_id,
        key_id=key_id,
        service_account_id=account_id,
        source="existing_key" if source.existing_key is not None else "new_service_account",
    )


def _value_to_replace(
    store: SecretStore,
    existing: SecretDescription | None,
    secret_id: str,
    *,
    project_id: str,
    force: bool,
) -> RotatorSecret | None:
    """The rotator value ``--force`` replaces; refuses to replace without it."""
    if existing is None or existing.version_with(AWSCURRENT) is None:
        return None
    current = store.get_value(existing.arn, stage=AWSCURRENT)
    if current is not None and current.reveal().strip() and not force:
        raise ConfigError(
            f"secret {secret_id} already holds a value; pass --force to replace it (a "
            "rotator key it holds is kept live and recorded as retiring)"
        )
    replaced = _parse_quietly(current)
    if replaced is not None and replaced.project_id != project_id:
        raise ConfigError(
            f"secret {secret_id} holds key {replaced.key_id} of project "
            f"{replaced.project_id}; replacing it with a key of {project_id} would leave it "
            "live and unrecorded: rotate or delete it first, or use another secret"
        )
    return replaced


def _still_retiring(
    replaced: RotatorSecret | None, key_id: str, *, now: datetime
) -> tuple[RetiringKey, ...]:
    """--force never leaves the key it replaces (nor those it retires) live and unrecorded:
    the next rotation or `rotator prune` deletes them (due at once)."""
    if replaced is None:
        return ()
    if replaced.key_id == key_id:
        return replaced.retiring
    return (*replaced.retiring, RetiringKey(replaced.key_id, replaced.service_account_id, now))


def archived_message(project_id: str) -> str:
    """One line: the project is archived, and the way out."""
    return (
        f"project {project_id} is archived: its keys no longer work and it refuses new ones; "
        "move the workload to an active project and re-seed the secret with "
        "`rotator init --force`"
    )


def init_secret(
    store: SecretProvisioner,
    admin: OpenAIAdmin,
    probe: KeyProbe,
    *,
    secret_id: str,
    project_id: str,
    source: KeySource,
    force: bool = False,
    admin_key_secret_id: str | None = None,
    kms_key_id: str | None = None,
    now: datetime | None = None,
    scopes: tuple[str, ...] | None = None,
    key_lifetime: timedelta | None = None,
) -> InitResult:
    """Create or fill ``secret_id`` with a correctly shaped value for the given key.

    ``scopes`` are recorded as given (no API reads a key's scopes back): every key a rotation
    mints gets exactly these. A new service account's first key is restricted to them at once.
    """
    validate_init_request(project_id, source)
    existing = existing_secret(store, secret_id)
    replaced = _value_to_replace(store, existing, secret_id, project_id=project_id, force=force)
    # The admin key works and the project exists; an archived one is refused before any write.
    if admin.get_project(project_id).archived:
        raise ProjectArchivedError(archived_message(project_id))
    created_account: str | None = None
    if source.existing_key is not None:
        key = Sensitive(source.existing_key.reveal().strip())
        info = find_key(admin, probe, project_id, key)
        key_id, account_id = info.id, info.service_account_id
    else:
        created = create_account(
            admin, project_id, str(source.new_service_account).strip(), lifetime=key_lifetime
        )
        key, key_id = created.value, created.key_id
        account_id = created_account = created.service_account_id
        if scopes:
            restrict(admin, project_id, created, scopes)
    value = RotatorSecret(
        api_key=key,
        project_id=project_id,
        key_id=key_id,
        service_account_id=account_id,
        admin_key_secret_id=admin_key_secret_id,
        retiring=_still_retiring(replaced, key_id, now=now or datetime.now(UTC)),
        scopes=scopes,
        key_lifetime=key_lifetime,
    ).to_json()
    try:
        if existing is None:
            arn = store.create_secret(
                secret_id,
                value,
                description="OpenAI service-account key rotated by rotator",
                kms_key_id=kms_key_id,
            )
            version_id = None
        else:
            arn, version_id = existing.arn, store.put_current(existing.arn, value)
    except ServiceError as error:
        # A lost answer or a 5xx: the write may have happened. Keep the new key if the secret
        # holds it; delete it only when the secret is known not to.
        holds = _holds_key(store, secret_id, key_id)
        if holds is None and created_account is not None:
            raise CleanupError(
                f"writing {secret_id} failed ({error}) and it could not be read back: service "
                f"account {created_account} may now be the secret's key. Run `rotator status "
                f"{secret_id}`; if it does not show key {key_id}, delete that account"
            ) from None
        if holds:
            return _init_result(
                secret_id,
                store,
                project_id=project_id,
                key_id=key_id,
                account_id=account_id,
                source=source,
                existing=existing,
            )
        if created_account is not None:
            admin.delete_service_account(project_id, created_account)
        raise
    except RotatorError:
        if created_account is not None:
            admin.delete_service_account(project_id, created_account)
        raise
    return InitResult(
        secret_id=secret_id,
        arn=arn,
        created_secret=existing is None,
        version_id=version_id,
        project_id=project_id,
        key_id=key_id,
        service_account_id=account_id,
        source="existing_key" if source.existing_key is not None else "new_service_account",
    )
