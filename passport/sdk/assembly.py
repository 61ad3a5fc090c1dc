"""Assembling a batch's passport from chain data only.

Round trips grow with the lineage's depth, not with its size or the chain's length:
one JSON-RPC batch per lineage level (record, parents and taint of every node on it), then one
batch each for facilities, logs (eth_getLogs filtered by indexed batch ids, process ids and
subjects), attestation statuses, and block times. Every read is pinned to one block, so the
document can be re-derived exactly by ``verify``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from passport.sdk.batches import batch_from
from passport.sdk.client import Call
from passport.sdk.consortium import facility_from
from passport.sdk.contracts import Contracts
from passport.sdk.document import (
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
from passport.sdk.logs import Event, decode, topic
from passport.sdk.types import Batch, BatchFlag, Facility, SubjectKind

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
ZERO32 = "0x" + "00" * 32


def _flags(flags: BatchFlag) -> list[str]:
    return [f.name for f in BatchFlag if f in flags and f.name and f is not BatchFlag.APPROVED]


def _as_int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def assemble(contracts: Contracts, batch_id: int, block: int | None = None) -> PassportDocument:
    """Build the passport of ``batch_id`` as of ``block`` (default: the latest block).

    Raises:
        ContractRevert: ``BatchNotFound`` when the batch does not exist at that block.
    """
    client = contracts.client
    if block is None:
        block, block_hash, block_time = client.head()
    else:
        head = client.w3.eth.get_block(block)
        block_hash, block_time = "0x" + bytes(head["hash"]).hex(), int(head["timestamp"])
    p, c, r = contracts.passport, contracts.consortium, contracts.registry

    # 1. Walk the lineage, one batch request per level.
    batches: dict[int, Batch] = {}
    parents: dict[int, list[int]] = {}
    tainted: dict[int, bool] = {}
    frontier = [batch_id]
    while frontier:
        calls = [Call(p, fn, (i,)) for i in frontier for fn in ("batch", "parentsOf", "isTainted")]
        results = client.batch(calls, block)
        following: list[int] = []
        for n, i in enumerate(frontier):
            raw, par, taint = results[3 * n : 3 * n + 3]
            batches[i] = batch_from(i, raw)
            parents[i] = [int(x) for x in par]
            tainted[i] = bool(taint)
            following += [x for x in parents[i] if x not in batches and x not in following]
        frontier = following
    ids = sorted(batches)

    # 2. Facilities of every node, and the product's token URI.
    facility_ids = sorted({b.facility_id for b in batches.values()})
    facility_calls = [Call(c, "facility", (f,)) for f in facility_ids]
    results = client.batch([*facility_calls, Call(p, "tokenURI", (batch_id,))], block)
    facilities: dict[int, Facility] = {
        f: facility_from(f, raw) for f, raw in zip(facility_ids, results, strict=False)
    }
    token_uri = str(results[-1])

    # 3. Events, filtered by indexed ids.
    id_topics = [i.to_bytes(32, "big") for i in ids]
    process_ids = sorted({b.parent_ref for b in batches.values() if BatchFlag.FROM_PROCESS in b.flags})
    subjects = sorted(set(id_topics) | {f.to_bytes(32, "big") for f in facility_ids})
    raw_logs = client.get_logs([p.address], [[topic(n) for n in BATCH_EVENTS], id_topics], block)
    raw_logs += client.get_logs([p.address], [topic("Transfer"), None, None, id_topics], block)
    if process_ids:
        raw_logs += client.get_logs(
            [p.address], [topic("BatchesProcessed"), [x.to_bytes(32, "big") for x in process_ids]], block
        )
    raw_logs += client.get_logs([r.address], [topic("Attested"), None, None, subjects], block)
    events = sorted(
        {(e.tx_hash, e.log_index): e for e in (decode(log) for log in raw_logs) if e is not None}.values(),
        key=lambda e: (e.block, e.log_index),
    )

    # 4. Schemas (a subject id means a batch or a facility by its schema's kind), then the
    #    attestations' records and validity, at the block.
    schema_ids = sorted({int(e.args["schemaId"]) for e in events if e.name == "Attested"})
    schemas = dict(
        zip(schema_ids, client.batch([Call(r, "schema", (s,)) for s in schema_ids], block), strict=True)
    )
    wanted = {SubjectKind.BATCH: set(ids), SubjectKind.FACILITY: set(facility_ids)}
    attested = [
        e
        for e in events
        if e.name == "Attested"
        and int(e.args["subject"]) in wanted.get(SubjectKind(int(schemas[int(e.args["schemaId"])][2])), set())
    ]
    uid_calls = [
        Call(r, fn, (bytes.fromhex(e.args["uid"][2:]),))
        for e in attested
        for fn in ("attestation", "isValid")
    ]
    results = client.batch(uid_calls, block)
    times = client.block_timestamps({e.block for e in events})

    product = batches[batch_id]
    return PassportDocument(
        chain=ChainRef(
            chain_id=client.chain_id,
            consortium=c.address,
            passport=p.address,
            registry=r.address,
            as_of_block=block,
            as_of_block_hash=block_hash,
            as_of_time=block_time,
        ),
        product=Product(
            batch_id=batch_id,
            token_uri=token_uri,
            stage=product.stage.name,
            mass_grams=product.mass_grams,
            grade_ppm=product.grade_ppm,
            contained_tungsten_grams=product.contained_tungsten_g,
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
                facility_kind=facilities[b.facility_id].kind.name,
                operator=facilities[b.facility_id].operator,
                country=b.country,
                stage=b.stage.name,
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
                    stage=b.stage.name,
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
        attestations=_attestations(attested, results, schemas, block_time),
        facilities=[
            FacilityEntry(
                facility_id=f.facility_id,
                operator=f.operator,
                country=f.country,
                kind=f.kind.name,
                sanctioned=f.sanctioned,
                operator_sanctioned=f.operator_sanctioned,
                location_hash=f.location_hash,
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
    accepted_in = {(e.tx_hash, int(e.args["batchId"])) for e in events if e.name == "CustodyAccepted"}
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
        elif (
            e.name == "Transfer"
            and a["tokenId"] in ids
            and int(a["from"], 16) != 0
            and (e.tx_hash, a["tokenId"]) not in accepted_in
        ):
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
    attested: list[Event], results: list[Any], schemas: dict[int, Any], as_of_time: int
) -> list[AttestationEntry]:
    out: list[AttestationEntry] = []
    for n, e in enumerate(attested):
        (_certifier, _schema, flags, issued, expires), valid = results[2 * n], results[2 * n + 1]
        name, _revocable, kind = schemas[int(e.args["schemaId"])]
        subject_kind = SubjectKind(int(kind)).name
        if valid:
            status = "valid"
        elif flags & 1:
            status = "revoked"
        elif expires and as_of_time >= expires:
            status = "expired"
        else:
            status = "unaccredited"
        out.append(
            AttestationEntry(
                uid=e.args["uid"],
                schema_id=int(e.args["schemaId"]),
                schema_name=str(name),
                subject_kind=subject_kind,  # type: ignore[arg-type]
                subject=int(e.args["subject"]),
                certifier=e.args["certifier"],
                data_hash=e.args["dataHash"],
                issued_at=int(issued),
                expires_at=int(expires),
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


__all__ = ["assemble"]
