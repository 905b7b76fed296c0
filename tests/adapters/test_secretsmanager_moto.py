"""SecretsManagerStore against moto, in-process (``mock_aws``) and over HTTP (ThreadedMotoServer).

Error codes moto cannot produce (AccessDenied, throttling, 5xx) are served at the HTTP seam by a
botocore ``before-send`` handler, so botocore still parses a real response.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from rotator.adapters.secretsmanager import SecretsManagerStore, build_client
from rotator.domain.models import AWSCURRENT, AWSPENDING, AWSPREVIOUS
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    ConfigError,
    ResponseLostError,
    RotationInProgressError,
    SecretNotFoundError,
    ServiceError,
    StageConflictError,
    TransientServiceError,
    VersionConflictError,
)
from rotator.testing.moto_server import MotoServer, dummy_session, seed_pending_version

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

ROTATION_TOKEN = "rt-" + "7" * 40


@dataclass
class Moto:
    client: SecretsManagerClient
    store: SecretsManagerStore
    endpoint_url: str | None

    def secret(self, value: str = "v1") -> str:
        name = f"adapter-{uuid.uuid4().hex[:8]}"
        self.client.create_secret(Name=name, SecretString=value)
        return name

    def current(self, name: str) -> str:
        found = self.store.describe(name).version_with(AWSCURRENT)
        assert found is not None
        return found

    def seed_pending(self, name: str) -> str:
        return seed_pending_version(self.client, name, endpoint_url=self.endpoint_url)

    def sent(self, operation: str) -> list[dict[str, Any]]:
        """Record the parameters of every ``operation`` call made from now on."""
        seen: list[dict[str, Any]] = []
        self.client.meta.events.register(
            f"provide-client-params.secretsmanager.{operation}",
            lambda params, **_: seen.append(dict(params)),
        )
        return seen


@pytest.fixture(params=["mock_aws", "server"])
def moto(request: pytest.FixtureRequest) -> Iterator[Moto]:
    if request.param == "server":
        server: MotoServer = request.getfixturevalue("moto_server")
        server.reset()
        client = server.client()
        yield Moto(client, SecretsManagerStore(client), server.endpoint_url)
        client.close()
        return
    with mock_aws():
        client = build_client(region="us-east-1", session=dummy_session(), max_attempts=1)
        yield Moto(client, SecretsManagerStore(client), None)
        client.close()


def _answer(status: int, code: str, message: str) -> SecretsManagerStore:
    """A store whose every call gets this JSON error from the 'service'."""
    client = build_client(
        region="us-east-1",
        session=dummy_session(),
        endpoint_url="http://127.0.0.1:9",
        max_attempts=1,
    )
    body = json.dumps({"__type": code, "message": message}).encode()

    class Raw:
        def stream(self, **_: object) -> Iterator[bytes]:
            yield body

    client.meta.events.register(
        "before-send.secretsmanager.*",
        lambda request, **_: AWSResponse(request.url, status, {}, Raw()),
    )
    return SecretsManagerStore(client)


# --- build_client ------------------------------------------------------------------------------


def test_build_client_sets_timeouts_and_standard_retries() -> None:
    """The client carries explicit timeouts and standard-mode retries."""
    client = build_client(
        region="eu-west-1", session=dummy_session(), connect_timeout=2, read_timeout=7
    )
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 7)
    assert config.retries == {"mode": "standard", "total_max_attempts": 5}
    assert client.meta.region_name == "eu-west-1"
    client.close()


def test_build_client_honours_the_standard_aws_environment(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, moto_server: MotoServer
) -> None:
    """AWS_DEFAULT_REGION and AWS_ENDPOINT_URL_SECRETS_MANAGER reach the client unchanged."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_server.endpoint_url)
    client = build_client()
    assert (client.meta.region_name, client.meta.endpoint_url) == (
        "eu-central-1",
        moto_server.endpoint_url,
    )
    client.close()


