"""Replicas follow a sealer, re-execute every block, and stop at the first tampered one."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_account import Account
from eth_keys import keys
from web3 import Web3

from passport._utils.seals import seal_digest
from passport.exceptions import ReplicaDiverged
from passport.node.chain import PassportVM
from passport.node.config import GENESIS_FILE, Genesis, NodeConfig
from passport.node.devchain import dev_validator
from passport.node.service import Node
from passport.sdk.accounts import dev_account

BlockList = list[tuple[bytes, bytes]]


def transfer(w3: Web3, index: int, to: str | None = None, value: int = 1) -> Any:
    sender = dev_account(index)
    tx = {
        "chainId": 1337,
        "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
        "to": to or dev_account(9).address,
        "value": value,
        "gas": 21_000,
        "gasPrice": 5 * 10**9,
    }
    return w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
    )


def replica_of(sealer: Node, data_dir: Path, permissioning: bool = True) -> Node:
    (data_dir / GENESIS_FILE).parent.mkdir(parents=True, exist_ok=True)
    sealer.chain.genesis.write(data_dir / GENESIS_FILE)
    config = NodeConfig()
    config.rpc.port = 0
    config.permissioning.enabled = permissioning
    return Node(data_dir, Genesis.read(data_dir / GENESIS_FILE), config, upstream=sealer.url)


def fetch_from(
    sealer: Node, tamper: Callable[[int, Any, bytes], tuple[Any, bytes]]
) -> Callable[[int, int], BlockList]:
    """A block source that hands the replica ``tamper(number, block, seal)`` instead of the sealer's blocks."""

    def fetch(start: int, count: int) -> BlockList:
        out = []
        for item in sealer.methods.dispatch("passport_getBlocksRlp", [hex(start), hex(count)]):
            block = rlp.decode(bytes.fromhex(item["block"][2:]), sedes=PassportVM.get_block_class())
            block, seal = tamper(block.number, block, bytes.fromhex(item["seal"][2:]))
            out.append((rlp.encode(block), seal))
        return out

    return fetch


def resign(block: Any, key: keys.PrivateKey | None = None) -> bytes:
    key = key or dev_validator()
    return bytes(key.sign_msg_hash(seal_digest(1337, block.hash)).to_bytes())


@pytest.fixture
def sealer() -> Iterator[Node]:
    with Node.dev() as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        transfer(w3, 1)
        transfer(w3, 2)
        yield node


