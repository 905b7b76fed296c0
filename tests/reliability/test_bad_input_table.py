"""Bad input on purpose, across the CLI, Lambda events, secret values, admin-key secrets and
provider answers: a one-line message naming the problem and the fix, the right exit code (2
for bad input, 1 for a provider failure; the Lambda raises), and nothing changed.

tests/e2e/test_bad_input.py has twelve CLI cases over real HTTP; these are others.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from unittest import mock

import httpx
import pytest
from click.testing import CliRunner
from moto.core.config import default_user_config

import handler
from rotator.cli.app import cli
from rotator.domain.sensitive import Sensitive
from rotator.errors import RotatorError
from rotator.rotation.local import rotate_locally
from rotator.testing.moto_server import dummy_session, noop_rotation_function
from tests.e2e.conftest import Stack
from tests.rotation.conftest import ADMIN_SECRET, World, make_world

_T = TypeVar("_T")
TOKEN = "12345678-1234-1234-1234-123456789012"


def assert_clear(message: str, fragment: str, fix: str, secrets: list[str]) -> None:
    """One line, naming the problem (``fragment``) and the fix (``fix``), no key value."""
    assert "\n" not in message.strip(), message
    assert len(message) < 600, f"message of {len(message)} characters"
    assert fragment.lower() in message.lower(), message
    assert fix.lower() in message.lower(), f"no fix named: {message}"
    for secret in secrets:
        assert secret not in message


def app_value(stack: Stack, **changes: object) -> str:
    data: dict[str, object] = {
        "api_key": stack.old_key,
        "project_id": stack.project_id,
        "service_account_id": stack.old_account,
        "key_id": stack.old_key_id,
        "admin_key_secret_id": stack.admin_secret,
    }
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v is not None})


def full_snapshot(stack: Stack) -> tuple[object, ...]:
    """Labels, values (unless the secret is deleted), accounts and live keys."""
    client = stack.aws.client()
    described = client.describe_secret(SecretId=stack.arn)
    values: dict[str, str | None] = {}
    versions: list[str] = [] if "DeletedDate" in described else [*described["VersionIdsToStages"]]
    for vid in versions:
        try:
            values[vid] = client.get_secret_value(SecretId=stack.arn, VersionId=vid).get(
                "SecretString"
            )
        except client.exceptions.ResourceNotFoundException:
            values[vid] = None  # the empty version RotateSecret made
    client.close()
    return (*stack.snapshot(), values)


# -- the CLI ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CliCase:
    name: str
    prepare: Callable[[Stack, pytest.MonkeyPatch], list[str]]
    fragment: str
    fix: str


def after(action: Callable[[], object], result: _T) -> _T:
    """Do ``action`` to prepare a case, then give the case's input."""
    action()
    return result


def _put(stack: Stack, value: str) -> None:
    stack.put_value(value)


