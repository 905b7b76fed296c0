"""A :class:`~rotator.ports.SecretStore` wrapper every CLI rotation runs behind.

:class:`VersionValueCache` serves ``GetSecretValue`` for a version whose value this run already
holds. Versions are immutable in Secrets Manager, so only the *stage* can go stale; a hit is
served when no stage is asked, or when the latest ``DescribeSecret`` (each step's guard makes
one just before) shows the version carrying the stage asked for; every stage move forgets that
description.

One process runs all four steps (or, with ``--all``, a whole fleet), so each immutable
version's value is read once.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime

from rotator.domain.models import SecretDescription
from rotator.domain.sensitive import Sensitive
from rotator.ports import SecretStore, VersionHistory


class VersionValueCache:
    """A :class:`~rotator.ports.SecretStore` that reads each version's value at most once."""

    def __init__(self, inner: SecretStore) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._arn_of: dict[str, str] = {}
        self._versions: dict[str, dict[str, frozenset[str]]] = {}
        self._values: dict[tuple[str, str], Sensitive | None] = {}

    def _arn(self, secret_id: str) -> str:
        with self._lock:
            return self._arn_of.get(secret_id, secret_id)

    def _remember(self, description: SecretDescription) -> None:
        with self._lock:
            self._arn_of[description.name] = description.arn
            self._arn_of[description.arn] = description.arn
            self._versions[description.arn] = dict(description.versions)

    def seen(self, description: SecretDescription) -> None:
        """Take a ListSecrets entry as the latest description of its secret."""
        self._remember(description)

    def hold(self, secret_id: str, version_id: str, value: Sensitive) -> None:
        """Keep a value read elsewhere (a BatchGetSecretValue answer) for ``version_id``.

        Versions are immutable, so the value is right whatever stage the version carries;
        a stage-qualified read is still served only while the latest description agrees.
        """
        arn = self._arn(secret_id)
        with self._lock:
            self._values[(arn, version_id)] = value

    def forget(self, secret_id: str) -> None:
        """Drop everything held for a secret (its values are key material)."""
        arn = self._arn(secret_id)
        with self._lock:
            self._versions.pop(arn, None)
            for cached in [k for k in self._values if k[0] == arn]:
                del self._values[cached]

    def version_dates(self, secret_id: str) -> Mapping[str, datetime]:
        """ListSecretVersionIds, passed through (for a stuck rotation's age)."""
        if not isinstance(self._inner, VersionHistory):
            return {}
        return self._inner.version_dates(secret_id)

    def describe(self, secret_id: str) -> SecretDescription:
        description = self._inner.describe(secret_id)
        self._remember(description)
        return description

    def get_value(
        self, secret_id: str, *, version_id: str | None = None, stage: str | None = None
    ) -> Sensitive | None:
        arn = self._arn(secret_id)
        if version_id is not None:
            with self._lock:
                stages = self._versions.get(arn, {}).get(version_id)
                held = (arn, version_id) in self._values
                # No stage asked: the value of a version never changes, so any copy will do.
                if held and (stage is None or (stages is not None and stage in stages)):
                    return self._values[(arn, version_id)]
        value = self._inner.get_value(secret_id, version_id=version_id, stage=stage)
        if version_id is not None:
            with self._lock:
                self._values[(arn, version_id)] = value
        return value

    def put_pending(
        self,
        secret_id: str,
        token: str,
        value: Sensitive,
        *,
        rotation_token: Sensitive | None = None,
    ) -> None:
        self._inner.put_pending(secret_id, token, value, rotation_token=rotation_token)
        with self._lock:
            self._values[(self._arn_of.get(secret_id, secret_id), token)] = value

    def move_stage(
        self, secret_id: str, stage: str, *, to_version: str | None, from_version: str | None
    ) -> None:
        self._forget_stages(secret_id)
        self._inner.move_stage(secret_id, stage, to_version=to_version, from_version=from_version)

    def start_rotation(self, secret_id: str) -> str:
        self._forget_stages(secret_id)
        return self._inner.start_rotation(secret_id)

    def _forget_stages(self, secret_id: str) -> None:
        arn = self._arn(secret_id)
        with self._lock:
            self._versions.pop(arn, None)
