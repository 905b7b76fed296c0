"""One fault at every external call of a rotation, in both modes, with and without grace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.reliability import harness
from tests.reliability.conftest import WRITE_DOC
from tests.reliability.harness import Scenario

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"

#: Scenarios that expose a bug in rotator, by id, with the bug named (strict xfail).
KNOWN_BUGS: dict[str, str] = {}


def _param(scenario: Scenario) -> object:
    reason = KNOWN_BUGS.get(scenario.id)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(scenario, id=scenario.id, marks=marks)


@pytest.mark.parametrize("scenario", [_param(s) for s in harness.scenarios()])
def test_rotation_survives_the_fault(scenario: Scenario) -> None:
    """GIVEN one fault at one call site WHEN the rotation is replayed or rerun THEN all holds."""
    outcome = harness.run_scenario(scenario)
    assert outcome.fired, "the call site was not reached: this run differs from the recording"
    assert outcome.survived, outcome.cell()


def test_reliability_doc_matches_a_fresh_run() -> None:
    """docs/reliability.md is the table this run produces (rewritten only with the flag)."""
    text = harness.render_doc(harness.all_outcomes())
    if os.environ.get(WRITE_DOC):
        DOC.write_text(text + "\n", encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == text + "\n", "run `make reliability-doc`"
