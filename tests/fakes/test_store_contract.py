"""One set of Secrets Manager behaviours, run against the in-memory fake and the adapter on moto.

Cases where moto 5.2 departs from AWS are marked ``@moto_deviation(<row of reference §4.2>)``:
on moto they run as strict xfails, so they still prove the deviation exists and fail loudly
the day moto fixes it. Rows marked "new" were found while writing these tests (see the report).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pytest
from moto import mock_aws

from rotator.adapters.secretsmanager import SecretsManagerStore, build_client
from rotator.domain.models import AWSCURRENT, AWSPENDING, AWSPREVIOUS
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    ConfigError,
    RotationInProgressError,
    SecretNotFoundError,
    StageConflictError,
    VersionConflictError,
)
from rotator.testing.memory_store import InMemorySecretStore
from rotator.testing.moto_server import dummy_session, noop_rotation_function, seed_pending_version

F = TypeVar("F", bound=Callable[..., object])
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:rotator"


def moto_deviation(row: str, why: str) -> Callable[[F], F]:
    """Mark a test whose AWS behaviour moto gets wrong (``row`` of reference §4.2)."""

    def mark(test: F) -> F:
        test.moto_deviation = f"moto {row}: {why}"  # type: ignore[attr-defined]
        return test

    return mark


@dataclass
class Backend:
    kind: str
    store: InMemorySecretStore | SecretsManagerStore
    seed_pending: Callable[[str], str]
    delete: Callable[[str], None]
    lambda_arn: Callable[[], str]

    def new_secret(self, value: str = "v1", **tags: str) -> str:
        name = f"contract-{uuid.uuid4().hex[:8]}"
        self.store.create_secret(name, Sensitive(value), tags=tags or None)
        return name

    def current(self, secret_id: str) -> str:
        found = self.store.describe(secret_id).version_with(AWSCURRENT)
        assert found is not None
        return found


@pytest.fixture(params=["memory", "moto"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    deviation = getattr(request.function, "moto_deviation", None)
    if request.param == "memory":
        memory = InMemorySecretStore()

        def seed(secret_id: str) -> str:
            memory.enable_rotation(secret_id, LAMBDA_ARN)
            return memory.start_rotation(secret_id)

        yield Backend("memory", memory, seed, memory.delete_secret, lambda: LAMBDA_ARN)
        return
    if deviation is not None:
        request.node.add_marker(pytest.mark.xfail(strict=True, reason=deviation))
    with mock_aws(config={"lambda": {"use_docker": False}}):
        client = build_client(region="us-east-1", session=dummy_session(), max_attempts=1)

        def delete(secret_id: str) -> None:
            client.delete_secret(SecretId=secret_id)

        yield Backend(
            "moto",
            SecretsManagerStore(client),
            lambda secret_id: seed_pending_version(client, secret_id),
            delete,
            lambda: noop_rotation_function(dummy_session(), None),
        )
        client.close()


def token() -> str:
    return str(uuid.uuid4())


# --- describe ----------------------------------------------------------------------------------


def test_describe_shows_the_first_version_as_awscurrent_and_rotation_off(backend: Backend) -> None:
    """A new secret has one AWSCURRENT version, no rotation settings and its tags."""
    name = backend.new_secret(team="ai")
    found = backend.store.describe(name)
    assert found.name == name
    assert found.arn.startswith(f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-")
    assert list(found.versions.values()) == [frozenset({AWSCURRENT})]
    assert (found.rotation_enabled, found.rotation_lambda_arn, found.deleted) == (
        False,
        None,
        False,
    )
    assert found.tags == {"team": "ai"}


def test_describe_finds_a_secret_by_arn(backend: Backend) -> None:
    """The ARN names the same secret as the name."""
    name = backend.new_secret()
    arn = backend.store.describe(name).arn
    assert backend.store.describe(arn).name == name


def test_describe_of_an_unknown_secret_raises_secret_not_found(backend: Backend) -> None:
    """An unknown name is SecretNotFoundError whose message says what to check."""
    with pytest.raises(SecretNotFoundError, match="AWS_REGION"):
        backend.store.describe("no-such-secret")


def test_describe_of_a_deleted_secret_reports_it_deleted(backend: Backend) -> None:
    """DescribeSecret still answers for a secret scheduled for deletion, flagging it."""
    name = backend.new_secret()
    backend.delete(name)
    assert backend.store.describe(name).deleted is True


def test_reading_a_deleted_secret_says_it_is_scheduled_for_deletion(backend: Backend) -> None:
    """GetSecretValue on a deleted secret is SecretNotFoundError naming the restore command."""
    name = backend.new_secret()
    backend.delete(name)
    with pytest.raises(SecretNotFoundError, match="restore-secret"):
        backend.store.get_value(name)


@moto_deviation("new N1", "PutSecretValue on a secret scheduled for deletion is accepted")
def test_put_pending_on_a_deleted_secret_raises_secret_not_found(backend: Backend) -> None:
    """A secret scheduled for deletion takes no new versions."""
    name = backend.new_secret()
    backend.delete(name)
    with pytest.raises(SecretNotFoundError):
        backend.store.put_pending(name, token(), Sensitive("v2"))


# --- get_value ---------------------------------------------------------------------------------


def test_get_value_without_a_stage_reads_awscurrent_after_a_finish_move(backend: Backend) -> None:
    """After AWSCURRENT moves, a plain read returns the new value (moto D2 is read around)."""
    name = backend.new_secret("old")
    old, new = backend.current(name), token()
    backend.store.put_pending(name, new, Sensitive("new"))
    backend.store.move_stage(name, AWSCURRENT, to_version=new, from_version=old)
    assert backend.store.get_value(name) == Sensitive("new")
    assert backend.store.get_value(name, stage=AWSPREVIOUS) == Sensitive("old")


def test_get_value_of_an_unknown_token_is_none(backend: Backend) -> None:
    """Reading AWSPENDING by a token that has no version gives None (B1)."""
    name = backend.new_secret()
    assert backend.store.get_value(name, version_id=token(), stage=AWSPENDING) is None


def test_get_value_of_the_empty_version_rotation_created_is_none(backend: Backend) -> None:
    """The AWSPENDING version RotateSecret creates holds no value yet (J3)."""
    name = backend.new_secret()
    pending = backend.seed_pending(name)
    assert backend.store.describe(name).versions[pending] == frozenset({AWSPENDING})
    assert backend.store.get_value(name, version_id=pending, stage=AWSPENDING) is None


def test_get_value_with_a_stage_the_version_lacks_raises_stage_conflict(backend: Backend) -> None:
    """A VersionId with a VersionStage it does not carry is an error (B4)."""
    name = backend.new_secret()
    with pytest.raises(StageConflictError):
        backend.store.get_value(name, version_id=backend.current(name), stage=AWSPENDING)


# --- put_pending -------------------------------------------------------------------------------


def test_put_pending_adds_a_pending_version_and_leaves_current_alone(backend: Backend) -> None:
    """PutSecretValue with AWSPENDING adds a labelled version; AWSCURRENT stays (B2)."""
    name = backend.new_secret("v1")
    current, new = backend.current(name), token()
    backend.store.put_pending(name, new, Sensitive("v2"))
    versions = backend.store.describe(name).versions
    assert versions == {current: frozenset({AWSCURRENT}), new: frozenset({AWSPENDING})}
    assert backend.store.get_value(name, version_id=new, stage=AWSPENDING) == Sensitive("v2")
    assert backend.store.get_value(name, stage=AWSCURRENT) == Sensitive("v1")


def test_put_pending_twice_with_the_same_value_is_a_no_op(backend: Backend) -> None:
    """A retried put with the same token and value changes nothing (C1)."""
    name = backend.new_secret()
    new = token()
    backend.store.put_pending(name, new, Sensitive("v2"))
    before = backend.store.describe(name).versions
    backend.store.put_pending(name, new, Sensitive("v2"))
    assert backend.store.describe(name).versions == before


@moto_deviation("C2", "a pending version's value is silently replaced")
def test_put_pending_with_another_value_for_a_pending_token_conflicts(backend: Backend) -> None:
    """Versions are immutable: a second value for a pending token is refused (C2)."""
    name = backend.new_secret()
    new = token()
    backend.store.put_pending(name, new, Sensitive("v2"))
    with pytest.raises(VersionConflictError):
        backend.store.put_pending(name, new, Sensitive("v3"))
    assert backend.store.get_value(name, version_id=new) == Sensitive("v2")


@moto_deviation("C3", "accepted, and AWSCURRENT is dropped from the version")
def test_put_pending_with_another_value_for_a_finished_token_conflicts(backend: Backend) -> None:
    """A token whose version already became AWSCURRENT refuses a new value (C3)."""
    name = backend.new_secret()
    old, new = backend.current(name), token()
    backend.store.put_pending(name, new, Sensitive("v2"))
    backend.store.move_stage(name, AWSCURRENT, to_version=new, from_version=old)
    with pytest.raises(VersionConflictError):
        backend.store.put_pending(name, new, Sensitive("v3"))
    assert backend.store.describe(name).version_with(AWSCURRENT) == new


def test_put_pending_with_another_value_for_an_old_version_conflicts(backend: Backend) -> None:
    """The token of a non-pending version cannot take another value (C4)."""
    name = backend.new_secret()
    with pytest.raises(VersionConflictError) as raised:
        backend.store.put_pending(name, backend.current(name), Sensitive("sk-leak-me"))
    assert "sk-leak-me" not in str(raised.value)


def test_put_pending_fills_the_empty_version_rotation_created(backend: Backend) -> None:
    """createSecret's put lands in RotateSecret's empty AWSPENDING version."""
    name = backend.new_secret()
    pending = backend.seed_pending(name)
    backend.store.put_pending(name, pending, Sensitive("v2"))
    assert backend.store.get_value(name, version_id=pending, stage=AWSPENDING) == Sensitive("v2")


def test_put_pending_moves_awspending_off_the_previous_pending_version(backend: Backend) -> None:
    """Only one version carries AWSPENDING at a time."""
    name = backend.new_secret()
    first, second = token(), token()
    backend.store.put_pending(name, first, Sensitive("v2"))
    backend.store.put_pending(name, second, Sensitive("v3"))
    versions = backend.store.describe(name).versions
    assert [vid for vid, stages in versions.items() if AWSPENDING in stages] == [second]


# --- move_stage --------------------------------------------------------------------------------


def test_finish_move_puts_awscurrent_on_new_and_awsprevious_on_old(backend: Backend) -> None:
    """Moving AWSCURRENT moves AWSPREVIOUS to the version it left (D1)."""
    name = backend.new_secret()
    old, new = backend.current(name), token()
    backend.store.put_pending(name, new, Sensitive("v2"))
    backend.store.move_stage(name, AWSCURRENT, to_version=new, from_version=old)
    versions = backend.store.describe(name).versions
    assert versions == {new: frozenset({AWSCURRENT, AWSPENDING}), old: frozenset({AWSPREVIOUS})}


def test_move_stage_from_a_version_without_the_stage_raises_stage_conflict(
    backend: Backend,
) -> None:
    """The compare-and-swap: a from_version that lost the stage makes the move fail (D5)."""
    name = backend.new_secret()
    old, new = backend.current(name), token()
    backend.store.put_pending(name, new, Sensitive("v2"))
    backend.store.move_stage(name, AWSCURRENT, to_version=new, from_version=old)
    with pytest.raises(StageConflictError):
        backend.store.move_stage(name, AWSCURRENT, to_version=new, from_version=old)


def test_moving_awscurrent_without_from_version_raises_stage_conflict(backend: Backend) -> None:
    """AWSCURRENT cannot be moved without naming the version it leaves (E1)."""
    name = backend.new_secret()
    new = token()
    backend.store.put_pending(name, new, Sensitive("v2"))
    with pytest.raises(StageConflictError):
        backend.store.move_stage(name, AWSCURRENT, to_version=new, from_version=None)


@moto_deviation("E2", "AWSPENDING ends up on two versions")
def test_moving_awspending_elsewhere_without_from_version_raises_stage_conflict(
    backend: Backend,
) -> None:
    """Any label attached elsewhere needs RemoveFromVersionId (E2)."""
    name = backend.new_secret()
    new = token()
    backend.store.put_pending(name, new, Sensitive("v2"))
    with pytest.raises(StageConflictError):
        backend.store.move_stage(
            name, AWSPENDING, to_version=backend.current(name), from_version=None
        )


def test_move_stage_to_no_version_removes_the_stage(backend: Backend) -> None:
    """Removing AWSPENDING (the stuck-rotation recovery) leaves it on no version."""
    name = backend.new_secret()
    new = token()
    backend.store.put_pending(name, new, Sensitive("v2"))
    backend.store.move_stage(name, AWSPENDING, to_version=None, from_version=new)
    assert backend.store.describe(name).version_with(AWSPENDING) is None


def test_a_version_left_without_labels_is_omitted_from_describe(backend: Backend) -> None:
    """A deprecated version (no labels) is not listed, as in AWS (moto lists it: new N2)."""
    name = backend.new_secret()
    first, second, third = backend.current(name), token(), token()
    for new, old in ((second, first), (third, second)):
        backend.store.put_pending(name, new, Sensitive(new))
        backend.store.move_stage(name, AWSCURRENT, to_version=new, from_version=old)
    assert first not in backend.store.describe(name).versions


# --- put_current, rotation, listing ------------------------------------------------------------


def test_put_current_makes_a_new_awscurrent_and_the_old_one_awsprevious(backend: Backend) -> None:
    """PutSecretValue without stages promotes the new version."""
    name = backend.new_secret("v1")
    old = backend.current(name)
    new = backend.store.put_current(name, Sensitive("v2"))
    versions = backend.store.describe(name).versions
    assert versions == {new: frozenset({AWSCURRENT}), old: frozenset({AWSPREVIOUS})}
    assert backend.store.get_value(name) == Sensitive("v2")


@moto_deviation("G1 (new N3)", "RotateSecret(SecretId) forgets the Lambda and promotes empty")
def test_start_rotation_creates_an_empty_pending_version(backend: Backend) -> None:
    """RotateSecret adds an empty AWSPENDING version and leaves AWSCURRENT in place."""
    name = backend.new_secret()
    current = backend.current(name)
    pending = backend.seed_pending(name)
    backend.store.move_stage(name, AWSPENDING, to_version=None, from_version=pending)
    new = backend.store.start_rotation(name)
    found = backend.store.describe(name)
    assert (found.version_with(AWSCURRENT), found.version_with(AWSPENDING)) == (current, new)
    assert found.rotation_lambda_arn is not None
    assert backend.store.get_value(name, version_id=new, stage=AWSPENDING) is None


@moto_deviation("H1", "accepted; the old AWSPENDING label is silently dropped")
def test_start_rotation_while_another_version_is_pending_raises_in_progress(
    backend: Backend,
) -> None:
    """A stuck AWSPENDING blocks a new rotation."""
    name = backend.new_secret()
    backend.seed_pending(name)
    with pytest.raises(RotationInProgressError):
        backend.store.start_rotation(name)


@moto_deviation("H2", "refused as 'Previous rotation request is still in progress'")
def test_start_rotation_after_a_finished_rotation_is_allowed(backend: Backend) -> None:
    """AWSPENDING sharing AWSCURRENT's version is the success state; rotating again is fine."""
    name = backend.new_secret()
    old, pending = backend.current(name), backend.seed_pending(name)
    backend.store.put_pending(name, pending, Sensitive("v2"))
    backend.store.move_stage(name, AWSCURRENT, to_version=pending, from_version=old)
    new = backend.store.start_rotation(name)
    assert backend.store.describe(name).version_with(AWSPENDING) == new


