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
from passport.evidence.proven import ProofError, ProvenChain
from passport.records.disclosure import Disclosure


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


def _appended(chain: ProvenChain, ref: ChainRef) -> dict[tuple[str, int], str]:
    events, _ = chain.events(ref)
    return {
        (e.tx_hash, int(e.args["batchId"])): str(e.args["documentRoot"])
        for e in events
        if e.name == "BatchDocumentsAdded" and e.address == ref.passport
    }