def test_build_client_without_a_region_raises_config_error(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No region anywhere is a ConfigError that names the variables to set."""
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(ConfigError, match="AWS_DEFAULT_REGION"):
        build_client()


def test_a_call_without_credentials_raises_config_error(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, moto_server: MotoServer
) -> None:
    """No credentials anywhere is a ConfigError that says how to provide them."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    client = build_client(endpoint_url=moto_server.endpoint_url, max_attempts=1)
    with pytest.raises(ConfigError, match="AWS_ACCESS_KEY_ID"):
        SecretsManagerStore(client).describe("anything")
    client.close()


# --- the port over moto ------------------------------------------------------------------------


def test_describe_of_a_never_rotated_secret_reads_rotation_enabled_with_get(moto: Moto) -> None:
    """moto omits RotationEnabled (A1); describe reports False instead of a KeyError."""
    name = moto.secret()
    assert "RotationEnabled" not in moto.client.describe_secret(SecretId=name)
    found = moto.store.describe(name)
    assert (found.rotation_enabled, found.rotation_lambda_arn, found.rotation_rules) == (
        False,
        None,
        {},
    )
    assert found.last_changed is not None


def test_describe_reports_the_rotation_configuration(moto: Moto) -> None:
    """Lambda ARN, rules, rotation dates and tags come through."""
    name = moto.secret()
    moto.client.tag_resource(SecretId=name, Tags=[{"Key": "team", "Value": "ai"}])
    moto.seed_pending(name)
    found = moto.store.describe(name)
    assert found.rotation_enabled is True
    assert found.rotation_lambda_arn is not None
    assert found.rotation_lambda_arn.endswith(":function:rotator-seed-noop")
    assert found.rotation_rules == {"AutomaticallyAfterDays": 30}
    assert found.last_rotated is not None
    assert found.next_rotation is not None
    assert found.tags == {"team": "ai"}


def test_get_value_always_names_a_stage_or_version(moto: Moto) -> None:
    """A plain read asks for AWSCURRENT explicitly; explicit arguments pass unchanged."""
    name = moto.secret()
    sent = moto.sent("GetSecretValue")
    moto.store.get_value(name)
    moto.store.get_value(name, version_id=moto.current(name))
    moto.store.get_value(name, version_id=moto.current(name), stage=AWSCURRENT)
    assert [{k: v for k, v in p.items() if k != "SecretId"} for p in sent] == [
        {"VersionStage": AWSCURRENT},
        {"VersionId": moto.current(name)},
        {"VersionId": moto.current(name), "VersionStage": AWSCURRENT},
    ]


def test_get_value_of_a_missing_secret_raises_secret_not_found(moto: Moto) -> None:
    """A missing secret is not mistaken for a version without a value."""
    with pytest.raises(SecretNotFoundError):
        moto.store.get_value("no-such-secret", stage=AWSPENDING)


def test_put_pending_passes_the_rotation_token_only_when_given(moto: Moto) -> None:
    """RotationToken travels with PutSecretValue when the event carried one."""
    name = moto.secret()
    sent = moto.sent("PutSecretValue")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    moto.store.put_pending(name, first, Sensitive("v2"), rotation_token=Sensitive(ROTATION_TOKEN))
    moto.store.put_pending(name, second, Sensitive("v3"))
    assert sent[0] == {
        "SecretId": name,
        "ClientRequestToken": first,
        "SecretString": "v2",
        "VersionStages": [AWSPENDING],
        "RotationToken": ROTATION_TOKEN,
    }
    assert "RotationToken" not in sent[1]


def test_move_stage_sends_only_the_versions_given(moto: Moto) -> None:
    """None arguments are omitted from UpdateSecretVersionStage."""
    name = moto.secret()
    new = str(uuid.uuid4())
    moto.store.put_pending(name, new, Sensitive("v2"))
    sent = moto.sent("UpdateSecretVersionStage")
    moto.store.move_stage(name, AWSPENDING, to_version=None, from_version=new)
    assert sent == [{"SecretId": name, "VersionStage": AWSPENDING, "RemoveFromVersionId": new}]


def test_a_lost_compare_and_swap_on_move_stage_raises_stage_conflict(moto: Moto) -> None:
    """GIVEN AWSCURRENT already moved WHEN another finish moves it from the old id THEN conflict."""
    name = moto.secret()
    old, new = moto.current(name), str(uuid.uuid4())
    moto.store.put_pending(name, new, Sensitive("v2"))
    moto.store.move_stage(name, AWSCURRENT, to_version=new, from_version=old)
    with pytest.raises(StageConflictError, match="not found in version"):
        moto.store.move_stage(name, AWSCURRENT, to_version=new, from_version=old)
    assert moto.store.get_value(name, stage=AWSPREVIOUS) == Sensitive("v1")


def test_a_conflicting_put_names_no_value(moto: Moto) -> None:
    """ResourceExistsException becomes VersionConflictError without the SecretString (C4)."""
    name = moto.secret()
    with pytest.raises(VersionConflictError) as raised:
        moto.store.put_pending(name, moto.current(name), Sensitive("sk-proj-secret"))
    assert "sk-proj-secret" not in str(raised.value)


def test_start_rotation_returns_the_new_version_id(moto: Moto) -> None:
    """RotateSecret's VersionId comes back (moto's rotation semantics are not asserted: H1/H2)."""
    name = moto.secret()
    moto.client.update_secret_version_stage(
        SecretId=name, VersionStage=AWSPENDING, RemoveFromVersionId=moto.seed_pending(name)
    )
    assert (
        moto.store.start_rotation(name)
        in moto.client.describe_secret(SecretId=name)["VersionIdsToStages"]
    )


def test_rotate_while_a_rotation_is_in_progress_raises_rotation_in_progress(moto: Moto) -> None:
    """The 'in progress' refusal maps to RotationInProgressError (produced here by moto H2)."""
    name = moto.secret()
    old, pending = moto.current(name), moto.seed_pending(name)
    moto.store.put_pending(name, pending, Sensitive("v2"))
    moto.store.move_stage(name, AWSCURRENT, to_version=pending, from_version=old)
    with pytest.raises(RotationInProgressError, match="remove-from-version-id"):
        moto.store.start_rotation(name)


def test_create_put_current_list_and_cancel_round_trip(moto: Moto) -> None:
    """The seeding and scheduling calls beyond the port work end to end."""
    arn = moto.store.create_secret("team/ai", Sensitive("v1"), description="d", tags={"team": "ai"})
    assert moto.store.describe(arn).name == "team/ai"
    version = moto.store.put_current("team/ai", Sensitive("v2"))
    assert moto.store.describe("team/ai").version_with(AWSCURRENT) == version
    assert [s.arn for s in moto.store.list_secrets(name_prefix="team/", tags={"team": "ai"})] == [
        arn
    ]
    assert moto.store.list_secrets(tags={"team": "web"}) == []
    moto.seed_pending("team/ai")
    moto.store.cancel_rotation("team/ai")
    assert moto.store.describe("team/ai").rotation_enabled is False


def test_configure_rotation_sends_the_schedule(moto: Moto) -> None:
    """RotateSecret carries the Lambda, ScheduleExpression, Duration and RotateImmediately."""
    name = moto.secret()
    sent = moto.sent("RotateSecret")
    with pytest.raises(ConfigError, match="Lambda"):  # moto knows no such function
        moto.store.configure_rotation(
            name, "arn:aws:lambda:us-east-1:123456789012:function:x", "rate(30 days)", duration="4h"
        )
    assert sent[0]["RotationRules"] == {"ScheduleExpression": "rate(30 days)", "Duration": "4h"}
    assert sent[0]["RotateImmediately"] is False


# --- error translation -------------------------------------------------------------------------


def test_a_missing_secret_names_the_region_and_what_to_check(moto: Moto) -> None:
    """ResourceNotFoundException on describe says where it looked."""
    with pytest.raises(
        SecretNotFoundError, match=r"not found in us-east-1; check the name/ARN and AWS_REGION"
    ):
        moto.store.describe("no-such-secret")


def test_a_deleted_secret_says_how_to_restore_it(moto: Moto) -> None:
    """InvalidRequestException about deletion becomes SecretNotFoundError with the fix."""
    name = moto.secret()
    moto.client.delete_secret(SecretId=name)
    with pytest.raises(SecretNotFoundError, match=f"restore-secret --secret-id {name}"):
        moto.store.get_value(name)


def test_a_duplicate_create_and_a_cancel_without_rotation_raise_config_error(moto: Moto) -> None:
    """Input mistakes moto reports become ConfigError."""
    name = moto.secret()
    with pytest.raises(ConfigError, match="already exists"):
        moto.store.create_secret(name, Sensitive("v"))
    with pytest.raises(ConfigError, match="not configured"):
        moto.store.cancel_rotation(name)


def test_a_client_side_validation_error_names_no_rotation_token(moto: Moto) -> None:
    """A too-short token fails in botocore (F1) as ConfigError, without the RotationToken."""
    name = moto.secret()
    with pytest.raises(ConfigError) as raised:
        moto.store.put_pending(
            name, "short", Sensitive("v2"), rotation_token=Sensitive(ROTATION_TOKEN)
        )
    assert ROTATION_TOKEN not in str(raised.value)


@pytest.mark.parametrize(
    ("status", "code", "message", "expected", "words"),
    [
        (
            400,
            "AccessDeniedException",
            "denied",
            ConfigError,
            "grant secretsmanager:DescribeSecret on s",
        ),
        (400, "ThrottlingException", "slow down", TransientServiceError, "ThrottlingException"),
        (500, "InternalServiceError", "boom", TransientServiceError, "InternalServiceError"),
        (503, "SomethingNew", "unavailable", TransientServiceError, "SomethingNew"),
        (400, "SomethingNew", "odd", ServiceError, "SomethingNew"),
        (400, "UnrecognizedClientException", "bad key", ConfigError, "credentials"),
        (400, "DecryptionFailure", "kms", ConfigError, "kms:Decrypt"),
        (
            400,
            "InvalidRequestException",
            "You can't perform this operation on the secret because it was marked for deletion.",
            SecretNotFoundError,
            "scheduled for deletion",
        ),
    ],
)
def test_service_errors_map_to_the_error_tree(
    status: int, code: str, message: str, expected: type[Exception], words: str
) -> None:
    """Each AWS error code lands on one rotator error with a useful message."""
    with pytest.raises(expected, match=words) as raised:
        _answer(status, code, message).describe("s")
    if expected is ServiceError:
        assert not isinstance(raised.value, TransientServiceError)


def test_aws_previous_rotation_wording_maps_to_rotation_in_progress() -> None:
    """AWS's own 'previous rotation isn't complete' message is recognised."""
    store = _answer(
        400,
        "InvalidRequestException",
        "A previous rotation isn't complete. That rotation will be reattempted.",
    )
    with pytest.raises(RotationInProgressError):
        store.start_rotation("s")


def test_an_unreachable_endpoint_is_transient() -> None:
    """Connection refused becomes TransientServiceError."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = build_client(
        region="us-east-1",
        session=dummy_session(),
        endpoint_url=f"http://127.0.0.1:{port}",
        max_attempts=1,
    )
    with pytest.raises(TransientServiceError):
        SecretsManagerStore(client).describe("s")
    client.close()


def test_a_read_timeout_is_transient_on_reads_and_response_lost_on_writes() -> None:
    """A silent server: reads may be retried, a write may have taken effect."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        client = build_client(
            region="us-east-1",
            session=dummy_session(),
            endpoint_url=f"http://127.0.0.1:{silent.getsockname()[1]}",
            read_timeout=0.2,
            max_attempts=1,
        )
        store = SecretsManagerStore(client)
        with pytest.raises(TransientServiceError) as read:
            store.get_value("s")
        with pytest.raises(ResponseLostError):
            store.put_pending("s", str(uuid.uuid4()), Sensitive("v2"))
        client.close()
    assert not isinstance(read.value, ResponseLostError)


