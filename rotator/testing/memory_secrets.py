"""The in-memory Secrets Manager's state and its calls beyond the rotation port.

:class:`MemorySecrets` holds the secrets behind a lock, the test seams (``before_call``,
``calls``) and the calls seeding, listing and scheduling use; :class:`~rotator.testing.
memory_store.InMemorySecretStore` adds the rotation port with AWS's staging semantics.
"""

from __future__ import annotations

import secrets
import string
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rotator.domain.models import AWSCURRENT, AWSPENDING, AWSPREVIOUS, SecretDescription
from rotator.domain.sensitive import Sensitive
from rotator.errors import ConfigError, SecretNotFoundError

REGION = "us-east-1"
ACCOUNT = "123456789012"
#: BatchGetSecretValue's SecretIdList limit.
BATCH_LIMIT = 20


@dataclass
class _Version:
    value: Sensitive | None
    stages: set[str] = field(default_factory=set)
    created: datetime | None = None


@dataclass
class _Secret:
    arn: str
    name: str
    versions: dict[str, _Version] = field(default_factory=dict)
    description: str | None = None
    kms_key_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    rotation_enabled: bool = False
    rotation_lambda_arn: str | None = None
    rotation_rules: dict[str, object] = field(default_factory=dict)
    last_rotated: datetime | None = None
    last_changed: datetime | None = None
    deleted: bool = False
    primary_region: str = REGION

    def holder(self, stage: str) -> str | None:
        return next((vid for vid, v in self.versions.items() if stage in v.stages), None)

    def take(self, stage: str, version_id: str | None) -> None:
        """Put ``stage`` on ``version_id`` only (or on no version)."""
        for vid, version in self.versions.items():
            if vid == version_id:
                version.stages.add(stage)
            else:
                version.stages.discard(stage)


