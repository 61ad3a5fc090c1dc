"""A passport's claims, derived from chain data by pure functions.

The SDK gathers the data over JSON-RPC (``passport.sdk.assembly``); the offline verifier reads it
from proofs (``passport.evidence``). Both derive the document here, so they cannot disagree on
what a claim means.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from passport.core.document import (
    AttestationEntry,
    ChainRef,
    CustodyEvent,
    Edge,
    FacilityEntry,
    Lineage,
    Node,
    Origin,
    PassportDocument,
    Product,
    Quantity,
    RegulatoryEvent,
    Taint,
    TaintSource,
    Transformation,
)
from passport.core.events import Event
from passport.core.types import Batch, BatchFlag, Facility, SubjectKind

STEP_ORDER = ("mined", "refined", "converted", "recycled")
# Events whose first indexed argument is a batch id.
BATCH_EVENTS = (
    "BatchMinted",
    "CustodyOffered",
    "CustodyOfferCancelled",
    "CustodyAccepted",
    "CustodyDiscrepancyRecorded",
    "BatchSplit",
    "BatchProduced",
    "BatchFrozen",
    "BatchUnfrozen",
    "BatchTainted",
)
# The events MineralPassport's per-batch history counter counts (see Record.history).
HISTORY_EVENTS = frozenset(
    {
        "BatchMinted",
        "CustodyOffered",
        "CustodyOfferCancelled",
        "CustodyAccepted",
        "CustodyDiscrepancyRecorded",
        "BatchSplit",
        "BatchFrozen",
        "BatchUnfrozen",
        "BatchTainted",
    }
)
ZERO32 = "0x" + "00" * 32


@dataclass(frozen=True, slots=True)
class AttestationState:
    """An attestation's stored record and its validity at the passport's block."""

    certifier: str
    schema_id: int
    flags: int
    issued_at: int
    expires_at: int
    valid: bool


@dataclass(frozen=True, slots=True)
class Schema:
    name: str
    revocable: bool
    subject_kind: int


@dataclass(frozen=True)
class ChainData:
    """Everything a passport's claims are read from, at one block."""

    chain: ChainRef
    batches: dict[int, Batch]
    parents: dict[int, list[int]]
    tainted: dict[int, bool]
    facilities: dict[int, Facility]
    token_uri: str
    events: list[Event]
    schemas: dict[int, Schema]
    attestations: dict[str, AttestationState]
    times: dict[int, int]


def _flags(flags: BatchFlag) -> list[str]:
    return [f.name for f in BatchFlag if f in flags and f.name and f is not BatchFlag.APPROVED]


def tainted_of(batches: dict[int, Batch], facilities: dict[int, Facility]) -> dict[int, bool]:
    """Each batch's taint as ``MineralPassport.isTainted`` defines it: tainted itself, or made at
    a facility that is sanctioned or whose operator is."""
    return {
        i: BatchFlag.TAINTED in b.flags
        or facilities[b.facility_id].sanctioned
        or facilities[b.facility_id].operator_sanctioned
        for i, b in batches.items()
    }


def process_ids(batches: dict[int, Batch]) -> list[int]:
    """The processing steps that produced batches of a lineage."""
    return sorted({b.parent_ref for b in batches.values() if BatchFlag.FROM_PROCESS in b.flags})


def relevant(
    events: list[Event], chain: ChainRef, ids: set[int], processes: set[int], subjects: set[int]
) -> list[Event]:
    """The events a passport reads, deduplicated and in chain order: those of its batches (by
    the first indexed id), Transfers of its batches, its processing steps, and attestations on
    its batches and facilities. The same filters as the SDK's ``eth_getLogs`` queries."""
    keep: dict[tuple[str, int], Event] = {}
    for e in events:
        a = e.args
        if e.address == chain.passport:
            ok = (
                (e.name in BATCH_EVENTS and int(a["batchId"]) in ids)
                or (e.name == "Transfer" and int(a["tokenId"]) in ids)
                or (e.name == "BatchesProcessed" and int(a["processId"]) in processes)
            )
        else:
            ok = e.address == chain.registry and e.name == "Attested" and int(a["subject"]) in subjects
        if ok:
            keep[(e.tx_hash, e.log_index)] = e
    return sorted(keep.values(), key=lambda e: (e.block, e.log_index))


