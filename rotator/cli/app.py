"""``rotator``: the click group, ``main`` and ``demo``; registers the command modules.

Imports stay light at module level (click only); each command imports what it needs, so
``rotator --help`` starts fast and never loads boto3. Nothing imports this module but the
console script and ``python -m rotator``.
"""

from __future__ import annotations

import click

from rotator.cli import audit, deploy, maintenance, rotate, status
from rotator.cli.errors import EXIT_USAGE, CliError, errors_to_exit


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rotator")
def cli() -> None:
    """Rotate OpenAI project service-account keys held in AWS Secrets Manager."""


@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Run a full rotation offline against local Secrets Manager and OpenAI emulators."""
    try:
        from rotator.testing.demo import run_demo
    except ImportError as error:
        raise CliError(
            f"the demo needs the development extras ({error.name} is missing); "
            "install them with `pip install 'rotator[dev]'` or run `make demo`",
            EXIT_USAGE,
        ) from error
    with errors_to_exit():
        code = run_demo()
    ctx.exit(code)


for _command in (
    rotate.rotate,
    status.status,
    audit.audit,
    *deploy.COMMANDS,
    maintenance.recover,
    maintenance.prune,
):
    cli.add_command(_command)


def main() -> None:
    """The console script: ``rotator …``. click's own usage errors are masked like ours."""
    import sys

    from rotator.errors import mask_message

    try:
        code = cli.main(prog_name="rotator", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(1)
    except click.ClickException as error:
        error.message = mask_message(error.message)  # type: ignore[misc]  # click marks it Final; masking must rewrite it
        error.show()
        sys.exit(error.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
