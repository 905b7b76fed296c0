"""Resolve template.yaml's IAM policies per parameter mode, for parliament and the IAM tests.

CloudFormation decides the policies only at deploy time: ``Fn::If`` on the parameter mode,
``Ref``/``Fn::Sub``/``Fn::GetAtt`` to ARNs. This evaluates them offline for every mode the
template offers (:data:`MODES`: prefix, single secret, managed secret; with and without a KMS
key, a VPC, the key-age audit's schedule, admin-key rotation and success notifications), with
realistic ARNs in place of what the stack would create,
and writes one JSON policy document per mode and policy to ``--out`` (default
``build/iam-policies``): the role's inline policies, the SNS topic policy, and the Lambda
permissions rendered as the resource policy statements they become.

In every mode the admin-key secret sits *under* the default prefix (``openai/admin-key``): the
worst layout, where the prefix grant and the audit's reads overlap it, and the role must still
not write it unless ``RotateAdminKey`` is true (then it may rotate exactly that secret).

Only the intrinsics the template uses are implemented; anything else raises.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
PARTITION, REGION, ACCOUNT, STACK = "aws", "us-east-1", "123456789012", "rotator-prod"
SECRET_ARN = f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:"
ADMIN_ARN = f"{SECRET_ARN}openai/admin-key-AbCdEf"  # under the default prefix, on purpose
ROTATED_ARN = f"{SECRET_ARN}openai/payments-api-GhIjKl"
KMS_ARN = f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
FUNCTION_NAME = f"{STACK}-rotator"
FUNCTION_ARN = f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION_NAME}"
LOG_GROUP = f"/aws/lambda/{FUNCTION_NAME}"
VPC = {"SubnetIds": "subnet-0a1b2c3d,subnet-4e5f6a7b", "SecurityGroupIds": "sg-0a1b2c3d4e5f6a7b8"}

#: name → the parameters that differ from the template's defaults.
MODES: dict[str, dict[str, str]] = {
    "prefix": {},
    "prefix-kms": {"KmsKeyArn": KMS_ARN},
    "single": {"RotatedSecretArn": ROTATED_ARN},
    "single-kms-prune": {"RotatedSecretArn": ROTATED_ARN, "KmsKeyArn": KMS_ARN}
    | {"PruneSchedule": "rate(1 day)"},
    "managed": {"ManagedSecretName": "openai/payments-api"},
    "managed-kms": {"ManagedSecretName": "openai/payments-api", "KmsKeyArn": KMS_ARN},
    "prefix-vpc": dict(VPC),
    "single-kms-vpc": {"RotatedSecretArn": ROTATED_ARN, "KmsKeyArn": KMS_ARN} | VPC,
    "prefix-audit": {"AuditSchedule": "rate(1 day)"},
    "single-kms-audit": {"RotatedSecretArn": ROTATED_ARN, "KmsKeyArn": KMS_ARN}
    | {"AuditSchedule": "rate(1 day)"},
    "prefix-adminrotation": {"RotateAdminKey": "true"},
    "single-kms-adminrotation-notify": {"RotatedSecretArn": ROTATED_ARN, "KmsKeyArn": KMS_ARN}
    | {"RotateAdminKey": "true", "NotifyOnSuccess": "true"},
    "managed-audit-notify": {"ManagedSecretName": "openai/payments-api"}
    | {"AuditSchedule": "rate(1 day)", "NotifyOnSuccess": "true"},
    "prefix-kms-audit-adminrotation-notify": {"KmsKeyArn": KMS_ARN, "AuditSchedule": "rate(1 day)"}
    | {"RotateAdminKey": "true", "NotifyOnSuccess": "true"},
}

NO_VALUE = object()


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


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    data: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return data


def parameters(template: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    """Every parameter's value: its default unless overridden (a missing default is an error)."""
    values = {}
    for name, spec in template["Parameters"].items():
        if name in overrides:
            values[name] = overrides[name]
        elif name == "AdminKeySecretArn":
            values[name] = ADMIN_ARN
        elif "Default" in spec:
            values[name] = str(spec["Default"])
        else:
            raise ValueError(f"parameter {name} has no default; give it in the mode")
    return values