CLI_CASES = [
    CliCase("SECRET_ID and --all", lambda s, m: ["rotate", s.secret, "--all"], "--all", "either"),
    CliCase(
        "test timeout of zero",
        lambda s, m: ["rotate", s.secret, "--test-timeout", "0"],
        "--test-timeout",
        "more than 0 seconds",
    ),
    CliCase(
        "log level unknown",
        lambda s, m: ["rotate", s.secret, "--log-level", "LOUD"],
        "'LOUD' is not a level",
        "use DEBUG, INFO",
    ),
    CliCase(
        "base URL not http(s)",
        lambda s, m: ["rotate", s.secret, "--openai-base-url", "ftp://127.0.0.1/v1"],
        "not an http(s) URL",
        "use e.g. https://api.openai.com/v1",
    ),
    CliCase(
        "ROTATOR_TEST_TIMEOUT not a number",
        lambda s, m: after(
            lambda: m.setenv("ROTATOR_TEST_TIMEOUT", "soon"),
            ["rotate", s.secret],
        ),
        "ROTATOR_TEST_TIMEOUT 'soon'",
        "use a number with s, m, h or d",
    ),
    CliCase(
        "ROTATOR_GRACE_PERIOD not a duration",
        lambda s, m: after(
            lambda: m.setenv("ROTATOR_GRACE_PERIOD", "forever"),
            ["rotate", s.secret],
        ),
        "not a duration",
        "e.g. 0, 15m or 24h",
    ),
    CliCase(
        "secret value is a JSON list",
        lambda s, m: after(
            lambda: _put(s, "[1, 2]"),
            ["rotate", s.secret],
        ),
        "not an object",
        "store a JSON object",
    ),
    CliCase(
        "api_key holds the admin key",
        lambda s, m: after(
            lambda: _put(s, app_value(s, api_key=s.admin_key)),
            ["rotate", s.secret],
        ),
        "holds an admin key",
        "store the project service-account key",
    ),
    CliCase(
        "retiring is not a list",
        lambda s, m: after(
            lambda: _put(s, app_value(s, retiring="soon")),
            ["rotate", s.secret],
        ),
        "'retiring' must be a list",
        "fix the secret value",
    ),
    CliCase(
        "retiring entry with a bad time",
        lambda s, m: after(
            lambda: _put(
                s, app_value(s, retiring=[{"key_id": "key_old", "not_after": "tomorrow"}])
            ),
            ["rotate", s.secret],
        ),
        "ISO 8601",
        "fix it or remove the field",
    ),
    CliCase(
        "secret value nested 60 000 deep",
        lambda s, m: after(
            lambda: _put(s, "[" * 60_000),
            ["rotate", s.secret],
        ),
        "not JSON",
        "store a JSON object",
    ),
    CliCase(
        "admin-key secret is broken JSON",
        lambda s, m: after(
            lambda: s.store.put_current(s.admin_secret, Sensitive('{"admin_key": ')),
            ["rotate", s.secret],
        ),
        "not valid JSON",
        "store the bare sk-admin-... key",
    ),
    CliCase(
        "admin-key secret field is a number",
        lambda s, m: after(
            lambda: s.store.put_current(s.admin_secret, Sensitive('{"admin_key": 42}')),
            ["rotate", s.secret],
        ),
        "no string field 'admin_key'",
        'store {"admin_key": "sk-admin-..."}',
    ),
    CliCase(
        "admin-key secret nested 60 000 deep",
        lambda s, m: after(
            lambda: s.store.put_current(s.admin_secret, Sensitive('{"a":' + "[" * 60_000)),
            ["rotate", s.secret],
        ),
        "not valid JSON",
        "store the bare sk-admin-... key",
    ),
    CliCase(
        "admin key of another organization",
        lambda s, m: after(
            lambda: s.store.put_current(
                s.admin_secret,
                Sensitive(json.dumps({"admin_key": s.emulator.add_admin_key(org_id="org_x")})),
            ),
            ["rotate", s.secret],
        ),
        "was not found",
        "admin key belongs to the project's organization",
    ),
    CliCase(
        "secret scheduled for deletion",
        lambda s, m: after(
            lambda: _delete(s),
            ["rotate", s.secret],
        ),
        "scheduled for deletion",
        "restore-secret",
    ),
    # -- issue 10: the new refusals ---------------------------------------------------------
    CliCase(
        "admin key given as --admin-key-secret-id",
        lambda s, m: ["rotate", s.secret, "--admin-key-secret-id", s.admin_key],
        "--admin-key-secret-id (ROTATOR_ADMIN_KEY_SECRET_ID) holds an API key",
        "store the key in its own secret",
    ),
    CliCase(
        "admin key in ROTATOR_ADMIN_KEY_SECRET_ID",
        lambda s, m: after(
            lambda: m.setenv("ROTATOR_ADMIN_KEY_SECRET_ID", s.admin_key),
            ["rotate", s.secret],
        ),
        "ROTATOR_ADMIN_KEY_SECRET_ID) holds an API key",
        "give --admin-key-secret-id",
    ),
    CliCase(
        "admin key as the secret's admin_key_secret_id",
        lambda s, m: after(
            lambda: _put(s, app_value(s, admin_key_secret_id=s.admin_key)),
            ["rotate", s.secret],
        ),
        "secret field 'admin_key_secret_id' holds an API key",
        "store the key in its own secret",
    ),
    CliCase(
        "a key as init --from-env's variable name",
        lambda s, m: ["init", "openai/new", "--project-id", s.project_id, "--from-env", s.old_key],
        "--from-env takes the name of an environment variable",
        "pass its name",
    ),
    CliCase(
        "base URL with a query",
        lambda s, m: ["rotate", s.secret, "--openai-base-url", "https://api.openai.com/v1?x=1"],
        "has a query",
        "give only scheme, host, port and path",
    ),
    CliCase(
        "base URL with a fragment",
        lambda s, m: ["rotate", s.secret, "--openai-base-url", "https://api.openai.com/v1#x"],
        "has a fragment",
        "give only scheme, host, port and path",
    ),
    CliCase(
        "base URL with userinfo",
        lambda s, m: ["rotate", s.secret, "--openai-base-url", "https://u:pw@api.openai.com/v1"],
        "has a user name or password",
        "give only scheme, host, port and path",
    ),
    CliCase(
        "base URL with dot segments",
        lambda s, m: after(
            lambda: m.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1/../x"),
            ["rotate", s.secret],
        ),
        "'..' path segment",
        "e.g. https://api.openai.com/v1",
    ),
    CliCase(
        "prune --margin below the floor",
        lambda s, m: ["prune", s.secret, "--margin", "5m", "--yes"],
        "--margin 5m is below the floor of 10m",
        "use 10m or more",
    ),
    CliCase(
        "ROTATOR_ORPHAN_MARGIN below the floor",
        lambda s, m: after(
            lambda: m.setenv("ROTATOR_ORPHAN_MARGIN", "0"),
            ["prune", s.secret, "--yes"],
        ),
        "ROTATOR_ORPHAN_MARGIN 0s is below the floor",
        "use 10m or more",
    ),
    CliCase(
        "recover of a pending version made moments ago",
        lambda s, m: after(
            lambda: s.aws.seed_pending_version(s.arn),
            ["recover", s.secret, "--yes"],
        ),
        "younger than 10m",
        "pass --force if you know no rotation",
    ),
]

