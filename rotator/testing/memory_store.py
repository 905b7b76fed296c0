"""An in-memory :class:`~rotator.ports.SecretStore` with AWS's real staging semantics.

Unlike moto 5.2 it keeps versions immutable, keeps each label on one version, refuses to move a
label whose ``from_version`` no longer holds it (the compare-and-swap concurrent rotations rely
on), and refuses ``RotateSecret`` while another version holds AWSPENDING.

Test seams: ``before_call(operation, secret_id)`` runs at the start of every AWS-shaped call
(raise from it to fail the call before it takes effect, or block in it to force an
interleaving); ``calls`` lists the operations made; ``on_rotate(secret_arn, token)`` plays the
rotation Lambda after :meth:`start_rotation` has created the empty AWSPENDING version.
"""

from __future__ import annotations

import secrets
import string
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rotator.domain.models import AWSCURRENT, AWSPENDING, AWSPREVIOUS, SecretDescription
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    ConfigError,
    RotationInProgressError,
    SecretNotFoundError,
    StageConflictError,
    VersionConflictError,
)
from rotator.ports import SecretStore

REGION = "us-east-1"
ACCOUNT = "123456789012"


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

    def holder(self, stage: str) -> str | None:
        return next((vid for vid, v in self.versions.items() if stage in v.stages), None)

    def take(self, stage: str, version_id: str | None) -> None:
        """Put ``stage`` on ``version_id`` only (or on no version)."""
        for vid, version in self.versions.items():
            if vid == version_id:
                version.stages.add(stage)
            else:
                version.stages.discard(stage)


class InMemorySecretStore:
    """Secrets Manager in a dict, behind a lock. See the module docstring for the seams."""

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
        )

    # --- the SecretStore port -------------------------------------------------------------

    def describe(self, secret_id: str) -> SecretDescription:
        self._enter("DescribeSecret", secret_id)
        with self._lock:
            return self._describe(self._find(secret_id, allow_deleted=True))

    def version_dates(self, secret_id: str) -> dict[str, datetime]:
        """When each labelled version was created (ListSecretVersionIds' CreatedDate)."""
        self._enter("ListSecretVersionIds", secret_id)
        with self._lock:
            secret = self._find(secret_id)
            return {
                vid: v.created
                for vid, v in secret.versions.items()
                if v.stages and v.created is not None
            }

    def get_value(
        self, secret_id: str, *, version_id: str | None = None, stage: str | None = None
    ) -> Sensitive | None:
        self._enter("GetSecretValue", secret_id)
        with self._lock:
            secret = self._find(secret_id)
            if version_id is None:
                version_id = secret.holder(stage or AWSCURRENT)
            version = secret.versions.get(version_id) if version_id else None
            if version is None:
                return None
            if stage is not None and stage not in version.stages:
                raise StageConflictError(f"version {version_id} of {secret_id} lacks {stage}")
            return version.value

    def put_pending(
        self,
        secret_id: str,
        token: str,
        value: Sensitive,
        *,
        rotation_token: Sensitive | None = None,
    ) -> None:
        self._enter("PutSecretValue", secret_id)
        with self._lock:
            secret = self._find(secret_id)
            existing = secret.versions.get(token)
            if existing is not None and existing.value is not None:
                if existing.value != value:
                    raise VersionConflictError(
                        f"a version of {secret_id} with this ClientRequestToken already holds "
                        "another value (versions are immutable)"
                    )
                return  # same token, same value: AWS ignores the request
            if existing is None:
                secret.versions[token] = _Version(value=value, created=self._now())
            else:  # the empty version RotateSecret created
                existing.value = value
            secret.take(AWSPENDING, token)
            secret.last_changed = self._now()
            if rotation_token is not None:
                self.rotation_tokens[token] = rotation_token

    def move_stage(
        self,
        secret_id: str,
        stage: str,
        *,
        to_version: str | None,
        from_version: str | None,
    ) -> None:
        self._enter("UpdateSecretVersionStage", secret_id)
        with self._lock:
            secret = self._find(secret_id)
            if to_version is None and from_version is None:
                raise ConfigError("move_stage needs a to_version or a from_version")
            for vid in (to_version, from_version):
                if vid is not None and vid not in secret.versions:
                    raise StageConflictError(f"{secret_id} has no version {vid}")
            holder = secret.holder(stage)
            if from_version is not None and from_version != holder:
                raise StageConflictError(
                    f"{stage} is not on version {from_version} of {secret_id} (it is on {holder})"
                )
            if from_version is None and holder not in (None, to_version):
                raise StageConflictError(
                    f"{stage} is on version {holder} of {secret_id}; name it as from_version"
                )
            if stage == AWSCURRENT and to_version is None:
                raise StageConflictError(f"AWSCURRENT cannot be removed from {secret_id}")
            secret.take(stage, to_version)
            if stage == AWSCURRENT and from_version not in (None, to_version):
                secret.take(AWSPREVIOUS, from_version)
            secret.last_changed = self._now()

    def start_rotation(self, secret_id: str) -> str:
        self._enter("RotateSecret", secret_id)
        with self._lock:
            secret = self._find(secret_id)
            if not secret.rotation_lambda_arn:
                raise ConfigError(f"rotation is not configured on {secret_id}")
            pending, current = secret.holder(AWSPENDING), secret.holder(AWSCURRENT)
            if pending is not None and pending != current:
                raise RotationInProgressError(
                    f"a previous rotation of {secret_id} isn't complete (AWSPENDING is on "
                    f"version {pending})"
                )
            token = str(uuid.uuid4())
            secret.versions[token] = _Version(value=None, created=self._now())
            secret.take(AWSPENDING, token)
            secret.rotation_enabled = True
            arn = secret.arn
        if self.on_rotate is not None:
            try:
                self.on_rotate(arn, token)
            except Exception as error:  # noqa: BLE001 - RotateSecret has returned; AWS records it
                self.rotation_errors.append(error)
            else:
                self._complete_rotation(arn, token)
        return token

    def _complete_rotation(self, secret_id: str, token: str) -> None:
        """What AWS's backend does once every step succeeded: LastRotatedDate, drop AWSPENDING.

        AWS may also leave AWSPENDING on the AWSCURRENT version (``keep_pending_on_success``).
        """
        with self._lock:
            secret = self._find(secret_id)
            version = secret.versions.get(token)
            if version is not None and AWSCURRENT in version.stages:
                secret.last_rotated = self._now()
                if not self.keep_pending_on_success:
                    version.stages.discard(AWSPENDING)

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


if TYPE_CHECKING:
    _conforms: SecretStore = InMemorySecretStore()
