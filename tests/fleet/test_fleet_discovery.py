"""Fleet discovery through the shipped wiring: values in batches of 20, replicas left alone."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx
import pytest

from rotator.app import App, Mode, build_app
from rotator.config import Settings
from rotator.domain.models import SecretDescription
from rotator.domain.sensitive import Sensitive
from rotator.errors import ConfigError
from rotator.fleet.discovery import replica_of
from rotator.fleet.run import Candidate
from rotator.testing.memory_store import InMemorySecretStore
from rotator.testing.openai_emulator import OpenAIEmulator

ADMIN_SECRET = "openai/admin-key"
COUNT = 45  # three batches: 20, 20 and 6 (with the admin-key secret under the same prefix)


@dataclass
class Seeded:
    store: InMemorySecretStore
    emulator: OpenAIEmulator
    arns: list[str]
    reads: list[tuple[str, str]]

    def app(self, http: httpx.Client) -> App:
        settings = Settings(openai_base_url="http://127.0.0.1:9/v1", test_timeout=30.0)
        return build_app(settings, mode=Mode.FLEET, store=self.store, http=http, concurrency=4)

    def count(self, operation: str) -> int:
        return sum(1 for op, _ in self.reads if op == operation)

    def read_alone(self) -> set[str]:
        return {secret_id for op, secret_id in self.reads if op == "GetSecretValue"}


@pytest.fixture
def seeded() -> Seeded:
    reads: list[tuple[str, str]] = []
    store = InMemorySecretStore(before_call=lambda op, sid: reads.append((op, sid)))
    emulator = OpenAIEmulator()
    admin_key = emulator.add_admin_key()
    store.create_secret(ADMIN_SECRET, Sensitive(json.dumps({"admin_key": admin_key})))
    project = emulator.add_project(name="fleet")
    arns = []
    for index in range(COUNT):
        key = emulator.add_service_account(project, f"svc-{index:02d}")
        value = {
            "api_key": key.value,
            "project_id": project,
            "service_account_id": key.service_account_id,
            "key_id": key.key_id,
            "admin_key_secret_id": ADMIN_SECRET,
        }
        arns.append(store.create_secret(f"openai/svc-{index:02d}", Sensitive(json.dumps(value))))
    reads.clear()
    return Seeded(store, emulator, arns, reads)


def _discover(seeded: Seeded, *, concurrency: int = 4) -> list[Candidate]:
    with httpx.Client(transport=seeded.emulator.transport()) as http:
        app = seeded.app(http)
        try:
            return app.fleet.discover(prefix="openai/", tags={}, concurrency=concurrency)
        finally:
            app.close()


def _rotator(candidates: list[Candidate]) -> list[str]:
    return sorted(c.description.arn for c in candidates if c.secret is not None)


def test_discovery_reads_every_value_with_one_batch_call_per_twenty_secrets(
    seeded: Seeded,
) -> None:
    """GIVEN 46 secrets under the prefix WHEN the fleet discovers them THEN three
    BatchGetSecretValue calls read them all and no GetSecretValue is made."""
    candidates = _discover(seeded)
    assert _rotator(candidates) == sorted(seeded.arns)
    assert seeded.count("ListSecrets") == 1
    assert seeded.count("BatchGetSecretValue") == 3
    assert seeded.count("GetSecretValue") == 0


def test_a_rotation_after_discovery_reads_no_awscurrent_value_again(seeded: Seeded) -> None:
    """The batch's answers sit in the run's version cache: rotating a discovered secret never
    reads its AWSCURRENT value again (only the admin key, which discovery did not keep)."""
    with httpx.Client(transport=seeded.emulator.transport()) as http:
        app = seeded.app(http)
        try:
            found = app.fleet.discover(prefix="openai/", tags={}, concurrency=4)
            chosen = [c.description for c in found if c.secret is not None][:3]
            seeded.reads.clear()
            results = app.fleet.rotate_all(chosen, mode="local", concurrency=2, timeout=30)
        finally:
            app.close()
    assert [r.status for r in results] == ["rotated"] * 3
    assert seeded.read_alone() & {d.arn for d in chosen} == set()


def test_a_secret_the_batch_reports_an_error_for_is_read_alone(seeded: Seeded) -> None:
    """GIVEN the batch reports one secret in Errors WHEN the fleet discovers THEN that secret,
    and only that one, is read with GetSecretValue, and it is still found."""
    troubled = seeded.arns[7]
    seeded.store.batch_errors[troubled] = "DecryptionFailure"
    candidates = _discover(seeded)
    assert _rotator(candidates) == sorted(seeded.arns)
    assert seeded.read_alone() == {troubled}


def test_a_refused_batch_falls_back_to_one_read_per_secret_and_is_not_tried_again(
    seeded: Seeded,
) -> None:
    """GIVEN a policy without BatchGetSecretValue WHEN the fleet discovers (one worker) THEN the
    first refusal ends batching and every secret is read alone, as before batches."""

    def refuse(operation: str, secret_id: str) -> None:
        seeded.reads.append((operation, secret_id))
        if operation == "BatchGetSecretValue":
            raise ConfigError("not authorized to perform secretsmanager:BatchGetSecretValue")

    seeded.store.before_call = refuse
    candidates = _discover(seeded, concurrency=1)
    assert _rotator(candidates) == sorted(seeded.arns)
    assert seeded.count("BatchGetSecretValue") == 1
    assert seeded.count("GetSecretValue") == COUNT + 1


def test_a_secret_rotated_after_the_listing_is_not_cached_under_its_listed_version(
    seeded: Seeded,
) -> None:
    """GIVEN a secret's AWSCURRENT moves between ListSecrets and the batch WHEN the fleet
    discovers THEN the newer answer is not kept under the listed version: the secret is read
    alone, and the read says it changed."""
    moved = seeded.arns[3]

    def rotate_meanwhile(operation: str, secret_id: str) -> None:
        seeded.reads.append((operation, secret_id))
        if operation == "BatchGetSecretValue" and not seeded.count("PutSecretValue"):
            seeded.store.put_current(moved, Sensitive(json.dumps({"changed": True})))

    seeded.store.before_call = rotate_meanwhile
    candidates = _discover(seeded, concurrency=1)
    problem = {c.description.arn: c.problem for c in candidates}[moved]
    assert problem is not None
    assert "could not be read" in problem
    assert seeded.read_alone() == {moved}


def test_a_replica_is_skipped_unread_with_its_primary_region(seeded: Seeded) -> None:
    """GIVEN a secret that is a replica of one in eu-west-1 WHEN the fleet discovers it THEN it
    is not read and its note says where to rotate it (L13)."""
    replica = seeded.arns[0]
    seeded.store.make_replica(replica, "eu-west-1")
    candidates = _discover(seeded)
    skipped = next(c for c in candidates if c.description.arn == replica)
    assert skipped.secret is None
    assert skipped.problem == "replica of eu-west-1: rotate it in its primary region"
    assert _rotator(candidates) == sorted(seeded.arns[1:])
    assert seeded.count("GetSecretValue") == 0


@pytest.mark.parametrize(
    ("arn", "primary", "expected"),
    [
        ("arn:aws:secretsmanager:us-east-1:1:secret:s-AbCdEf", "eu-west-1", "eu-west-1"),
        ("arn:aws:secretsmanager:us-east-1:1:secret:s-AbCdEf", "us-east-1", None),
        ("arn:aws:secretsmanager:us-east-1:1:secret:s-AbCdEf", None, None),
        ("not-an-arn", "eu-west-1", None),
    ],
)
def test_replica_of_compares_the_primary_region_with_the_arn_region(
    arn: str, primary: str | None, expected: str | None
) -> None:
    """Only a PrimaryRegion other than the ARN's own region makes a replica."""
    description = SecretDescription(arn=arn, name="s", versions={}, primary_region=primary)
    assert replica_of(description) == expected
