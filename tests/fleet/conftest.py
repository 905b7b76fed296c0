"""Fleet fixtures: many rotator secrets in moto's server, their keys in an emulator server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from rotator.adapters.secretsmanager import SecretsManagerStore
from rotator.cli.app import cli
from rotator.domain.sensitive import Sensitive
from rotator.testing.moto_server import MotoServer
from rotator.testing.openai_emulator import OpenAIEmulator, OpenAIEmulatorServer

ADMIN_SECRET = "openai/admin-key"


@dataclass
class Fleet:
    """A seeded fleet: ``names`` are the rotator secrets, spread over ``projects``."""

    emulator: OpenAIEmulator
    store: SecretsManagerStore
    projects: list[str]
    names: list[str]
    project_of: dict[str, str] = field(default_factory=dict)
    old_keys: dict[str, str] = field(default_factory=dict)

    def current(self, name: str) -> dict[str, Any]:
        raw = self.store.get_value(name, stage="AWSCURRENT")
        assert raw is not None
        data: dict[str, Any] = json.loads(raw.reveal())
        return data

    def orphans(self) -> list[str]:
        """Service accounts no secret's AWSCURRENT names (should be none after any run)."""
        named = {self.current(name)["service_account_id"] for name in self.names}
        live = {a.id for p in self.projects for a in self.emulator.service_accounts(p)}
        return sorted(live - named)

    def admin_calls(self, status: int | None = None) -> int:
        return sum(
            1
            for call in self.emulator.calls
            if call.route != "/models" and (status is None or call.status == status)
        )


def seed_fleet(
    aws: MotoServer, emulator: OpenAIEmulator, count: int, *, projects: int = 2, old: int = 0
) -> Fleet:
    """``count`` rotator secrets ``openai/svc-NN``; the first ``old`` rotated 100 days ago."""
    store = SecretsManagerStore(aws.client())
    admin_key = emulator.add_admin_key()
    store.create_secret(ADMIN_SECRET, Sensitive(json.dumps({"admin_key": admin_key})))
    store.create_secret("openai/readme", Sensitive("not a rotator secret"))
    project_ids = [emulator.add_project(name=f"p{i}") for i in range(projects)]
    fleet = Fleet(emulator, store, project_ids, [])
    long_ago = (datetime.now(UTC) - timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for index in range(count):
        name, project = f"openai/svc-{index:02d}", project_ids[index % projects]
        seeded = emulator.add_service_account(project, name)
        value: dict[str, str] = {
            "api_key": seeded.value,
            "project_id": project,
            "service_account_id": seeded.service_account_id,
            "key_id": seeded.key_id,
            "admin_key_secret_id": ADMIN_SECRET,
        }
        if index < old:
            value["rotated_at"] = long_ago
        tags = {"team": "payments" if index % 2 == 0 else "search"}
        store.create_secret(name, Sensitive(json.dumps(value)), tags=tags)
        fleet.names.append(name)
        fleet.project_of[name] = project
        fleet.old_keys[name] = seeded.value
    emulator.reset_calls()
    return fleet


@pytest.fixture
def emulator_server() -> Iterator[OpenAIEmulatorServer]:
    """A fresh emulator per test: knobs and faults never leak between tests."""
    with OpenAIEmulatorServer(OpenAIEmulator()) as server:
        yield server


@pytest.fixture
def fleet_env(
    moto_server: MotoServer,
    emulator_server: OpenAIEmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> OpenAIEmulator:
    """An empty moto and the environment the CLI needs to reach both servers."""
    moto_server.reset()
    env = {**moto_server.env(), "OPENAI_BASE_URL": emulator_server.base_url}
    for name in ("OPENAI_ADMIN_KEY", "ROTATOR_ADMIN_KEY_SECRET_ID", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return emulator_server.emulator


def run(*args: str) -> tuple[int, str, str]:
    """The CLI in process (stdout is not a terminal, so fleet output is JSON lines)."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def json_lines(out: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(one object per secret, the summary object)."""
    objects = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert objects, "no JSON lines"
    assert objects[-1].get("summary") is True
    return objects[:-1], objects[-1]
