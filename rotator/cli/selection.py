"""Which secrets a fleet command (``--all``) covers: the tag filter and the discovered set.

Exit codes: 2 bad usage, or no rotator secret matched the filters (nothing was changed).
"""

from __future__ import annotations

from collections.abc import Mapping

import click

from rotator.cli.errors import EXIT_USAGE, CliError
from rotator.domain.secret_value import NOT_A_PROJECT_KEY
from rotator.errors import ConfigError
from rotator.fleet.discovery import replica_of
from rotator.fleet.run import Candidate


def parse_tags(pairs: tuple[str, ...]) -> dict[str, str]:
    """``KEY=VALUE`` pairs (repeated ``--tag``) as a mapping."""
    tags: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--tag {pair[:60]!r} is not KEY=VALUE; e.g. --tag team=payments")
        tags[key] = value
    return tags


def describe_filters(prefix: str | None, tags: Mapping[str, str]) -> str:
    """The filters as the user typed them, for messages."""
    parts = [f"--prefix {prefix}"] if prefix else []
    parts += [f"--tag {key}={value}" for key, value in tags.items()]
    return " ".join(parts) or "(no filter)"


def rotator_secrets(candidates: list[Candidate], filters: str) -> list[Candidate]:
    """The candidates holding a rotator key; :class:`CliError` (exit 2) when there are none."""
    found = [c for c in candidates if c.secret is not None]
    skipped = len(candidates) - len(found)
    for candidate in candidates:
        named = replica_of(candidate.description) is not None
        if candidate.secret is None and (named or candidate.problem == NOT_A_PROJECT_KEY):
            click.echo(f"skipping {candidate.description.name}: {candidate.problem}", err=True)
    if skipped:
        click.echo(f"skipping {skipped} secret(s) that hold no rotator key", err=True)
    if not found:
        raise CliError(f"no rotator secret matches {filters}; nothing was changed", EXIT_USAGE)
    return found
