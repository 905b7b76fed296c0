"""An archived OpenAI project is recognised by `rotator init` before anything is created."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from rotator.cli.app import cli
from rotator.errors import SecretNotFoundError
from tests.e2e.conftest import Stack

WAY_OUT = (
    "its keys no longer work and it refuses new ones; move the workload to an active project "
    "and re-seed the secret with `rotator init --force`"
)


@pytest.mark.parametrize("source", [["--new-service-account", "app2"], ["--from-env", "APP_KEY"]])
def test_init_refuses_an_archived_project_in_one_line_and_creates_nothing(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, source: list[str]
) -> None:
    """GIVEN an archived project WHEN `rotator init` targets it THEN exit 2, one line naming
    the project and the way out, and no secret, account or key is created."""
    monkeypatch.setenv("APP_KEY", stack.old_key)
    stack.emulator.archive_project(stack.project_id)
    before = stack.snapshot()
    result = CliRunner().invoke(
        cli,
        [
            "init",
            "openai/new",
            "--project-id",
            stack.project_id,
            "--admin-key-secret-id",
            stack.admin_secret,
            *source,
        ],
    )
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    errors = result.stderr.strip().splitlines()
    assert errors == [f"error: project {stack.project_id} is archived: {WAY_OUT}"]
    assert stack.old_key not in result.stderr
    assert stack.snapshot() == before
    with pytest.raises(SecretNotFoundError):
        stack.store.describe("openai/new")


def test_init_into_an_active_project_still_works(stack: Stack) -> None:
    """The check costs nothing on an active project: init creates the secret as before."""
    result = CliRunner().invoke(
        cli,
        [
            "init",
            "openai/new",
            "--project-id",
            stack.project_id,
            "--admin-key-secret-id",
            stack.admin_secret,
            "--new-service-account",
            "app2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert stack.store.describe("openai/new").name == "openai/new"
