"""Disclosed fields checked against the chain through a passport's proofs: each disclosure
hangs together (values and salts match their leaves, the multiproof and the withheld leaves lead
to its root), is about the passport's lineage, and its root is the one committed on chain at the
anchor block: a member's profile root and a facility's record root by storage proof, a batch's
document root as its content hash or by the receipt of the ``BatchDocumentsAdded`` event that
appended it."""

from __future__ import annotations

from passport._utils.addresses import checksum
from passport.core.document import ChainRef, PassportDocument
from passport.evidence import layout
from passport.evidence.proven import ProvenChain
from passport.exceptions import ProofError
from passport.records.disclosure import Disclosure, Tier, builtin_tiers, load_tier
from passport.records.fields import required_paths

ZERO32 = "0x" + "00" * 32


def check_disclosures(
    chain: ProvenChain, derived: PassportDocument, disclosures: list[Disclosure]
) -> list[tuple[str, str]]:
    """(where, why) for each disclosure that does not hold, against ``derived`` (the passport
    re-derived from the proofs); reads the proofs it needs."""
    failures: list[tuple[str, str]] = []
    subjects = derived.record_subjects()
    record_roots = {f.facility_id: f.record_root for f in derived.facilities}
    content_hashes = {n.batch_id: n.content_hash for n in derived.lineage.nodes}
    seen: set[tuple[str, str, str]] = set()
    appended: dict[tuple[str, int], str] | None = None
    for n, d in enumerate(disclosures):
        where = f"disclosures[{n}] ({d.label()})"
        if (*d.key, d.root) in seen:
            failures.append((where, "the record is disclosed twice"))
            continue
        seen.add((*d.key, d.root))
        if d.key not in subjects:
            failures.append((where, "not a record of this passport's lineage"))
            continue
        failures += [(what.replace(f"disclosure {d.label()}", where), why) for what, why in d.check()]
        try:
            if d.kind == "member":
                member = checksum(d.subject)
                word = chain.storage(
                    derived.chain.consortium,
                    layout.profile_root_slot(member),
                    f"member {member} profile root",
                )
                on_chain = "0x" + word.to_bytes(32, "big").hex()
            elif d.kind == "facility":
                on_chain = record_roots[int(d.subject)]
            elif d.anchor_tx is None:
                on_chain = content_hashes[int(d.subject)]
            else:
                if appended is None:
                    appended = _appended(chain, derived.chain)
                found = appended.get((d.anchor_tx, int(d.subject)))
                if found is None:
                    failures.append(
                        (
                            f"{where} anchor_tx",
                            f"no proven BatchDocumentsAdded for batch {d.subject} in {d.anchor_tx}",
                        )
                    )
                    continue
                on_chain = found
        except ProofError as exc:
            failures.append((exc.what, exc.reason))
            continue
        if on_chain != d.root:
            failures.append((f"{where} root", f"{d.root} is not the root on chain ({on_chain})"))
    return failures


# -------------------------------------------------------------------- tiers


def tier_rules(document: PassportDocument) -> tuple[Tier | None, list[tuple[str, str]]]:
    """The rules of the tier the passport names (its ``tier_spec``, or the shipped tier of that
    name), and (where, why) when they cannot be trusted: a shipped tier's name over other rules,
    or a tier that is neither shipped nor carried."""
    if document.tier is None:
        if document.tier_spec is not None or document.tier_missing:
            return None, [("tier", "the file carries tier rules or missing records but names no tier")]
        return None, []
    shipped = load_tier(document.tier) if document.tier in builtin_tiers() else None
    spec = document.tier_spec
    if spec is None:
        if shipped is None:
            return None, [
                ("tier", f"{document.tier!r} is not a shipped tier and the file carries no tier_spec")
            ]
        return shipped, []
    if spec.tier != document.tier:
        return None, [("tier_spec.tier", f"{spec.tier!r}, but the file's tier is {document.tier!r}")]
    if shipped is not None and spec.fingerprint() != shipped.fingerprint():
        return None, [
            (
                "tier_spec",
                f"not the rules of the shipped {spec.tier!r} tier (the file's {spec.fingerprint()}, "
                f"shipped {shipped.fingerprint()})",
            )
        ]
    return spec, []


