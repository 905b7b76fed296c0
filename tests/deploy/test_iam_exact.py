"""The template grants exactly the Secrets Manager actions the Lambda really calls.

The second half checks the policies as CloudFormation would deploy them in every parameter
mode (resolved by scripts/resolve_iam_policies.py, which `make iac` also feeds to parliament):
the admin-key secret read-only even under the prefix, rotation only of secrets whose rotation
function is this one, SourceArn on the permission in every mode, no dead KMS grant.

Every boto3 operation is recorded (botocore's ``before-parameter-build`` hook) while the real
handler runs whole rotations in Lambda mode against moto: a first and a second rotation (which
deletes the retired key), a replay of every step with the same token, a scheduled prune event,
and the test-only invocation that ``RotateImmediately=false`` makes. The recorded set must
equal the template's grants.
"""

from __future__ import annotations

import fnmatch
import importlib.util
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx
import pytest

import handler
from rotator.adapters.secretsmanager import SecretsManagerStore
from rotator.composition import build_runtime
from rotator.config import Settings
from tests.deploy.conftest import ROOT, World

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
    for entry in role["Policies"]:
        policy = entry["Fn::If"][1] if "Fn::If" in entry else entry  # a conditional policy
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
    runtime = build_runtime(
        settings, lambda_mode=True, store=SecretsManagerStore(client), http=http
    )
    previous = handler.use_runtime(runtime)
    arn = world.seed_rotated_secret()
    for _ in range(2):  # the second rotation deletes the key the first one retired
        token = world.aws.seed_pending_version(arn)
        for step in (*STEPS, *STEPS):  # every step replayed with the same token
            handler.lambda_handler(_event(step, arn, token), Context())
    handler.lambda_handler({"Action": "prune", "SecretId": arn}, Context())  # scheduled prune
    token = world.aws.seed_pending_version(arn)  # RotateImmediately=false: testSecret only
    handler.lambda_handler(_event("testSecret", arn, token), Context())
    by_secret: dict[str, set[str]] = defaultdict(set)
    for operation, secret_id in recorder.calls:
        by_secret[secret_id].add(operation)
    assert not world.emulator.key_works(world.key_value)  # the rotations really happened
    yield {"rotated": by_secret.pop(arn), "admin": by_secret.pop(world.admin_arn), **by_secret}
    handler.use_runtime(previous)
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
    """No other statement of the role allows a Secrets Manager action; none uses a * resource.

    The one other statement that names Secrets Manager is the Deny that keeps the admin key
    read-only: every action RotateSecrets grants except GetSecretValue.
    """
    (deny,) = [s for s in _statements(template) if s["Effect"] == "Deny"]
    assert deny["Sid"] == "NeverWriteAdminKey"
    assert deny["Resource"] == {"Ref": "AdminKeySecretArn"}
    assert {a.removeprefix("secretsmanager:") for a in _actions(deny)} == (
        granted(template, "RotateSecrets") - {"GetSecretValue"}
    )
    others = [
        s
        for s in _statements(template)
        if s.get("Sid") not in {"RotateSecrets", "ReadAdminKey", "NeverWriteAdminKey"}
    ]
    for statement in others:
        assert not [a for a in _actions(statement) if a.startswith("secretsmanager:")]
    for statement in _statements(template):
        if statement["Resource"] == "*":  # EC2's Describe* cannot be scoped to a resource
            assert _actions(statement) == {"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"}
        assert "*" not in _actions(statement)


# --- The policies as deployed, per parameter mode (scripts/resolve_iam_policies.py) ---------

#: What rotating a secret takes: the RotateSecrets statement's actions. GetSecretValue is read.
ROTATION_ACTIONS = ("DescribeSecret", "PutSecretValue", "UpdateSecretVersionStage")


def _resolver() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "resolve_iam_policies", ROOT / "scripts" / "resolve_iam_policies.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RESOLVER = _resolver()


@pytest.fixture(scope="module")
def modes() -> dict[str, dict[str, Any]]:
    """{mode: {policy name: policy document}} as CloudFormation would deploy them."""
    resolved: dict[str, dict[str, Any]] = RESOLVER.all_modes()
    return resolved


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str) -> bool:
    """IAM's matching of an action or resource: ``*`` and ``?`` wildcards, case as given."""
    return fnmatch.fnmatchcase(value, pattern)


def _allowed(document: dict[str, Any], action: str, resource: str) -> bool:
    """Whether the identity policy lets ``action`` on ``resource`` through (explicit Deny wins).

    Conditions are ignored on Allow (the most a condition can do is narrow it), so this is the
    widest reading of the policy.
    """
    verdicts = set()
    for statement in _listed(document["Statement"]):
        if any(_matches(a, action) for a in _listed(statement["Action"])) and any(
            _matches(r, resource) for r in _listed(statement["Resource"])
        ):
            verdicts.add(statement["Effect"])
    return "Allow" in verdicts and "Deny" not in verdicts


