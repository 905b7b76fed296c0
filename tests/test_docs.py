"""The README stays true: every command it should name exists, and every command is named."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from rotator.cli.app import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_is_documented_and_has_help(name: str) -> None:
    """Each click command has help text and appears in the README."""
    command = cli.commands[name]
    assert isinstance(command, click.Command)
    assert (command.help or "").strip()
    assert f"rotator {name}" in README


def test_readme_shows_the_two_commands() -> None:
    """make demo and make test are the README's first commands, and the Makefile has them."""
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo", "test"):
        assert f"make {target}" in README
        assert f"\n{target}:" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()
