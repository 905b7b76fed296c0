"""The in-memory store's own seams: hooks, call log, on_rotate, helpers and thread safety."""

from __future__ import annotations

import re
import threading
import uuid

import pytest

from rotator.domain.models import AWSCURRENT, AWSPENDING, AWSPREVIOUS
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    ConfigError,
    SecretNotFoundError,
    StageConflictError,
    TransientServiceError,
)
from rotator.testing.memory_store import InMemorySecretStore

LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:rotator"


def _store_with_secret(value: str = "v1") -> tuple[InMemorySecretStore, str]:
    store = InMemorySecretStore()
    store.create_secret("app/key", Sensitive(value))
    return store, "app/key"


def test_create_secret_returns_an_aws_shaped_arn() -> None:
    """ARNs look like AWS's, with the six-letter suffix."""
    arn = InMemorySecretStore().create_secret("app/key", Sensitive("v1"))
    assert re.fullmatch(
        r"arn:aws:secretsmanager:us-east-1:123456789012:secret:app/key-[A-Za-z]{6}", arn
    )


def test_a_fault_raised_from_before_call_leaves_the_store_unchanged() -> None:
    """GIVEN a hook that fails PutSecretValue WHEN put_pending runs THEN no version appears."""
    store, name = _store_with_secret()
    before = store.versions(name)

    def fail_puts(operation: str, secret_id: str) -> None:
        if operation == "PutSecretValue":
            raise TransientServiceError(f"injected failure on {secret_id}")

    store.before_call = fail_puts
    with pytest.raises(TransientServiceError):
        store.put_pending(name, str(uuid.uuid4()), Sensitive("v2"))
    assert store.versions(name) == before


def test_calls_records_each_operation_by_its_aws_name() -> None:
    """calls counts AWS-shaped calls; test helpers are not counted."""
    store, name = _store_with_secret()
    store.calls.clear()
    store.describe(name)
    store.get_value(name)
    store.put_pending(name, str(uuid.uuid4()), Sensitive("v2"))
    store.versions(name)
    assert store.calls == ["DescribeSecret", "GetSecretValue", "PutSecretValue"]


def test_on_rotate_runs_after_the_empty_pending_version_exists() -> None:
    """The callback sees the ARN, the token and an empty AWSPENDING version."""
    store, name = _store_with_secret()
    store.enable_rotation(name, LAMBDA_ARN)
    seen: list[tuple[str, str, frozenset[str], Sensitive | None]] = []
    store.on_rotate = lambda arn, token: seen.append(
        (arn, token, store.versions(name)[token], store.value_of(name, token))
    )
    token = store.start_rotation(name)
    assert seen == [(store.describe(name).arn, token, frozenset({AWSPENDING}), None)]


def test_a_failing_on_rotate_is_recorded_not_raised() -> None:
    """RotateSecret has returned before the Lambda runs, so its failure is only recorded."""
    store, name = _store_with_secret()
    store.enable_rotation(name, LAMBDA_ARN)

    def broken(arn: str, token: str) -> None:
        raise RuntimeError("lambda crashed")

    store.on_rotate = broken
    token = store.start_rotation(name)
    assert [str(error) for error in store.rotation_errors] == ["lambda crashed"]
    assert store.describe(name).version_with(AWSPENDING) == token


def test_start_rotation_without_a_lambda_raises_config_error() -> None:
    """RotateSecret needs a rotation Lambda."""
    store, name = _store_with_secret()
    with pytest.raises(ConfigError, match="not configured"):
        store.start_rotation(name)


def test_configure_rotation_can_start_a_rotation_at_once() -> None:
    """rotate_immediately=True returns the new pending version's id."""
    store, name = _store_with_secret()
    token = store.configure_rotation(name, LAMBDA_ARN, "rate(30 days)", rotate_immediately=True)
    assert token is not None
    assert store.describe(name).version_with(AWSPENDING) == token