# --- MotoServer --------------------------------------------------------------------------------


def test_seed_pending_version_refuses_when_another_rotation_is_pending(moto: Moto) -> None:
    """Like AWS (unlike moto H1), a second seed on a stuck secret is refused."""
    name = moto.secret()
    moto.seed_pending(name)
    with pytest.raises(RotationInProgressError):
        moto.seed_pending(name)


def test_moto_server_reset_wipes_its_state(moto_server: MotoServer) -> None:
    """POST /moto-api/reset forgets every secret."""
    client = moto_server.client()
    client.create_secret(Name="to-forget", SecretString="v")
    moto_server.reset()
    with pytest.raises(SecretNotFoundError):
        SecretsManagerStore(client).describe("to-forget")
    client.close()


def test_moto_server_env_lets_a_subprocess_reach_it(moto_server: MotoServer) -> None:
    """A child process configured only by env() reads the secret over HTTP."""
    client = moto_server.client()
    client.create_secret(Name="from-child", SecretString="v1")
    client.close()
    script = (
        "from rotator.adapters.secretsmanager import SecretsManagerStore, build_client\n"
        "store = SecretsManagerStore(build_client())\n"
        "print(store.get_value('from-child').reveal())\n"
    )
    env = {"PATH": os.environ.get("PATH", ""), **moto_server.env()}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "v1"), done.stderr


