"""Reliability tests: the fault table in the terminal summary, and the e2e stack for bad input."""

from __future__ import annotations

import os

import pytest

from tests.e2e.conftest import stack  # noqa: F401 - fixture reused as-is
from tests.reliability import admin_harness, harness
from tests.rotation.conftest import world  # noqa: F401 - the in-memory world, reused as-is

WRITE_DOC = "ROTATOR_WRITE_RELIABILITY_DOC"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """After a run that exercised the harness: totals, and the full tables with -v or the flag."""
    if admin_harness.run_scenario.cache_info().currsize:
        ran_admin = [admin_harness.run_scenario(s) for s in admin_harness.scenarios()]
        scenarios, reached, survived, broken = admin_harness.totals(ran_admin)
        terminalreporter.section("fault injection: admin-key rotation")
        terminalreporter.write_line(
            f"{scenarios} scenarios, {reached} reached, {survived} survived"
            + "".join(f"\nbroken: {name}" for name in broken)
        )
    outcomes = harness.run_scenario.cache_info().currsize
    if not outcomes:
        return
    ran = harness.all_outcomes()
    total = harness.totals(ran)
    terminalreporter.section("fault injection")
    terminalreporter.write_line(
        f"{total.scenarios} scenarios, {total.survived} survived, {total.keys_lost} keys lost, "
        f"{total.orphans_left} orphans left, {total.recoveries} manual recoveries, "
        f"{total.prunes} prunes"
    )
    for name in total.broken:
        terminalreporter.write_line(f"broken: {name}")
    if terminalreporter.config.getoption("verbose") > 0 or os.environ.get(WRITE_DOC):
        for (mode, grace), title in harness.TITLES.items():
            terminalreporter.write_line("")
            terminalreporter.write_line(title)
            terminalreporter.write_line(harness.table(ran, mode, grace))
