"""``passport passport``: show, export, verify and policy-check Digital Mineral Passports."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from passport.cli._common import ChainArgs, chain_options, emit, json_option, stdout
from passport.cli.records import vault_option
from passport.cli.render import lineage_tree, policy_table
from passport.core.document import PassportDocument, json_schema
from passport.core.policy import builtin_policies
from passport.evidence import TrustAnchor, verify_offline
from passport.records.disclosure import Disclosure, load_tier
from passport.records.vault import Vault


@click.group("passport")
def passport_group() -> None:
    """Digital Mineral Passports: show, export, verify, check."""


@passport_group.command("show")
@click.argument("batch_id", type=int)
@click.option(
    "--tier", default=None, help="Show the vault's disclosures of the lineage at this tier (names)."
)
@vault_option
@chain_options
def show(batch_id: int, tier: str | None, vault_dir: Path, chain: ChainArgs) -> None:
    """Assemble BATCH_ID's passport from the chain and print it (a lineage tree, or --json); with
    --tier, with the names and records the vault may disclose at that tier."""
    sdk = chain.sdk()
    doc = sdk.passport_for(batch_id)
    if tier is not None:
        package = sdk.records.share(Vault(vault_dir), doc, load_tier(tier))
        doc = doc.model_copy(update={"tier": package.tier, "disclosures": package.disclosures})
    emit(chain.as_json, doc, lambda: stdout.print(lineage_tree(doc)))


@passport_group.command("export")
@click.argument("batch_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--evidence/--no-evidence",
    default=True,
    show_default=True,
    help="Carry the proofs (headers, seals, state and receipt proofs) for offline verification.",
)
@click.option("--block", type=click.IntRange(min=0), default=None, help="Read the passport at this block.")
@click.option(
    "--tier",
    default=None,
    help="Include the vault's disclosures of the lineage at this tier (public, buyer, authority, or a file).",
)
@vault_option
@chain_options
def export(
    batch_id: int,
    out: Path,
    evidence: bool,
    block: int | None,
    tier: str | None,
    vault_dir: Path,
    chain: ChainArgs,
) -> None:
    """Write BATCH_ID's passport as JSON (schemas/passport.schema.json), with its evidence and,
    with --tier, the disclosed fields of its lineage's records."""
    if tier is not None and not evidence:
        raise click.UsageError("--tier needs the evidence: the disclosures' roots are proven by it")
    sdk = chain.sdk()
    if evidence:
        if block is None:
            block = sdk.client.head()[0]
        disclosures: list[Disclosure] = []
        if tier is not None:
            share = sdk.records.share(Vault(vault_dir), sdk.passport_for(batch_id, block), load_tier(tier))
            disclosures = share.disclosures
        doc = sdk.export_with_evidence(batch_id, block, disclosures, share.tier if tier is not None else None)
    else:
        doc = sdk.passport_for(batch_id, block)
    doc.save(out)
    data: dict[str, Any] = {"batchId": batch_id, "file": str(out), "asOfBlock": doc.chain.as_of_block}
    if doc.evidence is not None:
        headers, seals, nodes = doc.evidence.unpack()
        data["evidence"] = {
            "headers": len(headers),
            "sealedHeaders": sum(1 for s in seals if s),
            "receipts": len(doc.evidence.receipts),
            "trieNodes": len(nodes),
            "bytes": out.stat().st_size,
        }
    human = f"wrote {out}" + (
        f" (evidence: {data['evidence']['headers']} headers, {data['evidence']['receipts']} receipts, "
        f"{data['evidence']['trieNodes']} trie nodes)"
        if doc.evidence is not None
        else ""
    )
    emit(chain.as_json, data, human)


@passport_group.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--trust",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Verify offline from the file's evidence against this trust anchor (no network).",
)
@chain_options
def verify(file: Path, trust: Path | None, chain: ChainArgs) -> None:
    """Verify FILE: offline against a trust anchor (--trust), or by re-deriving every field from
    the chain. Exit 1 and list each failure when any claim does not hold."""
    doc = PassportDocument.load(file)
    if trust is not None:
        _verify_offline(file, doc, TrustAnchor.load(trust), chain.as_json)
        return
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


def _verify_offline(file: Path, doc: PassportDocument, anchor: TrustAnchor, as_json: bool) -> None:
    report = verify_offline(doc, anchor)
    when = datetime.fromtimestamp(doc.chain.as_of_time, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    data = {
        "ok": report.ok,
        "batchId": report.batch_id,
        "asOfBlock": report.as_of_block,
        "consortium": report.consortium,
        "validators": report.validators,
        "sealed": report.sealed,
        "failures": [{"where": f.where, "reason": f.reason} for f in report.failures],
        "notes": report.notes,
        "completeness": report.completeness,
        "policies": report.policies,
        "tier": doc.tier,
        "disclosures": [
            {"record": d.label(), "revealed": sorted(d.revealed), "withheld": sorted(d.withheld)}
            for d in doc.disclosures
        ],
    }

    def human() -> None:
        if report.ok:
            stdout.print(
                f"[green]{file}: verified offline against {report.consortium} "
                f"({report.validators} validators) at block {report.as_of_block}, {when}[/green]"
            )
        else:
            stdout.print(f"[red]{file}: {len(report.failures)} failure(s)[/red]")
            for f in report.failures:
                stdout.print(f"  {f}", markup=False, highlight=False)
        for note in report.notes:
            stdout.print(f"  note: {note}", markup=False, highlight=False)
        for name, statement in report.completeness.items():
            stdout.print(f"  {name}: {statement}", markup=False, highlight=False)
        if doc.disclosures and report.ok:
            fields = sum(len(d.revealed) for d in doc.disclosures)
            withheld = sum(len(d.withheld) for d in doc.disclosures)
            stdout.print(
                f"  disclosed (tier {doc.tier}): {len(doc.disclosures)} records, {fields} fields "
                f"proven against their on-chain roots, {withheld} withheld",
                markup=False,
                highlight=False,
            )
        if report.policies:
            stdout.print(policy_table(report.policies))

    emit(as_json, data, human)
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
