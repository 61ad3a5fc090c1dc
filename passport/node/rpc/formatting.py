"""How the node's chain objects become JSON-RPC results (blocks, transactions, receipts, logs)
and how execution errors become JSON-RPC errors."""

from __future__ import annotations

import contextlib
from typing import Any, cast

from eth._utils.address import generate_contract_address
from eth.abc import BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI
from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address

from passport.exceptions import RpcError
from passport.node.rpc.codes import EXECUTION_REVERTED, SERVER_ERROR

ERROR_STRING = bytes.fromhex("08c379a0")


def hex_bytes(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def tx_json(
    tx: SignedTransactionAPI,
    block_hash: bytes | None,
    number: int | None,
    index: int | None,
    base_fee: int | None,
) -> dict[str, Any]:
    type_id = tx.type_id or 0
    out: dict[str, Any] = {
        "hash": hex_bytes(tx.hash),
        "type": hex(type_id),
        "nonce": hex(tx.nonce),
        "blockHash": hex_bytes(block_hash) if block_hash is not None else None,
        "blockNumber": hex(number) if number is not None else None,
        "transactionIndex": hex(index) if index is not None else None,
        "from": to_checksum_address(tx.sender),
        "to": to_checksum_address(tx.to) if tx.to else None,
        "value": hex(tx.value),
        "gas": hex(tx.gas),
        "input": hex_bytes(tx.data),
        "r": hex(tx.r),
        "s": hex(tx.s),
    }
    if type_id == 0:
        out["gasPrice"] = hex(tx.gas_price)
        out["v"] = hex(cast(Any, tx).v)
        if tx.chain_id is not None:
            out["chainId"] = hex(tx.chain_id or 0)
        return out
    out["chainId"] = hex(tx.chain_id or 0)
    out["v"] = out["yParity"] = hex(tx.y_parity)
    out["accessList"] = [
        {"address": to_checksum_address(a), "storageKeys": ["0x" + k.to_bytes(32, "big").hex() for k in keys]}
        for a, keys in tx.access_list
    ]
    if type_id == 1:
        out["gasPrice"] = hex(tx.gas_price)
    else:
        out["maxFeePerGas"] = hex(tx.max_fee_per_gas)
        out["maxPriorityFeePerGas"] = hex(tx.max_priority_fee_per_gas)
        price = tx.max_fee_per_gas if base_fee is None else effective_price(tx, base_fee)
        out["gasPrice"] = hex(price)
    return out


def base_fee(header: BlockHeaderAPI) -> int:
    return header.base_fee_per_gas or 0


def effective_price(tx: SignedTransactionAPI, base_fee: int) -> int:
    return int(min(tx.max_fee_per_gas, base_fee + tx.max_priority_fee_per_gas))


def receipt_json(
    header: BlockHeaderAPI,
    txs: tuple[SignedTransactionAPI, ...],
    receipts: tuple[ReceiptAPI, ...],
    index: int,
) -> dict[str, Any]:
    tx, receipt = txs[index], receipts[index]
    previous = receipts[index - 1].gas_used if index else 0
    first_log = sum(len(r.logs) for r in receipts[:index])
    return {
        "transactionHash": hex_bytes(tx.hash),
        "transactionIndex": hex(index),
        "blockHash": hex_bytes(header.hash),
        "blockNumber": hex(header.block_number),
        "from": to_checksum_address(tx.sender),
        "to": to_checksum_address(tx.to) if tx.to else None,
        "cumulativeGasUsed": hex(receipt.gas_used),
        "gasUsed": hex(receipt.gas_used - previous),
        "effectiveGasPrice": hex(effective_price(tx, base_fee(header))),
        "contractAddress": None
        if tx.to
        else to_checksum_address(generate_contract_address(tx.sender, tx.nonce)),
        "logs": [log_json(log, header, tx.hash, index, first_log + i) for i, log in enumerate(receipt.logs)],
        "logsBloom": "0x" + receipt.bloom.to_bytes(256, "big").hex(),
        "status": "0x1" if receipt.state_root == b"\x01" else "0x0",
        "type": hex(tx.type_id or 0),
    }


def log_json(
    log: Any, header: BlockHeaderAPI, tx_hash: bytes, tx_index: int, log_index: int
) -> dict[str, Any]:
    return {
        "address": to_checksum_address(log.address),
        "topics": ["0x" + t.to_bytes(32, "big").hex() for t in log.topics],
        "data": hex_bytes(log.data),
        "blockNumber": hex(header.block_number),
        "blockHash": hex_bytes(header.hash),
        "blockTimestamp": hex(header.timestamp),
        "transactionHash": hex_bytes(tx_hash),
        "transactionIndex": hex(tx_index),
        "logIndex": hex(log_index),
        "removed": False,
    }


def topics_match(log_topics: tuple[int, ...], wanted: list[set[int] | None]) -> bool:
    if len(wanted) > len(log_topics) and any(w is not None for w in wanted[len(log_topics) :]):
        return False
    return all(w is None or (i < len(log_topics) and log_topics[i] in w) for i, w in enumerate(wanted))


# geth's wording for the ways a call fails without a revert
_FAILURES = {
    "OutOfGas": "out of gas",
    "InsufficientFunds": "insufficient balance for transfer",
    "InsufficientStack": "stack underflow",
    "FullStack": "stack limit reached",
    "InvalidJumpDestination": "invalid jump destination",
    "InvalidInstruction": "invalid opcode",
    "StackDepthLimit": "max call depth exceeded",
    "WriteProtection": "write protection",
    "ContractCreationCollision": "contract address collision",
    "OutOfBoundsRead": "return data out of bounds",
    "ReservedBytesInCode": "invalid code: must not begin with 0xef",
}


def revert_error(data: bytes) -> RpcError:
    """A reverted call or estimate: code 3 with the revert bytes (web3.py and ethers decode
    custom errors from them), and the reason string where there is one."""
    message = "execution reverted"
    if data[:4] == ERROR_STRING:
        with contextlib.suppress(Exception):  # a malformed reason string is still a revert
            message += ": " + abi_decode(["string"], data[4:])[0]
    return RpcError(EXECUTION_REVERTED, message, hex_bytes(data))


def failure_error(kind: str) -> RpcError:
    """A call that failed without reverting, named by its py-evm error class: -32000 with
    geth's wording (never the Python class name)."""
    return RpcError(SERVER_ERROR, _FAILURES.get(kind, "execution failed"))
