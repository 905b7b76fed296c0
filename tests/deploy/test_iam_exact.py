"""The template grants exactly the Secrets Manager actions the Lambda really calls.

The second half checks the policies as CloudFormation would deploy them in every parameter
mode (resolved by scripts/resolve_iam_policies.py, which `make iac` also feeds to parliament):
the admin-key secret read-only even under the prefix unless RotateAdminKey is true (then exactly
the four rotation actions on it), rotation only of secrets whose rotation function is this one,
SourceArn on every permission in every mode, the audit's reads only with its schedule, no dead
KMS grant.

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
from rotator.app import Mode, build_app
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


#: The audit's two actions that support no resource-level scoping (Resource "*").
AUDIT_UNSCOPED = {"secretsmanager:ListSecrets", "secretsmanager:BatchGetSecretValue"}


def test_template_grants_no_secretsmanager_action_beyond_the_known_statements(
    template: dict[str, Any],
) -> None:
    """Secrets Manager actions appear only in the rotation, admin-key and audit statements.

    The Deny that keeps the admin key read-only names every action RotateSecrets grants except
    GetSecretValue; RotateAdminKeySecret (RotateAdminKey=true) grants exactly RotateSecrets'
    actions on the admin-key secret alone; the audit lists and reads. None uses a * action, and
    only EC2's Describe* and the audit's list/batch-read use a * resource.
    """
    rotation = granted(template, "RotateSecrets")
    (deny,) = [s for s in _statements(template) if s["Effect"] == "Deny"]
    assert deny["Sid"] == "NeverWriteAdminKey"
    assert deny["Resource"] == {"Ref": "AdminKeySecretArn"}
    assert {a.removeprefix("secretsmanager:") for a in _actions(deny)} == (
        rotation - {"GetSecretValue"}
    )
    (admin,) = [s for s in _statements(template) if s.get("Sid") == "RotateAdminKeySecret"]
    assert admin["Resource"] == {"Ref": "AdminKeySecretArn"}
    assert granted(template, "RotateAdminKeySecret") == rotation
    assert granted(template, "ListSecretsForAudit") == {"ListSecrets", "BatchGetSecretValue"}
    assert granted(template, "ReadSecretsForAudit") == {"DescribeSecret", "GetSecretValue"}
    known = {
        "RotateSecrets",
        "ReadAdminKey",
        "NeverWriteAdminKey",
        "RotateAdminKeySecret",
        "ListSecretsForAudit",
        "ReadSecretsForAudit",
    }
    others = [s for s in _statements(template) if s.get("Sid") not in known]
    for statement in others:
        assert not [a for a in _actions(statement) if a.startswith("secretsmanager:")]
    for statement in _statements(template):
        if statement["Resource"] == "*":  # EC2's Describe*, ListSecrets, BatchGetSecretValue
            assert _actions(statement) in (
                {"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"},
                AUDIT_UNSCOPED,
            )
        assert "*" not in _actions(statement)


# --- The policies as deployed, per parameter mode (scripts/resolve_iam_policies.py) ---------

#: What rotating a secret takes: the RotateSecrets statement's actions. GetSecretValue is read.
ROTATION_ACTIONS = ("DescribeSecret", "PutSecretValue", "UpdateSecretVersionStage")

#: Secrets Manager actions no mode may allow on the admin-key secret, whatever RotateAdminKey says.
NEVER_ON_ADMIN_KEY = (
    "CreateSecret",
    "DeleteSecret",
    "RestoreSecret",
    "UpdateSecret",
    "RotateSecret",
    "CancelRotateSecret",
    "PutResourcePolicy",
    "DeleteResourcePolicy",
    "TagResource",
    "UntagResource",
    "ReplicateSecretToRegions",
    "StopReplicationToReplica",
    "ValidateResourcePolicy",
)


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


def _rotates_admin_key(mode: str) -> bool:
    overrides: dict[str, str] = RESOLVER.MODES[mode]
    return overrides.get("RotateAdminKey") == "true"


def test_no_mode_lets_the_role_rotate_write_or_relabel_the_admin_key_secret(
    modes: dict[str, dict[str, Any]],
) -> None:
    """GIVEN the admin-key secret under the prefix WHEN RotateAdminKey is false THEN read-only.

    The modes put it at ``openai/admin-key-…``, inside ``openai/*``: the worst layout. The
    explicit Deny is what keeps the role from writing it there.
    """
    admin = RESOLVER.ADMIN_ARN
    read_only = [mode for mode in modes if not _rotates_admin_key(mode)]
    assert len(read_only) >= 8
    for mode in read_only:
        found = modes[mode]
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
        overlapping = ["RotateSecrets"] if mode.startswith("prefix") else []
        if RESOLVER.MODES[mode].get("AuditSchedule"):  # DescribeSecret of the prefix
            overlapping.append("ReadSecretsForAudit")
        # where the overlap exists, the Deny is doing the work
        assert [s["Sid"] for s in granting] == overlapping, mode


def test_rotate_admin_key_grants_exactly_the_four_rotation_actions_on_that_secret(
    modes: dict[str, dict[str, Any]],
) -> None:
    """GIVEN RotateAdminKey=true THEN the four actions on the admin-key secret, and no more.

    The Deny is gone (it would block the rotation); the grant holds only while the secret's
    rotation function is this one; nothing else changes for other secrets.
    """
    admin = RESOLVER.ADMIN_ARN
    rotating = [mode for mode in modes if _rotates_admin_key(mode)]
    assert len(rotating) >= 3
    for mode in rotating:
        role = _role(modes[mode])
        assert not [s for s in role["Statement"] if s["Effect"] == "Deny"], mode
        allowed = {
            action
            for action in (*ROTATION_ACTIONS, "GetSecretValue", *NEVER_ON_ADMIN_KEY)
            if _allowed(role, f"secretsmanager:{action}", admin)
        }
        assert allowed == {*ROTATION_ACTIONS, "GetSecretValue"}, mode
        (statement,) = [s for s in role["Statement"] if s.get("Sid") == "RotateAdminKeySecret"]
        assert statement["Resource"] == admin
        assert statement["Condition"] == {
            "ArnEquals": {"secretsmanager:resource/AllowRotationLambdaArn": RESOLVER.FUNCTION_ARN}
        }, mode
        other = RESOLVER.SECRET_ARN + "elsewhere/app-AbCdEf"
        for action in ROTATION_ACTIONS:
            assert not _allowed(role, f"secretsmanager:{action}", other), (mode, action)


def test_no_mode_allows_anything_beyond_rotation_on_the_admin_key_secret(
    modes: dict[str, dict[str, Any]],
) -> None:
    """Delete, policy, tag, replicate, RotateSecret itself...: never, in any mode."""
    for mode, found in modes.items():
        role = _role(found)
        for action in NEVER_ON_ADMIN_KEY:
            assert not _allowed(role, f"secretsmanager:{action}", RESOLVER.ADMIN_ARN), (
                mode,
                action,
            )


def test_audit_reads_are_granted_only_with_the_audit_schedule(
    modes: dict[str, dict[str, Any]],
) -> None:
    """ListSecrets and BatchGetSecretValue (Resource "*") and reads of the prefix: audit modes only.

    The reads carry no AllowRotationLambdaArn condition (the audit must see secrets whose
    rotation is off) and cover the rotated prefix, never a write.
    """
    prefix = f"{RESOLVER.SECRET_ARN}openai/*"
    auditing = [mode for mode in modes if RESOLVER.MODES[mode].get("AuditSchedule")]
    assert len(auditing) >= 3
    for mode, found in modes.items():
        statements = _role(found)["Statement"]
        unscoped = [s for s in statements if "*" in _listed(s["Resource"])]
        audit = [s for s in statements if s.get("Sid") == "ReadSecretsForAudit"]
        if mode not in auditing:
            assert not [s for s in unscoped if set(_listed(s["Action"])) & AUDIT_UNSCOPED], mode
            assert audit == [], mode
            assert "RotationFunctionRole.audit-secrets" not in found, mode
            continue
        (listing,) = [s for s in unscoped if set(_listed(s["Action"])) & AUDIT_UNSCOPED]
        assert set(_listed(listing["Action"])) == AUDIT_UNSCOPED, mode
        assert "Condition" not in listing
        (read,) = audit
        assert set(_listed(read["Action"])) == {
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetSecretValue",
        }, mode
        assert read["Resource"] == prefix, mode
        assert "Condition" not in read


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
        if RESOLVER.MODES[mode].get("AuditSchedule"):
            (audit,) = found["AuditPermission"]["Statement"]
            assert audit["Principal"] == {"Service": "events.amazonaws.com"}
            assert audit["Condition"] == {
                "StringEquals": {"AWS:SourceAccount": RESOLVER.ACCOUNT},
                "ArnLike": {
                    "AWS:SourceArn": f"arn:aws:events:{RESOLVER.REGION}:"
                    f"{RESOLVER.ACCOUNT}:rule/{RESOLVER.STACK}-Audit-1"
                },
            }, mode
        else:
            assert "AuditPermission" not in found, mode
        if _rotates_admin_key(mode):
            (admin,) = found["AdminKeyRotationPermission"]["Statement"]
            assert admin["Principal"] == {"Service": "secretsmanager.amazonaws.com"}
            assert admin["Condition"] == {
                "StringEquals": {"AWS:SourceAccount": RESOLVER.ACCOUNT},
                "ArnLike": {"AWS:SourceArn": RESOLVER.ADMIN_ARN},
            }, mode
        else:
            assert "AdminKeyRotationPermission" not in found, mode


def test_alert_topic_accepts_only_this_stacks_alarms_and_rules(
    modes: dict[str, dict[str, Any]],
) -> None:
    """Every Allow on the topic names its publisher's ARN; the success rule only when enabled."""
    for mode, found in modes.items():
        statements = _listed(found["AlertTopicPolicy"]["Statement"])
        sources: dict[str, list[str]] = {}
        for statement in statements:
            assert statement["Action"] == "sns:Publish"
            assert set(statement["Principal"]) == {"Service"}
            sources[statement["Sid"]] = _listed(
                statement["Condition"]["ArnEquals"]["aws:SourceArn"]
            )
        alarms = sources.pop("RotationMetricAlarms")
        expected = 2 if RESOLVER.MODES[mode].get("AuditSchedule") else 1
        assert len(alarms) == expected, mode
        assert all(a.startswith("arn:aws:cloudwatch:") for a in alarms)
        success = sources.pop("RotationSuccessEvents", None)
        if RESOLVER.MODES[mode].get("NotifyOnSuccess") == "true":
            assert success is not None, mode
            assert success[0].startswith("arn:aws:events:"), mode
        else:
            assert success is None, mode
        assert set(sources) == {"RotationFailureEvents", "FunctionErrorsAlarm"}, mode


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
            assert len(contexts) == len(set(contexts)), mode
            if RESOLVER.MODES[mode].get("AuditSchedule"):  # the audit decrypts the prefix
                assert f"{RESOLVER.SECRET_ARN}openai/*" in contexts, mode


def test_no_resolved_statement_allows_a_wildcard_action_or_resource(
    modes: dict[str, dict[str, Any]],
) -> None:
    """Least privilege holds in every mode, not only in the template's default branch."""
    for mode, found in modes.items():
        for statement in _role(found)["Statement"]:
            if "*" in _listed(statement["Resource"]):  # no resource scoping for these
                actions = set(_listed(statement["Action"]))
                assert actions <= DESCRIBE_ONLY or actions == AUDIT_UNSCOPED, mode
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
