"""The README stays true: every command it should name exists, and every command is named."""

from __future__ import annotations

import re
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


CONFIG_SOURCE = (ROOT / "rotator" / "config.py").read_text()
ENV_READ = re.compile(r'env(?:\.get\(|\[|, )\s*"([A-Z][A-Z0-9_]+)"')


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_every_environment_variable_settings_reads_is_in_the_configuration_table() -> None:
    """Settings.from_env's variables (ROTATOR_KEY_LIFETIME, ...) all appear in the table."""
    names = set(ENV_READ.findall(CONFIG_SOURCE))
    assert {"ROTATOR_KEY_LIFETIME", "ROTATOR_ALLOWED_PROJECT_IDS"} <= names  # the regex works
    rows = "\n".join(
        line for line in _section(README, "Configuration").splitlines() if line.startswith("|")
    )
    assert sorted(name for name in names if f"`{name}`" not in rows) == []


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_option_of_every_command_is_named_in_the_readme(name: str) -> None:
    """Each long option (--key-lifetime, --replace-dead-key, --scopes, ...) is in the README."""
    command = cli.commands[name]
    options = {
        opt
        for param in command.params
        if isinstance(param, click.Option)
        for opt in param.opts
        if opt.startswith("--")
    }
    missing = [opt for opt in options if not re.search(re.escape(opt) + r"(?![\w-])", README)]
    assert sorted(missing) == []


DOCUMENTED_PATH = re.compile(
    r"`((?:rotator|lambda|tests|docs|scripts|benchmarks)/[\w./-]+\.(?:py|md|yaml)|template\.yaml)`"
)


@pytest.mark.parametrize("doc", ["README.md", "docs/deploy.md"])
def test_every_file_the_docs_name_exists(doc: str) -> None:
    """A path in backquotes in the README or the deploy guide names a file of the repository."""
    paths = set(DOCUMENTED_PATH.findall((ROOT / doc).read_text()))
    assert paths  # the pattern still finds the docs' paths
    assert sorted(path for path in paths if not (ROOT / path).is_file()) == []
