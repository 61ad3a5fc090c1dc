"""Two SDK clients sending from one account: each keeps the account's next nonce, so one of them
holds a stale nonce after the other sent; the send is then made again with the nonce read afresh."""

from __future__ import annotations

from passport.node.process import NodeProcess
from passport.sdk.accounts import dev_account
from passport.sdk.client import Client

EMPTY_CONTRACT = "0x00"  # initcode that stops at once: deploys a contract without code


def test_two_clients_sending_from_one_account_both_succeed(dev_node: NodeProcess) -> None:
    first, second = Client.connect(dev_node.url), Client.connect(dev_node.url)
    account = dev_account(7)
    nonces = []
    for client in (first, second, first, second, first):
        constructor = client.w3.eth.contract(abi=[], bytecode=EMPTY_CONTRACT).constructor()
        receipt = client.transact(account, constructor)
        assert receipt["status"] == 1
        nonces.append(client.w3.eth.get_transaction(receipt["transactionHash"])["nonce"])
    assert nonces == list(range(nonces[0], nonces[0] + 5))