def attested(
    events: list[Event], schemas: dict[int, Schema], ids: set[int], facility_ids: set[int]
) -> list[Event]:
    """Attested events whose subject, read by its schema's kind, is one of the passport's batches
    or facilities."""
    wanted = {SubjectKind.BATCH: ids, SubjectKind.FACILITY: facility_ids}
    return [
        e
        for e in events
        if e.name == "Attested"
        and int(e.args["subject"])
        in wanted.get(SubjectKind(schemas[int(e.args["schemaId"])].subject_kind), set())
    ]


def title_transfers(events: list[Event]) -> list[Event]:
    """Transfers that move a batch's title on their own: not a creation (from address zero), and
    not part of an ``accept`` (a Transfer immediately followed by CustodyAccepted of the same
    batch in the same transaction)."""
    accepts = {
        (e.tx_hash, e.log_index, int(e.args["batchId"])) for e in events if e.name == "CustodyAccepted"
    }
    return [
        e
        for e in events
        if e.name == "Transfer"
        and int(e.args["from"], 16) != 0
        and (e.tx_hash, e.log_index + 1, int(e.args["tokenId"])) not in accepts
    ]


def history_counts(events: list[Event]) -> dict[int, int]:
    """Per batch, how many of ``events`` its on-chain history counter counts: its history events
    and its title transfers."""
    counts: dict[int, int] = defaultdict(int)
    for e in events:
        if e.name in HISTORY_EVENTS:
            counts[int(e.args["batchId"])] += 1
    for e in title_transfers(events):
        counts[int(e.args["tokenId"])] += 1
    return dict(counts)


def derive(data: ChainData, batch_id: int) -> PassportDocument:
    """The passport of ``batch_id`` from ``data`` (which holds its whole lineage)."""
    batches, parents, tainted, facilities = data.batches, data.parents, data.tainted, data.facilities
    ids = sorted(batches)
    facility_ids = {b.facility_id for b in batches.values()}
    events = relevant(data.events, data.chain, set(ids), set(process_ids(batches)), set(ids) | facility_ids)
    times, token_uri, block_time = data.times, data.token_uri, data.chain.as_of_time
    listed = attested(events, data.schemas, set(ids), facility_ids)
    product = batches[batch_id]
    return PassportDocument(
        chain=data.chain,
        product=Product(
            batch_id=batch_id,
            token_uri=token_uri,
            stage=product.stage,
            mass_grams=product.mass_grams,
            grade_ppm=product.grade_ppm,
            contained_tungsten_ug=product.contained_tungsten_ug,
            owner=product.owner,
            custodian=product.custodian,
            facility_id=product.facility_id,
            country=product.country,
            content_hash=product.content_hash,
            flags=_flags(product.flags),
        ),
        origins=[
            Origin(
                batch_id=i,
                facility_id=b.facility_id,
                facility_kind=facilities[b.facility_id].kind,
                operator=facilities[b.facility_id].operator,
                country=b.country,
                stage=b.stage,
                mass_grams=b.mass_grams,
            )
            for i, b in sorted(batches.items())
            if not parents[i]
        ],
        stage_countries=_stage_countries(batches, product),
        lineage=Lineage(
            nodes=[
                Node(
                    batch_id=i,
                    stage=b.stage,
                    mass_grams=b.mass_grams,
                    grade_ppm=b.grade_ppm,
                    facility_id=b.facility_id,
                    country=b.country,
                    flags=_flags(b.flags),
                    tainted=tainted[i],
                    content_hash=b.content_hash,
                )
                for i, b in sorted(batches.items())
            ],
            edges=sorted(
                (
                    Edge(
                        parent=par,
                        child=i,
                        via="process" if BatchFlag.FROM_PROCESS in batches[i].flags else "split",
                        process_id=batches[i].parent_ref
                        if BatchFlag.FROM_PROCESS in batches[i].flags
                        else None,
                    )
                    for i in ids
                    for par in parents[i]
                ),
                key=lambda e: (e.child, e.parent),
            ),
        ),
        custody=_custody(events, set(ids), times),
        transformations=_transformations(events, batches, facilities, times),
        attestations=_attestations(listed, data.attestations, data.schemas, block_time),
        facilities=[
            FacilityEntry(
                facility_id=f.facility_id,
                operator=f.operator,
                country=f.country,
                kind=f.kind,
                sanctioned=f.sanctioned,
                operator_sanctioned=f.operator_sanctioned,
                record_root=f.record_root,
            )
            for f in facilities.values()
        ],
        taint=_taint(batches, tainted, facilities, events),
        regulatory=_regulatory(events, times),
        telemetry_roots={
            str(i): b.content_hash for i, b in sorted(batches.items()) if b.content_hash != ZERO32
        },
    )