class MemorySecrets:
    """Secrets Manager's state in a dict, behind a lock, with the calls beyond the port."""

    def __init__(
        self,
        *,
        on_rotate: Callable[[str, str], None] | None = None,
        before_call: Callable[[str, str], None] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.on_rotate = on_rotate
        #: RotateSecret's docs allow AWSPENDING to stay on the AWSCURRENT version on success.
        self.keep_pending_on_success = False
        self.before_call = before_call
        self.calls: list[str] = []
        #: RotationToken passed with each PutSecretValue, by version id.
        self.rotation_tokens: dict[str, Sensitive] = {}
        #: BatchGetSecretValue reports these secrets (name or ARN) in ``Errors`` with this
        #: ErrorCode (AccessDeniedException, DecryptionFailure, ...) instead of a value.
        self.batch_errors: dict[str, str] = {}
        #: Exceptions raised by ``on_rotate``: RotateSecret has already returned, as on AWS.
        self.rotation_errors: list[Exception] = []
        self._now = now
        self._lock = threading.RLock()
        self._secrets: dict[str, _Secret] = {}

    # --- plumbing -------------------------------------------------------------------------

    def _enter(self, operation: str, secret_id: str) -> None:
        with self._lock:
            self.calls.append(operation)
        if self.before_call is not None:
            self.before_call(operation, secret_id)

    def _find(self, secret_id: str, *, allow_deleted: bool = False) -> _Secret:
        secret = self._secrets.get(secret_id) or next(
            (s for s in self._secrets.values() if s.arn == secret_id), None
        )
        if secret is None:
            raise SecretNotFoundError(
                f"secret {secret_id} not found in {REGION}; check the name/ARN and AWS_REGION"
            )
        if secret.deleted and not allow_deleted:
            raise SecretNotFoundError(
                f"secret {secret_id} is scheduled for deletion; restore it with "
                f"`aws secretsmanager restore-secret --secret-id {secret_id}`"
            )
        return secret

    @staticmethod
    def _describe(secret: _Secret) -> SecretDescription:
        return SecretDescription(
            arn=secret.arn,
            name=secret.name,
            versions={vid: frozenset(v.stages) for vid, v in secret.versions.items() if v.stages},
            rotation_enabled=secret.rotation_enabled,
            rotation_lambda_arn=secret.rotation_lambda_arn,
            rotation_rules=dict(secret.rotation_rules),
            last_rotated=secret.last_rotated,
            last_changed=secret.last_changed,
            deleted=secret.deleted,
            tags=dict(secret.tags),
            primary_region=secret.primary_region,
        )

    def start_rotation(self, secret_id: str) -> str:
        """RotateSecret: the rotation port's call, implemented by ``InMemorySecretStore``."""
        raise NotImplementedError

    # --- beyond the port ------------------------------------------------------------------

    def create_secret(
        self,
        name: str,
        value: Sensitive,
        *,
        description: str | None = None,
        kms_key_id: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        self._enter("CreateSecret", name)
        with self._lock:
            if name in self._secrets:
                self._find(name)  # scheduled for deletion: says so
                raise ConfigError(f"secret {name} already exists; pick another name")
            suffix = "".join(secrets.choice(string.ascii_letters) for _ in range(6))
            arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-{suffix}"
            secret = _Secret(arn=arn, name=name, description=description, kms_key_id=kms_key_id)
            secret.tags = dict(tags or {})
            secret.versions[str(uuid.uuid4())] = _Version(
                value=value, stages={AWSCURRENT}, created=self._now()
            )
            secret.last_changed = self._now()
            self._secrets[name] = secret
            return arn

    def put_current(self, secret_id: str, value: Sensitive) -> str:
        """A new version becomes AWSCURRENT; the old one AWSPREVIOUS. Abandons a rotation."""
        self._enter("PutSecretValue", secret_id)
        with self._lock:
            secret = self._find(secret_id)
            version_id = str(uuid.uuid4())
            old = secret.holder(AWSCURRENT)
            secret.versions[version_id] = _Version(value=value, created=self._now())
            secret.take(AWSCURRENT, version_id)
            if old is not None:
                secret.take(AWSPREVIOUS, old)
            secret.take(AWSPENDING, None)  # RotationAbandoned: AWS drops AWSPENDING
            secret.last_changed = self._now()
            return version_id

    def list_secrets(
        self, *, name_prefix: str | None = None, tags: Mapping[str, str] | None = None
    ) -> list[SecretDescription]:
        self._enter("ListSecrets", name_prefix or "")
        with self._lock:
            return [
                self._describe(s)
                for s in self._secrets.values()
                if not s.deleted
                and s.name.startswith(name_prefix or "")
                and all(s.tags.get(k) == v for k, v in (tags or {}).items())
            ]

    def current_values(self, secret_ids: Sequence[str]) -> dict[str, tuple[str, Sensitive]]:
        """BatchGetSecretValue by SecretIdList: one call per 20 ids, AWSCURRENT of each.

        As on AWS, a secret that cannot be read (unknown, scheduled for deletion, no
        AWSCURRENT value, or listed in ``batch_errors``) is reported in ``Errors``, not raised,
        and the port leaves it out; so does a secret with no SecretString.
        """
        found: dict[str, tuple[str, Sensitive]] = {}
        for start in range(0, len(secret_ids), BATCH_LIMIT):
            chunk = list(dict.fromkeys(secret_ids[start : start + BATCH_LIMIT]))
            self._enter("BatchGetSecretValue", chunk[0] if chunk else "")
            with self._lock:
                for secret_id in chunk:
                    if secret_id in self.batch_errors:
                        continue  # Errors: [{SecretId, ErrorCode, Message}]
                    try:
                        secret = self._find(secret_id)
                    except SecretNotFoundError:
                        continue  # Errors: ResourceNotFoundException / InvalidRequestException
                    version_id = secret.holder(AWSCURRENT)
                    version = secret.versions.get(version_id) if version_id else None
                    if version_id is not None and version is not None and version.value is not None:
                        found[secret_id] = (version_id, version.value)
        return found

    def configure_rotation(
        self,
        secret_id: str,
        lambda_arn: str,
        schedule_expression: str,
        *,
        duration: str | None = None,
        rotate_immediately: bool = False,
    ) -> str | None:
        """Stores the schedule; rotates now only if asked (AWS's testSecret dry run is skipped)."""
        self._enter("RotateSecret", secret_id)
        with self._lock:
            secret = self._find(secret_id)
            secret.rotation_lambda_arn = lambda_arn
            secret.rotation_enabled = True
            secret.rotation_rules = {"ScheduleExpression": schedule_expression}
            if duration is not None:
                secret.rotation_rules["Duration"] = duration
        return self.start_rotation(secret_id) if rotate_immediately else None

    def cancel_rotation(self, secret_id: str) -> None:
        """Disables rotation; like AWS, leaves AWSPENDING where it is."""
        self._enter("CancelRotateSecret", secret_id)
        with self._lock:
            secret = self._find(secret_id)
            if not secret.rotation_lambda_arn:
                raise ConfigError(f"rotation is not configured on {secret_id}")
            secret.rotation_enabled = False

    # --- test helpers (not AWS calls: no hook, not counted) -------------------------------

    def delete_secret(self, secret_id: str) -> None:
        with self._lock:
            self._find(secret_id, allow_deleted=True).deleted = True

    def make_replica(self, secret_id: str, primary_region: str) -> None:
        """Make the secret look like this region's replica of one created in another region."""
        with self._lock:
            self._find(secret_id).primary_region = primary_region

    def enable_rotation(self, secret_id: str, lambda_arn: str) -> None:
        with self._lock:
            secret = self._find(secret_id)
            secret.rotation_lambda_arn = lambda_arn
            secret.rotation_enabled = True

    def versions(self, secret_id: str) -> dict[str, frozenset[str]]:
        """Every version (deprecated ones too) and its labels."""
        with self._lock:
            secret = self._find(secret_id, allow_deleted=True)
            return {vid: frozenset(v.stages) for vid, v in secret.versions.items()}

    def value_of(self, secret_id: str, version_id: str) -> Sensitive | None:
        with self._lock:
            return self._find(secret_id, allow_deleted=True).versions[version_id].value