CLI_BUGS: dict[str, str] = {}


def _cli_param(case: CliCase) -> object:
    reason = CLI_BUGS.get(case.name)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_cli_param(c) for c in CLI_CASES])
def test_cli_refuses_bad_input_with_exit_2_and_changes_nothing(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, case: CliCase
) -> None:
    """A command with bad input: exit 2, one error line naming the fix, nothing changed."""
    args = case.prepare(stack, monkeypatch)
    before = full_snapshot(stack)
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, (case.name, result.output)
    errors = [line for line in result.stderr.splitlines() if line.lower().startswith("error")]
    assert len(errors) == 1, result.stderr
    assert_clear(errors[0], case.fragment, case.fix, [stack.old_key, stack.admin_key])
    assert full_snapshot(stack) == before


# -- Lambda events ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LambdaCase:
    name: str
    event: Callable[[Stack, str], Any]
    fragment: str
    fix: str


class Context:
    aws_request_id = "req-bad"


def _delete(stack: Stack) -> None:
    client = stack.aws.client()
    client.delete_secret(SecretId=stack.arn, RecoveryWindowInDays=7)
    client.close()


@pytest.fixture
def cold_lambda(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A cold start (no admin key cached from an earlier test), its clients closed after."""
    _drop_default_app()
    yield
    _drop_default_app()


def _drop_default_app() -> None:
    """Close the warm container's app, if one was built, so the next call builds afresh."""
    if handler.default_app.cache_info().currsize:
        handler.default_app().close()
    handler.default_app.cache_clear()


def _other_secrets_token(stack: Stack) -> str:
    stack.store.create_secret("openai/other", Sensitive(app_value(stack)))
    return stack.aws.seed_pending_version("openai/other")


LAMBDA_CASES = [
    LambdaCase(
        "event is a list", lambda s, t: [s.arn, t], "must be a JSON object", "Step, SecretId"
    ),
    LambdaCase(
        "step missing",
        lambda s, t: {"SecretId": s.arn, "ClientRequestToken": t},
        "unknown rotation step",
        "expected one of createSecret",
    ),
    LambdaCase(
        "step in snake case",
        lambda s, t: {"Step": "create_secret", "SecretId": s.arn, "ClientRequestToken": t},
        "unknown rotation step 'create_secret'",
        "expected one of createSecret",
    ),
    LambdaCase(
        "token missing",
        lambda s, t: {"Step": "createSecret", "SecretId": s.arn},
        "no valid ClientRequestToken",
        "32-64 printable characters",
    ),
    LambdaCase(
        "token of the wrong type",
        lambda s, t: {"Step": "createSecret", "SecretId": s.arn, "ClientRequestToken": 7},
        "no valid ClientRequestToken",
        "32-64 printable characters",
    ),
    LambdaCase(
        "SecretId blank",
        lambda s, t: {"Step": "createSecret", "SecretId": " ", "ClientRequestToken": t},
        "no SecretId",
        "Secrets Manager always sends one",
    ),
    LambdaCase(
        "token of another secret",
        lambda s, t: {
            "Step": "createSecret",
            "SecretId": s.arn,
            "ClientRequestToken": _other_secrets_token(s),
        },
        "is not a version of secret",
        "must come from RotateSecret on this secret",
    ),
    LambdaCase(
        "RotationToken malformed",
        lambda s, t: {
            "Step": "createSecret",
            "SecretId": s.arn,
            "ClientRequestToken": t,
            "RotationToken": "bad token!",
        },
        "malformed RotationToken",
        "36-256",
    ),
    LambdaCase(
        "SecretId of 10 000 characters",
        lambda s, t: {"Step": "createSecret", "SecretId": "x" * 10_000, "ClientRequestToken": t},
        "SecretId",
        "2048",
    ),
    LambdaCase(
        "admin key lacks the write scope",
        lambda s, t: after(
            lambda: s.store.put_current(
                s.admin_secret,
                Sensitive(json.dumps({"admin_key": s.emulator.add_admin_key(scopes="read")})),
            ),
            {"Step": "createSecret", "SecretId": s.arn, "ClientRequestToken": t},
        ),
        "api.management.write",
        "give the admin key",
    ),
    LambdaCase(
        "project does not exist",
        lambda s, t: {"Step": "createSecret", "SecretId": s.arn, "ClientRequestToken": t},
        "proj_gone",
        "check project_id in the secret",
    ),
    LambdaCase(
        "secret scheduled for deletion",
        lambda s, t: after(
            lambda: _delete(s),
            {"Step": "createSecret", "SecretId": s.arn, "ClientRequestToken": t},
        ),
        "scheduled for deletion",
        "restore-secret",
    ),
]

LAMBDA_CASES += [
    LambdaCase(
        "a key as SecretId",
        lambda s, t: {"Step": "createSecret", "SecretId": s.old_key, "ClientRequestToken": t},
        "SecretId holds an API key",
        "give the rotation event's SecretId that secret's name",
    ),
    LambdaCase(
        "a key as ClientRequestToken",
        lambda s, t: {"Step": "createSecret", "SecretId": s.arn, "ClientRequestToken": s.old_key},
        "ClientRequestToken holds an API key",
        "send the token RotateSecret returned",
    ),
    LambdaCase(
        "a key as the prune event's SecretId",
        lambda s, t: {"Action": "prune", "SecretId": s.admin_key},
        "SecretId holds an API key",
        "store the key in its own secret",
    ),
]

LAMBDA_BUGS: dict[str, str] = {}


def _lambda_param(case: LambdaCase) -> object:
    reason = LAMBDA_BUGS.get(case.name)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_lambda_param(c) for c in LAMBDA_CASES])
