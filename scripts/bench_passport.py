#!/usr/bin/env python3
"""Passport assembly over a 1,000-batch lineage, against a naive one-call-per-batch walk; and the
passport with evidence: export time, bundle size, offline verify time and proof counts, for that
lineage and for a typical 10-batch one.

    scripts/bench_passport.py               tables, on anvil
    scripts/bench_passport.py --node        the same on a fresh passport dev node (sealed headers), in its
                                             own process as anvil is
    scripts/bench_passport.py --json        {"lineage_nodes": ..., "seconds": ..., "rpc_round_trips": ...,
                                             "evidence": {...}}
    scripts/bench_passport.py --compare     anvil and a fresh passport dev node in one run: assembly,
                                             export with evidence, single batch(i) eth_calls (cold
                                             and warm), the node's call workers' peak memory

The lineage: 100 concentrate lots (each with an origin attestation), each split in 4; the 400
parts refined 4 at a time into 100 APT lots, each split in 3; the 300 parts converted 3 at a time
into 100 oxide lots; the oxide reduced 50 at a time into 2 powder lots; the powder fluorinated into
one WF6 lot. The typical lineage: two lots, each split in two, the four parts refined into one APT
lot, split in two, both halves converted to WF6 (10 batches). Runs on anvil from node_modules unless
--node or --rpc-url names another chain.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from eth_utils import keccak

from passport.core.events import topic
from passport.core.types import FacilityKind, ProcessOutput, Role, Stage, SubjectKind
from passport.evidence import ProvenChain, read_chain_data, verify_offline
from passport.node.process import NodeProcess
from passport.sdk import AttestationRequest, Call, Client, Founder, PassportDocument, Sdk
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
    schema = sdk.attestations.register_schema(admin, "origin-verified", True, SubjectKind.BATCH).value
    _n, _h, now = client.head()
    gov.propose_accreditation(admin, certifier.address, schema, now + 365 * 86_400)

    say("minting 100 lots with attestations")
    lots = []
    for n in range(100):
        lot = batches.mint(
            producer, mine, Stage.CONCENTRATE, 4_000_000, 500_000, keccak(text=f"lot {n}")
        ).value
        sdk.attestations.attest(certifier, AttestationRequest(schema, lot, keccak(text=f"origin {n}"), 0))
        lots.append(lot)
    say("splitting and refining")
    parts = [c for lot in lots for c in batches.split(producer, lot, [1_000_000] * 4).value]
    apt = [
        batches.process(
            producer, parts[i : i + 4], plant, [ProcessOutput(Stage.APT, 2_700_000, 700_000)]
        ).value[0]
        for i in range(0, len(parts), 4)
    ]
    parts = [c for lot in apt for c in batches.split(producer, lot, [900_000] * 3).value]
    say("converting to oxide, powder and WF6")
    oxide = [
        batches.process(
            producer, parts[i : i + 3], plant, [ProcessOutput(Stage.OXIDE, 2_400_000, 780_000)]
        ).value[0]
        for i in range(0, len(parts), 3)
    ]
    powder = [
        batches.process(
            producer, oxide[i : i + 50], plant, [ProcessOutput(Stage.POWDER, 90_000_000, 990_000)]
        ).value[0]
        for i in range(0, len(oxide), 50)
    ]
    (wf6,) = batches.process(producer, powder, plant, [ProcessOutput(Stage.WF6, 280_000_000, 617_000)]).value
    return sdk, wf6


def build_typical(sdk: Sdk) -> int:
    """The typical passport: 10 batches (see the module docstring), on the same deployment."""
    _admin, producer, certifier = dev_accounts(3)
    batches, mine, plant = sdk.batches, 1, 2
    schema = sdk.attestations.schema_id("origin-verified")
    lots = []
    for n in range(2):
        lot = batches.mint(
            producer, mine, Stage.CONCENTRATE, 2_000_000, 500_000, keccak(text=f"typical {n}")
        ).value
        sdk.attestations.attest(
            certifier, AttestationRequest(schema, lot, keccak(text=f"typical origin {n}"), 0)
        )
        lots.append(lot)
    parts = [c for lot in lots for c in batches.split(producer, lot, [1_000_000] * 2).value]
    (apt,) = batches.process(producer, parts, plant, [ProcessOutput(Stage.APT, 2_700_000, 700_000)]).value
    halves = batches.split(producer, apt, [1_350_000] * 2).value
    (wf6,) = batches.process(producer, halves, plant, [ProcessOutput(Stage.WF6, 3_000_000, 617_000)]).value
    return wf6


def evidence(sdk: Sdk, batch_id: int, out: Path) -> dict[str, Any]:
    """Export with evidence (median of 3), write it, verify it offline (median of 5)."""
    exports = []
    for _ in range(3):
        t0 = time.monotonic()
        doc = sdk.export_with_evidence(batch_id)
        exports.append(time.monotonic() - t0)
    path = out / f"passport-{batch_id}.json"
    doc.save(path)
    trust = sdk.trust_anchor("bench")
    verifies = []
    for _ in range(5):
        t0 = time.monotonic()
        loaded = PassportDocument.load(path)
        report = verify_offline(loaded, trust)
        verifies.append(time.monotonic() - t0)
        if not report.ok:
            raise SystemExit(f"offline verify failed: {report.failures[:3]}")
    written = path.read_bytes()
    ev = doc.evidence
    assert ev is not None
    headers, seals, nodes = ev.unpack()
    chain = ProvenChain(ev)
    read_chain_data(chain, doc.chain, batch_id)
    return {
        "lineage_nodes": len(doc.lineage.nodes),
        "export_seconds": round(statistics.median(exports), 3),
        "verify_seconds": round(statistics.median(verifies), 3),
        "bytes": len(written),
        "bytes_gzip": len(gzip.compress(written, 9)),
        "claims_bytes": len(json.dumps(doc.claims(), indent=2, sort_keys=True)),
        "headers": len(headers),
        "sealed_headers": sum(1 for s in seals if s),
        "account_proofs": 3,
        "storage_slots": len(chain.read_slots),
        "receipt_proofs": len(ev.receipts),
        "trie_nodes": len(nodes),
        "proof_bytes": sum(map(len, headers)) + sum(map(len, seals)) + sum(map(len, nodes)),
    }


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


def measure(
    url: str, say: Callable[[str], None], with_naive: bool = True, singles: bool = False
) -> dict[str, Any]:
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
    naive_nodes, naive_seconds, naive_trips = 0, 0.0, 0
    if with_naive:
        before, t0 = client.rpc_round_trips, time.monotonic()
        naive_nodes = naive(sdk, wf6)
        naive_seconds, naive_trips = time.monotonic() - t0, client.rpc_round_trips - before
    depth = _depth(doc)
    say("exporting with evidence and verifying offline")
    with tempfile.TemporaryDirectory() as tmp:
        large = evidence(sdk, wf6, Path(tmp))
        typical = evidence(sdk, build_typical(sdk), Path(tmp))
    calls = single_calls(url, sdk, len(doc.lineage.nodes)) if singles else {}
    return {
        "singles": calls,
        "evidence": {"large": large, "typical": typical},
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


def single_calls(url: str, sdk: Sdk, batches: int, n: int = 200) -> dict[str, float]:
    """p50/p99 (ms) of one ``batch(i)`` eth_call over raw HTTP (one kept-alive connection, no
    web3 formatting: the same client for both chains): warm, back to back at one block; cold,
    each the first call after a new block (a transfer sent before it, not timed)."""
    import random

    import requests

    p = sdk.contracts.passport
    session = requests.Session()
    rng = random.Random(7)
    sender = dev_accounts(3)[0]

    def one() -> float:
        data = p.encode_abi("batch", args=(rng.randint(1, batches),))
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "eth_call",
            "params": [{"to": p.address, "data": data}, "latest"],
        }
        t0 = time.perf_counter()
        answer = session.post(url, json=body, timeout=60).json()
        elapsed = (time.perf_counter() - t0) * 1000
        if "result" not in answer:
            raise SystemExit(f"eth_call failed: {answer}")
        return elapsed

    def pct(xs: list[float], q: float) -> float:
        xs = sorted(xs)
        return round(xs[min(len(xs) - 1, int(q * len(xs)))], 2)

    one()
    warm = [one() for _ in range(n)]
    cold = []
    for _ in range(n // 4):
        w3 = sdk.client.w3
        nonce = w3.eth.get_transaction_count(sender.address, "pending")
        tx = {"to": sender.address, "value": 0, "gas": 21_000, "gasPrice": 2 * 10**9,
              "nonce": nonce, "chainId": sdk.client.chain_id}  # fmt: skip
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
        )
        cold.append(one())
    return {"warm_p50_ms": pct(warm, 0.5), "warm_p99_ms": pct(warm, 0.99),
            "cold_p50_ms": pct(cold, 0.5), "cold_p99_ms": pct(cold, 0.99)}  # fmt: skip


def worker_peak_rss(node_pid: int) -> int:
    """The largest peak resident memory (VmHWM, bytes) among the call workers of the node process
    ``node_pid`` (its children started by multiprocessing's spawn, not its resource tracker)."""
    peaks = [0]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) != node_pid:
                continue
            if b"spawn_main" not in (entry / "cmdline").read_bytes():
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) * 1024)
        except (OSError, ValueError, IndexError):
            continue
    return max(peaks)


