"""Every command, given bad arguments, answers with an error that says what was wrong and never a
traceback (what ``passport.cli.main`` turns into one line: a click usage error or a
``PassportError``; anything else would reach the user as a traceback).

The commands are walked from the CLI itself, so a new command is swept without being listed.
For each one, in turn:
- each parameter given a value its type refuses (``@@bad``), the others plausible;
- plausible values that name nothing (batch, facility and proposal 999999, an address that is no
  member, a file that is not JSON) against the demo's deployment on anvil;
- the same against a chain that is not there.
Commands that start servers or long jobs (node, net, gateway, serve, demo, compile) get the first
kind only: their parameters are refused before anything starts.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from passport.cli import cli
from passport.exceptions import PassportError
from passport.toolchain.anvil import Anvil

BAD = "@@bad"
NOBODY = "0x000000000000000000000000000000000000dEaD"
NONE_ID = "999999"
UNREACHABLE = "http://127.0.0.1:9"
# Started as processes or long jobs: swept only with values refused while parsing.
PARSE_ONLY = {
    "node start", "node init", "net init", "net start", "net stop", "gateway start", "gateway simulate",
    "serve", "demo", "compile", "account new",
}  # fmt: skip
SECONDS = 30


def leaves(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        if not path and name == "passport":  # the hidden alias of the top-level verbs
            continue
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            yield from leaves(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


COMMANDS = dict(leaves(cli))


def refuses(param: click.Parameter, value: str) -> bool:
    """Whether ``param``'s type refuses ``value`` while parsing."""
    try:
        param.type.convert(value, param, None)
    except click.BadParameter:
        return True
    return False


class Plausible:
    """Values that parse but name nothing on the demo's chain."""

    def __init__(self, tmp: Path, rpc_url: str, deployments: Path) -> None:
        self.tmp, self.rpc_url, self.deployments = tmp, rpc_url, deployments
        self.junk = tmp / "junk.json"
        self.junk.write_text("this is not JSON\n")

    def value(self, param: click.Parameter) -> str:
        kind = param.type
        if isinstance(kind, click.Choice):
            return str(kind.choices[0])
        if isinstance(kind, click.Path):
            if kind.file_okay and not kind.dir_okay:
                return str(self.junk)
            return str(self.tmp / "dir")
        name = kind.name.upper()
        if name == "ADDRESS":
            return NOBODY
        if name == "CC":
            return "VN"
        if name == "MASS":
            return "5000kg"
        if isinstance(kind, click.types.FloatParamType):
            return "1.5"
        return NONE_ID

    def args(self, command: click.Command, bad: click.Parameter | None, rpc_url: str) -> list[str]:
        args: list[str] = []
        names = {p.name for p in command.params}
        for p in command.params:
            if isinstance(p, click.Argument):
                if p.required or p is bad:
                    args.append(BAD if p is bad else self.value(p))
                continue
            assert isinstance(p, click.Option)
            if p is bad:
                args += [p.opts[0], BAD]
            elif p.name == "rpc_url":
                args += ["--rpc-url", rpc_url]
            elif p.name == "deployments":
                args += ["--deployments", str(self.deployments)]
            elif p.name == "network":
                args += ["--network", "demo"]
            elif p.name == "dev_account":
                args += ["--dev-account", "admin"]
            elif p.required and not p.is_flag:
                args += [p.opts[0], self.value(p)]
        if "vault_dir" in names and bad is None:
            args += ["--vault", str(self.tmp / "vault")]
        return args


@contextlib.contextmanager
def deadline(what: str) -> Iterator[None]:
    def expire(_signum: int, _frame: Any) -> None:
        raise TimeoutError(f"{what}: no answer in {SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(args: list[str], env: dict[str, str]) -> Result:
    with deadline(" ".join(args)):
        return CliRunner(env=env).invoke(cli, args, input="")


def no_traceback(result: Result, args: list[str], must_fail: bool) -> None:
    shown = " ".join(args)
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        assert isinstance(exc, PassportError), f"{shown}: {type(exc).__name__}: {exc} reaches the user"
        message = str(exc)
        assert "\n" not in message.strip() and len(message) < 2000, f"{shown}: {message!r}"
        return
    if must_fail:
        assert result.exit_code in (1, 2), f"{shown}: exit {result.exit_code}: {result.output}"
    if result.exit_code == 2:
        errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, f"{shown}: {result.output}"
    assert "Traceback" not in result.output, f"{shown}: {result.output}"


@pytest.fixture(scope="module")
def chain(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp("bad-args-demo")
    result = CliRunner().invoke(cli, ["demo", "--rpc-url", anvil.url, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    return anvil.url, out / "deployments"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    return {"HOME": str(tmp_path), "PASSPORT_VAULT": str(tmp_path / "vault"), "PASSPORT_PASSWORD": ""}


def test_the_sweep_covers_every_command() -> None:
    assert len(COMMANDS) >= 60
    assert {"batch offer", "batch accept", "member add", "facility add", "export", "verify"} <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_refused_value_of_each_parameter_is_one_clear_error(
    name: str, chain: tuple[str, Path], env: dict[str, str], tmp_path: Path
) -> None:
    command = COMMANDS[name]
    plausible = Plausible(tmp_path, *chain)
    candidates = [
        p
        for p in command.params
        if not (isinstance(p, click.Option) and (p.is_flag or p.count)) and refuses(p, BAD)
    ]
    for param in candidates:
        args = [*name.split(), *plausible.args(command, param, chain[0])]
        result = run(args, env)
        no_traceback(result, args, must_fail=True)
        if result.exception is None:
            label = param.human_readable_name
            assert BAD in result.output or label.strip("-").upper() in result.output.upper(), (
                f"{' '.join(args)}: the error does not name the parameter or the value: {result.output}"
            )
    unknown = [*name.split(), "--no-such-option"]
    no_traceback(run(unknown, env), unknown, must_fail=True)


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - PARSE_ONLY))
def test_values_that_name_nothing_are_refused_with_a_reason(
    name: str, chain: tuple[str, Path], env: dict[str, str], tmp_path: Path
) -> None:
    command = COMMANDS[name]
    plausible = Plausible(tmp_path, *chain)
    for rpc_url in (chain[0], UNREACHABLE):
        args = [*name.split(), *plausible.args(command, None, rpc_url)]
        result = run(args, env)
        no_traceback(result, args, must_fail=rpc_url == UNREACHABLE and needs_chain(command))


def needs_chain(command: click.Command) -> bool:
    return any(p.name == "rpc_url" for p in command.params)