def test_deleted_secret_refuses_every_call_but_describe() -> None:
    """delete_secret marks it scheduled for deletion."""
    store, name = _store_with_secret()
    store.delete_secret(name)
    for call in (
        lambda: store.get_value(name),
        lambda: store.put_current(name, Sensitive("v2")),
        lambda: store.move_stage(name, AWSPENDING, to_version=None, from_version="x"),
        lambda: store.start_rotation(name),
    ):
        with pytest.raises(SecretNotFoundError, match="scheduled for deletion"):
            call()
    assert store.list_secrets() == []


def test_versions_helper_includes_deprecated_versions() -> None:
    """versions() shows label-less versions that describe() omits."""
    store, name = _store_with_secret()
    first = store.describe(name).version_with(AWSCURRENT)
    assert first is not None
    store.put_current(name, Sensitive("v2"))
    store.put_current(name, Sensitive("v3"))
    assert store.versions(name)[first] == frozenset()
    assert first not in store.describe(name).versions
    assert store.value_of(name, first) == Sensitive("v1")


def test_put_current_during_a_rotation_abandons_it() -> None:
    """A manual new version removes AWSPENDING, as AWS's RotationAbandoned does."""
    store, name = _store_with_secret()
    store.put_pending(name, str(uuid.uuid4()), Sensitive("v2"))
    store.put_current(name, Sensitive("v3"))
    assert store.describe(name).version_with(AWSPENDING) is None


def test_put_pending_records_the_rotation_token() -> None:
    """The RotationToken is kept (redacted) per version so tests can check it was passed."""
    store, name = _store_with_secret()
    token = str(uuid.uuid4())
    store.put_pending(name, token, Sensitive("v2"), rotation_token=Sensitive("rt-" + "a" * 40))
    assert store.rotation_tokens == {token: Sensitive("rt-" + "a" * 40)}


def test_awscurrent_cannot_be_removed_outright() -> None:
    """A secret always keeps an AWSCURRENT version."""
    store, name = _store_with_secret()
    current = store.describe(name).version_with(AWSCURRENT)
    with pytest.raises(StageConflictError):
        store.move_stage(name, AWSCURRENT, to_version=None, from_version=current)


def test_move_stage_needs_a_target_or_a_source() -> None:
    """Naming neither version is a caller bug."""
    store, name = _store_with_secret()
    with pytest.raises(ConfigError):
        store.move_stage(name, AWSPENDING, to_version=None, from_version=None)


def test_move_stage_to_an_unknown_version_raises_stage_conflict() -> None:
    """Labels only go on versions that exist."""
    store, name = _store_with_secret()
    with pytest.raises(StageConflictError, match="no version"):
        store.move_stage(name, AWSPENDING, to_version=str(uuid.uuid4()), from_version=None)


def test_racing_finishes_let_exactly_one_compare_and_swap_win() -> None:
    """GIVEN two pending versions WHEN both promote from the same AWSCURRENT THEN one wins."""
    store, name = _store_with_secret()
    old = store.describe(name).version_with(AWSCURRENT)
    tokens = [str(uuid.uuid4()) for _ in range(2)]
    for token in tokens:
        store.put_pending(name, token, Sensitive(token))
    barrier = threading.Barrier(2)
    store.before_call = lambda operation, _: (
        barrier.wait() if operation.startswith("Update") else None
    )
    outcomes: list[str] = []

    def finish(token: str) -> None:
        try:
            store.move_stage(name, AWSCURRENT, to_version=token, from_version=old)
            outcomes.append("won")
        except StageConflictError:
            outcomes.append("lost")

    threads = [threading.Thread(target=finish, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(outcomes) == ["lost", "won"]
    versions = store.describe(name).versions
    assert sum(AWSCURRENT in stages for stages in versions.values()) == 1
    assert old is not None
    assert versions[old] == frozenset({AWSPREVIOUS})
