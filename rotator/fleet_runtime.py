"""Wiring for fleet runs (``rotate --all``, ``status --all``): the composition root's sibling.

Builds what :func:`rotator.composition.build_runtime` builds, plus the fleet's shared parts:
one :class:`~rotator.fleet.rate_budget.RateBudget` for every admin call of the run, one
service-account listing per project (:class:`~rotator.fleet.shared_listings.SharedListings`)
and a version-value cache over Secrets Manager. Only the CLI imports this module, lazily.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rotator.adapters.cached_store import VersionValueCache
from rotator.adapters.openai_http import OpenAIHttp, build_http_client
from rotator.adapters.secretsmanager import SecretsManagerStore, build_client
from rotator.composition import build_runtime
from rotator.config import Settings
from rotator.domain.models import AWSCURRENT, SecretDescription
from rotator.domain.secret_value import RotatorSecret
from rotator.fleet.rate_budget import RateBudget
from rotator.fleet.run import Candidate, FleetListener, FleetResult, check_candidates
from rotator.fleet.run import rotate_fleet as _rotate_fleet
from rotator.fleet.shared_listings import SharedListings
from rotator.ports import SecretLister
from rotator.retry import Backoff
from rotator.rotation.admin_key import AdminKeyResolver
from rotator.rotation.engine import RotationEngine
from rotator.rotation.local import RotationReport, rotate_locally
from rotator.rotation.remote import rotate_remotely


@dataclass
class FleetRuntime:
    """One fleet run's wired objects. ``close()`` releases the HTTP connection pool."""

    settings: Settings
    lister: SecretLister
    store: VersionValueCache
    engine: RotationEngine
    budget: RateBudget
    listings: SharedListings
    _close: Callable[[], None] = field(default=lambda: None, repr=False)

    def close(self) -> None:
        self._close()

    def discover(
        self, *, prefix: str | None, tags: Mapping[str, str], concurrency: int
    ) -> list[Candidate]:
        """ListSecrets with the filters, then the one-read rotator-secret check per secret."""
        found = self.lister.list_secrets(name_prefix=prefix, tags=tags)
        for description in found:
            self.store.seen(description)
        return check_candidates(found, self._read_current, concurrency=concurrency)

    def _read_current(self, description: SecretDescription) -> RotatorSecret | None:
        raw = self.store.get_value(
            description.arn, version_id=description.version_with(AWSCURRENT), stage=AWSCURRENT
        )
        return RotatorSecret.parse_or_none(raw)

    def rotate_all(
        self,
        secrets: list[SecretDescription],
        *,
        mode: str | None,
        concurrency: int,
        timeout: float,
        listener: FleetListener | None = None,
    ) -> list[FleetResult]:
        def rotate_one(description: SecretDescription) -> RotationReport:
            remote = mode == "remote" or (mode is None and description.rotation_lambda_arn)
            try:
                if remote:
                    return rotate_remotely(
                        self.store,
                        description.arn,
                        timeout=timeout,
                        poll_interval=self.settings.remote_poll_interval,
                    )
                return rotate_locally(self.engine, description.arn)
            finally:
                self.store.forget(description.arn)

        return _rotate_fleet(secrets, rotate_one, concurrency=concurrency, listener=listener)


def build_fleet_runtime(
    settings: Settings,
    *,
    max_rps: float | None,
    concurrency: int,
    lister: SecretLister | None = None,
    http: Any = None,
) -> FleetRuntime:
    """Wire a fleet run. Tests pass an in-memory ``lister`` or an ``http`` client on a fake."""
    owned = None
    if lister is None:
        client = build_client(
            region=settings.aws_region, max_pool_connections=max(10, concurrency + 2)
        )
        lister = SecretsManagerStore(client)
    if http is None:
        http = owned = build_http_client(
            connect_timeout=settings.http_connect_timeout,
            read_timeout=settings.http_read_timeout,
        )
    store = VersionValueCache(lister)
    # The single-secret wiring gives the policy (timeouts, margins) from settings unchanged.
    policy = build_runtime(settings, lambda_mode=False, store=store, http=http).engine.policy
    budget = RateBudget(max_rps)
    openai = OpenAIHttp(
        http,
        settings.openai_base_url,
        backoff=Backoff(deadline=settings.retry_deadline),
        budget=budget,
    )
    listings = SharedListings(openai.admin)
    engine = RotationEngine(
        store,
        listings,
        openai,
        AdminKeyResolver(
            store,
            default_secret_id=settings.admin_key_secret_id,
            env_admin_key=settings.env_admin_key,
        ),
        policy=policy,
    )
    return FleetRuntime(
        settings, lister, store, engine, budget, listings, owned.close if owned else lambda: None
    )
