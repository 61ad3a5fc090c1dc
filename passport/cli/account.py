"""``passport account``: keystores and the development accounts."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from eth_keys.datatypes import PrivateKey
from rich.table import Table

from passport.cli._common import emit, json_option, stdout
from passport.sdk.accounts import DEV_ROLES, PASSWORD_ENV, create_keystore, dev_accounts, load_keystore


@click.group("account")
def account() -> None:
    """Keystores (encrypted JSON) and development accounts."""


def _password(confirm: bool) -> str:
    password = os.environ.get(PASSWORD_ENV)
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise click.UsageError(f"no password: set ${PASSWORD_ENV} or run in a terminal")
    return str(click.prompt("Keystore password", hide_input=True, confirmation_prompt=confirm, err=True))


@account.command("new")
@click.argument("keystore", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def new(keystore: Path, as_json: bool) -> None:
    """Create a new key in KEYSTORE (password from $PASSPORT_PASSWORD or a prompt)."""
    acct = create_keystore(keystore, _password(confirm=True))
    emit(as_json, {"address": acct.address, "keystore": str(keystore)}, f"created {keystore}: {acct.address}")


@account.command("show")
@click.argument("keystore", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def show(keystore: Path, as_json: bool) -> None:
    """Decrypt KEYSTORE and print its address (checks the password)."""
    acct = load_keystore(keystore, _password(confirm=False))
    public_key = "0x" + PrivateKey(acct.key).public_key.to_bytes().hex()
    emit(
        as_json,
        {"address": acct.address, "public_key": public_key, "keystore": str(keystore)},
        f"{acct.address}\npublic key {public_key}",
    )


@account.command("dev")
@json_option
def dev(as_json: bool) -> None:
    """The development accounts (standard test mnemonic) and their demo roles; no keys shown."""
    rows = [
        {"name": n, "index": i, "address": a.address}
        for i, (n, a) in enumerate(zip(DEV_ROLES, dev_accounts(), strict=True))
    ]

    def human() -> None:
        table = Table("#", "name", "address", title="development accounts (never use on a real network)")
        for r in rows:
            table.add_row(str(r["index"]), str(r["name"]), str(r["address"]))
        stdout.print(table)

    emit(as_json, rows, human)
