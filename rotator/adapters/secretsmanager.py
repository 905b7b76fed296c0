"""The Secrets Manager adapter: the :class:`~rotator.ports.SecretStore` port over boto3.

With ``rotator/testing`` this is the only module that imports boto3 or botocore: boto3 (~100 ms)
only when a client is built, botocore's exceptions (~10 ms) on import. :func:`translate_error`
maps every botocore exception into the rotator error tree; none escapes this module, and no
message carries a SecretString or a RotationToken.

Reads always name a stage or a version (``AWSCURRENT`` when the caller names neither): the
default pointer of some emulators lags behind ``UpdateSecretVersionStage``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from rotator.domain.models import AWSCURRENT, AWSPENDING, SecretDescription
from rotator.domain.sensitive import REDACTED, Sensitive
from rotator.errors import (
    ConfigError,
    ResponseLostError,
    RotationInProgressError,
    RotatorError,
    SecretFormatError,
    SecretNotFoundError,
    ServiceError,
    StageConflictError,
    TransientServiceError,
    VersionConflictError,
)
from rotator.ports import SecretStore

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_secretsmanager.type_defs import (
        CreateSecretRequestTypeDef,
        FilterTypeDef,
        GetSecretValueRequestTypeDef,
        GetSecretValueResponseTypeDef,
        PutSecretValueRequestTypeDef,
        RotationRulesTypeTypeDef,
        TagTypeDef,
        UpdateSecretVersionStageRequestTypeDef,
    )

T = TypeVar("T")

_TRANSIENT = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "Throttling"}
    | {"InternalServiceError", "InternalFailure", "ServiceUnavailable"}
)
_BAD_CREDENTIALS = frozenset(
    {"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException"}
)
#: Calls that change state: an answer lost on the way back may hide a call that took effect.
_WRITES = frozenset({"PutSecretValue", "UpdateSecretVersionStage", "RotateSecret", "CreateSecret"})


def build_client(
    *,
    region: str | None = None,
    connect_timeout: float = 5,
    read_timeout: float = 10,
    max_attempts: int = 5,
    endpoint_url: str | None = None,
    session: Session | None = None,
    max_pool_connections: int = 10,
) -> SecretsManagerClient:
    """A Secrets Manager client with explicit timeouts and standard-mode retries.

    Everything else comes from boto3's usual configuration chain, so ``AWS_DEFAULT_REGION``,
    ``AWS_ENDPOINT_URL_SECRETS_MANAGER``/``AWS_ENDPOINT_URL``, profiles and credential providers
    work unchanged. boto3 does not read ``AWS_REGION``: the caller passes it as ``region``.
    """
    # botocore alone, not boto3: boto3's import pulls in s3transfer and resources, which cost
    # a Lambda cold start ~60 ms and serve nothing here. Configuration is botocore's anyway.
    import botocore.session  # noqa: PLC0415 - imported on first use, not at CLI start
    from botocore.config import Config  # noqa: PLC0415 - ditto

    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        max_pool_connections=max_pool_connections,  # fleet runs: one per worker, no overflow
    )
    try:
        if session is not None:
            return session.client(
                "secretsmanager", region_name=region, endpoint_url=endpoint_url, config=config
            )
        return cast(
            "SecretsManagerClient",
            botocore.session.get_session().create_client(
                "secretsmanager", region_name=region, endpoint_url=endpoint_url, config=config
            ),
        )
    except BotoCoreError as error:
        raise translate_error(error, action="CreateClient", secret_id=None, region=region) from None


def translate_error(  # noqa: PLR0911, PLR0912 - the one translation table, flat on purpose
    error: Exception,
    *,
    action: str,
    secret_id: str | None,
    region: str | None,
    redact: Iterable[Sensitive] = (),
) -> RotatorError:
    """Map one botocore exception to the rotator error tree (the only place that does)."""
    secret = secret_id or "the secret"
    if len(secret) > 120:
        secret = secret[:117] + "..."
    if isinstance(error, NoRegionError):
        return ConfigError("no AWS region configured; set AWS_DEFAULT_REGION or AWS_REGION")
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return ConfigError(
            "no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run with an IAM role"
        )
    if isinstance(error, ReadTimeoutError | ConnectionClosedError) and action in _WRITES:
        return ResponseLostError(f"{action} on {secret} sent but no answer came back ({error})")
    if isinstance(error, EndpointConnectionError | HTTPClientError):
        return TransientServiceError(f"{action} on {secret} could not reach Secrets Manager")
    if isinstance(error, ParamValidationError):
        return ConfigError(f"invalid {action} request for {secret}: {_scrub(str(error), redact)}")
    if not isinstance(error, ClientError):
        return ServiceError(f"{action} on {secret} failed: {_scrub(str(error), redact)}")

    code = error.response.get("Error", {}).get("Code", "")
    message = _scrub(error.response.get("Error", {}).get("Message", ""), redact)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    lowered = message.lower()
    detail = f"({action}: {code}: {message})"

    if code in _TRANSIENT or (status is not None and status >= 500):
        return TransientServiceError(f"Secrets Manager {action} failed {detail}", status=status)
    if code == "AccessDeniedException":
        return ConfigError(
            f"access denied to secretsmanager:{action} on {secret}; "
            f"grant secretsmanager:{action} on {secret} to the caller"
        )
    if code in _BAD_CREDENTIALS:
        return ConfigError(f"AWS rejected the credentials {detail}; refresh them or the profile")
    if code in {"DecryptionFailure", "EncryptionFailure"}:
        return ConfigError(
            f"KMS refused {action} on {secret} {detail}; grant kms:Decrypt and "
            "kms:GenerateDataKey on the secret's KMS key to the caller"
        )
    if code == "InvalidRequestException" and "delet" in lowered:
        return SecretNotFoundError(
            f"secret {secret} is scheduled for deletion; restore it with "
            f"`aws secretsmanager restore-secret --secret-id {secret}`"
        )
    if code == "ResourceNotFoundException":
        if action in {"RotateSecret", "CancelRotateSecret"} and "lambda" in lowered:
            return ConfigError(f"the rotation Lambda of {secret} was not found {detail}")
        return SecretNotFoundError(
            f"secret {secret} not found in {region or 'the configured region'}; "
            "check the name/ARN and AWS_REGION"
        )
    if code == "ResourceExistsException":
        if action == "CreateSecret":
            return ConfigError(f"secret {secret} already exists; pick another name")
        return VersionConflictError(
            f"a version of {secret} with this ClientRequestToken already holds another value "
            "(versions are immutable)"
        )
    if action == "UpdateSecretVersionStage" and code in {
        "InvalidParameterException",
        "InvalidRequestException",
    }:
        return StageConflictError(f"staging labels of {secret} changed under us {detail}")
    if action == "GetSecretValue" and code == "InvalidRequestException":
        return StageConflictError(f"the version read from {secret} lost its stage {detail}")
    if action == "RotateSecret" and code == "InvalidRequestException":
        if "previous rotation" in lowered or "in progress" in lowered:
            return RotationInProgressError(
                f"a previous rotation of {secret} isn't complete (AWSPENDING is held by another "
                "version); finish it or remove AWSPENDING with `aws secretsmanager "
                f"update-secret-version-stage --secret-id {secret} --version-stage AWSPENDING "
                "--remove-from-version-id <pending-id>`"
            )
        if "lambda" in lowered:
            return ConfigError(f"rotation is not configured on {secret} {detail}")
    if action == "CancelRotateSecret" and "lambda" in lowered:
        return ConfigError(f"rotation is not configured on {secret} {detail}")
    if code in {"InvalidParameterException", "ValidationException", "InvalidRequestException"}:
        return ConfigError(f"Secrets Manager refused {action} on {secret} {detail}")
    return ServiceError(f"Secrets Manager {action} on {secret} failed {detail}", status=status)


def _scrub(text: str, redact: Iterable[Sensitive]) -> str:
    for value in redact:
        if value.reveal():
            text = text.replace(value.reveal(), REDACTED)
    return text


def _tags(tags: Iterable[TagTypeDef]) -> dict[str, str]:
    return {tag.get("Key", ""): tag.get("Value", "") for tag in tags}


def _description(entry: Mapping[str, Any], versions: Mapping[str, list[str]]) -> SecretDescription:
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
    )


class SecretsManagerStore:
    """:class:`~rotator.ports.SecretStore` over a boto3 Secrets Manager client."""

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

    # --- the SecretStore port -------------------------------------------------------------

    def describe(self, secret_id: str) -> SecretDescription:
        response = self._call(
            "DescribeSecret", secret_id, lambda: self._client.describe_secret(SecretId=secret_id)
        )
        return _description(response, response.get("VersionIdsToStages") or {})

    def version_dates(self, secret_id: str) -> dict[str, datetime]:
        """When each labelled version was created (ListSecretVersionIds' CreatedDate)."""
        dates: dict[str, datetime] = {}
        kwargs: dict[str, Any] = {"SecretId": secret_id}
        while True:
            page = self._call(
                "ListSecretVersionIds",
                secret_id,
                lambda: self._client.list_secret_version_ids(**kwargs),
            )
            for version in page.get("Versions", []):
                if version.get("VersionStages") and "CreatedDate" in version:
                    dates[version["VersionId"]] = version["CreatedDate"]
            token = page.get("NextToken")
            if not token:
                return dates
            kwargs["NextToken"] = token

    def get_value(
        self, secret_id: str, *, version_id: str | None = None, stage: str | None = None
    ) -> Sensitive | None:
        """GetSecretValue by explicit version and/or stage; None when that version has no value."""
        request: GetSecretValueRequestTypeDef = {"SecretId": secret_id}
        if version_id is not None:
            request["VersionId"] = version_id
        if stage is not None or version_id is None:
            request["VersionStage"] = stage or AWSCURRENT

        def read() -> GetSecretValueResponseTypeDef | None:
            try:
                return self._client.get_secret_value(**request)
            except ClientError as error:
                details = error.response.get("Error", {})
                if details.get("Code") == "ResourceNotFoundException" and (
                    "secret value" in details.get("Message", "").lower()
                ):
                    return None  # the version (or stage) exists without a value, or not at all
                raise

        response = self._call("GetSecretValue", secret_id, read)
        if response is None:
            return None
        if "SecretString" not in response:
            raise SecretFormatError(f"secret {secret_id} holds SecretBinary, not a SecretString")
        return Sensitive(response["SecretString"])

    def put_pending(
        self,
        secret_id: str,
        token: str,
        value: Sensitive,
        *,
        rotation_token: Sensitive | None = None,
    ) -> None:
        request: PutSecretValueRequestTypeDef = {
            "SecretId": secret_id,
            "ClientRequestToken": token,
            "SecretString": value.reveal(),
            "VersionStages": [AWSPENDING],
        }
        redact = [value]
        if rotation_token is not None:
            request["RotationToken"] = rotation_token.reveal()
            redact.append(rotation_token)
        self._call(
            "PutSecretValue",
            secret_id,
            lambda: self._client.put_secret_value(**request),
            redact=redact,
        )

    def move_stage(
        self,
        secret_id: str,
        stage: str,
        *,
        to_version: str | None,
        from_version: str | None,
    ) -> None:
        request: UpdateSecretVersionStageRequestTypeDef = {
            "SecretId": secret_id,
            "VersionStage": stage,
        }
        if to_version is not None:
            request["MoveToVersionId"] = to_version
        if from_version is not None:
            request["RemoveFromVersionId"] = from_version
        self._call(
            "UpdateSecretVersionStage",
            secret_id,
            lambda: self._client.update_secret_version_stage(**request),
        )

    def start_rotation(self, secret_id: str) -> str:
        response = self._call(
            "RotateSecret", secret_id, lambda: self._client.rotate_secret(SecretId=secret_id)
        )
        return response["VersionId"]

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
                _description(entry, entry.get("SecretVersionsToStages") or {})
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


if TYPE_CHECKING:
    _conforms: type[SecretStore] = SecretsManagerStore
