"""``passport --help`` lists every command without importing any: the table in passport.cli
matches the commands, and the help loads no SDK, web3, eth-account or py-evm. The passport verbs
are at the top level; ``passport passport VERB`` stays as a hidden alias."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from passport.cli import COMMANDS, HIDDEN, cli

HEAVY = ("web3", "eth_account", "eth", "eth_tester", "passport.sdk", "passport.node", "passport.evidence")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_table_says_what_each_command_says(name: str) -> None:
    module, attribute, short = COMMANDS[name]
    command = getattr(importlib.import_module(f"passport.cli.{module}"), attribute)
    assert isinstance(command, click.Command)
    assert command.get_short_help_str(limit=10**6) == short


def test_help_imports_no_sdk_web3_or_pyevm() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from passport.cli import cli\n"
        "result = CliRunner().invoke(cli, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        f"heavy = {HEAVY!r}\n"
        "print(','.join(sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in heavy))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


def test_every_listed_command_is_in_the_help_and_the_alias_is_not() -> None:
    shown = CliRunner().invoke(cli, ["--help"]).output
    for name in COMMANDS:
        assert (f"  {name} " in shown) is (name not in HIDDEN), name


@pytest.mark.parametrize("verb", ["show", "export", "verify", "view", "qr", "check", "schema"])
def test_passport_verbs_at_the_top_and_under_the_alias(verb: str) -> None:
    top = CliRunner().invoke(cli, [verb, "--help"])
    alias = CliRunner().invoke(cli, ["passport", verb, "--help"])
    assert top.exit_code == 0 and alias.exit_code == 0
    assert top.output.split("\n", 1)[1] == alias.output.split("\n", 1)[1]
