"""The key-lifecycle operations of the OpenAI adapter against the emulator's 2026-11 behaviours.

Per-account key create, key update, lifetimes, archived projects, the restricted-key probe and the
listing's new fields; each test runs through httpx.MockTransport and over a loopback server.
"""

from __future__ import annotations

import pytest

from rotator.domain.models import DeleteOutcome, ProbeResult, UpdateOutcome
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    EndpointUnsupportedError,
    KeyLifetimeRequiredError,
    ProjectArchivedError,
    ResponseLostError,
    ServiceError,
)
from rotator.testing.openai_emulator.wire import EndpointKnob
from tests.adapters.conftest import World

P = "/organization/projects/{project_id}"
SA_KEYS = f"{P}/service_accounts/{{service_account_id}}/api_keys"
KEY = f"{P}/api_keys/{{api_key_id}}"
LIFETIME_FIX = (
    "OpenAI refused a key without an expiry (a key-lifetime policy applies): set --key-lifetime,"
    " ROTATOR_KEY_LIFETIME or the secret's key_lifetime, e.g. 90d"
)


def _archived_message(project: str) -> str:
    return (
        f"project {project} is archived: its keys no longer work and it refuses new ones; move"
        " the workload to an active project and re-seed the secret with `rotator init --force`"
    )


# -- create_service_account_key -------------------------------------------------------------


def test_per_account_create_mints_a_working_key_on_the_same_account(world: World) -> None:
    """GIVEN a hand-made account WHEN a key is minted on it THEN the key works, carries the
    name, scopes and expiry asked for, and the account's first key is untouched."""
    seeded = world.emu.add_service_account(world.project, "hand-made")
    now = int(world.clock.now())
    created = world.admin().create_service_account_key(
        world.project,
        seeded.service_account_id,
        name="rotator-tag-abc",
        scopes=["api.model.read", "api.responses.write"],
        expires_in_seconds=3600,
    )
    assert created.service_account_id == seeded.service_account_id
    assert created.service_account_name is None
    assert created.name == "rotator-tag-abc"
    assert created.key_id.startswith("key_")
    assert created.expires_at == now + 3600
    assert created.created_at >= now
    assert world.emu.key_works(created.value.reveal())
    view = world.emu.key(created.key_id)
    assert view is not None
    assert view.scopes == ("api.model.read", "api.responses.write")
    assert view.service_account_id == seeded.service_account_id
    assert world.emu.key_works(seeded.value)
    assert created.value.reveal() not in repr(created)


def test_per_account_create_without_scopes_or_lifetime_sends_neither(world: World) -> None:
    """scopes=None and expires_in_seconds=None leave both out: an unrestricted key, no expiry."""
    seeded = world.emu.add_service_account(world.project, "hand-made")
    created = world.admin().create_service_account_key(
        world.project, seeded.service_account_id, name="k", scopes=None, expires_in_seconds=None
    )
    view = world.emu.key(created.key_id)
    assert view is not None
    assert (view.scopes, view.expires_at, created.expires_at) == ((), None, None)


@pytest.mark.parametrize("knob", ["404", "405"])
def test_per_account_create_on_an_older_server_is_endpoint_unsupported(
    world: World, knob: EndpointKnob
) -> None:
    """An older server (404 Invalid URL / 405) raises EndpointUnsupportedError with the status,
    sent once, and nothing is minted."""
    seeded = world.emu.add_service_account(world.project, "hand-made")
    world.emu.per_account_key_endpoint = knob
    world.emu.reset_calls()
    with pytest.raises(EndpointUnsupportedError) as raised:
        world.admin().create_service_account_key(
            world.project, seeded.service_account_id, name="k", scopes=None, expires_in_seconds=60
        )
    assert raised.value.status == int(knob)
    assert not isinstance(raised.value, ResponseLostError)
    assert len(world.emu.calls) == 1
    assert world.emu.live_key_ids(world.project) == {seeded.key_id}


def test_per_account_create_on_a_deleted_account_is_endpoint_unsupported_404(
    world: World,
) -> None:
    """A 404 for a missing account is reported the same way (status 404): the caller lists."""
    with pytest.raises(EndpointUnsupportedError) as raised:
        world.admin().create_service_account_key(
            world.project, "svc_acct_gone", name="k", scopes=None, expires_in_seconds=None
        )
    assert raised.value.status == 404


