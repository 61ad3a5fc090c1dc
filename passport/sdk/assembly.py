"""Assembling a batch's passport from chain data only.

Round trips grow with the lineage's depth, not with its size or the chain's length:
one JSON-RPC batch per lineage level (record and parents of every node on it), then one
batch each for facilities (taint follows from them and the records, as ``isTainted`` defines it),
logs (eth_getLogs filtered by indexed batch ids, process ids and subjects), attestation statuses,
and block times. Every read is pinned to one block, so the
document can be re-derived exactly by ``verify``. The claims themselves are derived from the data
by ``passport.core.derive``, as the offline verifier derives them from proofs.
"""

from __future__ import annotations

from passport.core.derive import (
    BATCH_EVENTS,
    AttestationState,
    ChainData,
    Schema,
    attested,
    derive,
    process_ids,
    tainted_of,
)
from passport.core.document import ChainRef, PassportDocument
from passport.core.events import decode, topic
from passport.core.types import Batch, Facility
from passport.sdk.batches import batch_from
from passport.sdk.client import Call
from passport.sdk.consortium import facility_from
from passport.sdk.contracts import Contracts


def gather(contracts: Contracts, batch_id: int, block: int | None = None) -> ChainData:
    """Read everything ``batch_id``'s passport is derived from, as of ``block`` (default: latest).

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
    frontier = [batch_id]
    while frontier:
        calls = [Call(p, fn, (i,)) for i in frontier for fn in ("batch", "parentsOf")]
        results = client.batch(calls, block)
        following: list[int] = []
        for n, i in enumerate(frontier):
            raw, par = results[2 * n : 2 * n + 2]
            batches[i] = batch_from(i, raw)
            parents[i] = [int(x) for x in par]
            following += [x for x in parents[i] if x not in batches and x not in following]
        frontier = following
    ids = sorted(batches)

    # 2. Facilities of every node, and the product's token URI. Taint follows from the batches'
    #    flags and their facilities as isTainted defines it (one call fewer per batch).
    facility_ids = sorted({b.facility_id for b in batches.values()})
    facility_calls = [Call(c, "facility", (f,)) for f in facility_ids]
    results = client.batch([*facility_calls, Call(p, "tokenURI", (batch_id,))], block)
    facilities: dict[int, Facility] = {
        f: facility_from(f, raw) for f, raw in zip(facility_ids, results, strict=False)
    }
    tainted = tainted_of(batches, facilities)
    token_uri = str(results[-1])

    # 3. Events, filtered by indexed ids.
    id_topics = [i.to_bytes(32, "big") for i in ids]
    processes = process_ids(batches)
    subjects = sorted(set(id_topics) | {f.to_bytes(32, "big") for f in facility_ids})
    raw_logs = client.get_logs([p.address], [[topic(n) for n in BATCH_EVENTS], id_topics], block)
    raw_logs += client.get_logs([p.address], [topic("Transfer"), None, None, id_topics], block)
    if processes:
        raw_logs += client.get_logs(
            [p.address], [topic("BatchesProcessed"), [x.to_bytes(32, "big") for x in processes]], block
        )
    raw_logs += client.get_logs([r.address], [topic("Attested"), None, None, subjects], block)
    events = sorted(
        {(e.tx_hash, e.log_index): e for e in (decode(log) for log in raw_logs) if e is not None}.values(),
        key=lambda e: (e.block, e.log_index),
    )

    # 4. Schemas (a subject id means a batch or a facility by its schema's kind), then the
    #    attestations' records and validity, at the block.
    schema_ids = sorted({int(e.args["schemaId"]) for e in events if e.name == "Attested"})
    schemas = {
        s: Schema(str(name), bool(revocable), int(kind))
        for s, (name, revocable, kind) in zip(
            schema_ids, client.batch([Call(r, "schema", (s,)) for s in schema_ids], block), strict=True
        )
    }
    listed = attested(events, schemas, set(ids), set(facility_ids))
    uid_calls = [
        Call(r, fn, (bytes.fromhex(e.args["uid"][2:]),)) for e in listed for fn in ("attestation", "isValid")
    ]
    results = client.batch(uid_calls, block)
    states = {}
    for n, e in enumerate(listed):
        (certifier, schema_id, flags, issued, expires), valid = results[2 * n], results[2 * n + 1]
        states[e.args["uid"]] = AttestationState(
            str(certifier), int(schema_id), int(flags), int(issued), int(expires), bool(valid)
        )
    times = client.block_timestamps({e.block for e in events})
    chain = ChainRef(
        chain_id=client.chain_id,
        consortium=c.address,
        passport=p.address,
        registry=r.address,
        as_of_block=block,
        as_of_block_hash=block_hash,
        as_of_time=block_time,
    )
    return ChainData(chain, batches, parents, tainted, facilities, token_uri, events, schemas, states, times)


def assemble(contracts: Contracts, batch_id: int, block: int | None = None) -> PassportDocument:
    """Build the passport of ``batch_id`` as of ``block`` (default: the latest block).

    Raises:
        ContractRevert: ``BatchNotFound`` when the batch does not exist at that block.
    """
    return derive(gather(contracts, batch_id, block), batch_id)


__all__ = ["assemble", "gather"]