def test_replica_follows_verifies_and_forwards(sealer: Node, tmp_path: Path) -> None:
    with replica_of(sealer, tmp_path / "replica") as replica:
        r3 = Web3(Web3.HTTPProvider(replica.url))
        receipt = transfer(r3, 3)  # sent to the replica, forwarded to the sealer
        deadline = time.monotonic() + 20
        while r3.eth.block_number < receipt["blockNumber"] and time.monotonic() < deadline:
            time.sleep(0.05)
        s3 = Web3(Web3.HTTPProvider(sealer.url))
        ours, theirs = r3.eth.get_block("latest"), s3.eth.get_block(receipt["blockNumber"])
        assert (ours["hash"], ours["stateRoot"]) == (theirs["hash"], theirs["stateRoot"])
        assert r3.eth.get_transaction_receipt(receipt["transactionHash"])["status"] == 1
        assert replica.info()["diverged"] is None
        deadline = time.monotonic() + 5
        while not sealer.info()["replicas"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sealer.info()["replicas"][0]["lag"] == 0


def _tampered(
    sealer: Node, tmp_path: Path, tamper: Callable[[int, Any, bytes], tuple[Any, bytes]]
) -> ReplicaDiverged:
    replica = replica_of(sealer, tmp_path / "replica")
    try:
        with pytest.raises(ReplicaDiverged) as caught:
            replica.follow_once(fetch_from(sealer, tamper))
        assert replica.chain.head.block_number == caught.value.number - 1  # last good head kept
        return caught.value
    finally:
        replica.close_store()


def test_changed_state_root_is_caught(sealer: Node, tmp_path: Path) -> None:
    def tamper(number: int, block: Any, seal: bytes) -> tuple[Any, bytes]:
        if number != 2:
            return block, seal
        forged = block.copy(header=block.header.copy(state_root=b"\x11" * 32))
        return forged, resign(forged)  # even the validator's own signature does not save it

    caught = _tampered(sealer, tmp_path, tamper)
    assert (caught.number, caught.field) == (2, "state_root")


def test_forged_seal_is_caught(sealer: Node, tmp_path: Path) -> None:
    impostor = keys.PrivateKey(bytes(Account.create().key))

    def tamper(number: int, block: Any, seal: bytes) -> tuple[Any, bytes]:
        return (block, resign(block, impostor)) if number == 1 else (block, seal)

    caught = _tampered(sealer, tmp_path, tamper)
    assert (caught.number, caught.field) == (1, "seal")
    assert "not a validator" in caught.detail


def test_reordered_transactions_are_caught(tmp_path: Path) -> None:
    with Node.dev(seal_on_transaction=False, block_interval=3600) as sealer:
        s3 = Web3(Web3.HTTPProvider(sealer.url))
        _send(s3, 4)
        _send(s3, 4, nonce_offset=1)
        block = sealer.seal_once()
        assert block is not None and len(block.transactions) == 2
        _check_reordering(sealer, block, tmp_path)


def _check_reordering(sealer: Node, block: Any, tmp_path: Path) -> None:
    def swap(number: int, b: Any, seal: bytes) -> tuple[Any, bytes]:
        return (
            (b.copy(transactions=tuple(reversed(b.transactions))), seal)
            if number == block.number
            else (b, seal)
        )

    caught = _tampered(sealer, tmp_path, swap)
    assert (caught.number, caught.field) == (block.number, "transactions_root")

    def swap_and_reseal(number: int, b: Any, seal: bytes) -> tuple[Any, bytes]:
        if number != block.number:
            return b, seal
        from eth.db.trie import make_trie_root_and_nodes

        txs = tuple(reversed(b.transactions))
        forged = b.copy(
            transactions=txs, header=b.header.copy(transaction_root=make_trie_root_and_nodes(txs)[0])
        )
        return forged, resign(forged)

    # Re-sealed by the validator's own key, the reordered block still fails re-execution (the
    # sender's second transaction now comes first: its nonce is wrong).
    caught = _tampered(sealer, tmp_path / "again", swap_and_reseal)
    assert (caught.number, caught.field) == (block.number, "transactions"), caught.detail
    assert "nonce" in caught.detail.lower()


def test_block_with_a_non_members_transaction_is_refused(tmp_path: Path) -> None:
    """A sealer that skips permission checks seals an outsider's transfer; the replica refuses it."""
    outsider = Account.create()
    with Node.dev(tmp_path / "rogue") as rogue:
        rogue.config.permissioning.enabled = False
        rogue.mempool.check_permission = False
        w3 = Web3(Web3.HTTPProvider(rogue.url))
        transfer(w3, 1, outsider.address, 10**18)
        tx = {
            "chainId": 1337,
            "nonce": 0,
            "to": dev_account(9).address,
            "value": 1,
            "gas": 21_000,
            "gasPrice": 5 * 10**9,
        }
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(outsider.sign_transaction(tx).raw_transaction)
        )
        replica = replica_of(rogue, tmp_path / "replica")
        try:
            with pytest.raises(ReplicaDiverged) as caught:
                replica.follow_once()
            assert caught.value.field == "transactions"
            assert f"account {outsider.address} is not permitted" in caught.value.detail
            assert replica.chain.head.block_number == caught.value.number - 1
        finally:
            replica.close_store()


def _send(w3: Web3, index: int, nonce_offset: int = 0) -> bytes:
    sender = dev_account(index)
    tx = {"chainId": 1337, "nonce": w3.eth.get_transaction_count(sender.address) + nonce_offset, "to": dev_account(9).address,
          "value": 1, "gas": 21_000, "gasPrice": 5 * 10**9}  # fmt: skip
    return bytes(w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction))
