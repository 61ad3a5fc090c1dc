"""JSON-RPC conformance: the same web3.py-style checks against the passport node (single sealer),
a node of a 4-validator CometBFT network and anvil.

Anything a client relies on goes here (types, tags, historical state, logs, filters, revert
data, error codes); behaviour only the passport node has lives in tests/node/.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractCustomError, Web3RPCError

from passport.core.types import Role
from passport.sdk.accounts import dev_account
from passport.toolchain import load_artifact
from passport.toolchain.anvil import RpcProcess

pytestmark = pytest.mark.slow
ADMIN, MINE = int(Role.ADMIN), int(Role.MINER)


@dataclass
class Rpc:
    name: str
    url: str
    w3: Web3

    def raw(self, payload: Any) -> Any:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def call(self, method: str, params: list[Any]) -> Any:
        return self.raw({"jsonrpc": "2.0", "id": 7, "method": method, "params": params})

    def send(self, account: LocalAccount, tx: dict[str, Any]) -> Any:
        tx = {
            "chainId": self.w3.eth.chain_id,
            "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
            **tx,
        }
        if "gasPrice" not in tx:
            tx.setdefault("maxFeePerGas", 2 * self.w3.eth.gas_price)
            tx.setdefault("maxPriorityFeePerGas", 10**9)
        tx.setdefault("gas", 1_000_000)
        tx_hash = self.w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
        return self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)


@pytest.fixture(scope="module", params=["node", "cometbft", "anvil"])
def rpc(request: pytest.FixtureRequest) -> Rpc:
    if request.param == "cometbft":
        url = request.getfixturevalue("comet_network").node(1).rpc_url
        return Rpc(request.param, url, Web3(Web3.HTTPProvider(url)))
    process: RpcProcess = request.getfixturevalue("dev_node" if request.param == "node" else "anvil")
    return Rpc(request.param, process.url, Web3(Web3.HTTPProvider(process.url)))


@pytest.fixture(scope="module")
def consortium(rpc: Rpc) -> Any:
    """A Consortium deployed by account 7 with itself as founding admin (its events feed the log tests)."""
    artifact = load_artifact("Consortium")
    founder = dev_account(7)
    factory = rpc.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    data = factory.constructor([(founder.address, ADMIN, b"VN")], 1).build_transaction(
        {"from": founder.address, "gas": 5_000_000, "nonce": 0, "chainId": rpc.w3.eth.chain_id}
    )["data"]
    receipt = rpc.send(founder, {"data": data, "gas": 8_000_000})
    assert receipt["status"] == 1
    return rpc.w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)


def test_identity_methods(rpc: Rpc) -> None:
    w3 = rpc.w3
    assert w3.eth.chain_id > 0
    assert w3.net.version == str(w3.eth.chain_id)
    assert w3.net.listening is True
    assert w3.eth.syncing is False
    assert isinstance(w3.client_version, str) and w3.client_version
    assert w3.eth.block_number >= 0
    assert w3.eth.gas_price > 0
    assert w3.eth.max_priority_fee >= 0


@pytest.mark.parametrize("kind", ["legacy", "eip2930", "eip1559"])
def test_transaction_types_round_trip(rpc: Rpc, kind: str) -> None:
    sender, to = dev_account(8), dev_account(9).address
    fees: dict[str, Any] = {
        "legacy": {"gasPrice": 2 * rpc.w3.eth.gas_price},
        "eip2930": {"gasPrice": 2 * rpc.w3.eth.gas_price, "accessList": [], "type": 1},
        "eip1559": {"type": 2},
    }[kind]
    receipt = rpc.send(sender, {"to": to, "value": 12345, "gas": 21_000, **fees})
    assert receipt["status"] == 1
    assert receipt["gasUsed"] == 21_000
    assert receipt["type"] == {"legacy": 0, "eip2930": 1, "eip1559": 2}[kind]
    assert receipt["from"] == sender.address and receipt["to"] == to
    tx = rpc.w3.eth.get_transaction(receipt["transactionHash"])
    assert tx["blockNumber"] == receipt["blockNumber"] and tx["value"] == 12345
    assert tx["from"] == sender.address and tx["type"] == receipt["type"]
    block = rpc.w3.eth.get_block(receipt["blockNumber"], full_transactions=True)
    assert block["hash"] == receipt["blockHash"]
    assert any(t["hash"] == receipt["transactionHash"] for t in block["transactions"])
    assert rpc.w3.eth.get_block(receipt["blockHash"])["number"] == receipt["blockNumber"]
    assert rpc.w3.eth.get_block_transaction_count(receipt["blockNumber"]) == len(block["transactions"])
    assert block["difficulty"] == 0 and len(block["extraData"]) <= 32
    assert block["baseFeePerGas"] > 0


def test_historical_state(rpc: Rpc) -> None:
    w3, sender, to = rpc.w3, dev_account(8), dev_account(9).address
    before = w3.eth.block_number
    balance_before = w3.eth.get_balance(to)
    nonce_before = w3.eth.get_transaction_count(sender.address)
    receipt = rpc.send(sender, {"to": to, "value": 777, "gas": 21_000})
    after = receipt["blockNumber"]
    assert w3.eth.get_balance(to, after) == balance_before + 777
    assert w3.eth.get_balance(to, before) == balance_before
    assert w3.eth.get_transaction_count(sender.address, before) == nonce_before
    assert w3.eth.get_transaction_count(sender.address, "latest") == nonce_before + 1
    assert w3.eth.get_balance(to, "earliest") == w3.eth.get_balance(to, 0)
    for tag in ("latest", "pending"):
        assert w3.eth.get_balance(to, tag) == balance_before + 777  # type: ignore[arg-type]
    for tag in ("safe", "finalized"):  # a finality lag is allowed (anvil's is 32 blocks); ours is none
        assert w3.eth.get_balance(to, tag) >= 0  # type: ignore[arg-type]


def test_code_storage_and_calls(rpc: Rpc, consortium: Any) -> None:
    w3 = rpc.w3
    deployed_at = w3.eth.get_transaction_receipt(_deploy_hash(rpc, consortium))["blockNumber"]
    assert w3.eth.get_code(consortium.address, deployed_at - 1) == b""
    assert len(w3.eth.get_code(consortium.address)) > 100
    slots = [w3.eth.get_storage_at(consortium.address, i) for i in range(4)]
    assert all(len(s) == 32 for s in slots)
    founder, stranger = dev_account(7).address, dev_account(6).address
    assert consortium.functions.transactionAllowed(founder, founder, 0, 0, 0, b"").call() is True
    assert consortium.functions.transactionAllowed(stranger, founder, 0, 0, 0, b"").call() is False


def test_reverted_call_and_estimate_carry_revert_data(rpc: Rpc, consortium: Any) -> None:
    stranger = dev_account(6).address
    with pytest.raises(ContractCustomError) as called:
        consortium.functions.requireMember(stranger, MINE).call({"from": stranger})
    with pytest.raises(ContractCustomError) as estimated:
        consortium.functions.proposeSetActive(stranger, False).estimate_gas({"from": stranger})
    selector = "0x" + Web3.keccak(text="ConsortiumNotMember(address)")[:4].hex()
    assert str(called.value.data).startswith(selector)
    assert str(estimated.value.data).startswith(selector)
    answer = rpc.call(
        "eth_call", [{"to": consortium.address, "data": _calldata(consortium, stranger)}, "latest"]
    )
    assert answer["error"]["code"] == 3
    assert answer["error"]["data"].startswith(selector)


def test_estimate_gas_is_enough(rpc: Rpc, consortium: Any) -> None:
    founder = dev_account(7)
    call = _proposal(consortium)
    estimate = call.estimate_gas({"from": founder.address})
    for tag in ("latest", "pending"):
        assert rpc.call(
            "eth_estimateGas",
            [
                {"from": founder.address, "to": consortium.address, "data": call._encode_transaction_data()},
                tag,
            ],
        )["result"]
    receipt = rpc.send(
        founder, {"to": consortium.address, "data": call._encode_transaction_data(), "gas": estimate}
    )
    assert receipt["status"] == 1
    assert receipt["gasUsed"] <= estimate


def test_logs_by_address_topic_and_block_hash(rpc: Rpc, consortium: Any) -> None:
    w3 = rpc.w3
    added = consortium.events.MemberAdded
    topic = "0x" + Web3.keccak(text="MemberAdded(address,uint8,bytes2)").hex().removeprefix("0x")
    founder_topic = "0x" + bytes(12).hex() + dev_account(7).address[2:].lower()
    where = {"fromBlock": 0, "toBlock": "latest", "address": consortium.address}
    logs = w3.eth.get_logs({**where, "topics": [topic, founder_topic]})
    assert len(logs) == 1
    event = added.process_log(logs[0])
    assert event["args"]["account"] == dev_account(7).address
    every_member = w3.eth.get_logs({**where, "topics": [topic]})
    assert logs[0] in every_member
    assert all(log["address"] == consortium.address for log in every_member)
    assert logs[0] in w3.eth.get_logs({"fromBlock": 0, "topics": [None, founder_topic]})
    assert logs[0] in w3.eth.get_logs({**where, "topics": [[topic, "0x" + "11" * 32]]})
    assert w3.eth.get_logs({**where, "topics": ["0x" + "11" * 32]}) == []
    assert logs[0] in w3.eth.get_logs({"blockHash": logs[0]["blockHash"], "address": consortium.address})
    receipt = w3.eth.get_transaction_receipt(logs[0]["transactionHash"])
    assert receipt["logs"][0]["logIndex"] == logs[0]["logIndex"]
    assert receipt["logs"][0]["data"] == logs[0]["data"]


def test_filters(rpc: Rpc, consortium: Any) -> None:
    w3, founder = rpc.w3, dev_account(7)
    block_filter = w3.eth.filter("latest")
    log_filter = w3.eth.filter({"address": consortium.address})
    call = _proposal(consortium)
    receipt = rpc.send(founder, {"to": consortium.address, "data": call._encode_transaction_data()})
    assert receipt["blockHash"] in block_filter.get_new_entries()
    changes = log_filter.get_new_entries()
    assert [c["logIndex"] for c in changes] == [log["logIndex"] for log in receipt["logs"]]
    assert {c["transactionHash"] for c in changes} == {receipt["transactionHash"]}
    assert log_filter.get_new_entries() == []
    assert receipt["transactionHash"] in {
        c["transactionHash"] for c in w3.eth.get_filter_logs(log_filter.filter_id)
    }
    assert w3.eth.uninstall_filter(log_filter.filter_id) is True
    assert w3.eth.uninstall_filter(log_filter.filter_id) is False


def test_pending_nonce_and_nonce_too_low(rpc: Rpc) -> None:
    sender, w3 = dev_account(8), rpc.w3
    nonce = w3.eth.get_transaction_count(sender.address, "pending")
    rpc.send(sender, {"to": sender.address, "value": 0, "gas": 21_000})
    stale = sender.sign_transaction(
        {
            "chainId": w3.eth.chain_id,
            "nonce": nonce,
            "to": sender.address,
            "value": 0,
            "gas": 21_000,
            "gasPrice": 2 * w3.eth.gas_price,
        }
    )
    with pytest.raises(Web3RPCError, match=r"(?i)nonce too low"):
        w3.eth.send_raw_transaction(stale.raw_transaction)


def test_fee_history(rpc: Rpc) -> None:
    history = rpc.w3.eth.fee_history(4, "latest", [10, 50, 90])
    blocks = min(4, rpc.w3.eth.block_number + 1)
    assert len(history["baseFeePerGas"]) == len(history["gasUsedRatio"]) + 1
    assert len(history["gasUsedRatio"]) == blocks
    assert all(len(r) == 3 for r in history["reward"])


def test_error_codes(rpc: Rpc) -> None:
    assert rpc.call("eth_noSuchMethod", [])["error"]["code"] == -32601
    parse_error = rpc.raw(b"{not json")["error"]["code"]
    assert (
        parse_error == -32700 if rpc.name != "anvil" else parse_error in (-32700, -32600)
    )  # anvil says -32600
    assert rpc.raw({"id": 1, "method": 5})["error"]["code"] == -32600
    assert rpc.call("eth_getBalance", ["0x1234", "latest"])["error"]["code"] == -32602
    assert rpc.call("eth_getBlockByNumber", ["0xffffffff", False])["result"] is None
    assert rpc.call("eth_getTransactionReceipt", ["0x" + "ab" * 32])["result"] is None
    assert rpc.call("eth_sendRawTransaction", ["0xdeadbeef"])["error"]["code"] in (-32000, -32602, -32603)


def test_batch(rpc: Rpc) -> None:
    answers = rpc.raw(
        [
            {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
            {"jsonrpc": "2.0", "id": "two", "method": "eth_noSuchMethod", "params": []},
            {"jsonrpc": "2.0", "id": 3, "method": "eth_blockNumber", "params": []},
        ]
    )
    by_id = {a["id"]: a for a in answers}
    assert int(by_id[1]["result"], 16) == rpc.w3.eth.chain_id
    assert by_id["two"]["error"]["code"] == -32601
    assert int(by_id[3]["result"], 16) >= 0


def _proposal(consortium: Any) -> Any:
    """A proposal that succeeds every time: add a new, random member."""
    return consortium.functions.proposeAddMember(Account.create().address, MINE, b"VN")


def _deploy_hash(rpc: Rpc, contract: Any) -> Any:
    logs = rpc.w3.eth.get_logs({"fromBlock": 0, "address": contract.address})
    return logs[0]["transactionHash"]


def _calldata(consortium: Any, account: str) -> str:
    return str(consortium.functions.requireMember(account, MINE)._encode_transaction_data())