def _role(found: dict[str, Any]) -> dict[str, Any]:
    statements = [
        statement
        for name, document in found.items()
        if name.startswith("RotationFunctionRole.")
        for statement in _listed(document["Statement"])
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def test_no_mode_lets_the_role_rotate_write_or_relabel_the_admin_key_secret(
    modes: dict[str, dict[str, Any]],
) -> None:
    """GIVEN the admin-key secret under the prefix WHEN any mode deploys THEN it is read-only.

    The prefix modes put it at ``openai/admin-key-…``, inside ``openai/*``: the layout
    docs/deploy.md creates. The explicit Deny is what keeps the role from writing it there.
    """
    admin = RESOLVER.ADMIN_ARN
    for mode, found in modes.items():
        role = _role(found)
        for action in ROTATION_ACTIONS:
            assert not _allowed(role, f"secretsmanager:{action}", admin), (mode, action)
        assert _allowed(role, "secretsmanager:GetSecretValue", admin), mode
        granting = [
            s
            for s in role["Statement"]
            if s["Effect"] == "Allow"
            and any(_matches(r, admin) for r in _listed(s["Resource"]))
            and {a.removeprefix("secretsmanager:") for a in _listed(s["Action"])}
            & set(ROTATION_ACTIONS)
        ]
        if mode.startswith("prefix"):  # the overlap exists: the Deny is doing the work
            assert [s["Sid"] for s in granting] == ["RotateSecrets"], mode
        else:
            assert granting == [], mode


def test_rotation_grants_hold_only_for_secrets_whose_rotation_function_is_this_one(
    modes: dict[str, dict[str, Any]], template: dict[str, Any]
) -> None:
    """RotateSecrets carries ArnEquals secretsmanager:resource/AllowRotationLambdaArn = us."""
    props = template["Resources"]["RotationFunction"]["Properties"]
    assert props["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-rotator"}
    log_group = template["Resources"]["RotationFunctionLogGroup"]["Properties"]["LogGroupName"]
    assert log_group == {"Fn::Sub": "/aws/lambda/${AWS::StackName}-rotator"}
    for mode, found in modes.items():
        (rotate,) = [s for s in _role(found)["Statement"] if s.get("Sid") == "RotateSecrets"]
        assert rotate["Condition"] == {
            "ArnEquals": {"secretsmanager:resource/AllowRotationLambdaArn": RESOLVER.FUNCTION_ARN}
        }, mode
        assert found["RotationFunctionPermission"]["Statement"][0]["Resource"] == (
            RESOLVER.FUNCTION_ARN
        )


def test_lambda_permission_carries_source_arn_and_account_in_every_mode(
    modes: dict[str, dict[str, Any]],
) -> None:
    """Secrets Manager may invoke the function only for the secrets the role may rotate."""
    for mode, found in modes.items():
        (statement,) = found["RotationFunctionPermission"]["Statement"]
        (rotate,) = [s for s in _role(found)["Statement"] if s.get("Sid") == "RotateSecrets"]
        assert statement["Principal"] == {"Service": "secretsmanager.amazonaws.com"}
        assert statement["Condition"] == {
            "StringEquals": {"AWS:SourceAccount": RESOLVER.ACCOUNT},
            "ArnLike": {"AWS:SourceArn": rotate["Resource"]},
        }, mode
        if "PrunePermission" in found:
            condition = found["PrunePermission"]["Statement"][0]["Condition"]
            assert condition["ArnLike"]["AWS:SourceArn"].startswith("arn:aws:events:")


def test_kms_grant_never_pairs_describe_key_with_an_encryption_context(
    modes: dict[str, dict[str, Any]],
) -> None:
    """DescribeKey has no encryption context, so such a grant could never apply: none is made."""
    kms_modes = [mode for mode in modes if "kms" in mode]
    assert kms_modes
    for mode, found in modes.items():
        statements = [s for s in _role(found)["Statement"] if s.get("Sid") == "UseSecretsKey"]
        assert len(statements) == (1 if mode in kms_modes else 0), mode
        for statement in statements:
            actions = set(_listed(statement["Action"]))
            assert actions == {"kms:Decrypt", "kms:GenerateDataKey"}, mode
            assert statement["Resource"] == RESOLVER.KMS_ARN
            condition = statement["Condition"]
            assert condition["StringEquals"]["kms:ViaService"] == (
                f"secretsmanager.{RESOLVER.REGION}.amazonaws.com"
            )
            contexts = _listed(condition["StringLike"]["kms:EncryptionContext:SecretARN"])
            assert RESOLVER.ADMIN_ARN in contexts


def test_no_resolved_statement_allows_a_wildcard_action_or_resource(
    modes: dict[str, dict[str, Any]],
) -> None:
    """Least privilege holds in every mode, not only in the template's default branch."""
    for mode, found in modes.items():
        for statement in _role(found)["Statement"]:
            if "*" in _listed(statement["Resource"]):  # EC2's Describe*: no resource scoping
                assert set(_listed(statement["Action"])) <= DESCRIBE_ONLY, mode
            assert not [a for a in _listed(statement["Action"]) if a.endswith(":*") or a == "*"]


#: The EC2 actions of AWS's managed AWSLambdaVPCAccessExecutionRole (its logs actions the role
#: already has, scoped to the function's own log group).
VPC_ACCESS_ACTIONS = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}
DESCRIBE_ONLY = {"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"}


def test_vpc_modes_get_exactly_the_eni_actions_of_the_vpc_access_role_and_others_none(
    modes: dict[str, dict[str, Any]],
) -> None:
    """In a VPC, Lambda creates the function's ENIs with its role; outside, no EC2 at all.

    The actions that can be scoped are limited to this account and Region.
    """
    vpc_modes = [mode for mode in modes if "vpc" in mode]
    assert vpc_modes
    for mode, found in modes.items():
        statements = _role(found)["Statement"]
        ec2 = {a for s in statements for a in _listed(s["Action"]) if a.startswith("ec2:")}
        assert ec2 == (VPC_ACCESS_ACTIONS if mode in vpc_modes else set()), mode
        for statement in statements:
            actions = set(_listed(statement["Action"]))
            if actions & VPC_ACCESS_ACTIONS - DESCRIBE_ONLY:
                assert statement["Resource"] == (
                    f"arn:aws:ec2:{RESOLVER.REGION}:{RESOLVER.ACCOUNT}:*"
                ), mode
