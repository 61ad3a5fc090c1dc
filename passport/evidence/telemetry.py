"""A device reading proven on its own, offline: the reading, its Merkle proof to an anchored
window, and the evidence that proves the anchor at the block it was made in: that block's header
(sealed by a validator, or committed by the CometBFT quorum), the ``anchorTelemetry``
transaction's receipt with its ``TelemetryAnchored`` event, and storage proofs at that block of
the window's anchor (facility, count, times) and of the device's binding (its facility, active).

So a buyer who holds only the file and the consortium's trust anchor learns that the device
signed the reading, that it was bound to the reading's facility and not revoked when the window
was anchored, and that the window with this reading was anchored then, for that facility.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from passport._utils.addresses import checksum
from passport._utils.files import JsonFile
from passport.core.compare import Failure
from passport.core.document import DeviceReading, Evidence, TelemetryWindow
from passport.core.telemetry import leaf_signer, reading_leaf, verify_proof
from passport.evidence import layout
from passport.evidence.trust import AnyTrustAnchor
from passport.evidence.verify import OfflineReport, chain_ref, proven_chain
from passport.exceptions import ProofError

KIND: Literal["mineral-passport/telemetry-proof@2"] = "mineral-passport/telemetry-proof@2"
Hex32 = str


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProofChain(_Model):
    """The chain and the three contracts the proof was read from."""

    chain_id: int
    consortium: str
    passport: str
    registry: str


class AnchorTx(_Model):
    """The ``anchorTelemetry`` transaction and the block it is in."""

    tx: Hex32 = Field(pattern=r"^0x[0-9a-f]{64}$")
    block: int = Field(ge=0)


class TelemetryProof(JsonFile):
    kind: Literal["mineral-passport/telemetry-proof@2"] = KIND
    chain: ProofChain
    reading: DeviceReading
    window: TelemetryWindow
    window_proof: list[Hex32]
    anchor: AnchorTx
    evidence: Evidence


@dataclass
class TelemetryReport:
    """What the proof shows (a :class:`~passport.core.compare.Checked`)."""

    device: str
    facility: int
    anchored_at_block: int | None = None
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def verify_telemetry(proof: TelemetryProof, trust: AnyTrustAnchor) -> TelemetryReport:
    """Check ``proof`` against ``trust`` with no network; each failure names what it is about."""
    r = proof.reading
    report = TelemetryReport(r.device, r.facility)
    fail = report.failures.append
    chained = OfflineReport(0, proof.anchor.block, trust.name, len(trust.validators), trust.sealed)
    chain = proven_chain(proof.chain, proof.evidence, trust, chained)
    report.failures += chained.failures
    if chain is None or report.failures:
        return report
    leaf = reading_leaf(r.device, r.facility, r.seq, r.time, r.kind, r.value, r.unit)
    if leaf_signer(leaf, bytes.fromhex(r.signature[2:])) != checksum(r.device):
        fail(Failure("reading.signature", f"not signed by device {r.device}"))
    try:
        window_proof = [bytes.fromhex(h[2:]) for h in proof.window_proof]
    except ValueError as exc:
        fail(Failure("window_proof", f"malformed hex ({exc})"))
        return report
    if not verify_proof(bytes.fromhex(proof.window.root[2:]), leaf, window_proof):
        fail(Failure("window_proof", f"the reading is not in window {proof.window.root}"))
    a = chain.anchor
    if a.number != proof.anchor.block:
        fail(
            Failure(
                "anchor.block", f"the file states {proof.anchor.block}, the evidence is at block {a.number}"
            )
        )
        return report
    consortium = trust.contracts["consortium"].address
    w = proof.window
    try:
        events, _ = chain.events(chain_ref(trust, a.number, a.hash, a.timestamp))
        word = chain.storage(consortium, layout.telemetry_anchor_slot(w.root), f"telemetry anchor {w.root}")
        bound = chain.storage(consortium, layout.device_slot(r.device), f"device {r.device}")
    except ProofError as exc:
        fail(Failure(exc.what, exc.reason))
        return report
    anchored = [
        e
        for e in events
        if e.name == "TelemetryAnchored" and e.args["root"] == w.root and e.tx_hash == proof.anchor.tx
    ]
    if not anchored:
        fail(
            Failure(
                "anchor.tx",
                f"no proven TelemetryAnchored event of root {w.root} in transaction {proof.anchor.tx} "
                f"of block {a.number}",
            )
        )
    else:
        args = anchored[0].args
        emitted = (args["facilityId"], args["count"], args["fromTime"], args["toTime"])
        if emitted != (r.facility, w.count, w.from_time, w.to_time):
            fail(
                Failure(
                    "window",
                    f"anchored for facility {emitted[0]}, {emitted[1]} readings, {emitted[2]}..{emitted[3]}; "
                    f"the file states facility {r.facility}, {w.count} readings, {w.from_time}..{w.to_time}",
                )
            )
    stated = tuple(
        layout.field(word, "TelemetryAnchor", f) for f in ("facilityId", "count", "fromTime", "toTime")
    )
    if layout.field(word, "TelemetryAnchor", "anchoredAt") == 0:
        fail(Failure("window", f"root {w.root} is not anchored at block {a.number}"))
    elif stated != (r.facility, w.count, w.from_time, w.to_time):
        fail(
            Failure(
                "window", f"stored as facility {stated[0]}, {stated[1]} readings, {stated[2]}..{stated[3]}"
            )
        )
    facility, active = layout.field(bound, "Device", "facilityId"), layout.field(bound, "Device", "active")
    if facility != r.facility:
        fail(
            Failure(
                "reading.device",
                f"{r.device} is bound to facility {facility}, not {r.facility}, at block {a.number}",
            )
        )
    elif not active:
        fail(Failure("reading.device", f"{r.device} is revoked at block {a.number}"))
    unread = chain.unread_nodes()
    if unread:
        fail(Failure("evidence.proofs", f"{unread} trie node(s) are part of no proof the claims need"))
    if not report.failures:
        report.anchored_at_block = a.number
    return report