def test_per_account_create_is_sent_once_and_a_lost_answer_is_response_lost(
    world: World,
) -> None:
    """A dropped answer is ResponseLostError (the key may exist); the POST is not retried."""
    seeded = world.emu.add_service_account(world.project, "hand-made")
    world.emu.inject("POST", r"/service_accounts/[^/]+/api_keys$", "drop_after")
    world.emu.reset_calls()
    with pytest.raises(ResponseLostError):
        world.admin().create_service_account_key(
            world.project,
            seeded.service_account_id,
            name="lost",
            scopes=None,
            expires_in_seconds=None,
        )
    assert [c.method for c in world.emu.calls] == ["POST"]
    names = {k.name for k in world.admin().list_api_keys(world.project)}
    assert "lost" in names


def test_per_account_create_5xx_is_response_lost_and_not_retried(world: World) -> None:
    """A 500 to the create may have taken effect: ResponseLostError after a single POST."""
    seeded = world.emu.add_service_account(world.project, "hand-made")
    world.emu.inject("POST", r"/service_accounts/[^/]+/api_keys$", "status", status=500)
    world.emu.reset_calls()
    with pytest.raises(ResponseLostError):
        world.admin().create_service_account_key(
            world.project,
            seeded.service_account_id,
            name="k",
            scopes=None,
            expires_in_seconds=None,
        )
    assert len(world.emu.calls) == 1


# -- lifetime policy and archived projects on both creates -----------------------------------


def test_lifetime_policy_refuses_creates_without_expiry_with_the_fix(world: World) -> None:
    """With a policy, both creates sent without expires_in_seconds raise
    KeyLifetimeRequiredError naming --key-lifetime, and nothing is created."""
    seeded = world.emu.add_service_account(world.project, "hand-made")
    world.emu.max_key_lifetime = 86_400
    admin = world.admin()
    with pytest.raises(KeyLifetimeRequiredError) as first:
        admin.create_service_account(world.project, "rotator-x")
    with pytest.raises(KeyLifetimeRequiredError) as second:
        admin.create_service_account_key(
            world.project,
            seeded.service_account_id,
            name="k",
            scopes=None,
            expires_in_seconds=None,
        )
    assert str(first.value) == str(second.value) == LIFETIME_FIX
    assert first.value.exit_code == 2
    assert world.emu.live_key_ids(world.project) == {seeded.key_id}
    assert len(world.emu.service_accounts(world.project)) == 1


def test_lifetime_policy_accepts_creates_with_an_expiry_within_it(world: World) -> None:
    """With a policy of a day, creates asking for an hour succeed and report expires_at."""
    seeded = world.emu.add_service_account(world.project, "hand-made")
    world.emu.set_project_key_lifetime(world.project, 86_400)
    now = int(world.clock.now())
    admin = world.admin()
    account = admin.create_service_account(world.project, "rotator-x", expires_in_seconds=3600)
    key = admin.create_service_account_key(
        world.project, seeded.service_account_id, name="k", scopes=None, expires_in_seconds=3600
    )
    assert account.expires_at == key.expires_at == now + 3600
    assert account.service_account_name == "rotator-x"
    assert world.emu.key_works(account.value.reveal())
    assert world.emu.key_works(key.value.reveal())


def test_lifetime_policy_refuses_an_expiry_above_its_maximum(world: World) -> None:
    """A lifetime above the maximum is KeyLifetimeRequiredError asking for a shorter one."""
    world.emu.max_key_lifetime = 3600
    with pytest.raises(KeyLifetimeRequiredError, match="set a shorter --key-lifetime"):
        world.admin().create_service_account(world.project, "n", expires_in_seconds=7200)
    assert world.emu.service_accounts(world.project) == []


def test_other_400_to_a_create_with_a_lifetime_stays_a_service_error(world: World) -> None:
    """A 400 unrelated to lifetime or archival, to a create that sent a lifetime, is not
    misreported as a lifetime policy."""
    world.emu.inject("POST", r"/service_accounts$", "status", status=400)
    with pytest.raises(ServiceError) as raised:
        world.admin().create_service_account(world.project, "n", expires_in_seconds=60)
    assert type(raised.value) is ServiceError
    assert raised.value.status == 400