@contextlib.contextmanager
def dev_node() -> Iterator[NodeProcess]:
    """A fresh passport dev node (``passport node start --dev``) in its own process, as anvil is:
    the client measured shares neither its interpreter nor its garbage collector."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-passport-") as tmp,
        NodeProcess(data_dir=Path(tmp)) as node,
    ):
        yield node


def compare(say: Callable[[str], None]) -> dict[str, Any]:
    """The same lineage, assembly, export and single calls on anvil and on the node, one run."""
    out: dict[str, Any] = {}
    with Anvil() as anvil:
        say("anvil:")
        out["anvil"] = measure(anvil.url, say, with_naive=False, singles=True)
    with dev_node() as node:
        say("passport dev node:")
        out["node"] = measure(node.url, say, with_naive=False, singles=True)
        out["node"]["worker_peak_rss"] = worker_peak_rss(node.pid or 0)
    return out


def compare_table(r: dict[str, Any]) -> str:
    a, n = r["anvil"], r["node"]
    rows = [("1,003-batch lineage", "anvil", "passport node", "node / anvil")]

    def row(label: str, x: float, y: float, fmt: str = "{:.3f}") -> None:
        rows.append((label, fmt.format(x), fmt.format(y), f"{y / x:.2f}x" if x else "-"))

    row("assembly (s, median of 3)", a["seconds"], n["seconds"])
    row("assembly round trips", a["rpc_round_trips"], n["rpc_round_trips"], "{}")
    row(
        "export with evidence (s, median of 3)",
        a["evidence"]["large"]["export_seconds"],
        n["evidence"]["large"]["export_seconds"],
    )
    for state in ("warm", "cold"):
        for q in ("p50", "p99"):
            key = f"{state}_{q}_ms"
            row(f"batch(i) eth_call {state} {q} (ms)", a["singles"][key], n["singles"][key], "{:.2f}")
    widths = [max(len(x[i]) for x in rows) for i in range(4)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(x, widths, strict=True)) + " |" for x in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    peak = n.get("worker_peak_rss", 0) / 2**20
    note = (
        f"node call workers' peak memory: {peak:.0f} MiB each at most. Targets: assembly and export "
        "on the node <= 2x anvil's; <= 256 MB per worker."
    )
    return "\n".join(lines) + "\n" + note


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


def evidence_table(r: dict[str, Any], chain: str) -> str:
    large, typical = r["evidence"]["large"], r["evidence"]["typical"]
    rows = [
        ("passport with evidence", f"{large['lineage_nodes']} batches", f"{typical['lineage_nodes']} batches")
    ]
    for label, key, fmt in (
        ("export (s)", "export_seconds", "{:.3f}"),
        ("offline verify (s)", "verify_seconds", "{:.3f}"),
        ("file as written (bytes)", "bytes", "{:,}"),
        ("file gzipped (bytes)", "bytes_gzip", "{:,}"),
        ("of which claims (bytes)", "claims_bytes", "{:,}"),
        ("proofs before gzip (bytes)", "proof_bytes", "{:,}"),
        ("headers (sealed)", "headers", "{}"),
        ("account proofs", "account_proofs", "{}"),
        ("storage slots proven", "storage_slots", "{}"),
        ("receipt + transaction proofs", "receipt_proofs", "{}"),
        ("distinct trie nodes", "trie_nodes", "{:,}"),
    ):
        cells = []
        for e in (large, typical):
            cell = fmt.format(e[key])
            if key == "headers":
                cell = f"{e['headers']} ({e['sealed_headers']})"
            cells.append(cell)
        rows.append((label, *cells))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    note = f"chain: {chain}. Targets: offline verify < 1 s, file <= 2 MB as written."
    return "\n".join(lines) + "\n" + note


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--rpc-url", help="use this node (dev accounts funded) instead of starting anvil")
    parser.add_argument("--node", action="store_true", help="run on a fresh passport dev node")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive walk (slow on the node)")
    parser.add_argument("--compare", action="store_true", help="anvil and a fresh node, in one run")
    args = parser.parse_args()

    def say(message: str) -> None:
        print(message, file=sys.stderr)

    if args.compare:
        compared = compare(say)
        print(json.dumps(compared, indent=2) if args.json else compare_table(compared))
        return 0

    with contextlib.ExitStack() as stack:
        if args.rpc_url:
            url, chain = args.rpc_url, args.rpc_url
        elif args.node:
            url, chain = stack.enter_context(dev_node()).url, "passport dev node (sealed)"
        else:
            url, chain = stack.enter_context(Anvil()).url, "anvil (unsealed)"
        result = measure(url, say, with_naive=not args.no_naive)
    if args.json:
        keys = ("lineage_nodes", "seconds", "rpc_round_trips", "evidence")
        print(json.dumps({k: result[k] for k in keys} | {"chain": chain, "details": result}, indent=2))
    else:
        if not args.no_naive:
            print(table(result))
            print()
        print(evidence_table(result, chain))
    return 0


if __name__ == "__main__":
    sys.exit(main())
