"""Mempool admission and permissioning: every refusal is a JSON-RPC error that names its reason."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from passport.core.types import Role
from passport.node.service import Node
from passport.sdk import Client
from passport.sdk.accounts import dev_account
from passport.sdk.contracts import Founder, deploy

CHAIN = 1337


def rpc(node: Node, method: str, params: list[Any]) -> dict[str, Any]:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(node.url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read()))


def raw(account: LocalAccount, **tx: Any) -> str:
    fields = {"chainId": CHAIN, "nonce": 0, "to": account.address, "value": 0, "gas": 21_000}
    fields.update(tx)
    if "gasPrice" not in fields:
        fields.setdefault("maxFeePerGas", 5 * 10**9)
        fields.setdefault("maxPriorityFeePerGas", 10**9)
    return "0x" + bytes(account.sign_transaction(fields).raw_transaction).hex()


def refusal(node: Node, payload: str) -> str:
    answer = rpc(node, "eth_sendRawTransaction", [payload])
    assert "error" in answer, answer
    assert answer["error"]["code"] == -32000
    return str(answer["error"]["message"])


@pytest.fixture
def held() -> Iterator[Node]:
    """A dev node that seals only when told (transactions stay in the pool)."""
    with Node.dev(seal_on_transaction=False, block_interval=3600) as node:
        yield node


def test_each_admission_check_names_its_reason(held: Node) -> None:
    a = dev_account(0)
    assert "cannot decode" in refusal(held, "0xf86b8085")
    assert "invalid chain id" in refusal(held, raw(a, chainId=1))
    assert "intrinsic gas too low" in refusal(held, raw(a, gas=20_000))
    assert "exceeds block gas limit" in refusal(held, raw(a, gas=40_000_000))
    assert "insufficient funds" in refusal(held, raw(a, value=10**30))
    assert "max fee per gas less than block base fee" in refusal(
        held, raw(a, maxFeePerGas=1, maxPriorityFeePerGas=1)
    )
    assert "nonce too high" in refusal(held, raw(a, nonce=1000))
    assert "oversized data" in refusal(held, raw(a, data=b"\1" * 200_000, gas=10_000_000))
    unprotected = Account.sign_transaction(
        {"nonce": 0, "to": a.address, "value": 0, "gas": 21_000, "gasPrice": 5 * 10**9}, a.key
    )
    assert "replay-protected" in refusal(held, "0x" + bytes(unprotected.raw_transaction).hex())
    first = rpc(held, "eth_sendRawTransaction", [raw(a)])
    assert "result" in first
    assert "already known" in refusal(held, raw(a))
    assert "replacement transaction underpriced" in refusal(held, raw(a, maxFeePerGas=5 * 10**9 + 1))
    replaced = rpc(
        held, "eth_sendRawTransaction", [raw(a, maxFeePerGas=6 * 10**9, maxPriorityFeePerGas=2 * 10**9)]
    )
    assert "result" in replaced
    gapped = rpc(held, "eth_sendRawTransaction", [raw(a, nonce=2)])
    assert "result" in gapped  # held until nonce 1 arrives
    assert rpc(held, "eth_getTransactionCount", [a.address, "pending"])["result"] == "0x1"
    block = held.seal_once()
    assert block is not None and [tx.hash.hex() for tx in block.transactions] == [replaced["result"][2:]]
    assert len(held.mempool) == 1  # the gapped one waits
    assert "nonce too low" in refusal(held, raw(a, maxFeePerGas=9 * 10**9))


def test_non_member_is_refused_and_a_member_is_not() -> None:
    with Node.dev() as node:
        client = Client.connect(node.url)
        member, outsider = Account.create(), Account.create()
        admin = dev_account(0)
        contracts = deploy(
            client,
            admin,
            [Founder(admin.address, Role.ADMIN, "VN"), Founder(member.address, Role.MINER, "VN")],
        )
        assert contracts.consortium.address == node.chain.genesis.consortium
        for account in (member, outsider):
            client.w3.eth.wait_for_transaction_receipt(
                client.w3.eth.send_raw_transaction(
                    admin.sign_transaction(
                        {"chainId": CHAIN, "nonce": client.w3.eth.get_transaction_count(admin.address, "pending"),
                         "to": account.address, "value": 10**18, "gas": 21_000, "gasPrice": 5 * 10**9}
                    ).raw_transaction
                )
            )  # fmt: skip
        message = refusal(node, raw(outsider))
        assert f"account {outsider.address} is not permitted" in message
        assert "result" in rpc(node, "eth_sendRawTransaction", [raw(member)])
        # The local allowlist (Besu's perm_* methods) admits an outsider too, and can take it back.
        assert rpc(node, "perm_addAccountsToAllowlist", [[outsider.address]])["result"] == "Success"
        assert outsider.address in rpc(node, "perm_getAccountsAllowlist", [])["result"]
        assert "result" in rpc(node, "eth_sendRawTransaction", [raw(outsider)])
        assert rpc(node, "perm_removeAccountsFromAllowlist", [[outsider.address]])["result"] == "Success"
        assert "not permitted" in refusal(node, raw(outsider, nonce=1))
        assert rpc(node, "perm_removeAccountsFromAllowlist", [[outsider.address]])["error"]["code"] == -32000


def test_a_block_with_a_transaction_below_its_intrinsic_gas_is_rejected() -> None:
    """py-evm itself would execute it (an access list's cost is not checked); a replica must
    refuse such a block, and a sealer must not include it."""
    from eth.vm.forks.cancun import CancunVM

    from passport.node.chain import BlockRejected

    sender = dev_account(3)
    signed = sender.sign_transaction({
        "chainId": CHAIN, "nonce": 0, "to": sender.address, "value": 0, "gas": 21_000,
        "maxFeePerGas": 5 * 10**9, "maxPriorityFeePerGas": 10**9,
        "accessList": [{"address": dev_account(4).address, "storageKeys": []}],
    })  # fmt: skip
    tx = CancunVM.get_transaction_builder().decode(bytes(signed.raw_transaction))
    assert tx.gas < tx.intrinsic_gas
    with Node.dev() as node, node.chain.lock:
        with pytest.raises(BlockRejected, match="intrinsic gas too low"):
            node.chain.build([tx], timestamp=node.chain.head.timestamp + 1, coinbase=b"\0" * 20, strict=True)
        node.chain.abandon()
        built = node.chain.build([tx], timestamp=node.chain.head.timestamp + 1, coinbase=b"\0" * 20)
        assert not built.block.transactions and "intrinsic gas too low" in built.skipped[0][1]
        node.chain.abandon()
