"""End-to-end fixtures: moto's server and the OpenAI emulator server on 127.0.0.1."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from rotator.adapters.secretsmanager import SecretsManagerStore
from rotator.domain.sensitive import Sensitive
from rotator.testing.moto_server import MotoServer
from rotator.testing.openai_emulator import OpenAIEmulator, OpenAIEmulatorServer


@dataclass
class Stack:
    """One test's seeded world, reached over real HTTP."""

    aws: MotoServer
    openai: OpenAIEmulatorServer
    store: SecretStoreAlias
    env: dict[str, str]
    secret: str
    arn: str
    admin_secret: str
    admin_key: str
    project_id: str
    old_key: str
    old_key_id: str
    old_account: str

    @property
    def emulator(self) -> OpenAIEmulator:
        return self.openai.emulator

    def current(self) -> dict[str, Any]:
        raw = self.store.get_value(self.arn, stage="AWSCURRENT")
        assert raw is not None
        data: dict[str, Any] = json.loads(raw.reveal())
        return data

    def accounts(self) -> list[str]:
        return sorted(a.id for a in self.emulator.service_accounts(self.project_id))

    def snapshot(self) -> tuple[object, ...]:
        """What a refused command must leave exactly as it was."""
        return (
            {k: sorted(v) for k, v in self.store.describe(self.arn).versions.items()},
            self.accounts(),
            sorted(self.emulator.live_key_ids(self.project_id)),
        )

    def put_value(self, value: str) -> None:
        self.store.put_current(self.arn, Sensitive(value))


SecretStoreAlias = SecretsManagerStore


@pytest.fixture
def stack(
    moto_server: MotoServer,
    emulator_server: OpenAIEmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Stack:
    """A fresh project, admin key, service account and secrets; env pointing at both servers."""
    moto_server.reset()
    emulator = emulator_server.emulator
    project_id = emulator.add_project(name="e2e")
    admin_key = emulator.add_admin_key()
    seeded = emulator.add_service_account(project_id, "app")
    store = SecretsManagerStore(moto_server.client())
    store.create_secret("openai/admin", Sensitive(json.dumps({"admin_key": admin_key})))
    arn = store.create_secret(
        "openai/app",
        Sensitive(
            json.dumps(
                {
                    "api_key": seeded.value,
                    "project_id": project_id,
                    "service_account_id": seeded.service_account_id,
                    "key_id": seeded.key_id,
                    "admin_key_secret_id": "openai/admin",
                    "owner": "team-payments",
                }
            )
        ),
    )
    env = {**moto_server.env(), "OPENAI_BASE_URL": emulator_server.base_url}
    for name in ("OPENAI_ADMIN_KEY", "ROTATOR_ADMIN_KEY_SECRET_ID", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Stack(
        aws=moto_server,
        openai=emulator_server,
        store=store,
        env=env,
        secret="openai/app",
        arn=arn,
        admin_secret="openai/admin",
        admin_key=admin_key,
        project_id=project_id,
        old_key=seeded.value,
        old_key_id=seeded.key_id,
        old_account=seeded.service_account_id,
    )
