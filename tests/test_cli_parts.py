"""The CLI's shared parts: the one age formatter, the Duration type, the error's exit code."""

from __future__ import annotations

from datetime import timedelta

import click
import pytest
from click.testing import CliRunner

from rotator.cli.errors import CliError
from rotator.cli.options import Duration
from rotator.cli.render import format_age


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (119, "119s"), (120, "2m"), (3599, "59m"), (3600, "1h00m"), (7320, "2h02m"),
     (86399, "23h59m"), (86400, "1d"), (100 * 86400 + 5, "100d")],
)  # fmt: skip
def test_format_age_is_the_one_way_an_age_is_shown(seconds: int, text: str) -> None:
    """Seconds under two minutes, minutes under an hour, hours and minutes, then days."""
    assert format_age(seconds) == text


@click.command()
@click.option("--grace", type=Duration())
@click.option("--timeout", type=Duration(positive=True))
def _command(grace: timedelta | None, timeout: timedelta | None) -> None:
    click.echo(f"{grace} {timeout}")


@pytest.mark.parametrize(
    ("args", "shown"),
    [(["--grace", "0"], "0:00:00 None"), (["--grace", "15m"], "0:15:00 None"),
     (["--timeout", "90s"], "None 0:01:30"), (["--grace", "7d"], "7 days, 0:00:00 None")],
)  # fmt: skip
def test_duration_parses_what_the_docs_promise(args: list[str], shown: str) -> None:
    """0, 90s, 15m, 7d become timedeltas."""
    result = CliRunner().invoke(_command, args)
    assert (result.exit_code, result.output.strip()) == (0, shown)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["--grace", "soon"], "--grace 'soon' is not a duration"),
     (["--grace", "400d"], "longer than a year"),
     (["--timeout", "0"], "--timeout must be more than 0 seconds")],
)  # fmt: skip
def test_bad_duration_exits_2_naming_the_flag(args: list[str], fragment: str) -> None:
    """A bad value is click's usage error: exit 2, the flag and the fix named."""
    result = CliRunner().invoke(_command, args)
    assert result.exit_code == 2
    assert fragment in result.output


def test_cli_error_shows_one_error_line_and_carries_its_exit_code() -> None:
    """CliError prints ``error: …`` once on stderr and exits with its own code."""

    @click.command()
    def fails() -> None:
        raise CliError("nothing matched", 2)

    result = CliRunner().invoke(fails, [])
    assert (result.exit_code, result.stderr) == (2, "error: nothing matched\n")
