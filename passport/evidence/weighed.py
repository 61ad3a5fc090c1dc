"""Device readings that weighed a passport's lots, checked against the chain through the
passport's proofs: each reading is signed by its device; its leaf hangs from the lot's content hash
(the lot's document root) and from a window root anchored by ``Consortium.anchorTelemetry``
(storage proof of ``_telemetryAnchors[root]``) for the lot's facility, before the lot was minted;
and the device is bound to that facility (storage proof of ``_devices[device]``; a device revoked
since still names its facility)."""

from __future__ import annotations

from passport._utils.addresses import checksum
from passport.core.document import PassportDocument, Weighing
from passport.core.telemetry import leaf_signer, reading_leaf, verify_proof
from passport.evidence import layout
from passport.evidence.proven import ProvenChain
from passport.exceptions import ProofError


def leaf_of(w: Weighing) -> bytes:
    r = w.reading
    return reading_leaf(r.device, r.facility, r.seq, r.time, r.kind, r.value, r.unit)


def check_readings(
    chain: ProvenChain, derived: PassportDocument, readings: list[Weighing]
) -> list[tuple[str, str]]:
    """(where, why) for each reading that does not hold, against ``derived`` (the passport
    re-derived from the proofs); reads the storage proofs it needs."""
    failures: list[tuple[str, str]] = []
    nodes = {n.batch_id: n for n in derived.lineage.nodes}
    minted = {c.batch_id: c.time for c in derived.custody if c.type == "minted"}
    consortium = derived.chain.consortium
    seen: set[tuple[str, int]] = set()
    for n, w in enumerate(readings):
        where = f"readings[{n}] ({w.label()})"
        key = (w.reading.device.lower(), w.reading.seq)
        if key in seen:
            failures.append((where, "the reading is listed twice"))
            continue
        seen.add(key)
        lot = nodes.get(w.batch_id)
        if lot is None:
            failures.append((where, f"batch {w.batch_id} is not in this passport's lineage"))
            continue
        leaf = leaf_of(w)
        if leaf_signer(leaf, bytes.fromhex(w.reading.signature[2:])) != checksum(w.reading.device):
            failures.append((f"{where} signature", f"not signed by device {w.reading.device}"))
        if w.reading.facility != lot.facility_id:
            failures.append(
                (f"{where} facility", f"names facility {w.reading.facility}, the lot's is {lot.facility_id}")
            )
        try:
            lot_proof = [bytes.fromhex(h[2:]) for h in w.lot_proof]
            window_proof = [bytes.fromhex(h[2:]) for h in w.window_proof]
        except ValueError as exc:
            failures.append((where, f"malformed proof hex ({exc})"))
            continue
        if not verify_proof(bytes.fromhex(lot.content_hash[2:]), leaf, lot_proof):
            failures.append(
                (f"{where} lot_proof", f"the reading is not in batch {w.batch_id}'s document root")
            )
        if not verify_proof(bytes.fromhex(w.window.root[2:]), leaf, window_proof):
            failures.append((f"{where} window_proof", f"the reading is not in window {w.window.root}"))
        try:
            word = chain.storage(
                consortium, layout.telemetry_anchor_slot(w.window.root), f"telemetry anchor {w.window.root}"
            )
            device = chain.storage(
                consortium, layout.device_slot(w.reading.device), f"device {w.reading.device}"
            )
        except ProofError as exc:
            failures.append((exc.what, exc.reason))
            continue
        anchored_at = layout.field(word, "TelemetryAnchor", "anchoredAt")
        stated = (
            layout.field(word, "TelemetryAnchor", "facilityId"),
            layout.field(word, "TelemetryAnchor", "count"),
            layout.field(word, "TelemetryAnchor", "fromTime"),
            layout.field(word, "TelemetryAnchor", "toTime"),
        )
        if anchored_at == 0:
            failures.append(
                (f"{where} window", f"root {w.window.root} is not anchored at the passport's block")
            )
        elif stated != (lot.facility_id, w.window.count, w.window.from_time, w.window.to_time):
            failures.append(
                (
                    f"{where} window",
                    f"anchored as facility {stated[0]}, {stated[1]} readings, {stated[2]}..{stated[3]}",
                )
            )
        elif w.batch_id in minted and anchored_at > minted[w.batch_id]:
            failures.append(
                (f"{where} window", f"anchored at {anchored_at}, after batch {w.batch_id} was minted")
            )
        bound = layout.field(device, "Device", "facilityId")
        if bound != lot.facility_id:
            failures.append(
                (f"{where} device", f"{w.reading.device} is bound to facility {bound}, not {lot.facility_id}")
            )
    return failures