@pytest.mark.usefixtures("cold_lambda")
def test_lambda_raises_on_bad_input_and_changes_nothing(stack: Stack, case: LambdaCase) -> None:
    """The handler raises a one-line error naming the fix (so the step fails); nothing changes."""
    if case.fragment == "proj_gone":
        stack.put_value(app_value(stack, project_id="proj_gone"))
    token = stack.aws.seed_pending_version(stack.arn)
    event = case.event(stack, token)
    before = full_snapshot(stack)
    with pytest.raises(Exception) as caught:  # noqa: PT011 - any escape is what we look for
        handler.lambda_handler(event, Context())
    assert isinstance(caught.value, RotatorError), repr(caught.value)
    assert_clear(str(caught.value), case.fragment, case.fix, [stack.old_key, stack.admin_key])
    assert full_snapshot(stack) == before


# -- provider answers (the service over the emulator, with answers rewritten) -------------------


@dataclass(frozen=True)
class ProviderCase:
    name: str
    prepare: Callable[[World], None]
    fragment: str
    fix: str
    exit_code: int


def _answer(world: World, method: str, suffix: str, reply: httpx.Response) -> None:
    emulator = world.emulator

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == method and request.url.path.endswith(suffix):
            return reply
        return emulator.handle(request)

    world.http = httpx.Client(transport=httpx.MockTransport(handle))


def _read_only_admin(world: World, *, bare: bool) -> None:
    world.emulator.bare_string_errors = bare
    key = world.emulator.add_admin_key(scopes="read")
    world.store.put_current(ADMIN_SECRET, Sensitive(json.dumps({"admin_key": key})))


