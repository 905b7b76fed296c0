"""moto's Secrets Manager on 127.0.0.1, for adapter tests, the CLI end-to-end tests and the demo.

``MotoServer`` runs ``moto.server.ThreadedMotoServer`` on a free port of 127.0.0.1 and gives
the environment a subprocess needs to reach it. ``seed_pending_version`` makes moto create an
*empty* AWSPENDING version the way a real ``RotateSecret`` does; see its docstring for how.

moto 5.2 departs from AWS in ways that matter for rotation (reference §4.2): it lets a token's
value be replaced while AWSPENDING (C2, C3), lets two versions carry AWSPENDING (E2), inverts
the "rotation in progress" check (H1, H2), and forgets the stored Lambda when ``RotateSecret``
is called with only ``SecretId``. Use ``InMemorySecretStore`` to test those semantics.
"""

from __future__ import annotations

import http.client
import io
import json
import zipfile
from types import TracebackType
from typing import TYPE_CHECKING, Self
from unittest import mock

import boto3.session
from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer

from rotator.adapters.secretsmanager import build_client
from rotator.domain.models import AWSCURRENT, AWSPENDING
from rotator.errors import RotationInProgressError

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

REGION = "us-east-1"
ACCESS_KEY = "testing"  # moto accepts any credentials; these are not real
SECRET_KEY = "testing"  # noqa: S105 - a dummy credential for a local emulator
ROTATION_FUNCTION = "rotator-seed-noop"


def dummy_session(region: str = REGION) -> boto3.session.Session:
    """A boto3 session with dummy credentials, independent of the process environment."""
    return boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=region
    )


class MotoServer:
    """``with MotoServer() as server:`` moto on ``server.endpoint_url`` until the block ends."""

    def __init__(self, *, region: str = REGION) -> None:
        self.region = region
        self.port = 0
        self._server: ThreadedMotoServer | None = None

    @property
    def endpoint_url(self) -> str:
        if not self.port:
            raise RuntimeError("MotoServer is not running; use it as a context manager")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Bind port 0, so the kernel picks a free port with no race, then serve."""
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Wipe every moto backend (``POST /moto-api/reset``)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("POST", "/moto-api/reset")
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"moto reset answered {response.status}")
        finally:
            connection.close()

    def env(self) -> dict[str, str]:
        """What a subprocess (the CLI, the demo) needs to talk to this server and nothing else."""
        return {
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self, *, max_attempts: int = 2, read_timeout: float = 10) -> SecretsManagerClient:
        """An adapter client (``build_client``) bound to this server with dummy credentials."""
        return build_client(
            region=self.region,
            endpoint_url=self.endpoint_url,
            session=dummy_session(self.region),
            max_attempts=max_attempts,
            read_timeout=read_timeout,
        )

    def seed_pending_version(self, secret_id: str) -> str:
        """See :func:`seed_pending_version`."""
        client = self.client()
        try:
            return seed_pending_version(client, secret_id, endpoint_url=self.endpoint_url)
        finally:
            client.close()


def _noop_function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def noop_rotation_function(session: boto3.session.Session, endpoint_url: str | None) -> str:
    """The ARN of a do-nothing Lambda in moto (created once), for moto's ``RotateSecret``."""
    with mock.patch.dict(default_user_config, {"lambda": {"use_docker": False}}):
        return _ensure_noop_function(session, endpoint_url)


def _ensure_noop_function(session: boto3.session.Session, endpoint_url: str | None) -> str:
    iam = session.client("iam", endpoint_url=endpoint_url)
    lam = session.client("lambda", endpoint_url=endpoint_url)
    try:
        try:
            found = lam.get_function(FunctionName=ROTATION_FUNCTION)
            return str(found["Configuration"]["FunctionArn"])
        except lam.exceptions.ResourceNotFoundException:
            pass
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        try:
            role = iam.create_role(
                RoleName=ROTATION_FUNCTION, AssumeRolePolicyDocument=json.dumps(trust)
            )["Role"]["Arn"]
        except iam.exceptions.EntityAlreadyExistsException:
            role = iam.get_role(RoleName=ROTATION_FUNCTION)["Role"]["Arn"]
        created = lam.create_function(
            FunctionName=ROTATION_FUNCTION,
            Runtime="python3.11",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": _noop_function_zip()},
        )
        return str(created["FunctionArn"])
    finally:
        iam.close()
        lam.close()


def seed_pending_version(
    client: SecretsManagerClient, secret_id: str, *, endpoint_url: str | None = None
) -> str:
    """Make moto create an empty AWSPENDING version like a real RotateSecret; return its id.

    How: with moto's Docker-free Lambda backend switched on (``{"lambda": {"use_docker":
    False}}``, moto's own configuration, patched only for this call), create a no-op function
    and call moto's ``RotateSecret`` with its ARN. moto then adds a version labelled AWSPENDING
    with no value and "invokes" the four steps, which do nothing (reference §4.2 J3). A stale
    AWSPENDING that shares AWSCURRENT's version is removed first, as AWS's backend does after a
    successful rotation (moto would refuse, H2); one on another version raises
    ``RotationInProgressError``, as AWS would (moto would drop it, H1).

    Side effects on moto, not on AWS semantics: rotation is enabled with that function's ARN and
    ``AutomaticallyAfterDays=30``, and moto's default version pointer moves to the empty
    version (J3), so read with an explicit ``VersionStage``, as the adapter always does.

    Works in-process (inside ``moto.mock_aws``, pass no ``endpoint_url``) and against a
    ``MotoServer`` in this process (pass its ``endpoint_url``).
    """
    session = dummy_session(client.meta.region_name or REGION)
    with mock.patch.dict(default_user_config, {"lambda": {"use_docker": False}}):
        function_arn = _ensure_noop_function(session, endpoint_url)
        versions = client.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})
        for version_id, stages in versions.items():
            if AWSPENDING in stages and AWSCURRENT not in stages:
                raise RotationInProgressError(
                    f"AWSPENDING is on {version_id} (moto would allow it)"
                )
            if AWSPENDING in stages:
                try:
                    client.update_secret_version_stage(
                        SecretId=secret_id, VersionStage=AWSPENDING, RemoveFromVersionId=version_id
                    )
                except client.exceptions.InvalidParameterException:
                    # A concurrent rotation moved AWSPENDING first: as on AWS, this one is late.
                    raise RotationInProgressError(
                        f"AWSPENDING moved off {version_id} while seeding (another rotation)"
                    ) from None
        try:
            response = client.rotate_secret(
                SecretId=secret_id,
                RotationLambdaARN=function_arn,
                RotationRules={"AutomaticallyAfterDays": 30},
            )
        except client.exceptions.InvalidRequestException as error:
            if "in progress" not in str(error):
                raise
            # moto's (inverted, H2) in-progress check met a concurrent rotation's label.
            raise RotationInProgressError(f"RotateSecret refused: {error}") from None
    return response["VersionId"]
