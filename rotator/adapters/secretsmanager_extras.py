"""The Secrets Manager client's calls beyond the rotation port: seeding, listing, scheduling.

:class:`SecretsManagerCalls` holds the client and the one call wrapper (every botocore error
goes through :func:`~rotator.adapters.aws_errors.translate_error`); with these methods it is a
:class:`~rotator.ports.SecretProvisioner` and a :class:`~rotator.ports.SecretLister`.
:class:`~rotator.adapters.secretsmanager.SecretsManagerStore` adds the rotation port.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from rotator.adapters.aws_errors import translate_error
from rotator.domain.models import SecretDescription
from rotator.domain.sensitive import Sensitive

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_secretsmanager.type_defs import (
        BatchGetSecretValueRequestTypeDef,
        BatchGetSecretValueResponseTypeDef,
        CreateSecretRequestTypeDef,
        FilterTypeDef,
        RotationRulesTypeTypeDef,
        TagTypeDef,
    )

T = TypeVar("T")

#: BatchGetSecretValue's SecretIdList limit.
BATCH_LIMIT = 20


def _tags(tags: Iterable[TagTypeDef]) -> dict[str, str]:
    return {tag.get("Key", ""): tag.get("Value", "") for tag in tags}


def describe_entry(
    entry: Mapping[str, Any], versions: Mapping[str, list[str]]
) -> SecretDescription:
    """A DescribeSecret or ListSecrets entry as plain data (``.get``: every key is optional)."""
    last_rotated: datetime | None = entry.get("LastRotatedDate")
    last_changed: datetime | None = entry.get("LastChangedDate")
    next_rotation: datetime | None = entry.get("NextRotationDate")
    return SecretDescription(
        arn=entry["ARN"],
        name=entry["Name"],
        # Versions with no label are deprecated; AWS leaves them out of this map.
        versions={vid: frozenset(stages) for vid, stages in versions.items() if stages},
        rotation_enabled=bool(entry.get("RotationEnabled")),
        rotation_lambda_arn=entry.get("RotationLambdaARN") or None,
        rotation_rules=dict(entry.get("RotationRules") or {}),
        last_rotated=last_rotated,
        last_changed=last_changed,
        next_rotation=next_rotation,
        deleted=entry.get("DeletedDate") is not None,
        tags=_tags(entry.get("Tags") or ()),
        primary_region=entry.get("PrimaryRegion") or None,
    )


def _asked_as(asked: Sequence[str], arn: str | None, name: str | None) -> str | None:
    """The id in ``asked`` that named this answer (an ARN, or the secret's name)."""
    for secret_id in asked:
        if secret_id in (arn, name):
            return secret_id
    return None


class SecretsManagerCalls:
    """A Secrets Manager client whose every call maps botocore errors into the error tree."""

    def __init__(self, client: SecretsManagerClient) -> None:
        self._client = client
        self._region: str | None = client.meta.region_name

    def _call(
        self,
        action: str,
        secret_id: str | None,
        operation: Callable[[], T],
        *,
        redact: Iterable[Sensitive] = (),
    ) -> T:
        try:
            return operation()
        except (ClientError, BotoCoreError) as error:
            raise translate_error(
                error, action=action, secret_id=secret_id, region=self._region, redact=redact
            ) from None

    # --- beyond the port: seeding, listing, scheduling ------------------------------------

    def create_secret(
        self,
        name: str,
        value: Sensitive,
        *,
        description: str | None = None,
        kms_key_id: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """CreateSecret with a first (AWSCURRENT) value; returns the ARN."""
        request: CreateSecretRequestTypeDef = {"Name": name, "SecretString": value.reveal()}
        if description is not None:
            request["Description"] = description
        if kms_key_id is not None:
            request["KmsKeyId"] = kms_key_id
        if tags:
            request["Tags"] = [{"Key": key, "Value": val} for key, val in tags.items()]
        response = self._call(
            "CreateSecret", name, lambda: self._client.create_secret(**request), redact=[value]
        )
        return response["ARN"]

    def put_current(self, secret_id: str, value: Sensitive) -> str:
        """PutSecretValue without stages: the new version becomes AWSCURRENT. Returns its id."""
        response = self._call(
            "PutSecretValue",
            secret_id,
            lambda: self._client.put_secret_value(SecretId=secret_id, SecretString=value.reveal()),
            redact=[value],
        )
        return response["VersionId"]

    def list_secrets(
        self, *, name_prefix: str | None = None, tags: Mapping[str, str] | None = None
    ) -> list[SecretDescription]:
        """ListSecrets (all pages); tag filters are exact key=value pairs."""
        filters: list[FilterTypeDef] = []
        if name_prefix:
            filters.append({"Key": "name", "Values": [name_prefix]})
        for key, value in (tags or {}).items():
            filters.append({"Key": "tag-key", "Values": [key]})
            filters.append({"Key": "tag-value", "Values": [value]})

        def fetch() -> list[SecretDescription]:
            pages = self._client.get_paginator("list_secrets").paginate(Filters=filters)
            return [
                describe_entry(entry, entry.get("SecretVersionsToStages") or {})
                for page in pages
                for entry in page.get("SecretList", [])
            ]

        found = self._call("ListSecrets", name_prefix, fetch)
        # The service matches prefixes and tag keys and values independently: keep exact pairs.
        return [
            item
            for item in found
            if (not name_prefix or item.name.startswith(name_prefix))
            and all(item.tags.get(key) == value for key, value in (tags or {}).items())
        ]

    def current_values(self, secret_ids: Sequence[str]) -> dict[str, tuple[str, Sensitive]]:
        """BatchGetSecretValue, 20 ids per call (and every NextToken page).

        Answers are matched to the ids given by ARN or name. A secret in the answer's
        ``Errors`` (not found, deleted, access denied, decryption failure), or holding
        SecretBinary, is left out: the caller reads it alone and gets that read's own error.
        A failure of the whole call raises, mapped into the error tree like any other.
        """
        found: dict[str, tuple[str, Sensitive]] = {}
        for start in range(0, len(secret_ids), BATCH_LIMIT):
            chunk = list(dict.fromkeys(secret_ids[start : start + BATCH_LIMIT]))
            request: BatchGetSecretValueRequestTypeDef = {"SecretIdList": chunk}
            while True:
                page = self._call("BatchGetSecretValue", None, partial(self._batch, request))
                for entry in page.get("SecretValues", []):
                    asked = _asked_as(chunk, entry.get("ARN"), entry.get("Name"))
                    if asked is not None and "SecretString" in entry and "VersionId" in entry:
                        found[asked] = (entry["VersionId"], Sensitive(entry["SecretString"]))
                token = page.get("NextToken")
                if not token:
                    break
                request = {"SecretIdList": chunk, "NextToken": token}
        return found

    def _batch(
        self, request: BatchGetSecretValueRequestTypeDef
    ) -> BatchGetSecretValueResponseTypeDef:
        return self._client.batch_get_secret_value(**request)

    def configure_rotation(
        self,
        secret_id: str,
        lambda_arn: str,
        schedule_expression: str,
        *,
        duration: str | None = None,
        rotate_immediately: bool = False,
    ) -> str | None:
        """RotateSecret with a Lambda and a schedule; returns the version id it started, if any."""
        rules: RotationRulesTypeTypeDef = {"ScheduleExpression": schedule_expression}
        if duration is not None:
            rules["Duration"] = duration
        response = self._call(
            "RotateSecret",
            secret_id,
            lambda: self._client.rotate_secret(
                SecretId=secret_id,
                RotationLambdaARN=lambda_arn,
                RotationRules=rules,
                RotateImmediately=rotate_immediately,
            ),
        )
        return response.get("VersionId")

    def cancel_rotation(self, secret_id: str) -> None:
        """CancelRotateSecret: disables rotation; AWSPENDING is left where it is."""
        self._call(
            "CancelRotateSecret",
            secret_id,
            lambda: self._client.cancel_rotate_secret(SecretId=secret_id),
        )
