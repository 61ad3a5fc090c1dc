"""Human renderings of passports and policy results (rich)."""

from __future__ import annotations

from rich.table import Table
from rich.tree import Tree

from passport.core.document import PassportDocument
from passport.core.policy import PolicyResult


def lineage_tree(doc: PassportDocument) -> Tree:
    nodes = {n.batch_id: n for n in doc.lineage.nodes}
    parents: dict[int, list[int]] = {}
    for e in doc.lineage.edges:
        parents.setdefault(e.child, []).append(e.parent)
    via = {(e.parent, e.child): e.via for e in doc.lineage.edges}

    def label(batch_id: int, how: str = "") -> str:
        n = nodes[batch_id]
        taint = " [bold red]TAINTED[/]" if n.tainted else ""
        arrow = f"[dim]{how} from[/] " if how else ""
        quantity = f"{n.mass_grams / 1e6:,.3f} t @ {n.grade_ppm / 1e4:.2f} % W"
        where = f"facility {n.facility_id} ({n.country})"
        return f"{arrow}[bold]#{batch_id}[/] {n.stage} {quantity} - {where}{taint}"

    p = doc.product
    root = Tree(
        f"[bold]Passport of batch {p.batch_id}[/]: {p.stage}, {p.mass_grams / 1e6:,.3f} t, "
        f"{p.contained_tungsten_grams / 1e6:,.3f} t W, held by {p.owner}"
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
        origins.add(
            f"#{o.batch_id} {o.stage} from {o.facility_kind} facility {o.facility_id} in {o.country}"
            f" (operator {o.operator})"
        )
    countries = root.add("[bold]countries by step[/]")
    for step, values in doc.stage_countries.items():
        countries.add(f"{step}: {', '.join(values)}")
    atts = root.add(f"[bold]attestations[/] ({len(doc.attestations)})")
    colours = {"valid": "green", "revoked": "red", "expired": "yellow", "unaccredited": "red"}
    for a in doc.attestations:
        atts.add(
            f"[{colours[a.status]}]{a.status}[/] {a.schema_name} on {a.subject_kind.lower()} {a.subject}"
            f" by {a.certifier}"
        )
    custody = root.add(f"[bold]custody events[/] ({len(doc.custody)})")
    for c in doc.custody:
        extra = f" measured {c.measured_grams:,} g" if c.measured_grams is not None else ""
        if c.type == "discrepancy":
            extra = f" [red]recorded {c.recorded_grams:,} g, measured {c.measured_grams:,} g[/]"
        custody.add(f"#{c.batch_id} {c.type} {c.sender or ''} → {c.receiver or ''}{extra}".replace("  ", " "))
    taint = root.add("[bold red]taint[/]" if doc.taint.tainted else "[bold green]no taint[/]")
    for s in doc.taint.sources:
        taint.add(
            f"batch {s.batch_id}: {s.reason}" + (f" (facility {s.facility_id})" if s.facility_id else "")
        )
    root.add(
        f"[dim]as of block {doc.chain.as_of_block} ({doc.chain.as_of_block_hash[:18]}...)"
        f" on chain {doc.chain.chain_id}[/]"
    )
    return root


def policy_table(results: list[PolicyResult]) -> Table:
    table = Table("batch", "policy", "result", "reasons", title="policy checks")
    for r in results:
        verdict = "[bold green]PASS[/]" if r.passed else "[bold red]FAIL[/]"
        table.add_row(str(r.batch_id), r.policy, verdict, "\n".join(r.reasons) or "-")
    return table