@moto_deviation("G1", "ScheduleExpression and Duration are dropped; RotationEnabled stays false")
def test_configure_rotation_stores_the_lambda_and_schedule(backend: Backend) -> None:
    """The schedule and the Lambda are stored and rotation is enabled."""
    name = backend.new_secret()
    arn = backend.lambda_arn()
    backend.store.configure_rotation(name, arn, "rate(30 days)", duration="4h")
    found = backend.store.describe(name)
    assert (found.rotation_enabled, found.rotation_lambda_arn) == (True, arn)
    assert found.rotation_rules == {"ScheduleExpression": "rate(30 days)", "Duration": "4h"}


def test_cancel_rotation_disables_rotation_and_leaves_awspending(backend: Backend) -> None:
    """CancelRotateSecret does not remove AWSPENDING (the caller must)."""
    name = backend.new_secret()
    pending = backend.seed_pending(name)
    backend.store.cancel_rotation(name)
    found = backend.store.describe(name)
    assert found.rotation_enabled is False
    assert found.version_with(AWSPENDING) == pending


def test_cancel_rotation_of_a_never_rotated_secret_raises_config_error(backend: Backend) -> None:
    """Nothing to cancel without a rotation Lambda (I1)."""
    name = backend.new_secret()
    with pytest.raises(ConfigError):
        backend.store.cancel_rotation(name)


