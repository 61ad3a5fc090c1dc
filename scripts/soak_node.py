#!/usr/bin/env python3
"""Soak a node under mixed load and watch its resources.

    scripts/soak_node.py --minutes 15          table, one row per minute
    scripts/soak_node.py --minutes 2 --json    one JSON object

A ``passport node start --dev`` child process. Client threads (bounded in number, each request
bounded in time) run until the end: senders that submit transfers and log-emitting calls and poll
for their receipts, ``eth_call``s, ``eth_getLogs`` over recent blocks, block and log filters that
are installed, polled and uninstalled, and short-lived connections. Each minute it prints the
node's resident memory (its call workers' beside it), open file descriptors, threads, requests
served, errors and latency p50/p99.

It fails (exit 1) when resources grow without bound: from the end of the warm-up (minute 2) to
the last minute, the node's heap (RssAnon: resident memory less the mapped database pages,
which grow with the chain) grows by more than 50 MB and 25 %, or its call workers' heaps by
more than 100 MB, or its file descriptors by more than 64, or its threads by more than 64; or
when any request fails, or the node logs an error.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import passport  # noqa: F401  (the C Keccak backend for signing)
from passport.node.process import NodeProcess
from passport.sdk.accounts import dev_account

TOPIC = "aa" * 32
LOGGER_RUNTIME = bytes.fromhex("7f" + TOPIC + "60006000a1")  # LOG1(topic) with no data
SENDERS = (1, 2, 3, 4)
WARM_UP_MINUTES = 2


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def take(self) -> tuple[list[float], list[str]]:
        with self.lock:
            out = self.latencies, self.errors
            self.latencies, self.errors = [], []
            return out


class Client:
    """One keep-alive HTTP connection; every request is timed and checked."""

    def __init__(self, url: str, stats: Stats) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.stats = stats

    def call(self, method: str, params: list[Any]) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        started = time.perf_counter()
        try:
            self.conn.request("POST", "/", body, {"Content-Type": "application/json"})
            answer = json.loads(self.conn.getresponse().read())
        except (OSError, http.client.HTTPException, ValueError) as exc:
            self.conn.close()
            with self.stats.lock:
                self.stats.errors.append(f"{method}: {exc!r}")
            return None
        elapsed = (time.perf_counter() - started) * 1000
        with self.stats.lock:
            self.stats.latencies.append(elapsed)
            if "error" in answer:
                self.stats.errors.append(f"{method}: {answer['error']['message']}")
        return answer.get("result")

    def close(self) -> None:
        self.conn.close()


def raw_tx(index: int, nonce: int, **fields: Any) -> str:
    tx = {"chainId": 1337, "nonce": nonce, "gas": 100_000, "gasPrice": 5 * 10**9, "value": 0, **fields}
    return "0x" + bytes(dev_account(index).sign_transaction(tx).raw_transaction).hex()


def deploy_logger(client: Client) -> str:
    size = len(LOGGER_RUNTIME)
    init = bytes([0x60, size, 0x60, 0x0C, 0x60, 0x00, 0x39, 0x60, size, 0x60, 0x00, 0xF3]) + LOGGER_RUNTIME
    nonce = int(client.call("eth_getTransactionCount", [dev_account(5).address, "pending"]), 16)
    tx_hash = client.call("eth_sendRawTransaction", [raw_tx(5, nonce, data="0x" + init.hex(), gas=200_000)])
    while (receipt := client.call("eth_getTransactionReceipt", [tx_hash])) is None:
        time.sleep(0.05)
    return str(receipt["contractAddress"])


def sender(url: str, stats: Stats, stop: threading.Event, index: int, logger: str) -> None:
    client = Client(url, stats)
    nonce = int(client.call("eth_getTransactionCount", [dev_account(index).address, "pending"]), 16)
    rng = random.Random(index)
    while not stop.is_set():
        fields = {"to": logger} if rng.random() < 0.5 else {"to": dev_account(9).address, "value": 1}
        tx_hash = client.call("eth_sendRawTransaction", [raw_tx(index, nonce, **fields)])
        if tx_hash is None:
            stop.wait(0.5)
            nonce = int(
                client.call("eth_getTransactionCount", [dev_account(index).address, "pending"]) or "0x0", 16
            )
            continue
        nonce += 1
        while not stop.is_set() and client.call("eth_getTransactionReceipt", [tx_hash]) is None:
            stop.wait(0.02)
    client.close()


def reader(url: str, stats: Stats, stop: threading.Event, logger: str, seed: int) -> None:
    client = Client(url, stats)
    rng = random.Random(seed)
    while not stop.is_set():
        roll = rng.random()
        if roll < 0.3:
            client.call("eth_call", [{"to": logger, "data": "0x"}, "latest"])
        elif roll < 0.5:
            head = int(client.call("eth_blockNumber", []) or "0x0", 16)
            client.call("eth_getLogs", [{"fromBlock": hex(max(0, head - 50)), "toBlock": "latest",
                                         "address": logger, "topics": ["0x" + TOPIC]}])  # fmt: skip
        elif roll < 0.65:
            kind = rng.choice(["block", "logs"])
            filter_id = (
                client.call("eth_newBlockFilter", [])
                if kind == "block"
                else client.call("eth_newFilter", [{"address": logger}])
            )
            for _ in range(3):
                stop.wait(0.1)
                client.call("eth_getFilterChanges", [filter_id])
            client.call("eth_uninstallFilter", [filter_id])
        elif roll < 0.8:
            client.call("eth_getBlockByNumber", ["latest", rng.random() < 0.5])
        elif roll < 0.9:
            short = Client(url, stats)  # a connection for one request, then closed
            short.call("eth_chainId", [])
            short.close()
        else:
            client.call("eth_getBalance", [dev_account(9).address, "latest"])
        stop.wait(0.005)
    client.close()


def proc_status(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "Threads"):
            fields[key] = int(value.split()[0])
    return {
        "rss_mb": fields["VmRSS"] // 1024,
        "anon_mb": fields["RssAnon"] // 1024,
        "file_mb": fields["RssFile"] // 1024,
        "threads": fields["Threads"],
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
    }


def children_rss_mb(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for child in children:
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # it just exited
                total += proc_status(int(child))["anon_mb"]
    return total


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=15)
    parser.add_argument("--readers", type=int, default=6)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    stats = Stats()
    rows: list[dict[str, Any]] = []
    with NodeProcess() as node:
        assert node.pid is not None
        setup = Client(node.url, stats)
        logger = deploy_logger(setup)
        setup.close()
        stats.take()
        stop = threading.Event()
        threads = [threading.Thread(target=sender, args=(node.url, stats, stop, i, logger)) for i in SENDERS]
        threads += [
            threading.Thread(target=reader, args=(node.url, stats, stop, logger, seed))
            for seed in range(args.readers)
        ]
        for thread in threads:
            thread.start()
        if not args.json:
            python = f"{platform.python_implementation()} {platform.python_version()}"
            print(f"machine: {platform.machine()}, {python}")
            print(
                "| minute | node RSS MB (heap + mapped) | call workers heap MB | FDs | threads | requests "
                "| errors |",
                end="",
            )
            print(" p50 ms | p99 ms |")
            print("|---|---|---|---|---|---|---|---|---|")
        try:
            for minute in range(1, int(args.minutes * 60) // 60 + 1):
                stop.wait(60)
                latencies, errors = stats.take()
                ordered = sorted(latencies) or [0.0]
                row = {
                    "minute": minute,
                    **proc_status(node.pid),
                    "workers_rss_mb": children_rss_mb(node.pid),
                    "requests": len(latencies),
                    "errors": len(errors),
                    "first_errors": errors[:3],
                    "p50_ms": round(statistics.median(ordered), 2),
                    "p99_ms": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))], 2),
                }
                rows.append(row)
                if not args.json:
                    print(
                        f"| {minute} | {row['rss_mb']} ({row['anon_mb']} + {row['file_mb']}) "
                        f"| {row['workers_rss_mb']} | {row['fds']} "
                        f"| {row['threads']} | {row['requests']} | {row['errors']} | {row['p50_ms']} "
                        f"| {row['p99_ms']} |",
                        flush=True,
                    )
                    for error in errors[:3]:
                        print(f"  error: {error[:200]}", file=sys.stderr, flush=True)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            node_errors = [
                line for line in node.log_text().splitlines() if " ERROR " in line or "Error" in line
            ]
    problems = []
    if not rows:
        problems.append("ran less than a minute")
    else:
        base = rows[min(WARM_UP_MINUTES, len(rows)) - 1]
        last = rows[-1]
        if last["anon_mb"] - base["anon_mb"] > 50 and last["anon_mb"] > base["anon_mb"] * 1.25:
            problems.append(f"node heap (RssAnon) grew from {base['anon_mb']} to {last['anon_mb']} MB")
        if last["workers_rss_mb"] - base["workers_rss_mb"] > 100:
            problems.append(
                f"call workers' heap grew from {base['workers_rss_mb']} to {last['workers_rss_mb']} MB"
            )
        if last["fds"] - base["fds"] > 64:
            problems.append(f"file descriptors grew from {base['fds']} to {last['fds']}")
        if last["threads"] - base["threads"] > 64:
            problems.append(f"threads grew from {base['threads']} to {last['threads']}")
        if any(r["errors"] for r in rows):
            problems.append(
                f"{sum(r['errors'] for r in rows)} requests failed, e.g. {rows[0]['first_errors']}"
            )
    if node_errors:
        problems.append(f"the node logged {len(node_errors)} errors, the last: {node_errors[-1][:300]}")
    if args.json:
        print(json.dumps({"minutes": rows, "problems": problems}))
    else:
        print("verdict: " + ("; ".join(problems) if problems else "no unbounded growth, no failed request"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
