"""``rotator init`` and ``rotator schedule``: seed a secret, then switch its rotation on or off.

Every check that can fail on bad input runs before the first write, so a refused command has
changed nothing. The only write that can precede a failure is a service account created by
``--new-service-account``; it is deleted again if the secret cannot be written (and when the
create's answer is lost, the account it made is found as new and deleted). ``--force`` records
the key it replaces as retiring, so the next rotation or ``prune`` deletes it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from rotator.domain import protocol
from rotator.domain.models import AWSCURRENT, ApiKeyInfo, CreatedKey, ProbeResult, SecretDescription
from rotator.domain.schedule import RotationSchedule
from rotator.domain.secret_value import ADMIN_KEY_PREFIX, RetiringKey, RotatorSecret
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    AdminKeyError,
    CleanupError,
    ConfigError,
    ResponseLostError,
    RotationInProgressError,
    RotatorError,
    SecretFormatError,
    SecretNotFoundError,
    ServiceError,
)
from rotator.ports import KeyProbe, OpenAIAdmin, SecretProvisioner, SecretStore
from rotator.rotation.admin_key import parse_admin_secret

MAX_SERVICE_ACCOUNT_NAME = 100


@dataclass(frozen=True)
class KeySource:
    """Where the first key comes from: exactly one of the two."""

    existing_key: Sensitive | None = None
    new_service_account: str | None = None


@dataclass(frozen=True)
class InitResult:
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


@dataclass(frozen=True)
class ScheduleResult:
    secret_id: str
    arn: str
    rotation_enabled: bool
    schedule_expression: str | None = None
    duration: str | None = None
    lambda_arn: str | None = None
    started_version_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


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


def resolve_admin_key(
    store: SecretStore, *, admin_key_secret_id: str | None, env_admin_key: Sensitive | None
) -> Sensitive:
    """The admin key for provisioning: the admin-key secret, else ``OPENAI_ADMIN_KEY``."""
    if admin_key_secret_id is None:
        if env_admin_key is None:
            raise AdminKeyError(
                "no OpenAI admin key: pass --admin-key-secret-id (or set "
                "ROTATOR_ADMIN_KEY_SECRET_ID), or set OPENAI_ADMIN_KEY"
            )
        return env_admin_key
    try:
        raw = store.get_value(admin_key_secret_id, stage=AWSCURRENT)
    except SecretNotFoundError as error:
        raise AdminKeyError(
            f"admin-key secret {admin_key_secret_id} was not found ({error})"
        ) from None
    if raw is None:
        raise AdminKeyError(f"admin-key secret {admin_key_secret_id} has no value")
    return parse_admin_secret(raw, secret_id=admin_key_secret_id)


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


def _matches(redacted: str, key: str) -> bool:
    prefix, dots, suffix = redacted.partition("...")
    return bool(dots) and len(prefix) >= 3 and key.startswith(prefix) and key.endswith(suffix)


def find_key(admin: OpenAIAdmin, probe: KeyProbe, project_id: str, key: Sensitive) -> ApiKeyInfo:
    """The admin API's record of ``key`` in the project, matched on its redacted form."""
    if probe.check(key) is ProbeResult.REJECTED:
        raise ConfigError("OpenAI rejects the key to store (401 on GET /models); check the key")
    listed = admin.list_api_keys(project_id)
    found = [info for info in listed if _matches(info.redacted_value, key.reveal())]
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


def _create_account(admin: OpenAIAdmin, project_id: str, name: str) -> CreatedKey:
    """Create a service account; if the answer is lost, delete what it made (found as new)."""
    before = {account.id for account in admin.list_service_accounts(project_id)}
    try:
        return admin.create_service_account(project_id, name)
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
) -> InitResult:
    """Create or fill ``secret_id`` with a correctly shaped value for the given key."""
    validate_init_request(project_id, source)
    existing = existing_secret(store, secret_id)
    replaced = _value_to_replace(store, existing, secret_id, project_id=project_id, force=force)
    admin.get_project(project_id)  # the admin key works and the project exists
    created_account: str | None = None
    if source.existing_key is not None:
        key = Sensitive(source.existing_key.reveal().strip())
        info = find_key(admin, probe, project_id, key)
        key_id, account_id = info.id, info.service_account_id
    else:
        created = _create_account(admin, project_id, str(source.new_service_account).strip())
        key, key_id = created.value, created.key_id
        account_id = created_account = created.service_account_id
    value = RotatorSecret(
        api_key=key,
        project_id=project_id,
        key_id=key_id,
        service_account_id=account_id,
        admin_key_secret_id=admin_key_secret_id,
        retiring=_still_retiring(replaced, key_id, now=now or datetime.now(UTC)),
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


def schedule_rotation(
    store: SecretProvisioner,
    secret_id: str,
    *,
    lambda_arn: str,
    schedule: RotationSchedule,
    rotate_now: bool = False,
) -> ScheduleResult:
    """RotateSecret with the Lambda and schedule; rotates at once only when asked."""
    description = existing_secret(store, secret_id)
    if description is None:
        raise SecretNotFoundError(f"secret {secret_id} not found; create it with `rotator init`")
    has_current = description.version_with(AWSCURRENT) is not None
    raw = store.get_value(description.arn, stage=AWSCURRENT) if has_current else None
    if raw is None or not raw.reveal().strip():
        raise SecretFormatError(
            f"secret {secret_id} has no value; seed it with `rotator init` before scheduling "
            "rotation (a rotation of an empty secret fails)"
        )
    RotatorSecret.parse(raw)
    started = store.configure_rotation(
        description.arn,
        lambda_arn,
        schedule.expression,
        duration=schedule.duration,
        rotate_immediately=rotate_now,
    )
    return ScheduleResult(
        secret_id=secret_id,
        arn=description.arn,
        rotation_enabled=True,
        schedule_expression=schedule.expression,
        duration=schedule.duration,
        lambda_arn=lambda_arn,
        started_version_id=started if rotate_now else None,
    )


def disable_rotation(store: SecretProvisioner, secret_id: str) -> ScheduleResult:
    """CancelRotateSecret: no further scheduled rotations (AWSPENDING is left as it is)."""
    description = store.describe(secret_id)
    store.cancel_rotation(description.arn)
    return ScheduleResult(secret_id=secret_id, arn=description.arn, rotation_enabled=False)
