"""A world of fakes for the rotation service: in-memory Secrets Manager + the OpenAI emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from rotator.app import App, Mode, build_app
from rotator.clock import Clock
from rotator.config import Settings
from rotator.domain.protocol import RotationEvent, Step
from rotator.domain.sensitive import Sensitive
from rotator.rotation.engine import RotationEngine
from rotator.testing.memory_store import InMemorySecretStore
from rotator.testing.openai_emulator import OpenAIEmulator
from rotator.testing.openai_emulator.faults import ManualClock

BASE_URL = "http://127.0.0.1:9/v1"
ADMIN_SECRET = "openai/admin-key"


@dataclass
class World:
    """Everything a rotation touches, all in memory, on one manual clock."""

    clock: ManualClock
    store: InMemorySecretStore
    emulator: OpenAIEmulator
    http: httpx.Client
    project_id: str
    admin_key: str
    arn: str
    seeded_key_id: str
    seeded_value: str
    seeded_account: str

    def settings(self, **changes: Any) -> Settings:
        """Settings for this world: the emulator's URL, the admin-key secret, a 30 s test."""
        return Settings(
            openai_base_url=BASE_URL, admin_key_secret_id=ADMIN_SECRET, test_timeout=30.0
        ).with_overrides(**changes)

    def app(self, *, mode: Mode = Mode.CLI, **settings: Any) -> App:
        """The shipped wiring (:func:`rotator.app.build_app`) over this world's fakes."""
        return build_app(
            self.settings(**settings),
            mode=mode,
            store=self.store,
            http=self.http,
            clock=self.retry_clock(),
        )

    def engine(self, *, require_rotation_enabled: bool = False, **settings: Any) -> RotationEngine:
        """The engine as the CLI (or, with ``require_rotation_enabled``, the Lambda) wires it."""
        mode = Mode.LAMBDA if require_rotation_enabled else Mode.CLI
        return self.app(mode=mode, **settings).engine

    def retry_clock(self) -> Clock:
        return Clock(
            monotonic=self.clock.monotonic, sleep=self.clock.sleep, rng=lambda: 0.5, now=self.now
        )

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), UTC)

    def current(self) -> dict[str, Any]:
        raw = self.store.get_value(self.arn, stage="AWSCURRENT")
        assert raw is not None
        data: dict[str, Any] = json.loads(raw.reveal())
        return data

    def value_at(self, version_id: str) -> dict[str, Any] | None:
        raw = self.store.value_of(self.arn, version_id)
        return None if raw is None else json.loads(raw.reveal())

    def event(self, step: Step, token: str) -> RotationEvent:
        return RotationEvent(step=step, secret_id=self.arn, token=token)

    def accounts(self) -> list[str]:
        return sorted(a.id for a in self.emulator.service_accounts(self.project_id))

    def snapshot(self) -> tuple[object, ...]:
        """Everything a failed command must leave unchanged."""
        return (self.store.versions(self.arn), self.accounts(), self.current())

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)


def make_world(
    *,
    extra: dict[str, Any] | None = None,
    admin_in_secret: bool = True,
    store_type: type[InMemorySecretStore] = InMemorySecretStore,
) -> World:
    clock = ManualClock()
    emulator = OpenAIEmulator(now=clock.now, monotonic=clock.monotonic, sleep=clock.sleep)
    project_id = emulator.add_project(name="payments")
    admin_key = emulator.add_admin_key()
    seeded = emulator.add_service_account(project_id, "payments-api")
    store = store_type(now=lambda: datetime.fromtimestamp(clock.now(), UTC))
    store.create_secret(ADMIN_SECRET, Sensitive(json.dumps({"admin_key": admin_key})))
    value: dict[str, Any] = {
        "api_key": seeded.value,
        "project_id": project_id,
        "service_account_id": seeded.service_account_id,
        "key_id": seeded.key_id,
        **(extra or {}),
    }
    if admin_in_secret:
        value["admin_key_secret_id"] = ADMIN_SECRET
    arn = store.create_secret("openai/payments-api", Sensitive(json.dumps(value)))
    return World(
        clock=clock,
        store=store,
        emulator=emulator,
        http=httpx.Client(transport=emulator.transport()),
        project_id=project_id,
        admin_key=admin_key,
        arn=arn,
        seeded_key_id=seeded.key_id,
        seeded_value=seeded.value,
        seeded_account=seeded.service_account_id,
    )


@pytest.fixture
def world() -> Iterator[World]:
    made = make_world()
    yield made
    made.http.close()
