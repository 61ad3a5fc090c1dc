"""``passport`` command line: a click root group and one module per noun."""

from __future__ import annotations

import sys

import click

from passport.cli.account import account
from passport.cli.attest import attest
from passport.cli.batch import batch
from passport.cli.compile import compile_command
from passport.cli.demo import demo_command
from passport.cli.deploy import deploy_command
from passport.cli.facility import facility
from passport.cli.gateway import gateway
from passport.cli.member import member
from passport.cli.net import net
from passport.cli.node import node
from passport.cli.passport_cmd import passport_group
from passport.cli.records import records
from passport.cli.serve import resolver_keys, serve_command
from passport.cli.telemetry import telemetry
from passport.cli.trust import trust
from passport.cli.validator import validator
from passport.exceptions import PassportError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mineral-passport", prog_name="passport")
def cli() -> None:
    """Mineral Passport: verifiable provenance for critical minerals on a permissioned EVM chain."""


for command in (
    account,
    deploy_command,
    member,
    facility,
    batch,
    attest,
    telemetry,
    gateway,
    passport_group,
    records,
    trust,
    compile_command,
    demo_command,
    node,
    net,
    validator,
    serve_command,
    resolver_keys,
):
    cli.add_command(command)


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
