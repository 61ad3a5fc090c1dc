"""The store: restarts resume at the same head and state root; SIGKILL loses nothing acknowledged."""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from web3 import Web3
from web3.exceptions import TimeExhausted

from passport.exceptions import NodeError
from passport.node.process import NodeProcess
from passport.node.service import Node
from passport.node.store import StoreLocked
from passport.sdk.accounts import dev_account


def _transfer(w3: Web3, index: int, nonce: int) -> bytes:
    sender = dev_account(index)
    tx = {
        "chainId": 1337,
        "nonce": nonce,
        "to": dev_account(9).address,
        "value": 1,
        "gas": 21_000,
        "gasPrice": 5 * 10**9,
    }
    return bytes(w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction))


def test_restart_resumes_at_the_same_head_and_state(tmp_path: Path) -> None:
    with Node.dev(tmp_path) as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        for nonce in range(5):
            w3.eth.wait_for_transaction_receipt(_transfer(w3, 1, nonce))
        head = w3.eth.get_block("latest")
    with Node.dev(tmp_path) as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        again = w3.eth.get_block("latest")
        assert (again["number"], again["hash"], again["stateRoot"]) == (
            head["number"],
            head["hash"],
            head["stateRoot"],
        )
        assert w3.eth.get_transaction_count(dev_account(1).address) == 5
        w3.eth.wait_for_transaction_receipt(_transfer(w3, 1, 5))
        assert w3.eth.block_number == head["number"] + 1


def test_a_data_dir_is_used_by_one_node_at_a_time(tmp_path: Path) -> None:
    with Node.dev(tmp_path), pytest.raises(StoreLocked, match="in use by another node"):
        Node.dev(tmp_path)


def test_a_store_from_another_genesis_is_refused(tmp_path: Path) -> None:
    with Node.dev(tmp_path):
        pass
    genesis = tmp_path / "genesis.json"
    genesis.write_text(genesis.read_text().replace('"chainId": 1337', '"chainId": 1338'))
    with pytest.raises(NodeError, match="different genesis"):
        Node.dev(tmp_path)


@pytest.mark.slow
def test_sigkill_under_write_load_loses_no_acknowledged_transaction(tmp_path: Path) -> None:
    """Three rounds: senders submit and wait for receipts; the node is SIGKILLed mid-stream; every
    transaction whose receipt was served must still be there after the restart."""
    acknowledged: list[tuple[bytes, int]] = []
    submitted: list[bytes] = []  # acknowledged by eth_sendRawTransaction only, maybe never sealed
    nonces = {i: 0 for i in range(1, 5)}
    rng = random.Random(7)
    per_round = []
    for _round in range(3):
        before = len(acknowledged)
        node = NodeProcess(data_dir=tmp_path).start()
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 5}))
        for i in nonces:
            nonces[i] = w3.eth.get_transaction_count(dev_account(i).address)
        stop = threading.Event()

        def load(index: int, w3: Web3 = w3, stop: threading.Event = stop) -> None:
            while not stop.is_set():
                try:
                    tx_hash = _transfer(w3, index, nonces[index])
                    receipt = None
                    while receipt is None:  # a slow first block after a restart is waited out
                        try:
                            receipt = w3.eth.wait_for_transaction_receipt(
                                tx_hash, timeout=5, poll_latency=0.01
                            )
                        except TimeExhausted:
                            if stop.is_set():
                                return
                except Exception:
                    return
                acknowledged.append((tx_hash, int(receipt["blockNumber"])))
                nonces[index] += 1

        def submit(w3: Web3 = w3, stop: threading.Event = stop) -> None:
            nonce = w3.eth.get_transaction_count(dev_account(5).address, "pending")
            while not stop.is_set():
                try:
                    submitted.append(_transfer(w3, 5, nonce))
                except Exception:
                    return
                nonce += 1
                time.sleep(0.002)

        threads = [threading.Thread(target=load, args=(i,)) for i in nonces]
        threads.append(threading.Thread(target=submit))
        for thread in threads:
            thread.start()
        # killed under load: after the round's first receipt (a restart may first seal the backlog
        # of the round before), then at a random moment
        deadline = time.monotonic() + 60
        while (
            len(acknowledged) == before and time.monotonic() < deadline and any(t.is_alive() for t in threads)
        ):
            time.sleep(0.05)
        time.sleep(rng.uniform(1.0, 2.0))
        node.kill()
        stop.set()
        for thread in threads:
            thread.join()
        per_round.append(len(acknowledged) - before)
    assert all(n > 0 for n in per_round), per_round  # every round was killed under load
    with NodeProcess(data_dir=tmp_path) as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        for tx_hash, number in acknowledged:
            receipt = w3.eth.get_transaction_receipt(tx_hash)
            assert receipt["blockNumber"] == number and receipt["status"] == 1
        for i in nonces:
            assert w3.eth.get_transaction_count(dev_account(i).address) >= sum(
                1 for h, _ in acknowledged if w3.eth.get_transaction(h)["from"] == dev_account(i).address
            )
        # every submission whose hash was returned is sealed: before the kill, or from the
        # persisted pool after the restart
        assert submitted
        for tx_hash in submitted:
            assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)["status"] == 1


def test_acknowledged_submissions_survive_sigkill_and_are_sealed_after_restart(tmp_path: Path) -> None:
    """With sealing held back, transactions are acknowledged (single sends and a JSON-RPC batch)
    but not sealed; kill -9; after the restart they are in the pool and get sealed."""
    with Node.dev(tmp_path):
        pass  # writes the dev genesis and node.toml
    config_path = tmp_path / "node.toml"
    config_text = config_path.read_text()
    config_path.write_text(
        config_text.replace("seal_on_transaction = true", "seal_on_transaction = false").replace(
            "block_interval = 1.0", "block_interval = 3600.0"
        )
    )
    node = NodeProcess(data_dir=tmp_path).start()
    w3 = Web3(Web3.HTTPProvider(node.url))
    hashes = [_transfer(w3, 1, nonce) for nonce in range(3)]
    sender = dev_account(2)
    raws = [
        sender.sign_transaction({"chainId": 1337, "nonce": n, "to": dev_account(9).address, "value": 2,
                                 "gas": 21_000, "gasPrice": 5 * 10**9}).raw_transaction
        for n in range(3)
    ]  # fmt: skip
    body = json.dumps([
        {"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": ["0x" + bytes(r).hex()]}
        for i, r in enumerate(raws)
    ]).encode()  # fmt: skip
    with urllib.request.urlopen(
        urllib.request.Request(node.url, body, {"Content-Type": "application/json"})
    ) as r:
        hashes += [bytes.fromhex(a["result"][2:]) for a in json.loads(r.read())]
    for tx_hash in hashes:
        assert w3.eth.get_transaction(tx_hash)["blockNumber"] is None  # pending, not sealed
    node.kill()
    config_path.write_text(config_text)
    with NodeProcess(data_dir=tmp_path) as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        for tx_hash in hashes:
            assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)["status"] == 1
