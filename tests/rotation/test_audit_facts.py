"""The audit's facts gathered through the ports: key age, expiry, a stuck AWSPENDING."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from rotator.domain.audit import AuditPolicy, Reason
from rotator.domain.models import AWSCURRENT, SecretDescription
from rotator.domain.secret_value import RotatorSecret, format_time
from rotator.domain.sensitive import Sensitive
from rotator.errors import ServiceError
from rotator.rotation.audit import audit_secrets, refuse_unreadable, secret_facts
from tests.rotation.conftest import World

LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:rotator"


def discovered(world: World) -> tuple[SecretDescription, RotatorSecret]:
    description = world.store.describe(world.arn)
    raw = world.store.get_value(world.arn, stage=AWSCURRENT)
    assert raw is not None
    return description, RotatorSecret.parse(raw)


def test_key_age_without_rotated_at_is_the_current_versions_creation(world: World) -> None:
    """No rotated_at: the key's age is measured from AWSCURRENT's CreatedDate."""
    created = world.now()
    world.advance(3 * 86400)
    description, secret = discovered(world)
    facts = secret_facts(description, secret, history=world.store)
    assert facts.key_created_at == created
    assert facts.pending_since is None


def test_a_pending_rotation_older_than_an_hour_is_stuck(world: World) -> None:
    """GIVEN RotateSecret left AWSPENDING 2 h ago WHEN audited THEN stuck_rotation."""
    world.store.enable_rotation(world.arn, LAMBDA_ARN)
    started = world.now()
    world.store.start_rotation(world.arn)
    world.advance(2 * 3600)
    description, secret = discovered(world)
    assert secret_facts(description, secret, history=world.store).pending_since == started
    report = audit_secrets(
        [(description, secret)], history=world.store, policy=AuditPolicy(), now=world.now()
    )
    assert report.secrets[0].reasons == (Reason.STUCK_ROTATION,)


def test_without_version_history_a_pending_rotation_is_dated_by_last_change(world: World) -> None:
    """history=None (the Lambda's audit role): LastChangedDate stands in, never earlier."""
    world.store.enable_rotation(world.arn, LAMBDA_ARN)
    world.store.start_rotation(world.arn)
    description, secret = discovered(world)
    facts = secret_facts(description, secret, history=None)
    assert facts.pending_since == description.last_changed
    assert facts.key_created_at is None


def test_expiry_before_the_next_rotation_is_a_finding(world: World) -> None:
    """A key whose expires_at falls within --expiring-within is out of policy."""
    expires = world.now() + timedelta(days=3)
    data = {
        **world.current(),
        "expires_at": format_time(expires),
        "rotated_at": format_time(world.now()),
    }
    world.store.put_current(world.arn, Sensitive(json.dumps(data)))
    description, secret = discovered(world)
    report = audit_secrets(
        [(description, secret)],
        history=world.store,
        policy=AuditPolicy(expiring_within=timedelta(days=7)),
        now=world.now(),
    )
    assert Reason.EXPIRING_SOON in report.secrets[0].reasons
    assert Reason.EXPIRES_BEFORE_NEXT_ROTATION in report.secrets[0].reasons


def test_an_unreadable_secret_fails_the_audit_instead_of_passing_it() -> None:
    """A secret discovery could not read is an error, not a silent pass."""
    refuse_unreadable([("a", None), ("b", "secret value is not JSON")])
    with pytest.raises(ServiceError, match="could not read 1 secret"):
        refuse_unreadable([("a", "could not be read: AccessDenied")])
