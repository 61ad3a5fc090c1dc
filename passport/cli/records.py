"""``passport records``: member profiles, facility records and batch documents kept in the
member's vault, their roots on chain, and disclosure packages that travel with the goods."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.table import Table

from passport.cli._common import (
    ChainArgs,
    SignerArgs,
    chain_options,
    emit,
    signer_options,
    stdout,
    vault_option,
)
from passport.exceptions import RecordError
from passport.records.disclosure import Package, load_tier
from passport.records.envelope import EncryptedPackage, decrypt, encrypt, read_package
from passport.records.fields import KINDS
from passport.records.vault import Vault
from passport.sdk.records import RecordsApi, resolve_documents

F = TypeVar("F", bound=Callable[..., Any])


@click.group("records")
def records() -> None:
    """Records (member profile, facility record, batch documents) and their disclosure."""


def _read_record(file: Path) -> Any:
    try:
        return json.loads(file.read_text())
    except FileNotFoundError:
        raise RecordError(str(file), "no such file") from None
    except (OSError, ValueError) as exc:
        raise RecordError(str(file), f"not JSON ({exc})") from exc


@records.command("put")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("subject")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@vault_option
@signer_options
@chain_options
def put(kind: str, subject: str, file: Path, vault_dir: Path, sender: SignerArgs, chain: ChainArgs) -> None:
    """Validate FILE against KIND's schema, salt and store it in the vault, and set its root on
    chain. SUBJECT is the member's address, or the facility's or batch's id. In a batch record,
    a document may name a file ({"file": "assay.pdf"}); the file is stored in the vault."""
    record = _read_record(file)
    vault = Vault(vault_dir)
    if kind == "batch" and isinstance(record, dict):
        record = resolve_documents(vault, record, file.parent)
    api = RecordsApi(chain.sdk().contracts)
    result = api.put(vault, sender.account(), kind, subject, record)  # type: ignore[arg-type]
    what = f"{kind} {result.subject}: root {result.root}"
    human = f"{what} (sent in {result.tx})" if result.changed else f"{what} (unchanged; nothing sent)"
    emit(chain.as_json, result, human)


@records.command("show")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("subject")
@vault_option
@chain_options
def show(kind: str, subject: str, vault_dir: Path, chain: ChainArgs) -> None:
    """Print a record from the vault with its salts' root, and whether the chain holds that root."""
    vault = Vault(vault_dir)
    api = RecordsApi(chain.sdk().contracts)
    record, _, roots = api.show(vault, kind, subject)  # type: ignore[arg-type]
    if record is None:
        raise RecordError(f"{kind} {subject}", f"not in the vault {vault.root}")
    root = record.root
    on_chain = any(r.root == root for r in roots)
    data = {
        "kind": kind,
        "subject": record.subject,
        "root": "0x" + root.hex(),
        "on_chain": on_chain,
        "record": record.record(),
    }

    def human() -> None:
        state = "[green]on chain[/green]" if on_chain else "[red]not the root on chain[/red]"
        stdout.print(f"{kind} {record.subject}  root 0x{root.hex()}  {state}", highlight=False)
        table = Table("field", "value")
        for path, field in record.fields.items():
            table.add_row(path, json.dumps(field.value, ensure_ascii=False))
        stdout.print(table)

    emit(chain.as_json, data, human)


@records.command("share")
@click.option("--batch", "batch_id", type=click.IntRange(min=1), required=True, help="The batch handed over.")
@click.option("--tier", default="buyer", show_default=True, help="public, buyer, authority, or a tier file.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--encrypt-to",
    "public_key",
    default=None,
    help="Encrypt the package to this secp256k1 public key (hex; `passport account show` prints it).",
)
@vault_option
@chain_options
def share(
    batch_id: int, tier: str, out: Path, public_key: str | None, vault_dir: Path, chain: ChainArgs
) -> None:
    """Write the disclosures this vault may pass on for BATCH's lineage (its own records and
    those received from upstream), limited to TIER."""
    vault = Vault(vault_dir)
    sdk = chain.sdk()
    document = sdk.passport_for(batch_id)
    package = RecordsApi(sdk.contracts).share(vault, document, load_tier(tier))
    if public_key is not None:
        encrypt(package, public_key).save(out)
    else:
        package.save(out)
    count = len(package.disclosures)
    human = f"wrote {out}: {count} disclosure(s) for batch {batch_id} at tier {package.tier}"
    if public_key is not None:
        human += " (encrypted)"
    emit(chain.as_json, {"file": str(out), "disclosures": [d.label() for d in package.disclosures]}, human)


@records.command("receive")
@click.argument("package_file", metavar="PKG", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--batch",
    "batch_id",
    type=click.IntRange(min=1),
    default=None,
    help="Refuse a package for another batch.",
)
@click.option(
    "--keystore", type=click.Path(dir_okay=False, path_type=Path), help="Key to decrypt an encrypted package."
)
@click.option("--dev-account", default=None, help="Development account to decrypt with (dev chains only).")
@vault_option
@chain_options
def receive(
    package_file: Path,
    batch_id: int | None,
    keystore: Path | None,
    dev_account: str | None,
    vault_dir: Path,
    chain: ChainArgs,
) -> None:
    """Check a disclosure package against the chain and keep it in the vault."""
    loaded = read_package(package_file)
    if isinstance(loaded, EncryptedPackage):
        loaded = decrypt(loaded, SignerArgs(keystore, dev_account).account(), str(package_file))
    package: Package = loaded
    if batch_id is not None and package.batch_id != batch_id:
        raise RecordError(str(package_file), f"for batch {package.batch_id}, not batch {batch_id}")
    vault = Vault(vault_dir)
    sdk = chain.sdk()
    document = sdk.passport_for(package.batch_id)
    kept = RecordsApi(sdk.contracts).receive(vault, package, document)
    count = len(package.disclosures)
    human = f"checked {count} disclosure(s) against the chain; kept {len(kept)} new"
    emit(chain.as_json, {"checked": count, "kept": kept}, human)