def test_list_secrets_filters_by_name_prefix_and_exact_tag_pairs(backend: Backend) -> None:
    """Only secrets with the prefix and every tag pair come back."""
    wanted = backend.new_secret(team="ai", env="prod")
    backend.new_secret(team="ai", env="dev")
    backend.new_secret(team="web", env="prod")
    found = backend.store.list_secrets(name_prefix="contract-", tags={"team": "ai", "env": "prod"})
    assert [item.name for item in found] == [wanted]


def test_create_secret_with_a_taken_name_raises_config_error(backend: Backend) -> None:
    """A name can be created once."""
    name = backend.new_secret()
    with pytest.raises(ConfigError, match="already exists"):
        backend.store.create_secret(name, Sensitive("again"))


# --- BatchGetSecretValue -----------------------------------------------------------------------


def test_current_values_answers_each_secret_by_the_id_given(backend: Backend) -> None:
    """The batch answers AWSCURRENT's version id and value, keyed by the name or ARN asked."""
    by_name = backend.new_secret("one")
    arn = backend.store.describe(backend.new_secret("two")).arn
    answers = backend.store.current_values([by_name, arn])
    assert answers == {
        by_name: (backend.current(by_name), Sensitive("one")),
        arn: (backend.current(arn), Sensitive("two")),
    }


