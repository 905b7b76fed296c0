"""The adapter's admin-key operations: list, create (sent once), delete; mock and loopback."""

from __future__ import annotations

import pytest

from rotator.domain.admin_secret import matches_redacted
from rotator.domain.models import DeleteOutcome
from rotator.domain.sensitive import Sensitive
from rotator.errors import AdminKeyError, ResponseLostError, SecretFormatError
from tests.adapters.conftest import World

ADMIN_KEYS = r"/organization/admin_api_keys$"


def test_list_finds_the_calling_key_by_its_redacted_form(world: World) -> None:
    listing = world.admin().list_admin_keys()
    own = [k for k in listing if matches_redacted(Sensitive(world.admin_key), k.redacted_value)]
    assert [k.id for k in own] == [world.emu.admin_key_id(world.admin_key)]
    assert own[0].created_at > 0


def test_create_returns_a_working_key_with_the_name_and_lifetime_asked(world: World) -> None:
    now = int(world.clock.now())
    created = world.admin().create_admin_key("rotator-abc-tok", expires_in_seconds=3600)
    assert created.name == "rotator-abc-tok"
    assert created.key_id.startswith("key_")
    assert created.expires_at == now + 3600
    assert world.emu.admin_key_works(created.value.reveal())
    assert "sk-admin" not in repr(created)
    forever = world.admin().create_admin_key("rotator-abc-tok2", expires_in_seconds=None)
    assert forever.expires_at is None


def test_create_is_sent_once_and_a_lost_answer_says_reconcile_by_name(world: World) -> None:
    world.emu.inject("POST", ADMIN_KEYS, "status", status=500)
    with pytest.raises(ResponseLostError, match="retry later"):
        world.admin().create_admin_key("rotator-abc-lost", expires_in_seconds=None)
    posts = [c for c in world.emu.calls if c.method == "POST"]
    assert len(posts) == 1


def test_delete_then_not_found_and_the_key_is_refused(world: World) -> None:
    created = world.admin().create_admin_key("rotator-abc-del", expires_in_seconds=None)
    admin = world.admin(created.value.reveal())
    assert admin.delete_admin_key(world.emu.admin_key_id(world.admin_key) or "") is (
        DeleteOutcome.DELETED
    )
    assert not world.emu.admin_key_works(world.admin_key)
    with pytest.raises(AdminKeyError):
        world.admin().list_admin_keys()
    assert admin.delete_admin_key(created.key_id) is DeleteOutcome.DELETED  # itself
    assert not world.emu.admin_key_works(created.value.reveal())


def test_delete_checks_the_id_shape_before_sending(world: World) -> None:
    with pytest.raises(SecretFormatError):
        world.admin().delete_admin_key("../projects")
    assert world.emu.calls == []
