"""One fault at every external call of an admin-key secret's rotation (both modes, both shapes)."""

from __future__ import annotations

import pytest

from tests.reliability import admin_harness
from tests.reliability.admin_harness import Scenario


@pytest.mark.parametrize("scenario", admin_harness.scenarios(), ids=lambda s: s.id)
def test_admin_key_rotation_survives_the_fault(scenario: Scenario) -> None:
    """GIVEN one fault at one call site WHEN the rotation is replayed or rerun THEN the admin
    key in AWSCURRENT always authenticates and only the current admin key is left alive."""
    outcome = admin_harness.run_scenario(scenario)
    assert outcome.fired, "the call site was not reached: this run differs from the recording"
    assert outcome.survived, "; ".join(outcome.problems)
