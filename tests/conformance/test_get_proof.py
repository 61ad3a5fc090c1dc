"""eth_getProof (EIP-1186) on the passport node against anvil's, on the same transactions.

A contract whose storage depends only on its calldata is deployed by a fresh account (so at the
same address) on both chains and given the same writes. Its storage trie is then the same, so
storageHash, every storage proof (present and absent keys), codeHash, nonce and balance must be
equal. The account proofs differ (the state tries hold other accounts), so each is walked with
py-trie against its own block's stateRoot.

Deletions are compared with an independently built trie, not with anvil: anvil (1.7.1) keeps a
slot set to zero in the trie its eth_getProof and stateRoot use (its storageHash differs from the
trie of the non-zero slots), where the Yellow Paper, geth and py-evm drop it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import rlp
from eth_account import Account
from eth_hash.auto import keccak
from trie import HexaryTrie
from web3 import Web3

from passport.sdk.accounts import dev_account
from passport.toolchain.anvil import RpcProcess

pytestmark = pytest.mark.slow

# runtime: SSTORE(calldata[32:64], calldata[0:32]); init: copy the 8-byte runtime and return it.
RUNTIME = bytes.fromhex("6000356020355500")
INIT = bytes.fromhex("6008600c60003960086000f3") + RUNTIME
# (value, key): writes and an overwrite, then (node only) a deletion.
WRITES = [(1, 1), (7, 2), (2**255, 3), (3, 1), (5, 0x20), (9, 2**256 - 1), (0x10, 4)]
DELETE = (0, 0x20)
KEYS = [0, 1, 2, 3, 4, 5, 0x20, 2**255, 2**256 - 1]  # present and never-written keys


def _send(w3: Web3, account: Any, tx: dict[str, Any]) -> Any:
    tx = {
        "chainId": w3.eth.chain_id,
        "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        "maxFeePerGas": 2 * w3.eth.gas_price,
        "maxPriorityFeePerGas": 10**9,
        "gas": 300_000,
        **tx,
    }
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction), timeout=30
    )
    assert receipt["status"] == 1
    return receipt


def _run(process: RpcProcess) -> tuple[Web3, str, int]:
    w3 = Web3(Web3.HTTPProvider(process.url))
    deployer = Account.from_key(keccak(b"eth_getProof conformance deployer"))
    if "passport" in w3.client_version:  # a permissioned chain: the deployer joins the allowlist
        added = w3.provider.make_request("perm_addAccountsToAllowlist", [[deployer.address]])
        assert added.get("result") == "Success", added
    _send(w3, dev_account(9), {"to": deployer.address, "value": 10**18})
    address = _send(w3, deployer, {"data": INIT})["contractAddress"]
    for value, key in WRITES:
        _send(w3, deployer, {"to": address, "data": _word(value) + _word(key)})
    return w3, address, w3.eth.block_number


def _word(n: int) -> bytes:
    return n.to_bytes(32, "big")


@pytest.fixture(scope="module")
def both(dev_node: RpcProcess, anvil: RpcProcess) -> Iterator[dict[str, tuple[Web3, str, int]]]:
    yield {"node": _run(dev_node), "anvil": _run(anvil)}


def _proof(w3: Web3, address: str, block: int) -> dict[str, Any]:
    answer = w3.provider.make_request(
        "eth_getProof", [address, ["0x" + k.to_bytes(32, "big").hex() for k in KEYS], hex(block)]
    )
    assert "error" not in answer, answer
    return dict(answer["result"])


def test_same_storage_proofs_as_anvil(both: dict[str, tuple[Web3, str, int]]) -> None:
    (w3n, address_n, block_n), (w3a, address_a, block_a) = both["node"], both["anvil"]
    assert address_n == address_a
    node, anvil = _proof(w3n, address_n, block_n), _proof(w3a, address_a, block_a)
    for field in ("storageHash", "codeHash", "nonce", "balance"):
        assert node[field] == anvil[field], field
    assert node["codeHash"] == "0x" + keccak(RUNTIME).hex()
    assert [(p["key"], p["value"]) for p in node["storageProof"]] == [
        (p["key"], p["value"]) for p in anvil["storageProof"]
    ]
    for ours, theirs in zip(node["storageProof"], anvil["storageProof"], strict=True):
        assert [x.lower() for x in ours["proof"]] == [x.lower() for x in theirs["proof"]], ours["key"]


@pytest.mark.parametrize("name", ["node", "anvil"])
def test_proofs_verify_against_the_block(both: dict[str, tuple[Web3, str, int]], name: str) -> None:
    w3, address, block = both[name]
    answer = _proof(w3, address, block)
    state_root = bytes(w3.eth.get_block(block)["stateRoot"])
    nodes = [rlp.decode(bytes.fromhex(n[2:])) for n in answer["accountProof"]]
    account = rlp.decode(HexaryTrie.get_from_proof(state_root, keccak(bytes.fromhex(address[2:])), nodes))
    assert "0x" + account[2].hex() == answer["storageHash"]
    assert "0x" + account[3].hex() == answer["codeHash"]
    expected = {k: v for v, k in WRITES}
    for entry in answer["storageProof"]:
        key = int(entry["key"], 16)
        nodes = [rlp.decode(bytes.fromhex(n[2:])) for n in entry["proof"]]
        raw = HexaryTrie.get_from_proof(account[2], keccak(key.to_bytes(32, "big")), nodes)
        value = int.from_bytes(rlp.decode(raw), "big") if raw else 0
        assert value == expected.get(key, 0) == int(entry["value"], 16)


def test_deleted_slot_leaves_the_trie(dev_node: RpcProcess, both: dict[str, tuple[Web3, str, int]]) -> None:
    w3, address, _ = both["node"]
    deployer = Account.from_key(keccak(b"eth_getProof conformance deployer"))
    _send(w3, deployer, {"to": address, "data": _word(DELETE[0]) + _word(DELETE[1])})
    answer = _proof(w3, address, w3.eth.block_number)
    expected = HexaryTrie({})
    for value, key in WRITES:
        if key != DELETE[1]:
            expected[keccak(_word(key))] = rlp.encode(value)
    assert answer["storageHash"] == "0x" + expected.root_hash.hex()
    deleted = next(p for p in answer["storageProof"] if int(p["key"], 16) == DELETE[1])
    nodes = [rlp.decode(bytes.fromhex(n[2:])) for n in deleted["proof"]]
    assert HexaryTrie.get_from_proof(expected.root_hash, keccak(_word(DELETE[1])), nodes) == b""
    assert deleted["value"] == "0x0"


def test_historical_proof_and_bad_params(both: dict[str, tuple[Web3, str, int]]) -> None:
    w3, address, block = both["node"]
    before = w3.provider.make_request("eth_getProof", [address, ["0x1"], hex(block - len(WRITES))])["result"]
    assert before["storageProof"][0]["value"] == "0x0"  # the contract existed, the write had not run
    bad = w3.provider.make_request("eth_getProof", [address, ["0xzz"], "latest"])
    assert bad["error"]["code"] == -32602 and "storageKeys" in bad["error"]["message"]
    missing = w3.provider.make_request("eth_getProof", [address, [], hex(block + 1000)])
    assert missing["error"]["code"] == -32000


def test_receipt_proof_against_receipts_root(both: dict[str, tuple[Web3, str, int]]) -> None:
    w3, _, _ = both["node"]
    block = w3.eth.get_block("latest", full_transactions=False)
    tx_hash = block["transactions"][-1]
    answer = w3.provider.make_request("passport_getReceiptProof", ["0x" + bytes(tx_hash).hex()])["result"]
    assert answer["blockHash"] == "0x" + bytes(block["hash"]).hex()
    index = int(answer["transactionIndex"], 16)
    nodes = [rlp.decode(bytes.fromhex(n[2:])) for n in answer["receiptProof"]]
    value = HexaryTrie.get_from_proof(bytes(block["receiptsRoot"]), rlp.encode(index), nodes)
    assert "0x" + value.hex() == answer["receipt"]
    nodes = [rlp.decode(bytes.fromhex(n[2:])) for n in answer["transactionProof"]]
    raw_tx = HexaryTrie.get_from_proof(bytes(block["transactionsRoot"]), rlp.encode(index), nodes)
    assert keccak(raw_tx) == bytes(tx_hash)
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    typed = value[0] < 0x7F
    status, cumulative, _bloom, _logs = rlp.decode(value[1:] if typed else value)
    assert int.from_bytes(status, "big") == receipt["status"]
    assert int.from_bytes(cumulative, "big") == receipt["cumulativeGasUsed"]
    missing = w3.provider.make_request("passport_getReceiptProof", ["0x" + "ab" * 32])
    assert missing["result"] is None
    bad = w3.provider.make_request("passport_getReceiptProof", ["0x12"])
    assert bad["error"]["code"] == -32602