def _stage_countries(batches: dict[int, Batch], product: Batch) -> dict[str, list[str]]:
    seen: dict[str, set[str]] = defaultdict(set)
    for b in batches.values():
        seen[b.stage.step].add(b.country)
    result = {step: sorted(seen[step]) for step in STEP_ORDER if seen.get(step)}
    result["produced"] = [product.country]
    return result


def _custody(events: list[Event], ids: set[int], times: dict[int, int]) -> list[CustodyEvent]:
    titles = {(e.tx_hash, e.log_index) for e in title_transfers(events)}
    out: list[CustodyEvent] = []
    for e in events:
        common: dict[str, Any] = {"block": e.block, "time": times[e.block], "tx": e.tx_hash}
        a = e.args
        if e.name == "BatchMinted" and a["batchId"] in ids:
            out.append(CustodyEvent(batch_id=a["batchId"], type="minted", receiver=a["owner"], **common))
        elif e.name == "CustodyOffered" and a["batchId"] in ids:
            out.append(
                CustodyEvent(
                    batch_id=a["batchId"],
                    type="offered",
                    sender=a["from"],
                    receiver=a["to"],
                    custody_only=a["custodyOnly"],
                    **common,
                )
            )
        elif e.name == "CustodyOfferCancelled" and a["batchId"] in ids:
            out.append(
                CustodyEvent(
                    batch_id=a["batchId"], type="cancelled", sender=a["by"], receiver=a["to"], **common
                )
            )
        elif e.name == "CustodyAccepted" and a["batchId"] in ids:
            out.append(
                CustodyEvent(
                    batch_id=a["batchId"],
                    type="accepted",
                    sender=a["from"],
                    receiver=a["to"],
                    custody_only=a["custodyOnly"],
                    measured_grams=a["measuredGrams"],
                    **common,
                )
            )
        elif e.name == "CustodyDiscrepancyRecorded" and a["batchId"] in ids:
            out.append(
                CustodyEvent(
                    batch_id=a["batchId"],
                    type="discrepancy",
                    receiver=a["receiver"],
                    measured_grams=a["measuredGrams"],
                    recorded_grams=a["recordedGrams"],
                    **common,
                )
            )
        elif (e.tx_hash, e.log_index) in titles and a["tokenId"] in ids:
            out.append(
                CustodyEvent(
                    batch_id=a["tokenId"], type="title-transfer", sender=a["from"], receiver=a["to"], **common
                )
            )
    return out