def test_moto_server_stops_cleanly_and_frees_its_port() -> None:
    """A second server starts, serves and stops; its port is free afterwards."""
    with MotoServer() as server:
        client = server.client()
        client.create_secret(Name="x", SecretString="v")
        client.close()
        port = server.port
    with socket.socket() as sock:
        sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
        )  # ignore TIME_WAIT, not listeners
        sock.bind(("127.0.0.1", port))
        sock.listen(1)


# --- BatchGetSecretValue and replicas ----------------------------------------------------------


def test_current_values_sends_at_most_twenty_ids_per_call(moto: Moto) -> None:
    """45 ids go out as SecretIdLists of 20, 20 and 5, and every secret is answered."""
    names = [moto.secret(f"v{i}") for i in range(45)]
    sent = moto.sent("BatchGetSecretValue")
    answers = moto.store.current_values(names)
    assert [len(params["SecretIdList"]) for params in sent] == [20, 20, 5]
    assert all(set(params) == {"SecretIdList"} for params in sent)
    assert {n: (v, value.reveal()) for n, (v, value) in answers.items()} == {
        name: (moto.current(name), f"v{i}") for i, name in enumerate(names)
    }


def _batch_pages(pages: list[dict[str, Any]]) -> tuple[SecretsManagerStore, list[dict[str, Any]]]:
    """A store whose BatchGetSecretValue calls get these JSON answers in turn (botocore parses
    them as it would AWS's); returns it and the requests sent."""
    client = build_client(
        region="us-east-1",
        session=dummy_session(),
        endpoint_url="http://127.0.0.1:9",
        max_attempts=1,
    )
    sent: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.secretsmanager.BatchGetSecretValue",
        lambda params, **_: sent.append(dict(params)),
    )

    class Raw:
        def __init__(self, body: bytes) -> None:
            self.body = body

        def stream(self, **_: object) -> Iterator[bytes]:
            yield self.body

    def answer(request: Any, **_: object) -> AWSResponse:
        body = json.dumps(pages[len(sent) - 1]).encode()
        return AWSResponse(request.url, 200, {}, Raw(body))

    client.meta.events.register("before-send.secretsmanager.*", answer)
    return SecretsManagerStore(client), sent


