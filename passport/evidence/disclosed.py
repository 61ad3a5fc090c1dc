"""Disclosed fields checked against the chain through a passport's proofs: each disclosure
hangs together (values and salts match their leaves, the multiproof and the withheld leaves lead
to its root), is about the passport's lineage, and its root is the one committed on chain at the
anchor block: a member's profile root and a facility's record root by storage proof, a batch's
document root as its content hash or by the receipt of the ``BatchDocumentsAdded`` event that
appended it."""

from __future__ import annotations

from passport._utils.addresses import checksum
from passport.core.derive import ChainData
from passport.core.document import PassportDocument
from passport.evidence import layout
from passport.evidence.proven import ProofError, ProvenChain
from passport.records.disclosure import Disclosure


def lineage_subjects(data: ChainData, batch_id: int) -> set[tuple[str, str]]:
    """(kind, subject) of every record a passport may disclose: its batches, their facilities,
    and the members operating those facilities or holding the product."""
    out: set[tuple[str, str]] = {("batch", str(i)) for i in data.batches}
    for f_id, f in data.facilities.items():
        out |= {("facility", str(f_id)), ("member", f.operator.lower())}
    product = data.batches[batch_id]
    out |= {("member", product.owner.lower()), ("member", product.custodian.lower())}
    return out


def check_disclosures(
    chain: ProvenChain, data: ChainData, batch_id: int, disclosures: list[Disclosure]
) -> list[tuple[str, str]]:
    """(where, why) for each disclosure that does not hold; reads the proofs it needs."""
    failures: list[tuple[str, str]] = []
    subjects = lineage_subjects(data, batch_id)
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
                    data.chain.consortium, layout.profile_root_slot(member), f"member {member} profile root"
                )
                on_chain = "0x" + word.to_bytes(32, "big").hex()
            elif d.kind == "facility":
                on_chain = data.facilities[int(d.subject)].record_root
            elif d.anchor_tx is None:
                on_chain = data.batches[int(d.subject)].content_hash
            else:
                if appended is None:
                    appended = _appended(chain, data)
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


def _appended(chain: ProvenChain, data: ChainData) -> dict[tuple[str, int], str]:
    events, _ = chain.events(data.chain)
    return {
        (e.tx_hash, int(e.args["batchId"])): str(e.args["documentRoot"])
        for e in events
        if e.name == "BatchDocumentsAdded" and e.address == data.chain.passport
    }


def names(document: PassportDocument) -> dict[tuple[str, str], dict[str, object]]:
    """Revealed values by (kind, subject), for display."""
    return {d.key: d.values() for d in document.disclosures}
