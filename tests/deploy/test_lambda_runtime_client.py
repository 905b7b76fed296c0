"""The package on AWS's own runtime client: awslambdaric on a bare python3.13, as Lambda runs it.

The unzipped ``dist/rotator-lambda.zip`` is the task root; ``python -m awslambdaric`` loads the
template's Handler from it and talks to a Runtime API server on 127.0.0.1 (tests/deploy/
lambda_runtime.py) that plays Secrets Manager's four rotation events against moto's server
and the OpenAI emulator. Skipped, with the reason, where no python3.13 exists; `make lambda-rt`
(part of `make test`) sets up the interpreter and the pinned awslambdaric.
"""

from __future__ import annotations

import importlib.util
import json
import uuid
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import pytest
from moto.awslambda.models import LambdaFunction

from rotator.testing.moto_server import dummy_session
from tests.deploy.conftest import ROOT, World
from tests.deploy.lambda_runtime import ForwardProxy, LambdaProcess, RuntimeAPI

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
#: Stands for the workload's key in an event: replaced by the seeded key's value.
KEY = "<the app key>"


def _env_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "lambda_runtime_env", ROOT / "scripts" / "lambda_runtime_env.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def runtime_ready() -> None:
    script = _env_script()
    python = script.find_python313()
    if python is None:
        pytest.skip("no python3.13 on PATH or in pyenv: cannot run the package as Lambda does")
    if not script.ready(python):
        pytest.fail(f"build/lambda-rt is not set up for {python}; run `make lambda-rt`")


