#!/usr/bin/env python3
"""Passport assembly over a 1,000-batch lineage, against a naive one-call-per-batch walk.

    scripts/bench_passport.py          table: this SDK vs the naive walk, same chain, same session
    scripts/bench_passport.py --json   {"lineage_nodes": ..., "seconds": ..., "rpc_round_trips": ...}

The lineage: 100 concentrate lots (each with an origin attestation), each split in 4; the 400
parts refined 4 at a time into 100 APT lots, each split in 3; the 300 parts converted 3 at a time
into 100 oxide lots; the oxide reduced 50 at a time into 2 powder lots; the powder fluorinated into
one WF6 lot. Runs on anvil from node_modules unless --rpc-url names another node.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from eth_utils import keccak

from passport.core.events import topic
from passport.core.types import FacilityKind, ProcessOutput, Role, Stage, SubjectKind
from passport.sdk import AttestationRequest, Call, Client, Founder, Sdk
from passport.sdk.accounts import dev_accounts
from passport.toolchain.anvil import Anvil


def build(client: Client, say: Callable[[str], None]) -> tuple[Sdk, int]:
    admin, producer, certifier = dev_accounts(3)
    founders = [
        Founder(admin.address, Role.ADMIN, "VN"),
        Founder(producer.address, Role.MINER | Role.PROCESSOR, "VN"),
        Founder(certifier.address, Role.CERTIFIER, "CH"),
    ]
    sdk = Sdk.deploy(client, admin, founders)
    gov, batches = sdk.consortium, sdk.batches
    gov.propose_facility(admin, producer.address, "VN", FacilityKind.MINE)
    gov.propose_facility(admin, producer.address, "VN", FacilityKind.REFINERY)
    mine, plant = 1, 2
    schema = sdk.attestations.register_schema(admin, "origin-verified", True, SubjectKind.BATCH)
    _n, _h, now = client.head()
    gov.propose_accreditation(admin, certifier.address, schema, now + 365 * 86_400)

    say("minting 100 lots with attestations")
    lots = []
    for n in range(100):
        lot = batches.mint(producer, mine, Stage.CONCENTRATE, 4_000_000, 500_000, keccak(text=f"lot {n}"))
        sdk.attestations.attest(certifier, AttestationRequest(schema, lot, keccak(text=f"origin {n}"), 0))
        lots.append(lot)
    say("splitting and refining")
    parts = [c for lot in lots for c in batches.split(producer, lot, [1_000_000] * 4)]
    apt = [
        batches.process(producer, parts[i : i + 4], plant, [ProcessOutput(Stage.APT, 2_700_000, 700_000)])[0]
        for i in range(0, len(parts), 4)
    ]
    parts = [c for lot in apt for c in batches.split(producer, lot, [900_000] * 3)]
    say("converting to oxide, powder and WF6")
    oxide = [
        batches.process(producer, parts[i : i + 3], plant, [ProcessOutput(Stage.OXIDE, 2_400_000, 780_000)])[
            0
        ]
        for i in range(0, len(parts), 3)
    ]
    powder = [
        batches.process(
            producer, oxide[i : i + 50], plant, [ProcessOutput(Stage.POWDER, 90_000_000, 990_000)]
        )[0]
        for i in range(0, len(oxide), 50)
    ]
    (wf6,) = batches.process(producer, powder, plant, [ProcessOutput(Stage.WF6, 280_000_000, 617_000)])
    return sdk, wf6


def naive(sdk: Sdk, batch_id: int) -> int:
    """The baseline: one eth_call per field per batch, one eth_getLogs per batch."""
    client, p = sdk.client, sdk.contracts.passport
    seen, stack = set(), [batch_id]
    while stack:
        i = stack.pop()
        if i in seen:
            continue
        seen.add(i)
        client.call(Call(p, "batch", (i,)))
        client.call(Call(p, "isTainted", (i,)))
        client.get_logs([p.address], [None, [i.to_bytes(32, "big")]])
        client.get_logs([p.address], [topic("Transfer"), None, None, [i.to_bytes(32, "big")]])
        client.get_logs(
            [sdk.contracts.registry.address], [topic("Attested"), None, None, [i.to_bytes(32, "big")]]
        )
        stack += [int(x) for x in client.call(Call(p, "parentsOf", (i,)))]
    return len(seen)


def measure(url: str, say: Callable[[str], None]) -> dict[str, Any]:
    client = Client.connect(url)
    started = time.monotonic()
    sdk, wf6 = build(client, say)
    build_seconds = time.monotonic() - started
    say(f"lineage built in {build_seconds:.0f} s; assembling")

    runs = []
    for _ in range(3):
        before, t0 = client.rpc_round_trips, time.monotonic()
        doc = sdk.passport_for(wf6)
        runs.append((time.monotonic() - t0, client.rpc_round_trips - before))
    seconds = statistics.median(r[0] for r in runs)
    trips = runs[0][1]
    before, t0 = client.rpc_round_trips, time.monotonic()
    naive_nodes = naive(sdk, wf6)
    naive_seconds, naive_trips = time.monotonic() - t0, client.rpc_round_trips - before
    depth = _depth(doc)
    return {
        "lineage_nodes": len(doc.lineage.nodes),
        "seconds": round(seconds, 3),
        "rpc_round_trips": trips,
        "lineage_depth": depth,
        "chain_blocks": client.w3.eth.block_number,
        "attestations": len(doc.attestations),
        "naive_nodes": naive_nodes,
        "naive_seconds": round(naive_seconds, 3),
        "naive_rpc_round_trips": naive_trips,
    }


def _depth(doc: Any) -> int:
    parents: dict[int, list[int]] = {}
    for e in doc.lineage.edges:
        parents.setdefault(e.child, []).append(e.parent)
    memo: dict[int, int] = {}

    def depth(i: int) -> int:
        if i not in memo:
            memo[i] = 1 + max((depth(p) for p in parents.get(i, [])), default=0)
        return memo[i]

    return depth(doc.product.batch_id)


def table(r: dict[str, Any]) -> str:
    rows = [
        ("approach", "seconds", "round trips", "vs naive (time)", "vs naive (trips)"),
        (
            "naive: one call per batch",
            f"{r['naive_seconds']:.3f}",
            str(r["naive_rpc_round_trips"]),
            "1.00x",
            "1.00x",
        ),
        (
            "SDK: batched levels + topic filters",
            f"{r['seconds']:.3f}",
            str(r["rpc_round_trips"]),
            f"{r['naive_seconds'] / r['seconds']:.1f}x faster",
            f"{r['naive_rpc_round_trips'] / r['rpc_round_trips']:.0f}x fewer",
        ),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    note = (
        f"lineage: {r['lineage_nodes']} batches, depth {r['lineage_depth']}, "
        f"{r['attestations']} attestations; "
        f"chain: {r['chain_blocks']} blocks. Target: < 1 s, round trips ~ depth."
    )
    return "\n".join(lines) + "\n" + note


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--rpc-url", help="use this node (dev accounts funded) instead of starting anvil")
    args = parser.parse_args()

    def say(message: str) -> None:
        print(message, file=sys.stderr)

    if args.rpc_url:
        result = measure(args.rpc_url, say)
    else:
        with Anvil() as node:
            result = measure(node.url, say)
    if args.json:
        keys = ("lineage_nodes", "seconds", "rpc_round_trips")
        print(json.dumps({k: result[k] for k in keys} | {"details": result}, indent=2))
    else:
        print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