def test_current_values_leaves_out_unknown_and_deleted_secrets(backend: Backend) -> None:
    """A secret the batch reports in Errors is left out, never raised."""
    kept, gone = backend.new_secret("kept"), backend.new_secret("gone")
    backend.delete(gone)
    answers = backend.store.current_values([kept, gone, "contract-never-created"])
    assert list(answers) == [kept]


def test_current_values_covers_more_than_twenty_ids(backend: Backend) -> None:
    """Ids beyond the 20 of one SecretIdList are read by further calls, none lost."""
    names = [backend.new_secret(f"v{i}") for i in range(23)]
    answers = backend.store.current_values(names)
    assert {name: value.reveal() for name, (_, value) in answers.items()} == {
        name: f"v{i}" for i, name in enumerate(names)
    }


@moto_deviation("K1 (new)", "BatchGetSecretValue reads moto's default version pointer (as D2)")
def test_current_values_answers_the_new_awscurrent_after_a_finish_move(backend: Backend) -> None:
    """After AWSCURRENT moves, the batch answers the new version."""
    name = backend.new_secret("old")
    old, new = backend.current(name), token()
    backend.store.put_pending(name, new, Sensitive("new"))
    backend.store.move_stage(name, AWSCURRENT, to_version=new, from_version=old)
    assert backend.store.current_values([name]) == {name: (new, Sensitive("new"))}


@moto_deviation("K2 (new)", "an empty AWSPENDING version fails the whole BatchGetSecretValue call")
def test_current_values_reads_awscurrent_beside_an_empty_pending_version(
    backend: Backend,
) -> None:
    """A rotation's empty AWSPENDING version (RotateSecret's) does not hide AWSCURRENT."""
    name, other = backend.new_secret("current"), backend.new_secret("other")
    backend.seed_pending(name)
    answers = backend.store.current_values([name, other])
    assert answers == {
        name: (backend.current(name), Sensitive("current")),
        other: (backend.current(other), Sensitive("other")),
    }
