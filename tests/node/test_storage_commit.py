"""A block's storage writes reach the database: after every block, the whole state (every
account-trie and storage-trie node, every slot) reads back from the node's store, and the chain
goes on sealing.

The regression: a slot set then cleared within one block (0 -> X -> 0) next to another write
left the storage root right but one of its trie nodes unwritten, so the next block that touched
the contract could not be built and the chain halted.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from passport import demo
from passport.node.service import Node
from passport.node.statetests import dump_state
from passport.sdk import Client, Sdk
from passport.sdk.accounts import dev_account, dev_accounts

pytestmark = pytest.mark.slow

# slot 1 = 1; slot 2 = 1; slot 2 = 0 (slot 2 was zero when the block started)
SET_AND_CLEAR = bytes.fromhex("600160015560016002556000600255")
GAS_PRICE = 5 * 10**9


def rpc(url: str, payload: Any) -> Any:
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def deploy_code(runtime: bytes) -> bytes:
    """Init code that returns ``runtime``."""
    size = len(runtime)
    return bytes([0x60, size, 0x60, 0x0C, 0x60, 0x00, 0x39, 0x60, size, 0x60, 0x00, 0xF3]) + runtime


def raw(account: LocalAccount, nonce: int, **fields: Any) -> str:
    tx = {"chainId": 1337, "nonce": nonce, "gas": 200_000, "gasPrice": GAS_PRICE, "value": 0, **fields}
    return "0x" + bytes(account.sign_transaction(tx).raw_transaction).hex()


def assert_state_reads_back(node: Node) -> None:
    """Every node of the head's state is in the store (dump_state walks them all)."""
    with node.chain.lock:
        dump_state(node.chain.store, node.chain.head.state_root)  # type: ignore[arg-type]


def test_a_slot_set_and_cleared_in_one_block_keeps_the_chain_going(tmp_path: Path) -> None:
    sender = dev_account(7)
    with Node.dev(data_dir=tmp_path / "node").start() as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        nonce = w3.eth.get_transaction_count(sender.address)
        created = w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(raw(sender, nonce, data=deploy_code(SET_AND_CLEAR)))
        )
        target = created["contractAddress"]
        assert w3.eth.get_code(target) == SET_AND_CLEAR
        for round_ in range(1, 4):
            receipt = w3.eth.wait_for_transaction_receipt(
                w3.eth.send_raw_transaction(raw(sender, nonce + round_, to=target)), timeout=30
            )
            assert receipt["status"] == 1
            assert w3.eth.get_storage_at(target, 1) == (1).to_bytes(32, "big")
            assert w3.eth.get_storage_at(target, 2) == b"\0" * 32
            assert_state_reads_back(node)
    # and after a restart, from disk alone
    with Node.dev(data_dir=tmp_path / "node").start() as node:
        assert_state_reads_back(node)
        w3 = Web3(Web3.HTTPProvider(node.url))
        receipt = w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(raw(sender, nonce + 4, to=target)), timeout=30
        )
        assert receipt["status"] == 1


def test_offer_and_accept_in_one_batch_after_the_demo(tmp_path: Path) -> None:
    """The demo's contracts, then a hand-over whose offer and accept land in one block; the chain
    must read its state back and keep sealing (it used to halt here)."""
    with Node.dev(data_dir=tmp_path / "node").start() as node:
        client = Client.connect(node.url)
        result = demo.run(client, tmp_path / "out")
        sdk = Sdk.attach(client, tmp_path / "out" / "deployments", "demo")
        batch_id = result.batches["apt-mine-a"]
        batch = sdk.batches.get(batch_id)
        holder_address = batch.owner
        accounts = {account.address: account for account in dev_accounts()}
        holder, receiver = accounts[holder_address], accounts[dev_accounts()[6].address]  # the fab
        assert holder.address != receiver.address
        contract = sdk.batches.contract
        w3 = Web3(Web3.HTTPProvider(node.url))
        offer = contract.functions.offer(batch_id, receiver.address)._encode_transaction_data()
        accept = contract.functions.accept(batch_id, batch.mass_grams)._encode_transaction_data()
        start = node.chain.head.block_number
        answers = rpc(
            node.url,
            [
                {"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": [
                    raw(holder, w3.eth.get_transaction_count(holder.address), to=contract.address, data=offer,
                        gas=300_000)]},
                {"jsonrpc": "2.0", "id": 2, "method": "eth_sendRawTransaction", "params": [
                    raw(receiver, w3.eth.get_transaction_count(receiver.address), to=contract.address,
                        data=accept, gas=300_000)]},
            ],
        )  # fmt: skip
        receipts = [w3.eth.wait_for_transaction_receipt(a["result"], timeout=30) for a in answers]
        assert receipts[0]["blockNumber"] == receipts[1]["blockNumber"] == start + 1
        assert [r["status"] for r in receipts] == [1, 1]
        assert sdk.batches.get(batch_id).owner == receiver.address
        assert_state_reads_back(node)
        # the chain goes on: a plain transfer and a call into the passport's storage
        plain = w3.eth.send_raw_transaction(
            raw(
                dev_account(9),
                w3.eth.get_transaction_count(dev_account(9).address),
                to=holder.address,
                value=1,
            )
        )
        assert w3.eth.wait_for_transaction_receipt(plain, timeout=30)["status"] == 1
        assert sdk.batches.get(batch_id).custodian == receiver.address
        assert node.chain.head.block_number == start + 2
