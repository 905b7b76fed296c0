"""How the CLI fails: one ``click.ClickException`` carrying the exit code, and the error map.

Exit codes: 0 done, 1 the operation failed, 2 bad usage or bad input (nothing changed).
Commands raise :class:`CliError` (or let a :class:`~rotator.errors.RotatorError` reach
:func:`errors_to_exit`); only click's top level turns it into ``sys.exit``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import click

from rotator.cli.options import OutputFormat
from rotator.errors import RotatorError

EXIT_FAILED, EXIT_USAGE = 1, 2


class CliError(click.ClickException):
    """A failure to show as one ``error: …`` line on stderr, exiting with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        # click types exit_code as a ClassVar, but click.main reads it from the instance.
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True, file=file)


@contextmanager
def errors_to_exit(
    output: str = OutputFormat.TEXT, secret_id: str | None = None, *, rotation: bool = False
) -> Iterator[None]:
    """Map rotator errors to one line on stderr and the documented exit code.

    With JSON output the failure is also printed on stdout; with ``rotation`` it keeps the
    rotation report's shape (every field present).
    """
    try:
        yield
    except RotatorError as error:
        if output == OutputFormat.JSON:
            from rotator.cli.render import emit_json, failure_json

            emit_json(failure_json(error, secret_id, rotation=rotation))
        raise CliError(str(error), error.exit_code) from error
