"""The node's JSON-RPC boundary: limits, authentication, node-only methods."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from passport.exceptions import NodeError
from passport.node.config import CONFIG_FILE, NodeConfig, hash_token
from passport.node.service import Node
from passport.sdk.accounts import dev_account


def post(url: str, payload: Any, token: str | None = None) -> tuple[int, Any]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def call(method: str, params: list[Any], id_: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "method": method, "params": params}


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    with Node.dev() as n:
        n.config.rpc.max_batch_size = 5
        n.config.rpc.max_request_bytes = 10_000
        n.config.rpc.max_log_block_range = 100
        yield n


def test_request_and_batch_limits(node: Node) -> None:
    status, answer = post(node.url, [call("eth_chainId", [], i) for i in range(6)])
    assert answer["error"]["code"] == -32600 and "exceeds the limit of 5" in answer["error"]["message"]
    status, answer = post(node.url, [])
    assert answer["error"]["code"] == -32600
    status, answer = post(node.url, call("eth_call", [{"data": "0x" + "00" * 20_000}]))
    assert status == 413 and answer["error"]["code"] == -32600
    status, answer = post(node.url, {"jsonrpc": "1.0", "id": 1, "method": "eth_chainId"})
    assert answer["error"]["code"] == -32600
    status, answer = post(node.url, {"jsonrpc": "2.0", "method": "eth_chainId", "params": []})
    assert status == 204 and answer is None  # a notification gets no answer


def test_invalid_params_say_what_is_wrong(node: Node) -> None:
    _, answer = post(node.url, call("eth_getBalance", ["0xnothex", "latest"]))
    assert answer["error"]["code"] == -32602 and "not a 20-byte hex address" in answer["error"]["message"]
    _, answer = post(node.url, call("eth_getBalance", [dev_account(0).address, "0x99999"]))
    assert answer["error"]["code"] == -32000 and "header not found" in answer["error"]["message"]
    _, answer = post(node.url, call("eth_getBlockByNumber", ["latest"]))
    assert answer["error"]["code"] == -32602 and "expected 2 parameters" in answer["error"]["message"]


def test_log_range_limit(node: Node) -> None:
    w3 = Web3(Web3.HTTPProvider(node.url))
    for _ in range(3):
        sender = dev_account(2)
        tx = {"chainId": 1337, "nonce": w3.eth.get_transaction_count(sender.address), "to": sender.address,
              "value": 0, "gas": 21_000, "gasPrice": 5 * 10**9}  # fmt: skip
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
        )
    node.config.rpc.max_log_block_range = 2
    _, answer = post(node.url, call("eth_getLogs", [{"fromBlock": "0x0", "toBlock": "latest"}]))
    assert answer["error"]["code"] == -32005
    assert (
        "block range too large" in answer["error"]["message"] and "limit is 2" in answer["error"]["message"]
    )
    node.config.rpc.max_log_block_range = 100


def test_node_methods(node: Node) -> None:
    _, answer = post(node.url, call("eth_accounts", []))
    assert answer["result"] == []
    _, seal = post(node.url, call("passport_getBlockSeal", ["latest"]))
    assert seal["result"]["signer"] == node.info()["sealer"]
    _, info = post(node.url, call("passport_nodeInfo", []))
    assert info["result"]["role"] == "sealer" and info["result"]["chainId"] == 1337
    _, genesis = post(node.url, call("passport_getGenesis", []))
    assert genesis["result"]["hash"] == "0x" + node.chain.genesis_hash.hex()


def test_tokens_and_scopes(tmp_path: Path) -> None:
    tokens = {"read": "r-token", "write": "w-token", "admin": "a-token"}
    with Node.dev(tmp_path):
        pass
    config = NodeConfig.read(tmp_path / CONFIG_FILE)
    config.rpc.tokens = [{"sha256": hash_token(t), "scope": s} for s, t in tokens.items()]
    config.write(tmp_path / CONFIG_FILE)
    with Node.dev(tmp_path) as node:
        status, answer = post(node.url, call("eth_chainId", []))
        assert status == 401 and answer["error"]["code"] == -32001
        assert post(node.url, call("eth_chainId", []), "wrong")[0] == 401
        assert post(node.url, call("eth_chainId", []), tokens["read"])[1]["result"] == "0x539"
        _, answer = post(node.url, call("eth_sendRawTransaction", ["0x00"]), tokens["read"])
        assert answer["error"]["code"] == -32001 and "write-scope" in answer["error"]["message"]
        _, answer = post(node.url, call("eth_sendRawTransaction", ["0x00"]), tokens["write"])
        assert answer["error"]["code"] == -32000  # past the scope check: refused as undecodable
        _, answer = post(
            node.url, call("perm_addAccountsToAllowlist", [[dev_account(0).address]]), tokens["write"]
        )
        assert answer["error"]["code"] == -32001
        _, answer = post(
            node.url, call("perm_addAccountsToAllowlist", [[dev_account(0).address]]), tokens["admin"]
        )
        assert answer["result"] == "Success"


def test_refuses_a_public_address_without_tokens(tmp_path: Path) -> None:
    from passport.node.devchain import dev_setup

    genesis, config, validator = dev_setup(tmp_path, 0)
    config.rpc.host = "0.0.0.0"
    with pytest.raises(NodeError, match="without authentication"):
        Node(tmp_path, genesis, config, validator=validator)


def test_a_batch_of_transactions_is_sealed_in_one_block(node: Node) -> None:
    sender = dev_account(4)
    w3 = Web3(Web3.HTTPProvider(node.url))
    nonce = w3.eth.get_transaction_count(sender.address)
    for _round in range(3):
        raws = [
            sender.sign_transaction({"chainId": 1337, "nonce": nonce + i, "to": dev_account(5).address,
                                     "value": 1, "gas": 21_000, "gasPrice": 5 * 10**9}).raw_transaction
            for i in range(5)
        ]  # fmt: skip
        nonce += 5
        _, answers = post(
            node.url, [call("eth_sendRawTransaction", ["0x" + r.hex()], i) for i, r in enumerate(raws)]
        )
        receipts = [w3.eth.wait_for_transaction_receipt(a["result"]) for a in answers]
        assert len({r["blockNumber"] for r in receipts}) == 1
