"""Every botocore exception mapped into the rotator error tree: the one translation table.

None escapes the adapter, and no message carries a SecretString or a RotationToken (values
passed as ``redact`` are scrubbed from AWS's own messages).
"""

from __future__ import annotations

from collections.abc import Iterable

from botocore.exceptions import (
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

from rotator.domain.sensitive import REDACTED, Sensitive
from rotator.errors import (
    ConfigError,
    ResponseLostError,
    RotationInProgressError,
    RotatorError,
    SecretNotFoundError,
    ServiceError,
    StageConflictError,
    TransientServiceError,
    VersionConflictError,
)

_TRANSIENT = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "Throttling"}
    | {"InternalServiceError", "InternalFailure", "ServiceUnavailable"}
)
_BAD_CREDENTIALS = frozenset(
    {"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException"}
)
#: Calls that change state: an answer lost on the way back may hide a call that took effect.
_WRITES = frozenset({"PutSecretValue", "UpdateSecretVersionStage", "RotateSecret", "CreateSecret"})


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
