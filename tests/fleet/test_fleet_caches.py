"""The fleet's read caches: one listing per project, one read per secret version."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from rotator.adapters.cached_store import VersionValueCache
from rotator.adapters.openai_http import OpenAIHttp
from rotator.domain.models import AWSCURRENT, AWSPENDING
from rotator.domain.sensitive import Sensitive
from rotator.errors import ResponseLostError, StageConflictError
from rotator.fleet.shared_listings import SharedListings
from rotator.testing.memory_store import InMemorySecretStore
from rotator.testing.openai_emulator import OpenAIEmulator


@pytest.fixture
def emulator() -> OpenAIEmulator:
    return OpenAIEmulator()


def _listings(emulator: OpenAIEmulator, http: httpx.Client) -> SharedListings:
    return SharedListings(OpenAIHttp(http, "https://openai.test/v1").admin)


def _lists(emulator: OpenAIEmulator) -> int:
    return sum(1 for c in emulator.calls if c.method == "GET" and c.route.endswith("accounts"))


def test_clients_of_one_run_share_one_listing_per_project(emulator: OpenAIEmulator) -> None:
    """Three clients list one project once; our own create and delete keep it true."""
    project, key = emulator.add_project(), Sensitive(emulator.add_admin_key())
    seeded = emulator.add_service_account(project, "seeded")
    with httpx.Client(transport=emulator.transport()) as http:
        listings = _listings(emulator, http)
        first, second, third = listings(key), listings(key), listings(key)
        assert [a.id for a in first.list_service_accounts(project)] == [seeded.service_account_id]
        created = second.create_service_account(project, "new")
        names = {a.name for a in third.list_service_accounts(project)}
        assert names == {"seeded", "new"}
        first.delete_service_account(project, seeded.service_account_id)
        assert [a.id for a in second.list_service_accounts(project)] == [created.service_account_id]
    assert _lists(emulator) == 1


def test_a_failed_create_makes_the_next_listing_fresh(emulator: OpenAIEmulator) -> None:
    """A create whose answer was lost drops the listing, so the orphan is found by name."""
    project, key = emulator.add_project(), Sensitive(emulator.add_admin_key())
    with httpx.Client(transport=emulator.transport()) as http:
        admin = _listings(emulator, http)(key)
        admin.list_service_accounts(project)
        emulator.inject("POST", "/service_accounts$", "drop_after")
        with pytest.raises(ResponseLostError):
            admin.create_service_account(project, "lost")
        assert [a.name for a in admin.list_service_accounts(project)] == ["lost"]
    assert _lists(emulator) == 2


class _Counting(InMemorySecretStore):
    """The in-memory store, counting GetSecretValue calls through its ``before_call`` seam."""

    def __init__(self) -> None:
        super().__init__(before_call=self._count)
        self.reads = 0

    def _count(self, operation: str, _secret_id: str) -> None:
        self.reads += operation == "GetSecretValue"


def test_a_version_is_read_once_while_it_keeps_its_stage() -> None:
    """Reads of a known version are served from memory until a stage moves."""
    inner = _Counting()
    inner.create_secret("s", Sensitive(json.dumps({"a": 1})))
    store = VersionValueCache(inner)
    current = store.describe("s").version_with(AWSCURRENT)
    for _ in range(3):
        assert store.get_value("s", version_id=current, stage=AWSCURRENT) is not None
    store.put_pending("s", "t" * 32, Sensitive("pending"))
    store.describe("s")
    assert store.get_value("s", version_id="t" * 32, stage=AWSPENDING) is not None
    assert inner.reads == 1
    store.move_stage("s", AWSCURRENT, to_version="t" * 32, from_version=current)
    pending = store.get_value("s", version_id="t" * 32, stage=AWSCURRENT)
    assert pending is not None
    assert pending.reveal() == "pending"
    assert inner.reads == 2


def test_a_stage_the_latest_description_does_not_show_is_read_from_the_store() -> None:
    """Asking a version for a stage it no longer carries goes to Secrets Manager."""
    inner = _Counting()
    inner.create_secret("s", Sensitive("v"))
    store = VersionValueCache(inner)
    current = store.describe("s").version_with(AWSCURRENT)
    store.get_value("s", version_id=current, stage=AWSCURRENT)
    with pytest.raises(StageConflictError):
        store.get_value("s", version_id=current, stage=AWSPENDING)
    assert inner.reads == 2


def test_the_listing_counter_counts_each_project_once_under_concurrent_workers(
    emulator: OpenAIEmulator,
) -> None:
    """Sixteen workers listing eight projects at once count eight fetches (L17: the counter is
    updated under the run's lock, not the per-project ones)."""
    key = Sensitive(emulator.add_admin_key())
    projects = [emulator.add_project() for _ in range(8)]
    with httpx.Client(transport=emulator.transport()) as http:
        listings = _listings(emulator, http)
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(
                pool.map(lambda i: listings(key).list_service_accounts(projects[i % 8]), range(64))
            )
    assert listings.fetches == 8
    assert _lists(emulator) == 8
