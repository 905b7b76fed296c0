"""Shared fixtures: moto and the OpenAI emulator for the session, dummy AWS settings per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rotator.testing.moto_server import MotoServer
from rotator.testing.openai_emulator import OpenAIEmulator, OpenAIEmulatorServer


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """moto on 127.0.0.1 for the whole session; call ``reset()`` for a clean slate."""
    with MotoServer() as server:
        yield server


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[OpenAIEmulatorServer]:
    """The OpenAI emulator on 127.0.0.1 for the whole session; tests seed their own project."""
    with OpenAIEmulatorServer(OpenAIEmulator()) as server:
        yield server


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Dummy credentials and region, and no way to reach a real AWS account or profile."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/nonexistent/aws-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    }
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
