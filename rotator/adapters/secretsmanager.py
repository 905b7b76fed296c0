"""The Secrets Manager adapter: :func:`build_client` and the :class:`~rotator.ports.SecretStore`
port over it.

With ``aws_errors`` and ``secretsmanager_extras`` (and ``rotator/testing``) these are the only
modules that import botocore: boto3 (~100 ms) only when a client is built, botocore's
exceptions (~10 ms) on import. :func:`~rotator.adapters.aws_errors.translate_error` maps every
botocore exception into the rotator error tree; none escapes the adapter.

Reads always name a stage or a version (``AWSCURRENT`` when the caller names neither): the
default pointer of some emulators lags behind ``UpdateSecretVersionStage``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from rotator.adapters.aws_errors import translate_error
from rotator.adapters.secretsmanager_extras import SecretsManagerCalls, describe_entry
from rotator.domain.models import AWSCURRENT, AWSPENDING, SecretDescription
from rotator.domain.sensitive import Sensitive
from rotator.errors import SecretFormatError
from rotator.ports import SecretStore

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_secretsmanager.type_defs import (
        GetSecretValueRequestTypeDef,
        GetSecretValueResponseTypeDef,
        PutSecretValueRequestTypeDef,
        UpdateSecretVersionStageRequestTypeDef,
    )


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


class SecretsManagerStore(SecretsManagerCalls):
    """:class:`~rotator.ports.SecretStore` (and provisioner, lister) over a boto3 client."""

    # --- the SecretStore port -------------------------------------------------------------

    def describe(self, secret_id: str) -> SecretDescription:
        response = self._call(
            "DescribeSecret", secret_id, lambda: self._client.describe_secret(SecretId=secret_id)
        )
        return describe_entry(response, response.get("VersionIdsToStages") or {})

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


if TYPE_CHECKING:
    _conforms: type[SecretStore] = SecretsManagerStore
