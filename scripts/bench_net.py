#!/usr/bin/env python3
"""CometBFT network benchmark: the same workload, in one run, on

- the single sealer (``passport node start --dev``, sealing as soon as transactions wait: its best mode);
- 4 validators agreeing through CometBFT (``passport net init --validators 4``), submissions
  spread over all four nodes;
- the same 4 with one validator stopped (kill -9), submissions spread over the other three.

Workload: value transfers from 8 dev accounts, signed up front, sent as JSON-RPC batches of
100; each sender submits to one node (as a member's client does), the senders spread over the
nodes. Throughput is transactions per second from the first send to the last receipt.
Confirmation latency is send -> receipt (polled every 20 ms) of transactions sent one at a time
after the throughput phase, p50 and p99. Block interval is the wall time per block during the
latency phase. Targets: 4-validator throughput >= 50 % of the single sealer's; p50 <= 2 s.

    scripts/bench_net.py [--transactions 2000] [--latency-samples 40] [--timeout-commit 1s] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from passport._utils.dev import dev_accounts
from passport.node.consensus.network import init_network
from passport.node.process import NodeProcess

BATCH = 100
SENDERS = 8
CHAIN_ID = 1337


def rpc(url: str, method: str, params: list[Any]) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise RuntimeError(answer["error"])
    return answer["result"]


def batch_answers(url: str, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
    body = json.dumps(
        [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
    ).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        answers: list[dict[str, Any]] = json.loads(response.read())
    return sorted(answers, key=lambda a: a["id"])


def batch(url: str, calls: list[tuple[str, list[Any]]]) -> list[Any]:
    return [a.get("result") for a in batch_answers(url, calls)]


def sign_all(url: str, count: int, first_sender: int) -> list[tuple[int, str, str]]:
    accounts = dev_accounts()[first_sender : first_sender + SENDERS]
    nonces = [int(rpc(url, "eth_getTransactionCount", [a.address, "pending"]), 16) for a in accounts]
    out = []
    for i in range(count):
        index = i % SENDERS
        account = accounts[index]
        tx = account.sign_transaction(
            {
                "chainId": CHAIN_ID,
                "nonce": nonces[index],
                "to": dev_accounts()[9].address,
                "value": 1,
                "gas": 21_000,
                "maxFeePerGas": 20 * 10**9,
                "maxPriorityFeePerGas": 10**9,
            }
        )
        nonces[index] += 1
        out.append((index, "0x" + tx.raw_transaction.hex(), "0x" + tx.hash.hex()))
    return out


def wait_receipts(url: str, hashes: list[str], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(hashes)
    while waiting:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(waiting)} transactions without receipts")
        answers = batch(url, [("eth_getTransactionReceipt", [h]) for h in waiting[:500]])
        waiting = [h for h, r in zip(waiting[:500], answers, strict=True) if r is None] + waiting[500:]
        if waiting:
            time.sleep(0.1)


def throughput(urls: list[str], count: int) -> float:
    signed = sign_all(urls[0], count, first_sender=0)
    # each sender uses one node (as a member's client does), the senders spread over the nodes
    per_node: list[list[str]] = [[] for _ in urls]
    for sender, raw, _ in signed:
        per_node[sender % len(urls)].append(raw)
    started = time.perf_counter()
    for offset in range(0, max(len(q) for q in per_node), BATCH):
        for url, raws in zip(urls, per_node, strict=True):
            chunk = raws[offset : offset + BATCH]
            if not chunk:
                continue
            answers = batch_answers(url, [("eth_sendRawTransaction", [raw]) for raw in chunk])
            refused = [a["error"] for a in answers if "error" in a]
            if refused:
                raise RuntimeError(f"{len(refused)} submissions refused, first: {refused[0]}")
    wait_receipts(urls[0], [h for _, _, h in signed])
    return count / (time.perf_counter() - started)


def latency(urls: list[str], samples: int) -> tuple[float, float, float]:
    account = dev_accounts()[8]
    nonce = int(rpc(urls[0], "eth_getTransactionCount", [account.address, "pending"]), 16)
    seconds = []
    first_block = int(rpc(urls[0], "eth_blockNumber", []), 16)
    began = time.perf_counter()
    for i in range(samples):
        tx = account.sign_transaction(
            {
                "chainId": CHAIN_ID,
                "nonce": nonce + i,
                "to": dev_accounts()[9].address,
                "value": 1,
                "gas": 21_000,
                "maxFeePerGas": 20 * 10**9,
                "maxPriorityFeePerGas": 10**9,
            }
        )
        url = urls[i % len(urls)]
        started = time.perf_counter()
        tx_hash = rpc(url, "eth_sendRawTransaction", ["0x" + tx.raw_transaction.hex()])
        while rpc(url, "eth_getTransactionReceipt", [tx_hash]) is None:
            time.sleep(0.02)
        seconds.append(time.perf_counter() - started)
    blocks = int(rpc(urls[0], "eth_blockNumber", []), 16) - first_block
    interval = (time.perf_counter() - began) / max(blocks, 1)
    seconds.sort()
    p99 = seconds[min(len(seconds) - 1, round(0.99 * (len(seconds) - 1)))]
    return statistics.median(seconds), p99, interval


def run(args: argparse.Namespace) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-net-") as tmp:
        with NodeProcess(data_dir=Path(tmp) / "single") as single:
            tps = throughput([single.url], args.transactions)
            p50, p99, interval = latency([single.url], args.latency_samples)
            rows["single sealer"] = {"tps": tps, "p50": p50, "p99": p99, "interval": interval}
        network = init_network(Path(tmp) / "net", validators=4, timeout_commit=args.timeout_commit)
        with network.running():
            urls = [n.rpc_url for n in network.nodes]
            time.sleep(2)
            tps = throughput(urls, args.transactions)
            p50, p99, interval = latency(urls, args.latency_samples)
            rows["4 validators"] = {"tps": tps, "p50": p50, "p99": p99, "interval": interval}
            network.kill(3)
            time.sleep(2)
            tps = throughput(urls[:3], args.transactions)
            p50, p99, interval = latency(urls[:3], args.latency_samples)
            rows["4 validators, 1 down"] = {"tps": tps, "p50": p50, "p99": p99, "interval": interval}
    reference = rows["single sealer"]["tps"]
    for row in rows.values():
        row["ratio"] = row["tps"] / reference
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "transactions": args.transactions,
        "timeoutCommit": args.timeout_commit,
        "rows": rows,
        "targets": {"ratio_4_validators": 0.5, "p50_seconds": 2.0},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=2000)
    parser.add_argument("--latency-samples", type=int, default=40)
    parser.add_argument("--timeout-commit", default="1s")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['machine']}; {result['transactions']} transfers; timeout_commit {result['timeoutCommit']}"
    )
    print("| network | tx/s | ratio to single sealer | confirmation p50 | p99 | block interval |")
    print("|---|---|---|---|---|---|")
    for name, row in result["rows"].items():
        print(
            f"| {name} | {row['tps']:.0f} | {row['ratio']:.2f}x | {row['p50']:.2f} s | {row['p99']:.2f} s "
            f"| {row['interval']:.2f} s |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
