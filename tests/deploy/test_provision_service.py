"""init_secret / schedule_rotation / disable_rotation against the in-memory store and emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from rotator.adapters.openai_http import OpenAIHttp
from rotator.domain.schedule import RotationSchedule
from rotator.domain.sensitive import Sensitive
from rotator.errors import ConfigError, RotationInProgressError, SecretFormatError, ServiceError
from rotator.provisioning.checks import KeySource
from rotator.provisioning.init import init_secret
from rotator.provisioning.schedule import disable_rotation, schedule_rotation
from rotator.testing.memory_store import InMemorySecretStore
from rotator.testing.openai_emulator import OpenAIEmulator, SeededKey

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:rotator"
NAME = "openai/app"


@dataclass
class Setup:
    store: InMemorySecretStore
    emulator: OpenAIEmulator
    openai: OpenAIHttp
    project_id: str
    seeded: SeededKey
    admin_key: str

    def init(self, source: KeySource, **options: object) -> object:
        return init_secret(
            self.store,
            self.openai.admin(Sensitive(self.admin_key)),
            self.openai,
            secret_id=NAME,
            project_id=self.project_id,
            source=source,
            **options,  # type: ignore[arg-type]
        )


@pytest.fixture
def setup() -> Iterator[Setup]:
    emulator = OpenAIEmulator()
    project_id = emulator.add_project()
    admin_key = emulator.add_admin_key()
    seeded = emulator.add_service_account(project_id, "app")
    with httpx.Client(transport=emulator.transport()) as http:
        openai = OpenAIHttp(http, "https://openai.test/v1")
        yield Setup(InMemorySecretStore(), emulator, openai, project_id, seeded, admin_key)


def _value(store: InMemorySecretStore) -> dict[str, object]:
    raw = store.get_value(NAME, stage="AWSCURRENT")
    assert raw is not None
    data: dict[str, object] = json.loads(raw.reveal())
    return data


def test_init_from_an_existing_key_finds_its_id_and_service_account(setup: Setup) -> None:
    """The admin API's redacted listing identifies the key; the secret gets the full shape."""
    setup.init(KeySource(existing_key=Sensitive(setup.seeded.value)), admin_key_secret_id="adm")
    assert _value(setup.store) == {
        "api_key": setup.seeded.value,
        "project_id": setup.project_id,
        "key_id": setup.seeded.key_id,
        "service_account_id": setup.seeded.service_account_id,
        "admin_key_secret_id": "adm",
    }


def test_init_with_a_new_service_account_stores_its_first_key(setup: Setup) -> None:
    """A fresh service account is created and its one-time key value is stored."""
    result = setup.init(KeySource(new_service_account="payments"))
    value = _value(setup.store)
    assert setup.emulator.key_works(str(value["api_key"]))
    names = {a.id: a.name for a in setup.emulator.service_accounts(setup.project_id)}
    assert names[str(value["service_account_id"])] == "payments"
    assert str(value["api_key"]) not in repr(result)


def test_init_refuses_to_overwrite_a_secret_with_a_value_unless_forced(setup: Setup) -> None:
    """Without --force nothing is written and no service account is created."""
    setup.store.create_secret(NAME, Sensitive('{"something": "else"}'))
    accounts = setup.emulator.service_accounts(setup.project_id)
    with pytest.raises(ConfigError, match="already holds a value; pass --force"):
        setup.init(KeySource(new_service_account="payments"))
    assert "PutSecretValue" not in setup.store.calls
    assert setup.emulator.service_accounts(setup.project_id) == accounts
    setup.init(KeySource(existing_key=Sensitive(setup.seeded.value)), force=True)
    assert _value(setup.store)["key_id"] == setup.seeded.key_id


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("sk-svcacct-not-a-key-of-this-project-000", "rejects the key"),
        ("sk-admin-abcdef", "not a project or service-account key"),
        ("not-a-key", "not a project or service-account key"),
    ],
)
def test_init_refuses_keys_that_are_not_live_keys_of_the_project(
    setup: Setup, key: str, fragment: str
) -> None:
    """Unknown, admin or malformed keys are refused before any write."""
    with pytest.raises(ConfigError, match=fragment):
        setup.init(KeySource(existing_key=Sensitive(key)))
    assert not {"CreateSecret", "PutSecretValue"} & set(setup.store.calls)


def test_init_refuses_a_working_key_from_another_project(setup: Setup) -> None:
    """A key that works but is not listed in --project-id is refused."""
    other = setup.emulator.add_project(name="other")
    foreign = setup.emulator.add_service_account(other, "x")
    with pytest.raises(ConfigError, match="not a key of project"):
        setup.init(KeySource(existing_key=Sensitive(foreign.value)))
    assert "CreateSecret" not in setup.store.calls


def test_init_deletes_the_service_account_it_made_when_the_write_fails(setup: Setup) -> None:
    """A failed CreateSecret leaves no orphaned service account behind."""
    before = setup.emulator.service_accounts(setup.project_id)

    def fail(operation: str, _secret_id: str) -> None:
        if operation == "CreateSecret":
            raise ServiceError("Secrets Manager CreateSecret failed (boom)")

    setup.store.before_call = fail
    with pytest.raises(ServiceError, match="boom"):
        setup.init(KeySource(new_service_account="payments"))
    assert setup.emulator.service_accounts(setup.project_id) == before


def test_init_refuses_a_secret_with_an_unfinished_rotation(setup: Setup) -> None:
    """Writing AWSCURRENT mid-rotation would abandon it: refused."""
    setup.init(KeySource(existing_key=Sensitive(setup.seeded.value)))
    setup.store.enable_rotation(NAME, LAMBDA)
    setup.store.start_rotation(NAME)
    with pytest.raises(RotationInProgressError, match="unfinished"):
        setup.init(KeySource(existing_key=Sensitive(setup.seeded.value)), force=True)


