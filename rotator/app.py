"""THE composition root: :func:`build_app` wires what every edge runs.

The CLI, the Lambda handler, the fleet (``--all``), provisioning (``init``, ``schedule``), the
tests and the benchmarks all build through here, so the path the tests exercise is the one
that ships, version cache included. Tests pass fakes as arguments (``store``, ``http``,
``admin_factory``, ``probe``, ``clock``); nothing else constructs adapters or the engine.
Adapters (botocore, httpx) are imported on first build, so importing this module is cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from rotator.clock import Clock
from rotator.config import Settings
from rotator.ports import (
    AdminFactory,
    KeyProbe,
    SecretLister,
    SecretProvisioner,
    SecretStore,
)
from rotator.retry import Backoff
from rotator.rotation.admin_key import AdminKeyResolver, RefreshingAdminFactory
from rotator.rotation.context import RotationContext, RotationPolicy
from rotator.rotation.engine import RotationEngine

if TYPE_CHECKING:
    import httpx

    from rotator.fleet.rate_budget import RateBudget
    from rotator.fleet.run import Fleet


class Mode(StrEnum):
    """Which edge a run serves; it decides the version cache, the env admin key and the guard."""

    #: One step per invocation: no version cache, no ``OPENAI_ADMIN_KEY``, rotation must be on.
    LAMBDA = "lambda"
    #: All four steps in this process, behind the version cache; ``OPENAI_ADMIN_KEY`` honoured.
    CLI = "cli"
    #: ``--all``: CLI mode plus one rate budget and one listing per project for the whole run.
    FLEET = "fleet"


def policy_for(mode: Mode, settings: Settings) -> RotationPolicy:
    """The rotation policy for ``mode``, from settings."""
    return RotationPolicy(
        test_timeout=settings.test_timeout,
        grace_period=settings.grace_period,
        require_rotation_enabled=mode is Mode.LAMBDA,
        revocation_timeout=settings.revocation_timeout,
        orphan_margin=settings.orphan_margin,
        key_lifetime=settings.key_lifetime,
        allowed_project_ids=settings.allowed_project_ids,
        # Never in the Lambda: only a person at the CLI may waive the key's own proof.
        replace_dead_key=settings.replace_dead_key and mode is Mode.CLI,
        offers_dead_key_hatch=mode is Mode.CLI,
    )


@dataclass
class App:
    """One run's wired objects. ``close()`` releases the clients built here."""

    settings: Settings
    mode: Mode
    #: The store the rotation uses: behind the version cache except in Lambda mode.
    store: SecretStore
    #: What a rotation may touch (store, admin API, probe, clock, policy).
    ctx: RotationContext
    engine: RotationEngine
    admin_factory: AdminFactory
    probe: KeyProbe
    clock: Clock
    admin_keys: AdminKeyResolver
    #: The store without the cache, for ``init`` and ``schedule`` (None when it cannot).
    provisioner: SecretProvisioner | None = None
    #: ListSecrets, for ``--all`` (None when the store cannot list).
    lister: SecretLister | None = None
    #: The fleet's shared admin rate budget (Fleet mode only).
    budget: RateBudget | None = None
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def fleet(self) -> Fleet:
        """Discovery and the worker pool over this app's store and engine (``--all``)."""
        from rotator.adapters.cached_store import VersionValueCache
        from rotator.errors import ConfigError
        from rotator.fleet.run import Fleet

        cached = self.store if isinstance(self.store, VersionValueCache) else None
        if self.lister is None or cached is None or self.budget is None:
            raise ConfigError("a fleet run needs Mode.FLEET and a store that lists secrets")
        return Fleet(
            self.lister,
            cached,
            self.engine,
            self.budget,
            remote_poll_interval=self.settings.remote_poll_interval,
            clock=self.clock,
        )

    def provisioning_store(self) -> SecretProvisioner:
        """The uncached store for ``init`` and ``schedule``."""
        from rotator.errors import ConfigError

        if self.provisioner is None:
            raise ConfigError("this store cannot create secrets or configure rotation")
        return self.provisioner

    def close(self) -> None:
        """Close the clients built here (not the ones passed in)."""
        for close in reversed(self._closers):
            close()
        self._closers.clear()


def build_app(
    settings: Settings,
    *,
    mode: Mode,
    store: SecretStore | None = None,
    http: httpx.Client | None = None,
    admin_factory: AdminFactory | None = None,
    probe: KeyProbe | None = None,
    clock: Clock | None = None,
    max_rps: float | None = None,
    concurrency: int = 8,
    engine_type: type[RotationEngine] = RotationEngine,
) -> App:
    """Wire a run for ``mode``. Tests pass fakes; anything not passed is built from settings."""
    from rotator.adapters.cached_store import VersionValueCache
    from rotator.adapters.openai_http import OpenAIHttp, build_http_client

    clock = clock or Clock()
    closers: list[Callable[[], None]] = []
    if store is None:
        from rotator.adapters.secretsmanager import SecretsManagerStore, build_client

        client = build_client(
            region=settings.aws_region, max_pool_connections=max(10, concurrency + 2)
        )
        closers.append(client.close)
        store = SecretsManagerStore(client)
    raw = store
    if mode is not Mode.LAMBDA:
        # One process runs all four steps (or a fleet): read each immutable version once.
        store = VersionValueCache(raw)
    if http is None:
        http = build_http_client(
            connect_timeout=settings.http_connect_timeout,
            read_timeout=settings.http_read_timeout,
        )
        closers.append(http.close)
    budget = None
    if mode is Mode.FLEET:
        from rotator.fleet.rate_budget import RateBudget

        budget = RateBudget(max_rps)
    openai = OpenAIHttp(
        http,
        settings.openai_base_url,
        backoff=Backoff(deadline=settings.retry_deadline),
        clock=clock,
        budget=budget,
    )
    admin_factory = admin_factory or openai.admin
    if mode is Mode.FLEET:
        from rotator.fleet.shared_listings import SharedListings

        admin_factory = SharedListings(admin_factory)
    probe = probe or openai
    admin_keys = AdminKeyResolver(
        store,
        default_secret_id=settings.admin_key_secret_id,
        env_admin_key=None if mode is Mode.LAMBDA else settings.env_admin_key,
        clock=clock,
    )
    # A warm Lambda (or a long fleet run) follows an admin-key rotation: keys are re-read after
    # a TTL, and at once when OpenAI refuses the one in use (then the call is retried once).
    admin_factory = RefreshingAdminFactory(admin_factory, admin_keys)
    ctx = RotationContext(
        store=store,
        admin_factory=admin_factory,
        admin_keys=admin_keys,
        probe=probe,
        clock=clock,
        policy=policy_for(mode, settings),
    )
    engine = engine_type(ctx)
    return App(
        settings=settings,
        mode=mode,
        store=store,
        ctx=ctx,
        engine=engine,
        admin_factory=admin_factory,
        probe=probe,
        clock=clock,
        admin_keys=admin_keys,
        provisioner=raw if isinstance(raw, SecretProvisioner) else None,
        lister=raw if isinstance(raw, SecretLister) else None,
        budget=budget,
        _closers=closers,
    )