def test_archived_project_refuses_both_creates_with_project_archived_error(world: World) -> None:
    """An archived project's 400 is ProjectArchivedError with the one-line fix (exit 2)."""
    seeded = world.emu.add_service_account(world.project, "hand-made")
    world.emu.archive_project(world.project)
    admin = world.admin()
    with pytest.raises(ProjectArchivedError) as first:
        admin.create_service_account(world.project, "rotator-x")
    with pytest.raises(ProjectArchivedError) as second:
        admin.create_service_account_key(
            world.project,
            seeded.service_account_id,
            name="k",
            scopes=None,
            expires_in_seconds=60,
        )
    assert str(first.value) == str(second.value) == _archived_message(world.project)
    assert first.value.exit_code == 2


def test_get_project_reports_archival(world: World) -> None:
    """get_project fills archived_at and status; Project.archived follows them."""
    admin = world.admin()
    assert admin.get_project(world.project).archived is False
    world.emu.archive_project(world.project)
    project = admin.get_project(world.project)
    assert project.archived
    assert project.archived_at == int(world.clock.now())
    assert project.status == "archived"


# -- update_api_key ---------------------------------------------------------------------------


def test_update_sets_expiry_relative_to_now_and_replaces_scopes(world: World) -> None:
    """An update sets expires_at = now + seconds and the scopes asked for."""
    seeded = world.emu.add_service_account(world.project, "app", scopes=("api.model.read",))
    now = int(world.clock.now())
    outcome = world.admin().update_api_key(
        world.project, seeded.key_id, expires_in_seconds=120, scopes=["api.responses.write"]
    )
    assert outcome is UpdateOutcome.UPDATED
    view = world.emu.key(seeded.key_id)
    assert view is not None
    assert (view.expires_at, view.scopes) == (now + 120, ("api.responses.write",))


def test_update_with_only_an_expiry_keeps_the_scopes(world: World) -> None:
    """expires_in_seconds alone leaves the key's scopes as they were."""
    seeded = world.emu.add_service_account(world.project, "app", scopes=("api.model.read",))
    world.admin().update_api_key(world.project, seeded.key_id, expires_in_seconds=1)
    world.clock.advance(2)
    view = world.emu.key(seeded.key_id)
    assert view is not None
    assert view.scopes == ("api.model.read",)
    assert view.expired
    assert not world.emu.key_authenticates(seeded.value)


def test_update_of_an_expired_key_is_refused(world: World) -> None:
    """OpenAI refuses to update an expired key (400): REFUSED."""
    seeded = world.emu.add_service_account(world.project, "app")
    world.emu.expire_key(seeded.key_id)
    assert (
        world.admin().update_api_key(world.project, seeded.key_id, expires_in_seconds=60)
        is UpdateOutcome.REFUSED
    )


def test_update_above_the_lifetime_policy_is_refused(world: World) -> None:
    """A lifetime above the policy's maximum is a 400: REFUSED, the key unchanged."""
    seeded = world.emu.add_service_account(world.project, "app")
    world.emu.max_key_lifetime = 60
    assert (
        world.admin().update_api_key(world.project, seeded.key_id, expires_in_seconds=120)
        is UpdateOutcome.REFUSED
    )
    view = world.emu.key(seeded.key_id)
    assert view is not None
    assert view.expires_at is None


def test_update_of_an_unknown_key_is_not_found(world: World) -> None:
    """A 404 for the key (not the route) is NOT_FOUND."""
    assert (
        world.admin().update_api_key(world.project, "key_gone", expires_in_seconds=60)
        is UpdateOutcome.NOT_FOUND
    )


@pytest.mark.parametrize("knob", ["404", "405"])
def test_update_on_a_server_without_the_route_is_unsupported(
    world: World, knob: EndpointKnob
) -> None:
    """An older server (404 Invalid URL / 405) answers UNSUPPORTED, sent once."""
    seeded = world.emu.add_service_account(world.project, "app")
    world.emu.key_update_endpoint = knob
    world.emu.reset_calls()
    outcome = world.admin().update_api_key(world.project, seeded.key_id, expires_in_seconds=60)
    assert outcome is UpdateOutcome.UNSUPPORTED
    assert len(world.emu.calls) == 1


def test_update_is_retried_on_429_and_5xx(world: World) -> None:
    """The update is idempotent: a 429 then a 503 are retried, then it lands."""
    seeded = world.emu.add_service_account(world.project, "app")
    world.emu.inject("POST", r"/api_keys/key_", "status", status=429, retry_after=1)
    world.emu.inject("POST", r"/api_keys/key_", "status", status=503)
    world.emu.reset_calls()
    outcome = world.admin().update_api_key(world.project, seeded.key_id, expires_in_seconds=60)
    assert outcome is UpdateOutcome.UPDATED
    assert [c.status for c in world.emu.calls] == [429, 503, 200]
    assert world.sleeps[0] == 1.0


