"""The composition root: builds the adapters and the rotation engine from settings.

Adapters (boto3, httpx) are imported here lazily, so importing the CLI stays cheap and
``rotator --help`` never loads boto3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rotator.config import Settings
from rotator.retry import Backoff
from rotator.rotation.admin_key import AdminKeyResolver
from rotator.rotation.engine import RotationEngine, RotationPolicy

if TYPE_CHECKING:
    import httpx

    from rotator.ports import SecretStore


@dataclass
class Runtime:
    """One run's wired objects. ``close()`` releases the HTTP connection pool."""

    settings: Settings
    store: SecretStore
    engine: RotationEngine
    http: httpx.Client | None = field(default=None, repr=False)

    def close(self) -> None:
        if self.http is not None:
            self.http.close()


def build_runtime(
    settings: Settings,
    *,
    lambda_mode: bool,
    store: SecretStore | None = None,
    http: httpx.Client | None = None,
) -> Runtime:
    """Wire a runtime. Tests pass an in-memory ``store`` or an ``http`` client on a fake."""
    from rotator.adapters.openai_http import OpenAIHttp, build_http_client

    if store is None:
        from rotator.adapters.secretsmanager import SecretsManagerStore, build_client

        store = SecretsManagerStore(build_client(region=settings.aws_region))
        if not lambda_mode:
            # One process runs all four steps: read each immutable version's value once.
            from rotator.adapters.cached_store import VersionValueCache

            store = VersionValueCache(store)
    owned_http = None
    if http is None:
        http = owned_http = build_http_client(
            connect_timeout=settings.http_connect_timeout,
            read_timeout=settings.http_read_timeout,
        )
    openai = OpenAIHttp(
        http, settings.openai_base_url, backoff=Backoff(deadline=settings.retry_deadline)
    )
    engine = RotationEngine(
        store,
        openai.admin,
        openai,
        AdminKeyResolver(
            store,
            default_secret_id=settings.admin_key_secret_id,
            env_admin_key=None if lambda_mode else settings.env_admin_key,
        ),
        policy=RotationPolicy(
            test_timeout=settings.test_timeout,
            grace_period=settings.grace_period,
            require_rotation_enabled=lambda_mode,
            revocation_timeout=settings.revocation_timeout,
            orphan_margin=settings.orphan_margin,
        ),
    )
    return Runtime(settings=settings, store=store, engine=engine, http=owned_http)