@pytest.fixture(scope="module")
def task_root(lambda_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The unzipped package: Lambda's /var/task."""
    root = tmp_path_factory.mktemp("task")
    with zipfile.ZipFile(lambda_zip) as archive:
        archive.extractall(root)
    return root


def function_env(template: dict[str, Any], world: World) -> dict[str, str]:
    """The template's Environment with test values; only the two endpoints point at 127.0.0.1."""
    variables = template["Resources"]["RotationFunction"]["Properties"]["Environment"]
    env: dict[str, str] = {}
    for name, value in variables["Variables"].items():
        if isinstance(value, dict) and "Fn::If" in value:
            continue  # optional (HTTPS_PROXY, NO_PROXY): absent with the default parameters
        if isinstance(value, dict):
            value = template["Parameters"][value["Ref"]].get("Default", "")  # noqa: PLW2901
        env[name] = str(value)
    env["ROTATOR_ADMIN_KEY_SECRET_ID"] = world.admin_arn
    env["OPENAI_BASE_URL"] = world.openai.base_url  # test-only: the emulator
    env["ROTATOR_GRACE_PERIOD"] = "0"  # test-only: the old key ends at once (stack default 24h)
    env.update(world.aws.env())  # test-only: moto's endpoint; the role's credentials
    env["AWS_SESSION_TOKEN"] = "session-token"  # Lambda always sets one
    return env


@pytest.fixture
def rotation_world(world: World) -> tuple[World, str, str]:
    arn = world.seed_rotated_secret()
    return world, arn, world.aws.seed_pending_version(arn)


def _secrets(world: World) -> list[str]:
    return [world.key_value, world.admin_key]


def test_runtime_client_runs_a_full_rotation_from_the_unzipped_package(
    runtime_ready: None,
    task_root: Path,
    template: dict[str, Any],
    rotation_world: tuple[World, str, str],
) -> None:
    """GIVEN awslambdaric on python3.13 WHEN Secrets Manager's four events arrive THEN it rotates.

    Each step is answered on /response with ``null``, as Lambda serialises None; the new key
    works, the old one does not, and no key appears in anything the runtime printed.
    """
    world, arn, token = rotation_world
    handler = template["Resources"]["RotationFunction"]["Properties"]["Handler"]
    with (
        RuntimeAPI() as api,
        LambdaProcess(task_root, api, function_env(template, world), handler=handler) as fn,
    ):
        answers = [
            api.invoke({"Step": step, "SecretId": arn, "ClientRequestToken": token})
            for step in STEPS
        ]
        output = fn.stop()
    assert [(a.outcome, a.body) for a in answers] == [("response", b"null")] * 4, output[-3000:]
    assert api.init_error is None
    assert api.calls[:2] == ["GET next", "POST response"]
    assert api.calls.count("POST response") == 4
    assert "AWSCURRENT" in world.store.describe(arn).versions[token]
    new_key = world.current(arn)["api_key"]
    assert world.emulator.key_works(new_key)
    assert not world.emulator.key_works(world.key_value)
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert {line.get("step") for line in lines} >= set(STEPS)  # structlog's JSON lines
    for secret in [*_secrets(world), new_key]:
        assert secret not in output


@pytest.mark.parametrize(
    ("event", "in_message"),
    [
        ({"Step": "rotateSecret"}, "rotateSecret"),
        ({"Step": "createSecret", "SecretId": None}, "SecretId"),
        ({"Step": "createSecret", "ClientRequestToken": KEY}, "ClientRequestToken"),
        ({"Step": "createSecret", "SecretId": KEY}, "SecretId"),
    ],
    ids=["unknown-step", "no-secret-id", "key-as-token", "key-as-secret-id"],
)
def test_runtime_client_answers_a_bad_event_in_lambdas_error_shape_without_a_key(
    runtime_ready: None,
    task_root: Path,
    template: dict[str, Any],
    rotation_world: tuple[World, str, str],
    event: dict[str, Any],
    in_message: str,
) -> None:
    """GIVEN a malformed event WHEN the runtime calls the handler THEN /error carries the shape.

    ``{"errorMessage", "errorType", "requestId", "stackTrace"}`` as Lambda reports it, naming
    the problem, with no key anywhere in the message, the stack or the runtime's output; the
    same container then still rotates (an error does not kill the runtime).
    """
    world, arn, token = rotation_world
    bad = {"SecretId": arn, "ClientRequestToken": token, **event}
    bad = {name: world.key_value if value == KEY else value for name, value in bad.items()}
    with (
        RuntimeAPI() as api,
        LambdaProcess(task_root, api, function_env(template, world)) as fn,
    ):
        answer = api.invoke(bad)
        after = api.invoke({"Step": "createSecret", "SecretId": arn, "ClientRequestToken": token})
        output = fn.stop()
    error = answer.json()
    assert set(error) == {"errorMessage", "errorType", "requestId", "stackTrace"}, error
    assert answer.outcome == "error"
    assert error["requestId"] == answer.request_id
    assert in_message in error["errorMessage"]
    assert isinstance(error["stackTrace"], list)
    assert error["stackTrace"]
    text = json.dumps(error)
    for secret in _secrets(world):
        assert secret not in text
        assert secret not in output
    assert (after.outcome, after.body) == ("response", b"null")


def test_runtime_client_fails_at_init_when_the_handler_name_is_wrong(
    runtime_ready: None, task_root: Path, template: dict[str, Any], world: World
) -> None:
    """GIVEN _HANDLER naming no function WHEN the runtime starts THEN it posts init/error and exits.

    As on Lambda: ``Runtime.HandlerNotFound`` before any event is fetched.
    """
    with (
        RuntimeAPI() as api,
        LambdaProcess(
            task_root, api, function_env(template, world), handler="handler.no_such_function"
        ) as fn,
    ):
        assert api.init_failed.wait(60), fn.stop()[-3000:]
        exit_code = fn.wait_exit()
        fn.stop()
    assert api.init_error is not None
    assert api.init_error["errorType"] == "Runtime.HandlerNotFound"
    assert api.init_error["errorMessage"] == (
        "Handler 'no_such_function' missing on module 'handler'"
    )
    assert api.init_error_type == "Runtime.HandlerNotFound"
    assert api.calls == ["POST init/error"]
    assert exit_code != 0


def test_runtime_client_sends_openai_and_secrets_manager_calls_through_the_proxy_variables(
    runtime_ready: None,
    task_root: Path,
    template: dict[str, Any],
    rotation_world: tuple[World, str, str],
) -> None:
    """GIVEN HTTP(S)_PROXY in the function's environment WHEN it rotates THEN both clients use it.

    httpx (``trust_env``, on by default and never switched off by the adapter) and botocore
    read the proxy variables the same way for http and https; the servers here are plain
    http, so HTTP_PROXY carries the calls while HTTPS_PROXY is set as the template sets it.
    """
    world, arn, token = rotation_world
    variables = template["Resources"]["RotationFunction"]["Properties"]["Environment"]
    assert variables["Variables"]["HTTPS_PROXY"] == {
        "Fn::If": ["HasHttpsProxy", {"Ref": "HttpsProxy"}, {"Ref": "AWS::NoValue"}]
    }
    with ForwardProxy() as proxy, RuntimeAPI() as api:
        env = function_env(template, world)
        env |= {"HTTPS_PROXY": proxy.url, "HTTP_PROXY": proxy.url}
        with LambdaProcess(task_root, api, env) as fn:
            answers = [
                api.invoke({"Step": step, "SecretId": arn, "ClientRequestToken": token})
                for step in STEPS
            ]
            output = fn.stop()
    assert [(a.outcome, a.body) for a in answers] == [("response", b"null")] * 4, output[-3000:]
    hosts = {host for _, host in proxy.seen}
    openai_host = world.openai.base_url.split("//")[1].split("/")[0]
    aws_host = world.aws.endpoint_url.split("//")[1].split("/")[0]
    assert hosts == {openai_host, aws_host}
    assert ("POST", aws_host) in proxy.seen
    assert {m for m, h in proxy.seen if h == openai_host} >= {"GET", "POST", "DELETE"}
    assert not world.emulator.key_works(world.key_value)


def test_moto_rotate_secret_drives_the_four_steps_through_the_runtime_client(
    runtime_ready: None,
    task_root: Path,
    lambda_zip: Path,
    template: dict[str, Any],
    world: World,
) -> None:
    """GIVEN the zip as a moto Lambda WHEN RotateSecret runs THEN awslambdaric serves each step.

    moto cannot run a function without Docker, so its one container hook is pointed at the
    runtime client. It sends the secret's name and no RotationToken where AWS sends the ARN and
    a token, and ignores a failed step where AWS stops: the hook restores AWS's event and stops
    on a failure, so what the function sees is what AWS would send.
    """
    arn = world.seed_rotated_secret()
    props = template["Resources"]["RotationFunction"]["Properties"]
    env = function_env(template, world)
    session = dummy_session()
    iam = session.client("iam", endpoint_url=world.aws.endpoint_url)
    lam = session.client("lambda", endpoint_url=world.aws.endpoint_url)
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
    role = iam.create_role(RoleName="rotator-zip", AssumeRolePolicyDocument=json.dumps(trust))
    function_arn = lam.create_function(
        FunctionName="rotator-zip",
        Runtime=props["Runtime"],
        Handler=props["Handler"],
        Role=role["Role"]["Arn"],
        Timeout=props["Timeout"],
        MemorySize=props["MemorySize"],
        Code={"ZipFile": lambda_zip.read_bytes()},
        Environment={"Variables": env},
    )["FunctionArn"]
    seen: list[dict[str, Any]] = []
    with (
        RuntimeAPI() as api,
        LambdaProcess(task_root, api, env, handler=props["Handler"]) as fn,
    ):

        def via_runtime_client(_function: object, event: Any = None) -> tuple[str, bool, str]:
            sent = dict(event or {})
            sent["SecretId"] = arn  # AWS sends the ARN; moto the name
            sent.setdefault("RotationToken", str(uuid.uuid4()))
            seen.append(sent)
            answer = api.invoke(sent)
            if answer.outcome != "response":  # AWS stops at a failed step; moto would go on
                raise RuntimeError(answer.body.decode()[:500])
            return answer.body.decode(), False, ""

        with mock.patch.object(LambdaFunction, "_invoke_lambda", via_runtime_client):
            client = world.aws.client()
            client.rotate_secret(  # moto enables rotation only with rules (its quirk G1)
                SecretId=arn,
                RotationLambdaARN=function_arn,
                RotationRules={"AutomaticallyAfterDays": 30},
            )
            client.close()
        output = fn.stop()
    iam.close()
    lam.close()
    assert [e["Step"] for e in seen] == list(STEPS), output[-3000:]
    token = seen[0]["ClientRequestToken"]
    assert {e["ClientRequestToken"] for e in seen} == {token}
    assert "AWSCURRENT" in world.store.describe(arn).versions[token]
    assert world.emulator.key_works(world.current(arn)["api_key"])
    assert not world.emulator.key_works(world.key_value)
    assert world.key_value not in output
