"""Besu QBFT and Clique headers carry more than 32 bytes of extraData; the client reads them."""

from __future__ import annotations

from typing import Any

from web3 import Web3
from web3.providers.base import BaseProvider

from passport.sdk import Client

QBFT_EXTRA = "0x" + "f8" + "ab" * 120  # RLP of vanity, validators, votes, round, seals: far beyond 32 bytes


class QbftLikeProvider(BaseProvider):
    def make_request(self, method: Any, params: Any) -> Any:
        if method == "eth_chainId":
            return {"jsonrpc": "2.0", "id": 1, "result": "0x539"}
        if method == "eth_getBlockByNumber":
            block = {
                "number": "0x10", "hash": "0x" + "12" * 32, "parentHash": "0x" + "34" * 32, "timestamp": "0x6553f100",
                "extraData": QBFT_EXTRA, "gasLimit": "0x1c9c380", "gasUsed": "0x0", "miner": "0x" + "00" * 20,
                "difficulty": "0x1", "totalDifficulty": "0x10", "nonce": "0x0000000000000000", "size": "0x260",
                "stateRoot": "0x" + "56" * 32, "transactionsRoot": "0x" + "78" * 32, "receiptsRoot": "0x" + "9a" * 32,
                "logsBloom": "0x" + "00" * 256, "sha3Uncles": "0x" + "bc" * 32, "mixHash": "0x" + "de" * 32,
                "transactions": [], "uncles": [], "baseFeePerGas": "0x0",
            }  # fmt: skip
            return {"jsonrpc": "2.0", "id": 1, "result": block}
        raise NotImplementedError(method)

    def is_connected(self, show_traceback: bool = False) -> bool:
        return True


def test_long_extra_data_is_accepted() -> None:
    client = Client(Web3(QbftLikeProvider()), "besu-qbft")
    assert client.chain_id == 1337
    number, block_hash, timestamp = client.head()
    assert (number, block_hash, timestamp) == (16, "0x" + "12" * 32, 0x6553F100)
