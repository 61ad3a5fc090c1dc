"""Human renderings of passports and policy results (rich)."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from passport.core.document import PassportDocument
from passport.core.policy import PolicyResult
from passport.records.names import Names


def lineage_tree(doc: PassportDocument) -> Tree:
    nodes = {n.batch_id: n for n in doc.lineage.nodes}
    parents: dict[int, list[int]] = {}
    for e in doc.lineage.edges:
        parents.setdefault(e.child, []).append(e.parent)
    via = {(e.parent, e.child): e.via for e in doc.lineage.edges}
    names = Names(doc)

    def label(batch_id: int, how: str = "") -> str:
        n = nodes[batch_id]
        taint = " [bold red]TAINTED[/]" if n.tainted else ""
        arrow = f"[dim]{how} from[/] " if how else ""
        quantity = f"{n.mass_grams / 1e6:,.3f} t @ {n.grade_ppm / 1e4:.2f} % W"
        where = names.facility(n.facility_id, n.country)
        return f"{arrow}[bold]#{batch_id}[/] {n.stage.name} {quantity} - {where}{taint}"

    p = doc.product
    root = Tree(
        f"[bold]Passport of batch {p.batch_id}[/[/]: {p.stage.name}, {p.mass_grams / 1e6:,.3f} t, "
        f"{p.contained_ug / 1e12:,.3f} t W, held by {names.member(p.owner)}"
    )

    def grow(branch: Tree, batch_id: int, depth: int) -> None:
        for parent in sorted(parents.get(batch_id, [])):
            child = branch.add(label(parent, via[(parent, batch_id)]))
            if depth < 50:
                grow(child, parent, depth + 1)

    top = root.add(label(p.batch_id))
    grow(top, p.batch_id, 0)
    origins = root.add("[bold]origins[/]")
    for o in doc.origins:
        site, operator = names.facility(o.facility_id, o.country), names.member(o.operator)
        kind = o.facility_kind.name.lower()
        origins.add(f"#{o.batch_id} {o.stage.name} from {kind} {site}, operator {operator}")
    countries = root.add("[bold]countries by step[/]")
    for step, values in doc.stage_countries.items():
        countries.add(f"{step}: {', '.join(values)}")
    countries_of = {f.facility_id: f.country for f in doc.facilities}

    def subject(kind: str, number: int) -> str:
        if kind == "FACILITY":
            return names.facility(number, countries_of.get(number, "??"))
        return f"{kind.lower()} {number}"

    atts = root.add(f"[bold]attestations[/] ({len(doc.attestations)})")
    colours = {"valid": "green", "revoked": "red", "expired": "yellow", "unaccredited": "red"}
    for a in doc.attestations:
        atts.add(
            f"[{colours[a.status]}]{a.status}[/] {a.schema_name} on {subject(a.subject_kind, a.subject)}"
            f" by {names.member(a.certifier)}"
        )
    custody = root.add(f"[bold]custody events[/] ({len(doc.custody)})")
    for c in doc.custody:
        extra = f" measured {c.measured_grams:,} g" if c.measured_grams is not None else ""
        if c.type == "discrepancy":
            extra = f" [red]recorded {c.recorded_grams:,} g, measured {c.measured_grams:,} g[/]"
        sender = names.member(c.sender) if c.sender else ""
        receiver = names.member(c.receiver) if c.receiver else ""
        custody.add(f"#{c.batch_id} {c.type} {sender} → {receiver}{extra}".replace("  ", " "))
    taint = root.add("[bold red]taint[/]" if doc.taint.tainted else "[bold green]no taint[/]")
    for s in doc.taint.sources:
        where = f" ({subject('FACILITY', s.facility_id)})" if s.facility_id else ""
        taint.add(f"batch {s.batch_id}: {s.reason}{where}")
    if doc.tier is not None or doc.disclosures:
        records = root.add(f"[bold]disclosed records[/] (tier {doc.tier or 'none'}, {len(doc.disclosures)})")
        for d in doc.disclosures:
            branch = records.add(f"{d.kind} {d.subject}")
            for path, field in d.revealed.items():
                branch.add(f"{path}: {escape(readable(field.value))}")
            for path in d.withheld:
                branch.add(f"[dim]{path}: withheld[/]")
    root.add(
        f"[dim]as of block {doc.chain.as_of_block} ({doc.chain.as_of_block_hash[:18]}...)"
        f" on chain {doc.chain.chain_id}[/]"
    )
    return root


def readable(value: object) -> str:
    """A disclosed value as a reader reads it: a file by name, type, size and hash; a list joined."""
    if isinstance(value, dict) and "sha256" in value:
        size = int(value.get("size", 0))
        return (
            f"{value.get('name', 'file')} ({value.get('mediaType', '?')}, {size:,} bytes, "
            f"sha256 {str(value['sha256'])[:8]}…)"
        )
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def policy_table(results: list[PolicyResult]) -> Table:
    table = Table("batch", "policy", "result", "reasons", title="policy checks")
    for r in results:
        verdict = "[bold green]PASS[/]" if r.ok else "[bold red]FAIL[/]"
        batch = f"{r.batch_id} ({r.tier} tier)" if r.tier else str(r.batch_id)
        table.add_row(batch, r.policy, verdict, "\n".join(r.reasons) or "-")
    return table