def test_schedule_configures_rotation_without_rotating_unless_asked(setup: Setup) -> None:
    """RotateSecret stores the Lambda and rules; no new version unless --rotate-now."""
    setup.init(KeySource(existing_key=Sensitive(setup.seeded.value)))
    versions = setup.store.versions(NAME)
    result = schedule_rotation(
        setup.store, NAME, lambda_arn=LAMBDA, schedule=RotationSchedule("rate(30 days)", "4h")
    )
    description = setup.store.describe(NAME)
    assert description.rotation_enabled
    assert description.rotation_lambda_arn == LAMBDA
    assert description.rotation_rules == {"ScheduleExpression": "rate(30 days)", "Duration": "4h"}
    assert setup.store.versions(NAME) == versions
    assert result.started_version_id is None
    disabled = disable_rotation(setup.store, NAME)
    assert not disabled.rotation_enabled
    assert not setup.store.describe(NAME).rotation_enabled


def test_schedule_refuses_a_secret_without_a_rotator_value(setup: Setup) -> None:
    """Rotating an unseeded secret would fail: refused before RotateSecret."""
    setup.store.create_secret(NAME, Sensitive("plain text"))
    with pytest.raises(SecretFormatError):
        schedule_rotation(
            setup.store, NAME, lambda_arn=LAMBDA, schedule=RotationSchedule("rate(30 days)")
        )
    assert "RotateSecret" not in setup.store.calls


def test_init_force_records_the_replaced_key_as_retiring(setup: Setup) -> None:
    """--force never leaves the key it replaces live and unrecorded."""
    setup.init(KeySource(existing_key=Sensitive(setup.seeded.value)))
    setup.init(KeySource(new_service_account="app-2"), force=True)
    value = _value(setup.store)
    assert [entry["key_id"] for entry in value["retiring"]] == [setup.seeded.key_id]  # type: ignore[index, union-attr]
    assert setup.emulator.key_works(setup.seeded.value)  # still live until a rotation or prune


def test_init_lost_create_answer_deletes_the_account_it_made(setup: Setup) -> None:
    """A lost answer to the create leaves no live, unrecorded service account behind."""
    before = {a.id for a in setup.emulator.service_accounts(setup.project_id)}
    setup.emulator.inject("POST", r"/service_accounts$", "drop_after")
    with pytest.raises(ServiceError, match="run the same `rotator init` again"):
        setup.init(KeySource(new_service_account="app-2"))
    assert {a.id for a in setup.emulator.service_accounts(setup.project_id)} == before
    assert setup.store.list_secrets() == []


def test_init_lost_write_answer_keeps_the_key_when_the_write_happened(setup: Setup) -> None:
    """If CreateSecret took effect but its answer was lost, init succeeds with that key."""
    from rotator.errors import ResponseLostError

    real_create = setup.store.create_secret

    def create_then_lose(*args: object, **kwargs: object) -> str:
        real_create(*args, **kwargs)  # type: ignore[arg-type]
        raise ResponseLostError("CreateSecret sent but no answer came back")

    setup.store.create_secret = create_then_lose  # type: ignore[method-assign]
    setup.init(KeySource(new_service_account="app-2"))
    value = _value(setup.store)
    assert setup.emulator.key_works(str(value["api_key"]))


def test_init_5xx_on_the_write_deletes_the_new_account_only_when_unwritten(setup: Setup) -> None:
    """A 5xx that did not write: the account made for it is deleted again, nothing is left."""
    from rotator.errors import TransientServiceError

    before = {a.id for a in setup.emulator.service_accounts(setup.project_id)}

    def refuse(operation: str, _secret: str) -> None:
        if operation == "CreateSecret":
            raise TransientServiceError("CreateSecret: 503 from Secrets Manager")

    setup.store.before_call = refuse
    with pytest.raises(TransientServiceError):
        setup.init(KeySource(new_service_account="app-2"))
    assert {a.id for a in setup.emulator.service_accounts(setup.project_id)} == before


def test_init_keeps_the_account_when_the_write_cannot_be_checked(setup: Setup) -> None:
    """If the write's outcome cannot be read back, the key is kept and the message names it."""
    from rotator.errors import CleanupError, TransientServiceError

    def fail_write_and_read(operation: str, _secret: str) -> None:
        if operation in {"CreateSecret", "GetSecretValue"}:
            raise TransientServiceError(f"{operation}: 503 from Secrets Manager")

    before = {a.id for a in setup.emulator.service_accounts(setup.project_id)}
    setup.store.before_call = fail_write_and_read
    with pytest.raises(CleanupError, match="may now be the secret's key"):
        setup.init(KeySource(new_service_account="app-2"))
    assert len({a.id for a in setup.emulator.service_accounts(setup.project_id)} - before) == 1


def test_init_force_refuses_to_orphan_a_key_of_another_project(setup: Setup) -> None:
    """Replacing a key of project A with one of project B would lose track of A's key."""
    setup.init(KeySource(existing_key=Sensitive(setup.seeded.value)))
    other = setup.emulator.add_project(name="other")
    with pytest.raises(ConfigError, match="would leave it live and unrecorded"):
        init_secret(
            setup.store,
            setup.openai.admin(Sensitive(setup.admin_key)),
            setup.openai,
            secret_id=NAME,
            project_id=other,
            source=KeySource(new_service_account="x"),
            force=True,
        )
    assert _value(setup.store)["key_id"] == setup.seeded.key_id
