"""An in-memory :class:`~rotator.ports.SecretStore` with AWS's real staging semantics.

Unlike moto 5.2 it keeps versions immutable, keeps each label on one version, refuses to move a
label whose ``from_version`` no longer holds it (the compare-and-swap concurrent rotations rely
on), and refuses ``RotateSecret`` while another version holds AWSPENDING. Its
``BatchGetSecretValue`` answers each secret's AWSCURRENT and reports unreadable secrets per
secret; moto 5.2 answers its default version pointer instead (K1, as D2: stale after a finish
move) and fails the whole call when that pointer is RotateSecret's empty AWSPENDING version (K2).

Test seams: ``before_call(operation, secret_id)`` runs at the start of every AWS-shaped call
(raise from it to fail the call before it takes effect, or block in it to force an
interleaving); ``calls`` lists the operations made; ``on_rotate(secret_arn, token)`` plays the
rotation Lambda after :meth:`start_rotation` has created the empty AWSPENDING version.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from rotator.domain.models import AWSCURRENT, AWSPENDING, AWSPREVIOUS, SecretDescription
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    ConfigError,
    RotationInProgressError,
    StageConflictError,
    VersionConflictError,
)
from rotator.ports import SecretStore
from rotator.testing.memory_secrets import MemorySecrets, _Version


class InMemorySecretStore(MemorySecrets):
    """Secrets Manager in a dict, behind a lock. See the module docstring for the seams."""

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


if TYPE_CHECKING:
    _conforms: SecretStore = InMemorySecretStore()
