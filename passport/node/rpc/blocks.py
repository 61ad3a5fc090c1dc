"""``eth_*`` methods for blocks, transactions and receipts, and ``eth_sendRawTransaction``."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import rlp
from eth.abc import BlockHeaderAPI
from eth_utils import to_checksum_address

from passport.exceptions import RpcError, TransactionRefused
from passport.node.config import RpcConfig
from passport.node.rpc.base import Backend, Namespace, method
from passport.node.rpc.codes import SERVER_ERROR
from passport.node.rpc.formatting import base_fee, hex_bytes, receipt_json, tx_json
from passport.node.rpc.params import BlockRef, Param, any_data, block, boolean, hash32, uint64

BLOCK = Param("block", block)
BLOCK_HASH = Param("blockHash", hash32)
TX_HASH = Param("transactionHash", hash32)
FULL = Param("fullTransactions", boolean)
CACHE_BLOCK_TXS = 200_000  # transaction hashes in the blocks kept formatted (a block never changes)


class BlockMethods(Namespace):
    def __init__(self, node: Backend, config: RpcConfig) -> None:
        super().__init__(node, config)
        # blocks answered without full transactions, by hash: a passport's export asks for the
        # headers of hundreds of blocks, whose transactions are read from the store otherwise
        self._block_json: OrderedDict[bytes, dict[str, Any]] = OrderedDict()
        self._cached_hashes = 0

    @method("eth_sendRawTransaction", Param("transaction", any_data), scope="write")
    def send_raw_transaction(self, raw: bytes) -> str:
        try:
            return hex_bytes(self.node.submit(raw))
        except TransactionRefused as exc:
            raise RpcError(SERVER_ERROR, str(exc)) from None

    @method("eth_getBlockByNumber", BLOCK, FULL)
    def get_block_by_number(self, ref: BlockRef, full: bool) -> Any:
        with self.chain.lock:
            header = self.header(ref, missing_ok=True)
            return None if header is None else self.block_json(header, full)

    @method("eth_getBlockByHash", BLOCK_HASH, FULL)
    def get_block_by_hash(self, block_hash: bytes, full: bool) -> Any:
        with self.chain.lock:
            header = self.chain.header_by_hash(block_hash)
            return None if header is None else self.block_json(header, full)

    @method("eth_getBlockTransactionCountByNumber", BLOCK)
    def count_by_number(self, ref: BlockRef) -> Any:
        with self.chain.lock:
            header = self.header(ref, missing_ok=True)
            return None if header is None else hex(len(self.chain.block_and_receipts(header)[0].transactions))

    @method("eth_getBlockTransactionCountByHash", BLOCK_HASH)
    def count_by_hash(self, block_hash: bytes) -> Any:
        with self.chain.lock:
            header = self.chain.header_by_hash(block_hash)
            return None if header is None else hex(len(self.chain.block_and_receipts(header)[0].transactions))

    @method("eth_getTransactionByHash", TX_HASH)
    def get_transaction(self, tx_hash: bytes) -> Any:
        with self.chain.lock:
            found = self.located(tx_hash)
            if found is None:
                pending = self.node.pending_transaction(tx_hash)
                return None if pending is None else tx_json(pending, None, None, None, None)
            header, block_, _, index = found
            return tx_json(
                block_.transactions[index], header.hash, header.block_number, index, base_fee(header)
            )

    @method("eth_getTransactionByBlockNumberAndIndex", BLOCK, Param("index", uint64))
    def get_transaction_by_index(self, ref: BlockRef, index: int) -> Any:
        with self.chain.lock:
            header = self.header(ref, missing_ok=True)
            if header is None:
                return None
            txs = self.chain.block_and_receipts(header)[0].transactions
            if index >= len(txs):
                return None
            return tx_json(txs[index], header.hash, header.block_number, index, base_fee(header))

    @method("eth_getTransactionReceipt", TX_HASH)
    def get_receipt(self, tx_hash: bytes) -> Any:
        return self.at_transaction(tx_hash, receipt_json)

    @method("eth_getBlockReceipts", BLOCK)
    def get_block_receipts(self, ref: BlockRef) -> Any:
        with self.chain.lock:
            header = self.header(ref, missing_ok=True)
            if header is None:
                return None
            block_, receipts = self.chain.block_and_receipts(header)
            return [receipt_json(header, block_.transactions, receipts, i) for i in range(len(receipts))]

    def block_json(self, header: BlockHeaderAPI, full: bool) -> dict[str, Any]:
        """The block's JSON; call with the chain lock held. Without full transactions, from a
        cache bounded in the transaction hashes it holds."""
        if full:
            return self._format_block(header, True)
        cached = self._block_json.get(header.hash)
        if cached is None:
            cached = self._format_block(header, False)
            self._block_json[header.hash] = cached
            self._cached_hashes += len(cached["transactions"])
            while self._cached_hashes > CACHE_BLOCK_TXS and len(self._block_json) > 1:
                _, old = self._block_json.popitem(last=False)
                self._cached_hashes -= len(old["transactions"])
        else:
            self._block_json.move_to_end(header.hash)
        return dict(cached)

    def _format_block(self, header: BlockHeaderAPI, full: bool) -> dict[str, Any]:
        block_, _ = self.chain.block_and_receipts(header)
        txs: list[Any] = [
            tx_json(tx, header.hash, header.block_number, i, base_fee(header)) if full else hex_bytes(tx.hash)
            for i, tx in enumerate(block_.transactions)
        ]
        return {
            "number": hex(header.block_number),
            "hash": hex_bytes(header.hash),
            "parentHash": hex_bytes(header.parent_hash),
            "nonce": hex_bytes(header.nonce),
            "sha3Uncles": hex_bytes(header.uncles_hash),
            "logsBloom": "0x" + header.bloom.to_bytes(256, "big").hex(),
            "transactionsRoot": hex_bytes(header.transaction_root),
            "stateRoot": hex_bytes(header.state_root),
            "receiptsRoot": hex_bytes(header.receipt_root),
            "miner": to_checksum_address(header.coinbase),
            "difficulty": hex(header.difficulty),
            "totalDifficulty": "0x0",
            "extraData": hex_bytes(header.extra_data),
            "size": hex(len(rlp.encode(block_))),
            "gasLimit": hex(header.gas_limit),
            "gasUsed": hex(header.gas_used),
            "timestamp": hex(header.timestamp),
            "transactions": txs,
            "uncles": [],
            "mixHash": hex_bytes(header.mix_hash),
            "baseFeePerGas": hex(base_fee(header)),
            "withdrawalsRoot": hex_bytes(header.withdrawals_root or b""),
            "withdrawals": [],
            "blobGasUsed": hex(header.blob_gas_used or 0),
            "excessBlobGas": hex(header.excess_blob_gas or 0),
            "parentBeaconBlockRoot": hex_bytes(header.parent_beacon_block_root or b""),
        }
