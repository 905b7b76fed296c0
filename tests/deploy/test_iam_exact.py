"""The template grants exactly the Secrets Manager actions the Lambda really calls.

Every boto3 operation is recorded (botocore's ``before-parameter-build`` hook) while the real
handler runs whole rotations in Lambda mode against moto: a first and a second rotation (which
deletes the retired key), a replay of every step with the same token, a scheduled prune event,
and the test-only invocation that ``RotateImmediately=false`` makes. The recorded set must
equal the template's grants.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import handler
from rotator.adapters.secretsmanager import SecretsManagerStore
from rotator.app import Mode, build_app
from rotator.config import Settings
from tests.deploy.conftest import World

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


@dataclass
class Context:
    aws_request_id: str = "req-iam"


class Recorder:
    """Collects (operation, SecretId) for every Secrets Manager call a client makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls.append((model.name, str(params.get("SecretId"))))


def _statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    role = template["Resources"]["RotationFunctionRole"]["Properties"]
    found = []
    for policy in role["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:
                statement = statement["Fn::If"][1]  # noqa: PLW2901 - the conditional statement
            found.append(statement)
    return found


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def granted(template: dict[str, Any], sid: str) -> set[str]:
    (statement,) = [s for s in _statements(template) if s.get("Sid") == sid]
    return {a.removeprefix("secretsmanager:") for a in _actions(statement)}


@pytest.fixture
def recorded(world: World) -> Iterator[dict[str, set[str]]]:
    """Run the Lambda's rotations and yield {secret: operations called on it}."""
    recorder = Recorder()
    client = world.aws.client()
    client.meta.events.register("before-parameter-build.secrets-manager", recorder)
    settings = Settings(openai_base_url=world.openai.base_url, admin_key_secret_id=world.admin_arn)
    http = httpx.Client(timeout=10)
    app = build_app(settings, mode=Mode.LAMBDA, store=SecretsManagerStore(client), http=http)
    lambda_handler = handler.make_handler(lambda: app)
    arn = world.seed_rotated_secret()
    for _ in range(2):  # the second rotation deletes the key the first one retired
        token = world.aws.seed_pending_version(arn)
        for step in (*STEPS, *STEPS):  # every step replayed with the same token
            lambda_handler(_event(step, arn, token), Context())
    lambda_handler({"Action": "prune", "SecretId": arn}, Context())  # scheduled prune
    token = world.aws.seed_pending_version(arn)  # RotateImmediately=false: testSecret only
    lambda_handler(_event("testSecret", arn, token), Context())
    by_secret: dict[str, set[str]] = defaultdict(set)
    for operation, secret_id in recorder.calls:
        by_secret[secret_id].add(operation)
    assert not world.emulator.key_works(world.key_value)  # the rotations really happened
    yield {"rotated": by_secret.pop(arn), "admin": by_secret.pop(world.admin_arn), **by_secret}
    http.close()
    client.close()


def _event(step: str, arn: str, token: str) -> dict[str, str]:
    return {"Step": step, "SecretId": arn, "ClientRequestToken": token}


def test_template_grants_exactly_the_actions_rotation_calls_on_the_rotated_secret(
    recorded: dict[str, set[str]], template: dict[str, Any]
) -> None:
    """No missing permission (the rotation would fail) and no extra one (least privilege)."""
    assert recorded["rotated"] == granted(template, "RotateSecrets")
    assert recorded["rotated"] == {
        "DescribeSecret",
        "GetSecretValue",
        "PutSecretValue",
        "UpdateSecretVersionStage",
    }


def test_template_grants_only_get_secret_value_on_the_admin_key_secret(
    recorded: dict[str, set[str]], template: dict[str, Any]
) -> None:
    """The admin key is only ever read, and nothing else is touched."""
    assert recorded["admin"] == granted(template, "ReadAdminKey") == {"GetSecretValue"}
    assert set(recorded) == {"rotated", "admin"}


def test_template_grants_no_secretsmanager_action_beyond_the_two_statements(
    template: dict[str, Any],
) -> None:
    """No other statement of the role mentions Secrets Manager, and none uses a * resource."""
    others = [
        s for s in _statements(template) if s.get("Sid") not in {"RotateSecrets", "ReadAdminKey"}
    ]
    for statement in others:
        assert not [a for a in _actions(statement) if a.startswith("secretsmanager:")]
    for statement in _statements(template):
        assert statement["Resource"] != "*"
        assert "*" not in _actions(statement)
