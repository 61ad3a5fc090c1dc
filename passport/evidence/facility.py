"""A facility proven on its own, offline: the Consortium's facility slots at one block (operator,
country, kind, sanction flags, record root), its operator's member slot (active, not sanctioned),
and a disclosure of the facility record whose root is the one on chain. What a UNTP Digital
Facility Record is built from, and what its verifier rebuilds it from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from passport._utils.files import JsonFile
from passport.core.compare import Failure
from passport.core.document import Evidence
from passport.core.types import Facility
from passport.evidence import layout
from passport.evidence.proven import ProvenChain
from passport.evidence.telemetry import ProofChain
from passport.evidence.trust import AnyTrustAnchor
from passport.evidence.verify import OfflineReport, active_member, proven_chain
from passport.exceptions import ProofError
from passport.records.disclosure import Disclosure

KIND: Literal["mineral-passport/facility-proof@1"] = "mineral-passport/facility-proof@1"


class FacilityProof(JsonFile):
    kind: Literal["mineral-passport/facility-proof@1"] = KIND
    chain: ProofChain
    facility_id: int
    evidence: Evidence
    disclosure: Disclosure | None = None


@dataclass
class ProvenFacility:
    """The facility as the proofs show it at their block, with what failed (named)."""

    facility: Facility | None
    block: int
    time: int
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def read_facility(proof: FacilityProof, trust: AnyTrustAnchor) -> ProvenFacility:
    """The facility of ``proof``, read from its storage proofs against ``trust``: the headers
    sealed or committed, the contracts' code the anchor's; the operator an active, unsanctioned
    member then; the disclosure (if any) hanging from the record root on chain."""
    chained = OfflineReport(0, 0, trust.name, len(trust.validators), trust.sealed)
    chain = proven_chain(proof.chain, proof.evidence, trust, chained)
    if chain is None or chained.failures:
        return ProvenFacility(None, 0, 0, chained.failures)
    a = chain.anchor
    out = ProvenFacility(None, a.number, a.timestamp)
    consortium = trust.contracts["consortium"].address
    f = proof.facility_id
    try:
        base = layout.facility_slot(f)
        word0 = chain.storage(consortium, base, f"facility {f}")
        word1 = chain.storage(
            consortium, layout.member_slot(base, "Facility", "recordRoot"), f"facility {f} record"
        )
    except ProofError as exc:
        out.failures.append(Failure(exc.what, exc.reason))
        return out
    if layout.field(word0, "Facility", "operator") == 0:
        out.failures.append(Failure(f"facility {f}", f"no such facility at block {a.number}"))
        return out
    facility = layout.facility_of(f, word0, word1)
    out.facility = facility
    out.failures += active_member(facility.operator, consortium)(chain, None)  # type: ignore[arg-type]
    d = proof.disclosure
    if d is not None:
        where = f"disclosure (facility {f})"
        if (d.kind, d.subject) != ("facility", str(f)):
            out.failures.append(Failure(where, f"discloses {d.kind} {d.subject}, not facility {f}"))
        elif d.root != facility.record_root:
            out.failures.append(
                Failure(
                    where, f"root {d.root} is not the facility's record root on chain, {facility.record_root}"
                )
            )
        out.failures += [Failure(w.replace(f"disclosure {d.label()}", where), why) for w, why in d.check()]
    _unused(chain, out)
    return out


def _unused(chain: ProvenChain, out: ProvenFacility) -> None:
    unread = chain.unread_nodes()
    if unread:
        out.failures.append(
            Failure("evidence.proofs", f"{unread} trie node(s) are part of no proof the claims need")
        )
