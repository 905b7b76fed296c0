"""What one rotation may touch, passed explicitly: the ports, the clock and the policy.

:func:`rotator.app.build_app` builds one :class:`RotationContext` and hands it to the engine,
``local``, ``maintenance``, ``probing`` and ``cleanup``; none of them reaches through another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from rotator.clock import Clock
from rotator.domain import protocol
from rotator.domain.models import SecretDescription
from rotator.domain.protocol import Decision, RotationEvent
from rotator.domain.secret_value import RotatorSecret
from rotator.errors import RotatorError, SecretNotFoundError
from rotator.ports import AdminFactory, KeyProbe, OpenAIAdmin, SecretStore
from rotator.retry import Backoff
from rotator.rotation.admin_key import AdminKeyResolver


@dataclass(frozen=True)
class RotationPolicy:
    """How a rotation behaves; built once from settings at the edge."""

    test_timeout: float = 60.0
    grace_period: timedelta = timedelta(0)
    #: Lambda invocations require rotation to be enabled on the secret (the AWS template check).
    require_rotation_enabled: bool = False
    probe_backoff: Backoff = field(default_factory=lambda: Backoff(base=0.5, cap=5.0))
    #: How long to poll a deleted key until OpenAI refuses it (0 = do not check).
    revocation_timeout: float = 30.0
    #: Rotator-made service accounts younger than this are never treated as orphans.
    orphan_margin: timedelta = timedelta(minutes=15)
    #: Every new key expires this long after it is made (a secret's ``key_lifetime`` wins).
    key_lifetime: timedelta | None = None
    #: When set, a secret naming any other project is refused before any OpenAI call.
    allowed_project_ids: frozenset[str] | None = None
    #: CLI only (``--replace-dead-key``): the stored key may be dead (revoked after a leak);
    #: skip its authentication probe, but still require its account to exist in the project.
    replace_dead_key: bool = False
    #: The CLI can offer ``--replace-dead-key`` in a refusal; the Lambda cannot.
    offers_dead_key_hatch: bool = False


@dataclass(frozen=True)
class RotationContext:
    """The store, the admin API (per admin key), the key probe, the clock and the policy."""

    store: SecretStore
    admin_factory: AdminFactory
    admin_keys: AdminKeyResolver
    probe: KeyProbe
    clock: Clock = field(default_factory=Clock)
    policy: RotationPolicy = field(default_factory=RotationPolicy)

    def describe_live(self, secret_id: str) -> SecretDescription:
        """DescribeSecret, refusing a secret scheduled for deletion (every step starts here)."""
        description = self.store.describe(secret_id)
        if description.deleted:
            raise SecretNotFoundError(
                f"secret {description.name} is scheduled for deletion; restore it with "
                f"`aws secretsmanager restore-secret --secret-id {description.name}`"
            )
        return description

    def guard(
        self, event: RotationEvent, description: SecretDescription, *, token_may_be_new: bool
    ) -> Decision:
        """The pure guard with this run's policy (``UnknownVersionError`` for an unknown token)."""
        return protocol.guard(
            event.step,
            event.token,
            description.versions,
            secret_name=description.name,
            rotation_enabled=description.rotation_enabled,
            require_rotation_enabled=self.policy.require_rotation_enabled,
            token_may_be_new=token_may_be_new,
        )

    def version_reader(self, arn: str) -> Callable[[str], RotatorSecret | None]:
        """Read versions of ``arn`` by id, each at most once per reader (one step)."""
        seen: dict[str, RotatorSecret | None] = {}

        def read(version_id: str) -> RotatorSecret | None:
            if version_id not in seen:
                try:
                    raw = self.store.get_value(arn, version_id=version_id)
                    seen[version_id] = RotatorSecret.parse_or_none(raw)
                except RotatorError:
                    seen[version_id] = None
            return seen[version_id]

        return read

    def admin_for(self, secret: RotatorSecret) -> OpenAIAdmin:
        """The admin API client for the admin key ``secret`` names (or the default one)."""
        return self.admin_factory(self.admin_keys.resolve(secret))
