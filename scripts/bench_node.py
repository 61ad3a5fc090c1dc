#!/usr/bin/env python3
"""Node throughput, memory and restart time, against references run in the same session.

    scripts/bench_node.py            table
    scripts/bench_node.py --json     one JSON object
    scripts/bench_node.py --mints 1000 --restart-blocks 2000   a quicker, smaller run

The workload is the same everywhere: MineralPassport mints by one miner, signed up front and
submitted as raw transactions (over JSON-RPC in batches of 100 for the node and anvil). It runs on

- the passport node (``passport node start --dev``, a child process, sealing as transactions wait);
- raw py-evm: the node's blocks imported into stock py-evm (``CancunVM``, py-evm's own opcode
  loop), in-process, memory database, no RPC, no permission checks, no disk. The import checks
  every header against the node's, so it also shows the node's interpreter gave the same results;
- eth-tester (py-evm behind web3's in-process provider), auto-mining one block per transaction;
- anvil (from node_modules) in its fastest comparable mode: automining off and ``evm_mine``
  after each window's sends, so it mines the same blocks of 100 the node seals; and, as a
  second row, anvil automining one block per transaction.

Throughput is transactions per second from the first submission to the last receipt. RSS is the
node process's resident set (VmRSS) before and after the workload. The restart figure is the
wall time from spawning ``passport node start`` on a data dir of ``--restart-blocks`` blocks to
its first JSON-RPC answer (Python start-up included). Targets: ratio_node_raw >= 0.6,
ratio_node_eth_tester >= 5, RSS growth < 100 MB, restart <= 3 s.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import rlp
from eth.vm.forks.cancun import CancunVM
from eth_account.signers.local import LocalAccount

from passport.core.types import FacilityKind, Role, Stage
from passport.node.chain import reference_chain
from passport.node.config import Genesis
from passport.node.process import NodeProcess
from passport.node.service import Node
from passport.sdk import Client, Founder, Sdk
from passport.sdk.accounts import dev_accounts
from passport.toolchain.anvil import Anvil, RpcProcess

BATCH = 100
TARGETS = {
    "ratio_node_raw": 0.6,
    "ratio_node_eth_tester": 5.0,
    "rss_growth_mb": 100.0,
    "restart_seconds_10k_blocks": 3.0,
}


def setup(client: Client) -> tuple[Sdk, LocalAccount]:
    """Deploy the contracts and give the miner a facility (the same steps on every chain)."""
    admin, miner = dev_accounts(2)
    sdk = Sdk.deploy(
        client, admin, [Founder(admin.address, Role.ADMIN, "VN"), Founder(miner.address, Role.MINER, "VN")]
    )
    sdk.consortium.propose_facility(admin, miner.address, "VN", FacilityKind.MINE, b"\x01" * 32)
    return sdk, miner


def signed_mints(client: Client, sdk: Sdk, miner: LocalAccount, count: int) -> list[bytes]:
    nonce = client.w3.eth.get_transaction_count(miner.address)
    data = sdk.contracts.passport.functions.mint(1, int(Stage.CONCENTRATE), 2_000_000, 650_000, b"\x11" * 32)
    calldata = data._encode_transaction_data()
    out = []
    for i in range(count):
        tx = {
            "chainId": client.chain_id,
            "nonce": nonce + i,
            "to": sdk.contracts.passport.address,
            "data": calldata,
            "gas": 250_000,
            "maxFeePerGas": 50 * 10**9,
            "maxPriorityFeePerGas": 10**9,
        }
        out.append(bytes(miner.sign_transaction(tx).raw_transaction))
    return out


def rpc(url: str, payload: Any) -> Any:
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def submit_over_rpc(url: str, raws: list[bytes], mine: bool = False) -> float:
    """Windows of BATCH: send them in one JSON-RPC batch, then confirm every receipt (one batch
    per poll), as an integrator submitting in bulk does. With ``mine``, ``evm_mine`` after each
    window's sends (anvil without automining: one block per window, as the node seals).
    Returns transactions per second."""
    started = time.perf_counter()
    for i in range(0, len(raws), BATCH):
        chunk = raws[i : i + BATCH]
        answers = rpc(url, [
            {"jsonrpc": "2.0", "id": j, "method": "eth_sendRawTransaction", "params": ["0x" + r.hex()]}
            for j, r in enumerate(chunk)
        ])  # fmt: skip
        hashes = []
        for answer in sorted(answers, key=lambda a: a["id"]):
            if "error" in answer:
                raise SystemExit(f"{url} refused a transaction: {answer['error']['message']}")
            hashes.append(answer["result"])
        if mine:
            rpc(url, {"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": []})
        while hashes:
            receipts = rpc(url, [
                {"jsonrpc": "2.0", "id": j, "method": "eth_getTransactionReceipt", "params": [h]}
                for j, h in enumerate(hashes)
            ])  # fmt: skip
            found = {r["id"]: r["result"] for r in receipts if r.get("result")}
            if any(r["status"] != "0x1" for r in found.values()):
                raise SystemExit(f"{url}: a mint failed")
            hashes = [h for j, h in enumerate(hashes) if j not in found]
            if hashes:
                time.sleep(0.005)
    return len(raws) / (time.perf_counter() - started)


def rss_mb(pid: int | None) -> float:
    assert pid is not None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmRSS")


def fetch_blocks(url: str, first: int, last: int) -> list[bytes]:
    out: list[bytes] = []
    while first <= last:
        items = rpc(url, {"jsonrpc": "2.0", "id": 1, "method": "passport_getBlocksRlp",
                          "params": [hex(first), hex(min(256, last - first + 1))]})["result"]  # fmt: skip
        out.extend(bytes.fromhex(item["block"][2:]) for item in items)
        first += len(items)
    return out


def bench_node(count: int, data_dir: Path) -> tuple[float, float, float, list[bytes], list[bytes]]:
    """Returns tps, RSS before, RSS after, and the set-up and workload blocks as sealed."""
    with NodeProcess(data_dir=data_dir) as node:
        client = Client.connect(node.url)
        sdk, miner = setup(client)
        head = client.w3.eth.block_number
        raws = signed_mints(client, sdk, miner, count)
        before = rss_mb(node.pid)
        tps = submit_over_rpc(node.url, raws)
        after = rss_mb(node.pid)
        setup_blocks = fetch_blocks(node.url, 1, head)
        workload_blocks = fetch_blocks(node.url, head + 1, client.w3.eth.block_number)
    return tps, before, after, setup_blocks, workload_blocks


def bench_raw_pyevm(
    genesis: Genesis, setup_blocks: list[bytes], workload_blocks: list[bytes]
) -> tuple[float, int]:
    """Import the node's blocks (same transactions, same grouping) into stock py-evm.

    Import re-executes every transaction with py-evm's own opcode loop and checks each header
    (state root, receipts root, gas, bloom) against the node's, so this also shows that the
    node's interpreter gave py-evm's results."""
    chain = reference_chain(genesis)
    block_class = CancunVM.get_block_class()
    for raw in setup_blocks:
        chain.import_block(rlp.decode(raw, sedes=block_class))
    decoded = [rlp.decode(raw, sedes=block_class) for raw in workload_blocks]
    count = 0
    started = time.perf_counter()
    for block in decoded:
        chain.import_block(block)
        count += len(block.transactions)
    elapsed = time.perf_counter() - started
    if chain.get_canonical_head().hash != decoded[-1].hash:
        raise SystemExit("raw py-evm: the head differs from the node's")
    return count / elapsed, len(workload_blocks)


def bench_eth_tester(count: int) -> tuple[float, float]:
    """The same windows through web3's in-process provider (no HTTP). Also returns the time to
    look up the receipt of the first transaction once all are mined (eth-tester walks back
    through every block)."""
    client = Client.embedded(fund=[a.address for a in dev_accounts(2)])
    sdk, miner = setup(client)
    raws = signed_mints(client, sdk, miner, count)
    started = time.perf_counter()
    hashes = []
    for i in range(0, len(raws), BATCH):
        window = [client.w3.eth.send_raw_transaction(raw) for raw in raws[i : i + BATCH]]
        for tx_hash in window:
            if client.w3.eth.get_transaction_receipt(tx_hash)["status"] != 1:
                raise SystemExit("eth-tester: a mint failed")
        hashes.extend(window)
    elapsed = time.perf_counter() - started
    lookup = time.perf_counter()
    client.w3.eth.get_transaction_receipt(hashes[0])
    return count / elapsed, time.perf_counter() - lookup


def bench_anvil(count: int, automine: bool) -> float:
    """anvil in its fastest comparable mode (``automine=False``): automining off once the
    contracts are set up, and ``evm_mine`` after each window's sends, the grouping the node
    seals (one block per window). ``automine=True`` mines a block per transaction."""
    process: RpcProcess
    with Anvil() as process:
        client = Client.connect(process.url)
        sdk, miner = setup(client)
        raws = signed_mints(client, sdk, miner, count)
        if not automine:
            rpc(process.url, {"jsonrpc": "2.0", "id": 1, "method": "evm_setAutomine", "params": [False]})
        return submit_over_rpc(process.url, raws, mine=not automine)


def bench_restart(blocks: int) -> float:
    """Seal ``blocks`` empty blocks into a dev data dir, then time a cold start to first answer."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-restart-"))
    try:
        node = Node.dev(data_dir)
        for _ in range(blocks):
            node.seal_once(allow_empty=True)
        node.close_store()
        started = time.perf_counter()
        with NodeProcess(data_dir=data_dir) as process:
            elapsed = time.perf_counter() - started
            answer = rpc(process.url, {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []})
            if int(answer["result"], 16) != blocks:
                raise SystemExit("restart: the head moved")
        return elapsed
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--mints", type=int, default=3000, help="transactions per run (node, raw py-evm, anvil)"
    )
    parser.add_argument(
        "--eth-tester-mints", type=int, default=None, help="transactions for eth-tester (default: --mints)"
    )
    parser.add_argument("--restart-blocks", type=int, default=10_000)
    args = parser.parse_args()
    if args.eth_tester_mints is None:
        args.eth_tester_mints = args.mints

    data_dir = Path(tempfile.mkdtemp(prefix="bench-node-"))
    try:
        node_tps, rss_start, rss_end, setup_blocks, workload_blocks = bench_node(args.mints, data_dir)
        genesis = Genesis.read(data_dir / "genesis.json")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    raw_tps, blocks = bench_raw_pyevm(genesis, setup_blocks, workload_blocks)
    tester_tps, tester_first_receipt = bench_eth_tester(args.eth_tester_mints)
    anvil_tps = bench_anvil(args.mints, automine=False)
    anvil_automine_tps = bench_anvil(args.mints, automine=True)
    restart = bench_restart(args.restart_blocks)
    result = {
        "node_tps": round(node_tps, 1),
        "raw_pyevm_tps": round(raw_tps, 1),
        "eth_tester_tps": round(tester_tps, 1),
        "anvil_tps": round(anvil_tps, 1),
        "anvil_automine_tps": round(anvil_automine_tps, 1),
        "ratio_node_raw": round(node_tps / raw_tps, 3),
        "ratio_node_eth_tester": round(node_tps / tester_tps, 2),
        "node_rss_mb_start": round(rss_start, 1),
        "node_rss_mb_end": round(rss_end, 1),
        "restart_seconds_10k_blocks": round(restart, 2),
        "eth_tester_first_receipt_ms": round(tester_first_receipt * 1000, 1),
        "mints": args.mints,
        "eth_tester_mints": args.eth_tester_mints,
        "node_blocks": blocks,
        "restart_blocks": args.restart_blocks,
    }
    within = (
        result["ratio_node_raw"] >= TARGETS["ratio_node_raw"]
        and result["ratio_node_eth_tester"] >= TARGETS["ratio_node_eth_tester"]
        and rss_end - rss_start < TARGETS["rss_growth_mb"]
        and restart <= TARGETS["restart_seconds_10k_blocks"]
    )
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}"
        )
        rows = [
            ("passport node (JSON-RPC, LMDB, permissioned)", f"{node_tps:.0f} tx/s", ""),
            (
                "raw py-evm (in-process, one-pass blocks)",
                f"{raw_tps:.0f} tx/s",
                f"node/raw {node_tps / raw_tps:.2f} (>= 0.6)",
            ),
            (
                "eth-tester (auto-mining)",
                f"{tester_tps:.0f} tx/s",
                f"node/eth-tester {node_tps / tester_tps:.1f} (>= 5)",
            ),
            (
                "anvil, no automining, evm_mine per window of 100",
                f"{anvil_tps:.0f} tx/s",
                f"node/anvil {node_tps / anvil_tps:.2f}",
            ),
            (
                "anvil, automining (a block per transaction)",
                f"{anvil_automine_tps:.0f} tx/s",
                f"node/anvil {node_tps / anvil_automine_tps:.2f}",
            ),
            (
                f"eth-tester: first receipt after {args.eth_tester_mints} blocks",
                f"{tester_first_receipt * 1000:.0f} ms",
                "node: one index read",
            ),
            ("node RSS start -> end", f"{rss_start:.0f} -> {rss_end:.0f} MB", "growth < 100 MB"),
            (f"restart, {args.restart_blocks} blocks", f"{restart:.2f} s", "<= 3 s"),
        ]
        width = max(len(r[0]) for r in rows)
        for name, value, note in rows:
            print(f"{name:<{width}}  {value:>16}  {note}")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