PROVIDER_CASES = [
    ProviderCase(
        "403 missing scope as a bare-string error",
        lambda w: _read_only_admin(w, bare=True),
        "lacks api.management.write",
        "give the admin key",
        2,
    ),
    ProviderCase(
        "403 without a scope named",
        lambda w: _answer(w, "POST", "/api_keys", httpx.Response(403, json={"error": "no"})),
        "refused the admin key",
        "give the admin key",
        2,
    ),
    ProviderCase(
        "non-JSON 200 body on the key list",
        lambda w: _answer(w, "GET", "/api_keys", httpx.Response(200, text="<html>")),
        "not JSON",
        "rotator prune",
        1,
    ),
    ProviderCase(
        "key list with wrong types",
        lambda w: _answer(
            w,
            "GET",
            "/api_keys",
            httpx.Response(200, json={"object": "list", "data": [{"id": 1}], "has_more": False}),
        ),
        "malformed",
        "rotator prune",
        1,
    ),
    ProviderCase(
        "non-JSON answer to the create",
        lambda w: _answer(w, "POST", "/api_keys", httpx.Response(200, text="ok")),
        "not JSON",
        "reconcile by name",
        1,
    ),
    ProviderCase(
        "create answer whose key value is a number",
        lambda w: _answer(
            w,
            "POST",
            "/api_keys",
            httpx.Response(200, json={"id": "key_k", "name": "n", "value": 5, "created_at": 1}),
        ),
        "malformed",
        "reconcile by name",
        1,
    ),
    ProviderCase(
        "502 HTML page from a proxy, every time",
        lambda w: _answer(w, "GET", "/api_keys", httpx.Response(502, text="<html>")),
        "answered 502",
        "retry later",
        1,
    ),
    ProviderCase(
        "key list nested a million deep",
        lambda w: _answer(w, "GET", "/api_keys", httpx.Response(200, text="[" * 1_000_000)),
        "not JSON",
        "rotator prune",
        1,
    ),
]

PROVIDER_BUGS: dict[str, str] = {}


def _provider_param(case: ProviderCase) -> object:
    reason = PROVIDER_BUGS.get(case.name)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_provider_param(c) for c in PROVIDER_CASES])
def test_bad_provider_answer_fails_clearly_and_changes_nothing(case: ProviderCase) -> None:
    """A bad OpenAI answer: a one-line error naming the fix, the CLI's exit code, no change."""
    world = make_world()
    case.prepare(world)
    before = (world.store.versions(world.arn), world.current(), world.accounts())
    live = world.emulator.live_key_ids(world.project_id)
    with pytest.raises(Exception) as caught:  # noqa: PT011 - any escape is what we look for
        rotate_locally(world.engine(test_timeout=2, revocation_timeout=1), world.arn)
    assert isinstance(caught.value, RotatorError), repr(caught.value)
    assert caught.value.exit_code == case.exit_code
    assert_clear(str(caught.value), case.fragment, case.fix, [world.seeded_value, world.admin_key])
    after = (world.store.versions(world.arn), world.current(), world.accounts())
    assert {k: v for k, v in after[0].items() if v} == {k: v for k, v in before[0].items() if v}
    assert after[1:] == before[1:]
    assert world.emulator.live_key_ids(world.project_id) == live


# -- inputs AWS accepts, which rotator must accept too --------------------------------------


@pytest.mark.usefixtures("cold_lambda")
def test_lambda_rotates_with_a_client_request_token_holding_underscores(stack: Stack) -> None:
    """RotateSecret takes any 32-64 character token; the handler rotates with it (L17)."""
    token = "rotation_2026_12_01_custom_token_0001"
    client = stack.aws.client()
    with mock.patch.dict(default_user_config, {"lambda": {"use_docker": False}}):
        function_arn = noop_rotation_function(dummy_session(), stack.aws.endpoint_url)
        client.rotate_secret(
            SecretId=stack.arn,
            ClientRequestToken=token,
            RotationLambdaARN=function_arn,
            RotationRules={"AutomaticallyAfterDays": 30},
        )
    client.close()
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        event = {"Step": step, "SecretId": stack.arn, "ClientRequestToken": token}
        handler.lambda_handler(event, Context())
    assert "AWSCURRENT" in stack.store.describe(stack.arn).versions[token]
    assert stack.emulator.key_works(stack.current()["api_key"])
