"""``passport`` command line: a click root group and one module per noun."""

from __future__ import annotations

import sys

import click

from passport.cli.compile import compile_command
from passport.exceptions import PassportError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mineral-passport", prog_name="passport")
def cli() -> None:
    """Mineral Passport: verifiable provenance for critical minerals on a permissioned EVM chain."""


cli.add_command(compile_command)


def main() -> None:
    """Entry point: a PassportError becomes one line on stderr and exit code 1, never a traceback."""
    try:
        cli.main(standalone_mode=False)
    except PassportError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
