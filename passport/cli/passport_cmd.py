"""``passport passport``: show, export, verify and policy-check Digital Mineral Passports."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from passport.cli._common import ChainArgs, chain_options, emit, json_option, stdout
from passport.cli.render import lineage_tree, policy_table
from passport.core.document import PassportDocument, json_schema
from passport.core.policy import builtin_policies


@click.group("passport")
def passport_group() -> None:
    """Digital Mineral Passports: show, export, verify, check."""


@passport_group.command("show")
@click.argument("batch_id", type=int)
@chain_options
def show(batch_id: int, chain: ChainArgs) -> None:
    """Assemble BATCH_ID's passport from the chain and print it (a lineage tree, or --json)."""
    doc = chain.sdk().passport_for(batch_id)
    emit(chain.as_json, doc, lambda: stdout.print(lineage_tree(doc)))


@passport_group.command("export")
@click.argument("batch_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@chain_options
def export(batch_id: int, out: Path, chain: ChainArgs) -> None:
    """Write BATCH_ID's passport as JSON (schemas/passport.schema.json)."""
    doc = chain.sdk().passport_for(batch_id)
    doc.save(out)
    emit(
        chain.as_json,
        {"batchId": batch_id, "file": str(out), "asOfBlock": doc.chain.as_of_block},
        f"wrote {out}",
    )


@passport_group.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@chain_options
def verify(file: Path, chain: ChainArgs) -> None:
    """Re-derive every field of FILE from the chain; exit 1 and list mismatches when any differ."""
    doc = PassportDocument.load(file)
    report = chain.sdk().verify(doc)
    data = {
        "ok": report.ok,
        "batchId": report.batch_id,
        "asOfBlock": report.as_of_block,
        "mismatches": [{"path": m.path, "file": m.in_file, "chain": m.on_chain} for m in report.mismatches],
    }
    human = (
        f"{file}: verified against the chain as of block {report.as_of_block}"
        if report.ok
        else (
            f"{file}: {len(report.mismatches)} mismatch(es)\n"
            + "\n".join(f"  {m}" for m in report.mismatches)
        )
    )
    emit(chain.as_json, data, human)
    if not report.ok:
        sys.exit(1)


@passport_group.command("check")
@click.argument("batch_id", type=int)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    default=("dfars-2027", "eu-2017-821"),
    show_default=True,
    help=f"Shipped policy ({', '.join(builtin_policies())}) or a policy JSON file; repeatable.",
)
@chain_options
def check(batch_id: int, policies: tuple[str, ...], chain: ChainArgs) -> None:
    """Check BATCH_ID against policies; exit 1 when any fails."""
    sdk = chain.sdk()
    doc = sdk.passport_for(batch_id)
    results = [sdk.check(doc, p) for p in policies]
    emit(chain.as_json, results, lambda: stdout.print(policy_table(results)))
    if not all(r.passed for r in results):
        sys.exit(1)


@passport_group.command("schema")
@json_option
def schema(as_json: bool) -> None:
    """Print the passport's JSON Schema."""
    click.echo(json_schema(), nl=False)