def test_current_values_follows_next_token_and_leaves_out_errors_and_binary() -> None:
    """Every NextToken page is read; a secret in Errors, or holding SecretBinary, is left out."""
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:{}-AbCdEf"
    version = "v" * 32
    store, sent = _batch_pages(
        [
            {
                "SecretValues": [
                    {
                        "ARN": arn.format("a"),
                        "Name": "a",
                        "VersionId": version,
                        "SecretString": "A",
                    },
                    {
                        "ARN": arn.format("bin"),
                        "Name": "bin",
                        "VersionId": version,
                        "SecretBinary": "AA==",
                    },
                ],
                "Errors": [
                    {
                        "SecretId": "gone",
                        "ErrorCode": "ResourceNotFoundException",
                        "Message": "Secrets Manager can't find the specified secret.",
                    }
                ],
                "NextToken": "page-2",
            },
            {
                "SecretValues": [
                    {"ARN": arn.format("b"), "Name": "b", "VersionId": version, "SecretString": "B"}
                ]
            },
        ]
    )
    answers = store.current_values(["a", arn.format("b"), "bin", "gone"])
    assert answers == {"a": (version, Sensitive("A")), arn.format("b"): (version, Sensitive("B"))}
    assert sent[1] == {"SecretIdList": ["a", arn.format("b"), "bin", "gone"], "NextToken": "page-2"}


def test_a_refused_batch_raises_config_error_naming_the_permission() -> None:
    """AccessDenied on the whole call says which permission to grant; the fleet falls back."""
    store = _answer(400, "AccessDeniedException", "not authorized")
    with pytest.raises(ConfigError, match=r"secretsmanager:BatchGetSecretValue"):
        store.current_values(["a"])


def test_a_replica_reports_its_primary_region(moto: Moto) -> None:
    """ListSecrets and DescribeSecret in the replica's region show PrimaryRegion (L13)."""
    primary = build_client(
        region="eu-west-1",
        session=dummy_session("eu-west-1"),
        endpoint_url=moto.endpoint_url,
        max_attempts=1,
    )
    try:
        primary.create_secret(
            Name="team/replicated", SecretString="v", AddReplicaRegions=[{"Region": "us-east-1"}]
        )
    finally:
        primary.close()
    moto.secret()
    listed = {d.name: d for d in moto.store.list_secrets()}
    assert listed["team/replicated"].primary_region == "eu-west-1"
    assert ":us-east-1:" in listed["team/replicated"].arn
    assert moto.store.describe(listed["team/replicated"].arn).primary_region == "eu-west-1"
