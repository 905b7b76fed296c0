"""Fixtures for deployment tests: the parsed template, the Lambda zip, and a seeded world."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from rotator.adapters.secretsmanager import SecretsManagerStore
from rotator.domain.sensitive import Sensitive
from rotator.testing.moto_server import MotoServer
from rotator.testing.openai_emulator import OpenAIEmulator, OpenAIEmulatorServer

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
ADMIN_SECRET = "openai/admin-key"  # a secret's name, not a secret
ROTATED_SECRET = "openai/app"  # a secret's name, not a secret


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (``!Ref x`` → ``{"Ref": "x"}``)."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    if suffix == "Condition":
        return {"Condition": value}
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template() -> dict[str, Any]:
    data: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return data


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template()


def build_script() -> ModuleType:
    """scripts/build_lambda_zip.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "build_lambda_zip", ROOT / "scripts" / "build_lambda_zip.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def zip_is_fresh(path: Path, script: ModuleType) -> bool:
    """Whether the zip holds exactly the working tree's handler and rotator package."""
    expected = script.project_files()
    with zipfile.ZipFile(path) as archive:
        ours = {n for n in archive.namelist() if n == "handler.py" or n.startswith("rotator/")}
        if ours != set(expected):
            return False
        return all(archive.read(name) == source.read_bytes() for name, source in expected.items())


@pytest.fixture(scope="session")
def lambda_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dist/rotator-lambda.zip when it is current; else rebuilt offline from the wheelhouse."""
    script = build_script()
    built = ROOT / "dist" / "rotator-lambda.zip"
    if built.exists() and zip_is_fresh(built, script):
        return built
    wheelhouse = ROOT / "build" / "wheelhouse" / "py3.13-arm64"
    if not any(wheelhouse.glob("*.whl")):
        pytest.fail(
            "dist/rotator-lambda.zip is missing or stale and build/wheelhouse is empty; "
            "run `make package` once (it needs the package index)"
        )
    output = tmp_path_factory.mktemp("lambda") / "rotator-lambda.zip"
    script_path = ROOT / "scripts" / "build_lambda_zip.py"
    subprocess.run(
        [sys.executable, str(script_path), "--offline", "--output", str(output)],
        check=True,
        capture_output=True,
    )
    return output


@dataclass
class World:
    """A project with one working service-account key, and an admin-key secret in moto."""

    aws: MotoServer
    openai: OpenAIEmulatorServer
    store: SecretsManagerStore
    project_id: str
    admin_key: str
    admin_arn: str
    key_value: str
    key_id: str
    account_id: str

    @property
    def emulator(self) -> OpenAIEmulator:
        return self.openai.emulator

    def seed_rotated_secret(self) -> str:
        """The rotated secret, holding the seeded key (naming no admin-key secret)."""
        value = {
            "api_key": self.key_value,
            "project_id": self.project_id,
            "key_id": self.key_id,
            "service_account_id": self.account_id,
        }
        return self.store.create_secret(ROTATED_SECRET, Sensitive(json.dumps(value)))

    def current(self, secret_id: str) -> dict[str, Any]:
        raw = self.store.get_value(secret_id, stage="AWSCURRENT")
        assert raw is not None
        data: dict[str, Any] = json.loads(raw.reveal())
        return data

    def accounts(self) -> list[str]:
        return sorted(a.id for a in self.emulator.service_accounts(self.project_id))


@pytest.fixture
def world(
    moto_server: MotoServer,
    emulator_server: OpenAIEmulatorServer,
    aws_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> World:
    """A fresh moto and a fresh project; the environment points the CLI at both servers."""
    moto_server.reset()
    emulator = emulator_server.emulator
    project_id = emulator.add_project(name="deploy")
    admin_key = emulator.add_admin_key()
    seeded = emulator.add_service_account(project_id, "app")
    store = SecretsManagerStore(moto_server.client())
    admin_arn = store.create_secret(ADMIN_SECRET, Sensitive(json.dumps({"admin_key": admin_key})))
    for name in ("OPENAI_ADMIN_KEY", "ROTATOR_ADMIN_KEY_SECRET_ID", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    env = {**moto_server.env(), "OPENAI_BASE_URL": emulator_server.base_url}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return World(
        aws=moto_server,
        openai=emulator_server,
        store=store,
        project_id=project_id,
        admin_key=admin_key,
        admin_arn=admin_arn,
        key_value=seeded.value,
        key_id=seeded.key_id,
        account_id=seeded.service_account_id,
    )