def tier_gaps(
    chain: ProvenChain,
    derived: PassportDocument,
    disclosures: list[Disclosure],
    tier: Tier,
    parties: bool = True,
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """What ``tier`` promises that ``disclosures`` do not hold: (item, why) for each lineage
    record whose root is on chain and is not disclosed, and each field the tier reveals that a
    disclosure withholds or lacks (items are "facility 3" or "facility 3 licence.number");
    and (where, why) for proofs the check needs that are missing or broken.

    Records on chain: a member's profile root (a tier that reveals member fields proves every
    named member's, zero or not: the lineage's and, with ``parties``, every party's, as
    ``record_subjects``; a file exported before parties were named, without ``tier_spec``, is
    held to the lineage's), a facility's record root (a claim), and a batch's latest
    document root among the proven ``BatchDocumentsAdded`` events. A batch whose only root is
    its content hash set at mint is not known to be a record, so it is not required.
    """
    gaps: list[tuple[str, str]] = []
    broken: list[tuple[str, str]] = []
    by_key: dict[tuple[str, str], list[Disclosure]] = {}
    for d in disclosures:
        by_key.setdefault(d.key, []).append(d)
    subjects = derived.record_subjects()
    named = subjects if parties else derived.lineage_subjects()

    def require(kind: str, subject: str, root: str, shown: str) -> None:
        found = by_key.get((kind, subject.lower()), [])
        if not found:
            gaps.append((shown, f"its record is on chain (root {root}) but not disclosed"))
        elif kind == "batch" and all(d.root != root for d in found):
            gaps.append((shown, f"an earlier document root is disclosed, not the latest on chain ({root})"))

    if tier.patterns("member"):
        for _, subject in sorted(k for k in named if k[0] == "member"):
            member = checksum(subject)
            try:
                word = chain.storage(
                    derived.chain.consortium,
                    layout.profile_root_slot(member),
                    f"member {member} profile root",
                )
            except ProofError as exc:
                broken.append(
                    (exc.what, exc.reason + f" (the {tier.tier} tier needs every lineage member's)")
                )
                continue
            if word:
                require("member", member, "0x" + word.to_bytes(32, "big").hex(), f"member {member}")
    if tier.patterns("facility"):
        for f in derived.facilities:
            if f.record_root != ZERO32:
                require("facility", str(f.facility_id), f.record_root, f"facility {f.facility_id}")
    if tier.patterns("batch"):
        lineage = {n.batch_id for n in derived.lineage.nodes}
        latest: dict[int, tuple[tuple[int, int], str]] = {}
        try:
            events, _ = chain.events(derived.chain)
        except ProofError as exc:
            broken.append((exc.what, exc.reason))
            events = []
        for e in events:
            if e.name == "BatchDocumentsAdded" and e.address == derived.chain.passport:
                batch, at = int(e.args["batchId"]), (e.block, e.log_index)
                if batch in lineage and (batch not in latest or latest[batch][0] < at):
                    latest[batch] = (at, str(e.args["documentRoot"]))
        for batch, (_, root) in sorted(latest.items()):
            require("batch", str(batch), root, f"batch {batch}")
    for d in disclosures:
        if d.key not in subjects or not tier.patterns(d.kind):
            continue
        shown = f"member {checksum(d.subject)}" if d.kind == "member" else d.label()
        for path in sorted(d.withheld):
            if tier.reveals(d.kind, path):
                gaps.append((f"{shown} {path}", f"withheld, but the {tier.tier} tier reveals it"))
        for path in sorted(required_paths(d.kind)):
            if tier.reveals(d.kind, path) and path not in d.revealed and path not in d.withheld:
                gaps.append(
                    (
                        f"{shown} {path}",
                        f"every {d.kind} record has it and the {tier.tier} tier reveals it; absent",
                    )
                )
    return gaps, broken


def check_tier(
    chain: ProvenChain, derived: PassportDocument, document: PassportDocument
) -> tuple[list[tuple[str, str]], list[str], Tier | None]:
    """(where, why) for each promise of the passport's tier that its disclosures break (a gap
    the exporter did not mark in ``tier_missing`` fails; so does a mark that is no gap), a
    note for each gap it marked, and the tier's rules (None when there are none to trust)."""
    tier, failures = tier_rules(document)
    if tier is None:
        return failures, [], None
    gaps, broken = tier_gaps(chain, derived, document.disclosures, tier, document.tier_spec is not None)
    marked = set(document.tier_missing)
    failures += broken
    failures += [(f"tier {tier.tier}: {item}", why) for item, why in gaps if item not in marked]
    found = {item for item, _ in gaps}
    failures += [
        ("tier_missing", f"{item!r} is marked missing, but the {tier.tier} tier lacks nothing there")
        for item in sorted(marked - found)
    ]
    notes = [
        f"incomplete at the {tier.tier} tier: {item} ({why}; marked missing by the exporter)"
        for item, why in gaps
        if item in marked
    ]
    return failures, notes, tier


def _appended(chain: ProvenChain, ref: ChainRef) -> dict[tuple[str, int], str]:
    events, _ = chain.events(ref)
    return {
        (e.tx_hash, int(e.args["batchId"])): str(e.args["documentRoot"])
        for e in events
        if e.name == "BatchDocumentsAdded" and e.address == ref.passport
    }