def test_update_without_any_field_is_refused_before_sending(world: World) -> None:
    """Neither expires_in_seconds nor scopes: a ConfigError, no request."""
    seeded = world.emu.add_service_account(world.project, "app")
    world.emu.reset_calls()
    with pytest.raises(Exception, match="needs expires_in_seconds or scopes"):
        world.admin().update_api_key(world.project, seeded.key_id)
    assert world.emu.calls == []


# -- older DELETE, listing fields, probe -----------------------------------------------------


def test_key_delete_on_an_older_server_is_refused_and_the_key_lives(world: World) -> None:
    """delete_service_account_keys='refuse' (older API): REFUSED_SERVICE_ACCOUNT_KEY, key kept."""
    seeded = world.emu.add_service_account(world.project, "app")
    world.emu.delete_service_account_keys = "refuse"
    outcome = world.admin().delete_api_key(world.project, seeded.key_id)
    assert outcome is DeleteOutcome.REFUSED_SERVICE_ACCOUNT_KEY
    assert world.emu.key_works(seeded.value)


def test_key_delete_on_a_newer_server_deletes_only_that_key(world: World) -> None:
    """The newer DELETE removes one key; the account and its other key stay."""
    seeded = world.emu.add_service_account(world.project, "app")
    other = world.emu.add_service_account_key(world.project, seeded.service_account_id)
    assert world.admin().delete_api_key(world.project, seeded.key_id) is DeleteOutcome.DELETED
    assert world.emu.live_key_ids(world.project) == {other.key_id}
    assert [a.id for a in world.emu.service_accounts(world.project)] == [seeded.service_account_id]


def test_listing_reports_expiry_last_use_and_owner_type(world: World) -> None:
    """list_api_keys fills expires_at, last_used_at and owner_type for account and user keys."""
    now = int(world.clock.now())
    seeded = world.emu.add_service_account(world.project, "app", expires_in_seconds=500)
    user = world.emu.add_user_key(world.project)
    world.clock.advance(10)
    assert world.openai.check(Sensitive(seeded.value)) is ProbeResult.ACCEPTED
    keys = {k.id: k for k in world.admin().list_api_keys(world.project)}
    account_key, user_key = keys[seeded.key_id], keys[user.key_id]
    assert (account_key.owner_type, account_key.service_account_id) == (
        "service_account",
        seeded.service_account_id,
    )
    assert account_key.expires_at == now + 500
    assert account_key.last_used_at == now + 10
    assert (user_key.owner_type, user_key.service_account_id) == ("user", None)
    assert (user_key.expires_at, user_key.last_used_at) == (None, None)


def test_probe_of_a_restricted_key_is_restricted_and_works(world: World) -> None:
    """401 missing_scope (scopes exclude model reads) is RESTRICTED, which counts as working."""
    seeded = world.emu.add_service_account(world.project, "app", scopes=("api.responses.write",))
    result = world.openai.check(Sensitive(seeded.value))
    assert result is ProbeResult.RESTRICTED
    assert result.works


def test_probe_of_an_expired_or_archived_key_is_rejected(world: World) -> None:
    """An expired key, and a key of an archived project, answer 401: REJECTED."""
    expired = world.emu.add_service_account(world.project, "a", scopes=("api.responses.write",))
    world.emu.expire_key(expired.key_id)
    assert world.openai.check(Sensitive(expired.value)) is ProbeResult.REJECTED
    live = world.emu.add_service_account(world.project, "b")
    assert world.openai.check(Sensitive(live.value)) is ProbeResult.ACCEPTED
    world.emu.archive_project(world.project)
    assert world.openai.check(Sensitive(live.value)) is ProbeResult.REJECTED
    assert not ProbeResult.REJECTED.works


def test_update_in_an_archived_project_is_refused(world: World) -> None:
    """An archived project refuses key updates (400): REFUSED."""
    seeded = world.emu.add_service_account(world.project, "app")
    world.emu.archive_project(world.project)
    assert (
        world.admin().update_api_key(world.project, seeded.key_id, expires_in_seconds=60)
        is UpdateOutcome.REFUSED
    )