class Resolver:
    """Evaluates the template's intrinsics for one set of parameter values."""

    def __init__(self, template: Mapping[str, Any], values: Mapping[str, str]) -> None:
        self.template = template
        self.values = dict(values)
        self.conditions: dict[str, bool] = {}
        self.refs: dict[str, str] = {
            "AWS::Partition": PARTITION,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": STACK,
            "AWS::URLSuffix": "amazonaws.com",
            "RotationFunction": FUNCTION_NAME,
            "RotationFunctionLogGroup": LOG_GROUP,
            "RotationFunctionRole": f"{STACK}-RotationFunctionRole-ABC123",
            "AlertTopic": f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:{STACK}-AlertTopic-ABC123",
            "RotationErrorsAlarm": f"{STACK}-RotationErrorsAlarm-ABC123",
        }
        if values.get("ManagedSecretName"):
            self.refs["ManagedSecret"] = f"{SECRET_ARN}{values['ManagedSecretName']}-MnOpQr"
        self.attrs: dict[str, str] = {
            # CloudFormation's documented form, with the trailing ":*".
            "RotationFunctionLogGroup.Arn": f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:"
            f"log-group:{LOG_GROUP}:*",
            "RotationFunction.Arn": FUNCTION_ARN,
            "RotationFunctionRole.Arn": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{STACK}-role",
            "RotationFailureRule.Arn": f"arn:{PARTITION}:events:{REGION}:{ACCOUNT}:rule/"
            f"{STACK}-RotationFailureRule-ABC123",
            "PruneRule.Arn": f"arn:{PARTITION}:events:{REGION}:{ACCOUNT}:rule/{STACK}-Prune-1",
            "AuditRule.Arn": f"arn:{PARTITION}:events:{REGION}:{ACCOUNT}:rule/{STACK}-Audit-1",
            "RotationSucceededRule.Arn": f"arn:{PARTITION}:events:{REGION}:{ACCOUNT}:rule/"
            f"{STACK}-RotationSucceededRule-ABC123",
            "RotationFailedAlarm.Arn": f"arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:"
            f"{STACK}-RotationFailedAlarm-ABC123",
            "SecretsOutOfPolicyAlarm.Arn": f"arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:"
            f"{STACK}-SecretsOutOfPolicyAlarm-ABC123",
            "RotationErrorsAlarm.Arn": f"arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:"
            f"{STACK}-RotationErrorsAlarm-ABC123",
        }

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.value(self.template["Conditions"][name]))
        return self.conditions[name]

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.values:
            return self.values[name]
        return self.refs[name]

    def _sub(self, argument: Any) -> str:
        text, extra = (argument, {}) if isinstance(argument, str) else argument
        variables = {k: self.value(v) for k, v in extra.items()}
        out, rest = "", str(text)
        while "${" in rest:
            before, _, tail = rest.partition("${")
            name, _, rest = tail.partition("}")
            if name in variables:
                out += before + str(variables[name])
            elif "." in name:
                out += before + self.attrs[name]
            else:
                out += before + str(self._ref(name))
        return out + rest

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, argument),) = node.items()
            functions: dict[str, Callable[[Any], Any]] = {
                "Ref": self._ref,
                "Fn::Sub": self._sub,
                "Fn::GetAtt": lambda a: self.attrs[".".join(a)],
                "Fn::If": lambda a: self.value(a[1] if self.condition(a[0]) else a[2]),
                "Fn::Equals": lambda a: self.value(a[0]) == self.value(a[1]),
                "Fn::Not": lambda a: not self.value(a[0]),
                "Fn::And": lambda a: all(self.value(item) for item in a),
                "Fn::Or": lambda a: any(self.value(item) for item in a),
                "Condition": self.condition,
                "Fn::Split": lambda a: str(self.value(a[1])).split(a[0]),
                "Fn::Join": lambda a: a[0].join(str(v) for v in self.value(a[1])),
            }
            if key in functions:
                return functions[key](argument)
            if key.startswith("Fn::"):
                raise NotImplementedError(key)
        resolved = {k: self.value(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def resources(self) -> dict[str, dict[str, Any]]:
        """The resources this mode creates (Condition true), their properties resolved."""
        created = {}
        for name, resource in self.template["Resources"].items():
            if "Condition" in resource and not self.condition(resource["Condition"]):
                continue
            created[name] = {
                "Type": resource["Type"],
                "Properties": self.value(resource.get("Properties", {})),
            }
        return created


def _permission_policy(properties: Mapping[str, Any]) -> dict[str, Any]:
    """The resource-policy statement an ``AWS::Lambda::Permission`` adds to the function."""
    condition: dict[str, Any] = {}
    if "SourceAccount" in properties:
        condition["StringEquals"] = {"AWS:SourceAccount": properties["SourceAccount"]}
    if "SourceArn" in properties:
        condition["ArnLike"] = {"AWS:SourceArn": properties["SourceArn"]}
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": properties["Principal"]},
        "Action": properties["Action"],
        "Resource": properties["FunctionName"],
        "Condition": condition,
    }
    return {"Version": "2012-10-17", "Statement": [statement]}


def policies(template: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, Any]:
    """``{"<resource>.<policy>": policy document}`` for one mode."""
    resources = Resolver(template, parameters(template, overrides)).resources()
    found: dict[str, Any] = {}
    for name, resource in resources.items():
        properties = resource["Properties"]
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                found[f"{name}.{policy['PolicyName']}"] = policy["PolicyDocument"]
        elif resource["Type"] == "AWS::SNS::TopicPolicy":
            found[name] = properties["PolicyDocument"]
        elif resource["Type"] == "AWS::Lambda::Permission":
            found[name] = _permission_policy(properties)
    return found


def all_modes(template: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    loaded = template if template is not None else load_template()
    return {mode: policies(loaded, overrides) for mode, overrides in MODES.items()}


def write(out: Path) -> list[Path]:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    written = []
    for mode, found in all_modes().items():
        for name, document in found.items():
            path = out / f"{mode}.{name}.json"
            path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "iam-policies")
    args = parser.parse_args(argv)
    written = write(args.out)
    print(f"{len(written)} policy documents for {len(MODES)} modes in {args.out}")  # noqa: T201 - a build tool reports
    return 0


if __name__ == "__main__":
    sys.exit(main())