def _transformations(
    events: list[Event], batches: dict[int, Batch], facilities: dict[int, Facility], times: dict[int, int]
) -> list[Transformation]:
    out: list[Transformation] = []
    for e in events:
        a = e.args
        if e.name == "BatchSplit" and a["batchId"] in batches:
            parent = batches[a["batchId"]]
            first = int(a["firstChildId"])
            out.append(
                Transformation(
                    event_time=times[e.block],
                    biz_step="splitting",
                    biz_location=parent.facility_id,
                    country=parent.country,
                    actor=a["owner"],
                    input_quantity_list=[Quantity(batch_id=parent.batch_id, quantity_grams=sum(a["masses"]))],
                    output_quantity_list=[
                        Quantity(batch_id=first + n, quantity_grams=m) for n, m in enumerate(a["masses"])
                    ],
                    block=e.block,
                    tx=e.tx_hash,
                )
            )
        elif e.name == "BatchesProcessed":
            facility = int(a["facilityId"])
            out.append(
                Transformation(
                    event_time=times[e.block],
                    biz_step="transforming",
                    biz_location=facility,
                    country=facilities[facility].country if facility in facilities else "",
                    actor=a["processor"],
                    process_id=int(a["processId"]),
                    input_quantity_list=[
                        Quantity(batch_id=i, quantity_grams=m)
                        for i, m in zip(a["inputIds"], a["inputMasses"], strict=True)
                    ],
                    output_quantity_list=[
                        Quantity(batch_id=i, quantity_grams=m)
                        for i, m in zip(a["outputIds"], a["outputMasses"], strict=True)
                    ],
                    block=e.block,
                    tx=e.tx_hash,
                )
            )
    return out


def _attestations(
    attested: list[Event], states: dict[str, AttestationState], schemas: dict[int, Schema], as_of_time: int
) -> list[AttestationEntry]:
    out: list[AttestationEntry] = []
    for e in attested:
        state = states[e.args["uid"]]
        schema = schemas[int(e.args["schemaId"])]
        if state.valid:
            status = "valid"
        elif state.flags & 1:
            status = "revoked"
        elif state.expires_at and as_of_time >= state.expires_at:
            status = "expired"
        else:
            status = "unaccredited"
        out.append(
            AttestationEntry(
                uid=e.args["uid"],
                schema_id=int(e.args["schemaId"]),
                schema_name=schema.name,
                subject_kind=SubjectKind(schema.subject_kind).name,  # type: ignore[arg-type]
                subject=int(e.args["subject"]),
                certifier=e.args["certifier"],
                data_hash=e.args["dataHash"],
                issued_at=state.issued_at,
                expires_at=state.expires_at,
                status=status,  # type: ignore[arg-type]
                block=e.block,
                tx=e.tx_hash,
            )
        )
    return out


def _taint(
    batches: dict[int, Batch],
    tainted: dict[int, bool],
    facilities: dict[int, Facility],
    events: list[Event],
) -> Taint:
    flagged_by_regulator = {int(e.args["batchId"]) for e in events if e.name == "BatchTainted"}
    sources: list[TaintSource] = []
    for i, b in sorted(batches.items()):
        f = facilities[b.facility_id]
        if i in flagged_by_regulator:
            sources.append(TaintSource(batch_id=i, reason="regulator"))
        # A sanctioned facility is a source once per batch produced there (split children share
        # their parent's facility and are not listed again).
        if (f.sanctioned or f.operator_sanctioned) and BatchFlag.FROM_SPLIT not in b.flags:
            sources.append(TaintSource(batch_id=i, reason="sanctioned-facility", facility_id=f.facility_id))
        elif BatchFlag.TAINTED in b.flags and i not in flagged_by_regulator:
            sources.append(TaintSource(batch_id=i, reason="inherited"))
    return Taint(tainted=any(tainted.values()), sources=sources)


def _regulatory(events: list[Event], times: dict[int, int]) -> list[RegulatoryEvent]:
    kinds = {"BatchFrozen": "frozen", "BatchUnfrozen": "unfrozen", "BatchTainted": "tainted"}
    return [
        RegulatoryEvent(
            batch_id=int(e.args["batchId"]),
            type=kinds[e.name],  # type: ignore[arg-type]
            regulator=e.args["regulator"],
            reason=e.args.get("reason"),
            block=e.block,
            time=times[e.block],
            tx=e.tx_hash,
        )
        for e in events
        if e.name in kinds
    ]


__all__ = [
    "BATCH_EVENTS",
    "HISTORY_EVENTS",
    "AttestationState",
    "ChainData",
    "Schema",
    "attested",
    "derive",
    "history_counts",
    "process_ids",
    "relevant",
    "title_transfers",
]
