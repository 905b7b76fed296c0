"""The harness sees every external call, and each of its invariant checks can fail."""

from __future__ import annotations

import json

import pytest

from rotator.domain.naming import service_account_name
from tests.reliability import harness
from tests.reliability.harness import Mode, Tracker

_SM = {"DescribeSecret", "GetSecretValue", "PutSecretValue", "UpdateSecretVersionStage"}


def _route(label: str) -> str:
    return (
        label.replace("…", "/organization/projects/{project_id}")
        .replace("service_accounts/{id}", "service_accounts/{service_account_id}")
        .replace("api_keys/{id}", "api_keys/{api_key_id}")
    )


@pytest.mark.parametrize("mode", harness.MODES)
@pytest.mark.parametrize("grace", [False, True], ids=["nograce", "grace"])
def test_recorded_sites_are_every_call_the_store_and_emulator_saw(mode: Mode, grace: bool) -> None:
    """The wrappers' call sites equal the in-memory store's and the emulator's own call logs."""
    run = harness.clean_run(mode, grace=grace)
    sites = [site.call for site in run.tracker.sites]
    # RotateSecret is the service starting the rotation, not a call rotator makes.
    store_calls = [call for call in run.world.store.calls if call != "RotateSecret"]
    assert [call for call in sites if call in _SM] == store_calls
    openai = [_route(call) for call in sites if call not in _SM]
    assert openai == [f"{c.method} {c.route}" for c in run.world.emulator.calls]
    assert len(sites) >= 15


def test_a_dead_current_key_is_noticed_at_the_call_that_killed_it() -> None:
    """Revoking the AWSCURRENT key out of band is reported after the next call."""
    run = harness.Run("local", grace=False)
    tracker = Tracker(run.world)
    tracker.enter("GetSecretValue")
    tracker.after_call()
    assert tracker.key_lost_at == []
    run.world.emulator.revoke_key(run.world.seeded_key_id)
    tracker.after_call()
    assert tracker.key_lost_at == ["start: GetSecretValue"]


def test_an_unrecorded_rotator_account_is_an_orphan() -> None:
    """A rotator-named account of this secret that no version records is flagged."""
    run = harness.Run("local", grace=False)
    name = service_account_name(run.world.arn, "0" * 8 + "-0000-0000-0000-" + "0" * 12)
    run.world.emulator.add_service_account(run.world.project_id, name)
    assert len(harness.orphans(run.world)) == 1
    assert any("orphan" in p for p in harness.final_problems(run.world))


def test_an_extra_live_key_breaks_the_retirement_policy() -> None:
    """A second live key that the secret does not allow is reported."""
    run = harness.Run("local", grace=False)
    run.world.emulator.add_service_account(run.world.project_id, "someone-else")
    assert harness.final_problems(run.world) == ["1 key(s) live beyond the policy"]


def test_a_stuck_pending_label_is_reported() -> None:
    """AWSPENDING left on a version other than AWSCURRENT's breaks the end state."""
    run = harness.Run("local", grace=False)
    run.world.store.put_pending(
        run.world.arn,
        "1" * 36,
        run.world.store.value_of(run.world.arn, next(iter(run.world.store.versions(run.world.arn))))
        or pytest.fail("no value"),
    )
    assert "AWSPENDING stuck on a non-current version" in harness.final_problems(run.world)


def test_a_key_value_in_a_log_event_is_a_leak() -> None:
    """leaked() finds a key value anywhere in the captured events."""
    run = harness.Run("local", grace=False)
    assert harness.leaked(run, [{"event": "x", "key_id": "key_1"}]) is None
    event = {"event": "x", "detail": json.dumps({"k": run.world.seeded_value})}
    assert harness.leaked(run, [event]) == "a log event"


def test_a_fault_at_the_create_call_fires_and_is_recovered() -> None:
    """An armed fault fires exactly at its site and the scenario notes the first error."""
    site = harness.CallSite("createSecret", "POST …/service_accounts/{id}/api_keys")
    outcome = harness.run_scenario(harness.Scenario("lambda", False, site, "b"))
    assert outcome.fired
    assert outcome.first_error is not None
    assert "may have taken effect" in outcome.first_error
    assert outcome.survived
