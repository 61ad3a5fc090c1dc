#!/usr/bin/env python3
"""Light reads and sealing while heavy eth_calls run, against the same node idle (one session).

    scripts/bench_node_reads.py            table
    scripts/bench_node_reads.py --json     one JSON object

A ``passport node start --dev`` child process. First idle, then while ``--heavy`` client threads
each send back-to-back ``eth_call``s of ``--heavy-gas`` gas (a loop that burns all of it, cut at
``rpc.evm_timeout_seconds`` if it runs longer), it measures:

- ``eth_blockNumber`` latency (``--reads`` sequential requests): p50 and p99;
- seal latency of a plain transfer (``--transfers`` of them, one at a time): from
  ``eth_sendRawTransaction`` to its receipt being served.

The loaded figures are printed beside the idle ones with their ratio. Target: eth_blockNumber
p99 <= 100 ms under load.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import threading
import time
import urllib.request
from typing import Any

import passport  # noqa: F401  (the node's Keccak backend for the signing below)
from passport.node.process import NodeProcess
from passport.sdk.accounts import dev_account

BURN_ALL_GAS = "0x5b600056"  # JUMPDEST, PUSH1 0, JUMP: loops until the gas is gone
TARGET_P99_MS = 100.0


def rpc(url: str, method: str, params: list[Any], timeout: float = 120) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def read_latencies(url: str, count: int) -> list[float]:
    out = []
    for _ in range(count):
        started = time.perf_counter()
        rpc(url, "eth_blockNumber", [])
        out.append((time.perf_counter() - started) * 1000)
    return out


def seal_latencies(url: str, count: int, nonce: int) -> tuple[list[float], int]:
    sender, out = dev_account(3), []
    for _ in range(count):
        tx = {"chainId": 1337, "nonce": nonce, "to": dev_account(4).address, "value": 1, "gas": 21_000,
              "gasPrice": 5 * 10**9}  # fmt: skip
        raw = "0x" + bytes(sender.sign_transaction(tx).raw_transaction).hex()
        started = time.perf_counter()
        tx_hash = rpc(url, "eth_sendRawTransaction", [raw])["result"]
        while rpc(url, "eth_getTransactionReceipt", [tx_hash]).get("result") is None:
            time.sleep(0.002)
        out.append((time.perf_counter() - started) * 1000)
        nonce += 1
    return out, nonce


def measure(url: str, reads: int, transfers: int, nonce: int) -> tuple[dict[str, float], int]:
    latencies = read_latencies(url, reads)
    seals, nonce = seal_latencies(url, transfers, nonce)
    return {
        "read_p50_ms": round(statistics.median(latencies), 2),
        "read_p99_ms": round(percentile(latencies, 99), 2),
        "seal_p50_ms": round(statistics.median(seals), 1),
        "seal_max_ms": round(max(seals), 1),
    }, nonce


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--heavy", type=int, default=10, help="concurrent heavy eth_call clients")
    parser.add_argument("--heavy-gas", type=int, default=30_000_000)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--transfers", type=int, default=60)
    args = parser.parse_args()

    with NodeProcess() as node:
        nonce = int(
            rpc(node.url, "eth_getTransactionCount", [dev_account(3).address, "latest"])["result"], 16
        )
        idle, nonce = measure(node.url, args.reads, args.transfers, nonce)
        stop = threading.Event()
        outcomes: dict[str, int] = {}
        lock = threading.Lock()

        def heavy() -> None:
            call = {"data": BURN_ALL_GAS, "gas": hex(args.heavy_gas)}
            while not stop.is_set():
                answer = rpc(node.url, "eth_call", [call, "latest"])
                kind = answer["result"] if "result" in answer else answer["error"]["message"].split(" (")[0]
                with lock:
                    outcomes[kind] = outcomes.get(kind, 0) + 1

        threads = [threading.Thread(target=heavy, daemon=True) for _ in range(args.heavy)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # every heavy client has a call running
        loaded, nonce = measure(node.url, args.reads, args.transfers, nonce)
        stop.set()
        for thread in threads:
            thread.join()
    result = {
        "idle": idle,
        "loaded": loaded,
        "heavy_clients": args.heavy,
        "heavy_gas": args.heavy_gas,
        "heavy_call_outcomes": outcomes,
        "read_p99_target_ms": TARGET_P99_MS,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}"
        )
        print(
            f"load: {args.heavy} clients, each back-to-back eth_call of {args.heavy_gas:,} gas; "
            f"outcomes {outcomes}"
        )
        print("| figure | idle | under load | load / idle |\n|---|---|---|---|")
        for key, name in (
            ("read_p50_ms", "eth_blockNumber p50 (ms)"),
            ("read_p99_ms", "eth_blockNumber p99 (ms)"),
            ("seal_p50_ms", "transfer sent -> receipt, p50 (ms)"),
            ("seal_max_ms", "transfer sent -> receipt, max (ms)"),
        ):
            print(f"| {name} | {idle[key]} | {loaded[key]} | {loaded[key] / idle[key]:.1f}x |")
        verdict = "met" if loaded["read_p99_ms"] <= TARGET_P99_MS else "NOT met"
        print(f"target: eth_blockNumber p99 under load <= {TARGET_P99_MS:g} ms: {verdict}")
    return 0 if loaded["read_p99_ms"] <= TARGET_P99_MS else 1


if __name__ == "__main__":
    sys.exit(main())
