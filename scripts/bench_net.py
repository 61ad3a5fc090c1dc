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

CPU: the processor time each network's processes (the nodes, their ``cometbft`` and call
workers, and this client) used during the throughput phase, per transfer, from /proc (Linux).
All of a network's processes share this machine's cores, so cores / (CPU per transfer) bounds
its throughput here, whatever the consensus does.

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
from passport.node.consensus.network import init_network, running_pid
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
    every = dev_accounts()  # derived once: an HD derivation per transfer would cost 35 ms each
    accounts = every[first_sender : first_sender + SENDERS]
    nonces = [int(rpc(url, "eth_getTransactionCount", [a.address, "pending"]), 16) for a in accounts]
    out = []
    for i in range(count):
        index = i % SENDERS
        account = accounts[index]
        tx = account.sign_transaction(
            {
                "chainId": CHAIN_ID,
                "nonce": nonces[index],
                "to": every[9].address,
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


def submit_all(urls: list[str], signed: list[tuple[int, str, str]]) -> float:
    """Send the signed transfers and wait for their receipts; transactions per second."""
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
    return len(signed) / (time.perf_counter() - started)


def latency(urls: list[str], samples: int) -> tuple[float, float, float]:
    every = dev_accounts()
    account = every[8]
    nonce = int(rpc(urls[0], "eth_getTransactionCount", [account.address, "pending"]), 16)
    seconds = []
    first_block = int(rpc(urls[0], "eth_blockNumber", []), 16)
    began = time.perf_counter()
    for i in range(samples):
        tx = account.sign_transaction(
            {
                "chainId": CHAIN_ID,
                "nonce": nonce + i,
                "to": every[9].address,
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


def _cpu_seconds(pid: int) -> float:
    """User + system time of ``pid`` so far (0 once it has exited)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a node's cometbft and call workers)."""
    out, waiting = [], [pid]
    while waiting:
        current = waiting.pop()
        out.append(current)
        # each thread's children: a node starts its call workers from a thread of its own
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                waiting += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
    return out


class CpuMeter:
    """Processor time used by process trees between start() and stop(), by kind of process."""

    def __init__(self, roots: list[int]) -> None:
        self.roots = roots
        self.before: dict[int, float] = {}
        self.used: dict[str, float] = {}

    def start(self) -> None:
        pids = [p for root in self.roots for p in _tree(root)] + [os.getpid()]
        self.before = {pid: _cpu_seconds(pid) for pid in pids}

    def stop(self) -> None:
        self.used = {"node": 0.0, "cometbft": 0.0, "client": 0.0}
        for pid, before in self.before.items():
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            kind = "client" if pid == os.getpid() else "cometbft" if b"cometbft\0start" in command else "node"
            self.used[kind] += max(0.0, _cpu_seconds(pid) - before)


def measured(urls: list[str], count: int, roots: list[int]) -> dict[str, float]:
    """Throughput of ``count`` transfers and the processor time each kind of process used."""
    signed = sign_all(urls[0], count, first_sender=0)
    meter = CpuMeter(roots)
    meter.start()
    tps = submit_all(urls, signed)
    meter.stop()
    return {"tps": tps, **{f"cpu_{kind}_ms": 1000 * s / count for kind, s in meter.used.items()}}


def run(args: argparse.Namespace) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-net-") as tmp:
        with NodeProcess(data_dir=Path(tmp) / "single") as single:
            assert single.pid is not None
            row = measured([single.url], args.transactions, [single.pid])
            p50, p99, interval = latency([single.url], args.latency_samples)
            rows["single sealer"] = {**row, "p50": p50, "p99": p99, "interval": interval}
        network = init_network(Path(tmp) / "net", validators=4, timeout_commit=args.timeout_commit)
        with network.running():
            urls = [n.rpc_url for n in network.nodes]
            time.sleep(2)
            pids = [pid for node in network.nodes if (pid := running_pid(node)) is not None]
            row = measured(urls, args.transactions, pids)
            p50, p99, interval = latency(urls, args.latency_samples)
            rows["4 validators"] = {**row, "p50": p50, "p99": p99, "interval": interval}
            network.kill(3)
            time.sleep(2)
            row = measured(urls[:3], args.transactions, pids[:3])
            p50, p99, interval = latency(urls[:3], args.latency_samples)
            rows["4 validators, 1 down"] = {**row, "p50": p50, "p99": p99, "interval": interval}
    reference = rows["single sealer"]["tps"]
    cores = os.cpu_count() or 1
    for row in rows.values():
        row["ratio"] = row["tps"] / reference
        cpu_ms = row["cpu_node_ms"] + row["cpu_cometbft_ms"] + row["cpu_client_ms"]
        row["cpu_ms"] = cpu_ms
        # every process shares this machine's cores: no schedule does better than this
        row["bound_tps"] = 1000 * cores / cpu_ms if cpu_ms else float("inf")
        row["bound_ratio"] = row["bound_tps"] / reference
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "cores": cores,
        "transactions": args.transactions,
        "timeoutCommit": args.timeout_commit,
        "rows": rows,
        "targets": {"ratio_4_validators": 0.5, "p50_seconds": 2.0},
    }


def _positive(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=_positive, default=2000)
    parser.add_argument("--latency-samples", type=_positive, default=40)
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
    print()
    print(f"CPU per transfer in the throughput phase ({result['cores']} cores):")
    print("| network | nodes | cometbft | client | all | cores / all | as a ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, row in result["rows"].items():
        print(
            f"| {name} | {row['cpu_node_ms']:.2f} ms | {row['cpu_cometbft_ms']:.2f} ms "
            f"| {row['cpu_client_ms']:.2f} ms | {row['cpu_ms']:.2f} ms | {row['bound_tps']:.0f} tx/s "
            f"| {row['bound_ratio']:.2f}x |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
