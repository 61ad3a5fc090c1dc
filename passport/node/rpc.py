"""JSON-RPC 2.0 methods of the node: the standard ``eth_*``/``net_*``/``web3_*`` set, Besu's
``perm_*`` allowlist methods and ``passport_*`` (seals, raw blocks for replicas, status).

Error codes: -32700 parse error, -32600 invalid request, -32601 method not found, -32602
invalid params, 3 reverted call or estimate (revert bytes in ``data``), -32000 refused
transaction or missing state, -32005 limit exceeded, -32001 unauthorised.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, cast

import rlp
from eth._utils.address import generate_contract_address
from eth.abc import BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI
from eth.exceptions import Revert, VMError
from eth_abi import decode as abi_decode
from eth_typing import Address
from eth_utils import is_hex_address, to_canonical_address, to_checksum_address

from passport.exceptions import RpcError
from passport.node.chain import iter_logs, seal_signer

if TYPE_CHECKING:
    from passport.node.service import Node

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
EXECUTION_REVERTED = 3
SERVER_ERROR = -32000
UNAUTHORISED = -32001
LIMIT_EXCEEDED = -32005
SUGGESTED_TIP = 10**9
ERROR_STRING = bytes.fromhex("08c379a0")
FEE_HISTORY_MAX = 1024

Handler = Callable[[list[Any]], Any]


@dataclass
class Filter:
    kind: str  # "logs" | "blocks"
    criteria: dict[str, Any]
    last_block: int
    touched: float = field(default_factory=time.monotonic)


class Methods:
    """The method table; each handler takes the positional params list."""

    SCOPES: ClassVar[dict[str, str]] = {
        "eth_sendRawTransaction": "write",
        "perm_addAccountsToAllowlist": "admin",
        "perm_removeAccountsFromAllowlist": "admin",
    }

    def __init__(self, node: Node) -> None:
        self.node = node
        self.chain = node.chain
        self.config = node.config.rpc
        self.filters: dict[str, Filter] = {}
        self._filter_ids = itertools.count(1)
        self._filter_lock = threading.Lock()
        self.table: dict[str, Handler] = {
            name.replace("__", "_", 1): getattr(self, name)
            for name in dir(self)
            if name.startswith(("eth__", "net__", "web3__", "perm__", "passport__"))
        }

    def scope(self, method: str) -> str:
        return self.SCOPES.get(method, "read")

    def batch(self) -> AbstractContextManager[None]:
        """Around a JSON-RPC batch: its transactions reach the sealer together."""
        return self.node.submissions_batched()

    # ---------------------------------------------------------------- web3 / net

    def web3__clientVersion(self, params: list[Any]) -> str:
        from passport import __version__

        return f"passport-node/v{__version__}/py-evm/python"

    def net__version(self, params: list[Any]) -> str:
        return str(self.chain.chain_id)

    def net__listening(self, params: list[Any]) -> bool:
        return True

    def net__peerCount(self, params: list[Any]) -> str:
        return hex(len(self.node.replica_heads()))

    # ---------------------------------------------------------------- chain state

    def eth__chainId(self, params: list[Any]) -> str:
        return hex(self.chain.chain_id)

    def eth__syncing(self, params: list[Any]) -> Any:
        return self.node.syncing()

    def eth__blockNumber(self, params: list[Any]) -> str:
        with self.chain.lock:
            return hex(self.chain.head.block_number)

    def eth__accounts(self, params: list[Any]) -> list[str]:
        return []

    def eth__gasPrice(self, params: list[Any]) -> str:
        with self.chain.lock:
            return hex(self.node.next_base_fee() + SUGGESTED_TIP)

    def eth__maxPriorityFeePerGas(self, params: list[Any]) -> str:
        return hex(SUGGESTED_TIP)

    def eth__getBalance(self, params: list[Any]) -> str:
        address, tag = _params(params, 1, 2)
        with self.chain.lock:
            return hex(self.chain.state_at(self._header(tag)).get_balance(_address(address)))

    def eth__getTransactionCount(self, params: list[Any]) -> str:
        address, tag = _params(params, 1, 2)
        sender = _address(address)
        with self.chain.lock:
            nonce = self.chain.state_at(self._header(tag)).get_nonce(sender)
            if tag == "pending":
                nonce = self.node.pending_nonce(sender, nonce)
            return hex(nonce)

    def eth__getCode(self, params: list[Any]) -> str:
        address, tag = _params(params, 1, 2)
        with self.chain.lock:
            return _hex(self.chain.state_at(self._header(tag)).get_code(_address(address)))

    def eth__getStorageAt(self, params: list[Any]) -> str:
        address, slot, tag = _params(params, 2, 3)
        with self.chain.lock:
            value = self.chain.state_at(self._header(tag)).get_storage(
                _address(address), _quantity(slot, "slot")
            )
            return "0x" + value.to_bytes(32, "big").hex()

    # ---------------------------------------------------------------- execution

    def eth__call(self, params: list[Any]) -> str:
        call, tag = _params(params, 1, 2)
        sender, to, value, data, gas = _call_object(call)
        with self.chain.lock:
            computation = self.chain.call(self._header(tag), sender, to, value, data, gas)
        if computation.is_error:
            raise _execution_error(computation.error)
        return _hex(computation.output)

    def eth__estimateGas(self, params: list[Any]) -> str:
        call, tag = _params(params, 1, 2)
        sender, to, value, data, _ = _call_object(call)
        with self.chain.lock:
            header = self._header(tag)
            try:
                return hex(self.chain.estimate_gas(header, sender, to, value, data))
            except VMError as exc:
                raise _execution_error(exc) from None

    def eth__sendRawTransaction(self, params: list[Any]) -> str:
        (raw,) = _params(params, 1, 1)
        return _hex(self.node.submit(_data(raw, "transaction")))

    # ---------------------------------------------------------------- blocks and transactions

    def eth__getBlockByNumber(self, params: list[Any]) -> Any:
        tag, full = _params(params, 2, 2)
        with self.chain.lock:
            header = self._header(tag, missing_ok=True)
            return None if header is None else self._block_json(header, _bool(full))

    def eth__getBlockByHash(self, params: list[Any]) -> Any:
        block_hash, full = _params(params, 2, 2)
        with self.chain.lock:
            header = self.chain.header_by_hash(_hash(block_hash))
            return None if header is None else self._block_json(header, _bool(full))

    def eth__getBlockTransactionCountByNumber(self, params: list[Any]) -> Any:
        (tag,) = _params(params, 1, 1)
        with self.chain.lock:
            header = self._header(tag, missing_ok=True)
            return None if header is None else hex(len(self.chain.block_and_receipts(header)[0].transactions))

    def eth__getBlockTransactionCountByHash(self, params: list[Any]) -> Any:
        (block_hash,) = _params(params, 1, 1)
        with self.chain.lock:
            header = self.chain.header_by_hash(_hash(block_hash))
            return None if header is None else hex(len(self.chain.block_and_receipts(header)[0].transactions))

    def eth__getTransactionByHash(self, params: list[Any]) -> Any:
        (tx_hash,) = _params(params, 1, 1)
        key = _hash(tx_hash)
        with self.chain.lock:
            location = self.chain.transaction_location(key)
            if location is None:
                pending = self.node.pending_transaction(key)
                return None if pending is None else _tx_json(pending, None, None, None, None)
            header = self.chain.header_by_number(location[0])
            assert header is not None
            block, _ = self.chain.block_and_receipts(header)
            tx = block.transactions[location[1]]
            return _tx_json(tx, header.hash, header.block_number, location[1], _base_fee(header))

    def eth__getTransactionByBlockNumberAndIndex(self, params: list[Any]) -> Any:
        tag, index = _params(params, 2, 2)
        with self.chain.lock:
            header = self._header(tag, missing_ok=True)
            if header is None:
                return None
            txs = self.chain.block_and_receipts(header)[0].transactions
            i = _quantity(index, "index")
            return (
                _tx_json(txs[i], header.hash, header.block_number, i, _base_fee(header))
                if i < len(txs)
                else None
            )

    def eth__getTransactionReceipt(self, params: list[Any]) -> Any:
        (tx_hash,) = _params(params, 1, 1)
        with self.chain.lock:
            location = self.chain.transaction_location(_hash(tx_hash))
            if location is None:
                return None
            header = self.chain.header_by_number(location[0])
            assert header is not None
            block, receipts = self.chain.block_and_receipts(header)
            return _receipt_json(header, block.transactions, receipts, location[1])

    def eth__getBlockReceipts(self, params: list[Any]) -> Any:
        (tag,) = _params(params, 1, 1)
        with self.chain.lock:
            header = self._header(tag, missing_ok=True)
            if header is None:
                return None
            block, receipts = self.chain.block_and_receipts(header)
            return [_receipt_json(header, block.transactions, receipts, i) for i in range(len(receipts))]

    # ---------------------------------------------------------------- fees

    def eth__feeHistory(self, params: list[Any]) -> Any:
        count, newest, percentiles = _params(params, 2, 3)
        blocks = min(_quantity(count, "blockCount"), FEE_HISTORY_MAX)
        wanted = [float(p) for p in percentiles or []]
        if any(not 0 <= p <= 100 for p in wanted) or wanted != sorted(wanted):
            raise RpcError(
                INVALID_PARAMS, "invalid params: reward percentiles must be ascending values in [0, 100]"
            )
        with self.chain.lock:
            last = self._header(newest)
            first = max(0, last.block_number - blocks + 1) if blocks else last.block_number + 1
            base_fees, ratios, rewards = [], [], []
            for number in range(first, last.block_number + 1):
                header = self.chain.header_by_number(number)
                assert header is not None
                base_fees.append(hex(_base_fee(header)))
                ratios.append(header.gas_used / header.gas_limit if header.gas_limit else 0.0)
                if wanted:
                    rewards.append([hex(r) for r in self._rewards(header, wanted)])
            base_fees.append(hex(_base_fee(self.chain.vm_at(last).create_header_from_parent(last))))
            result: dict[str, Any] = {
                "oldestBlock": hex(first),
                "baseFeePerGas": base_fees,
                "gasUsedRatio": ratios,
                "baseFeePerBlobGas": ["0x1"] * len(base_fees),
                "blobGasUsedRatio": [0.0] * len(ratios),
            }
            if wanted:
                result["reward"] = rewards
            return result

    def _rewards(self, header: BlockHeaderAPI, percentiles: list[float]) -> list[int]:
        block, receipts = self.chain.block_and_receipts(header)
        if not block.transactions:
            return [0] * len(percentiles)
        previous = 0
        tips = []
        for tx, receipt in zip(block.transactions, receipts, strict=True):
            used = receipt.gas_used - previous
            previous = receipt.gas_used
            tips.append((min(tx.max_priority_fee_per_gas, tx.max_fee_per_gas - _base_fee(header)), used))
        tips.sort()
        total = sum(u for _, u in tips) or 1
        out = []
        for p in percentiles:
            threshold, cumulative = total * p / 100, 0
            for tip, used in tips:
                cumulative += used
                if cumulative >= threshold:
                    out.append(tip)
                    break
            else:
                out.append(tips[-1][0])
        return out

    # ---------------------------------------------------------------- logs and filters

    def eth__getLogs(self, params: list[Any]) -> list[dict[str, Any]]:
        (criteria,) = _params(params, 1, 1)
        if not isinstance(criteria, dict):
            raise RpcError(INVALID_PARAMS, "invalid params: the filter must be an object")
        return self._logs(criteria)

    def eth__newFilter(self, params: list[Any]) -> str:
        (criteria,) = _params(params, 1, 1)
        if not isinstance(criteria, dict):
            raise RpcError(INVALID_PARAMS, "invalid params: the filter must be an object")
        self._logs(criteria, validate_only=True)  # refuse a bad filter now, not at the first poll
        with self.chain.lock:
            head = self.chain.head.block_number
        start = criteria.get("fromBlock")
        last = head if start in (None, "latest", "pending") else self._number(start) - 1
        return self._install(Filter("logs", criteria, last))

    def eth__newBlockFilter(self, params: list[Any]) -> str:
        with self.chain.lock:
            return self._install(Filter("blocks", {}, self.chain.head.block_number))

    def eth__getFilterChanges(self, params: list[Any]) -> list[Any]:
        flt = self._filter(params)
        with self.chain.lock:
            head = self.chain.head.block_number
        if flt.last_block >= head:
            return []
        start, flt.last_block = flt.last_block + 1, head
        if flt.kind == "blocks":
            with self.chain.lock:
                return [
                    _hex(self._require(self.chain.header_by_number(n)).hash) for n in range(start, head + 1)
                ]
        criteria = {k: v for k, v in flt.criteria.items() if k not in ("fromBlock", "toBlock", "blockHash")}
        to_block = flt.criteria.get("toBlock")
        end = head if to_block in (None, "latest", "pending") else min(head, self._number(to_block))
        if end < start:
            return []
        return self._logs({**criteria, "fromBlock": hex(start), "toBlock": hex(end)})

    def eth__getFilterLogs(self, params: list[Any]) -> list[Any]:
        flt = self._filter(params)
        if flt.kind != "logs":
            raise RpcError(SERVER_ERROR, "filter not found: it is not a log filter")
        return self._logs(flt.criteria)

    def eth__uninstallFilter(self, params: list[Any]) -> bool:
        (filter_id,) = _params(params, 1, 1)
        with self._filter_lock:
            return self.filters.pop(str(filter_id), None) is not None

    def _install(self, flt: Filter) -> str:
        with self._filter_lock:
            now = time.monotonic()
            for key in [
                k for k, f in self.filters.items() if now - f.touched > self.config.filter_timeout_seconds
            ]:
                del self.filters[key]
            if len(self.filters) >= self.config.max_filters:
                raise RpcError(
                    LIMIT_EXCEEDED, f"too many filters installed (limit {self.config.max_filters})"
                )
            filter_id = hex(next(self._filter_ids))
            self.filters[filter_id] = flt
            return filter_id

    def _filter(self, params: list[Any]) -> Filter:
        (filter_id,) = _params(params, 1, 1)
        with self._filter_lock:
            flt = self.filters.get(str(filter_id))
            if flt is None or time.monotonic() - flt.touched > self.config.filter_timeout_seconds:
                self.filters.pop(str(filter_id), None)
                raise RpcError(SERVER_ERROR, "filter not found")
            flt.touched = time.monotonic()
            return flt

    def _logs(self, criteria: dict[str, Any], validate_only: bool = False) -> list[dict[str, Any]]:
        unknown = set(criteria) - {"fromBlock", "toBlock", "address", "topics", "blockHash"}
        if unknown:
            raise RpcError(INVALID_PARAMS, f"invalid params: unknown filter fields {sorted(unknown)}")
        addresses = criteria.get("address")
        address_list = [addresses] if isinstance(addresses, str) else list(addresses or [])
        wanted_addresses = [_address(a) for a in address_list]
        topics = criteria.get("topics") or []
        if not isinstance(topics, list) or len(topics) > 4:
            raise RpcError(INVALID_PARAMS, "invalid params: topics must be a list of at most 4 entries")
        topic_sets: list[set[int] | None] = []
        for entry in topics:
            if entry is None:
                topic_sets.append(None)
            elif isinstance(entry, str):
                topic_sets.append({int.from_bytes(_hash(entry), "big")})
            elif isinstance(entry, list):
                topic_sets.append({int.from_bytes(_hash(t), "big") for t in entry} if entry else None)
            else:
                raise RpcError(
                    INVALID_PARAMS, "invalid params: each topic is null, a hash or a list of hashes"
                )
        with self.chain.lock:
            if criteria.get("blockHash") is not None:
                if "fromBlock" in criteria or "toBlock" in criteria:
                    raise RpcError(INVALID_PARAMS, "invalid params: blockHash excludes fromBlock/toBlock")
                header = self.chain.header_by_hash(_hash(criteria["blockHash"]))
                if header is None:
                    raise RpcError(SERVER_ERROR, "unknown block")
                start = end = header.block_number
            else:
                start = self._header(criteria.get("fromBlock", "latest")).block_number
                end = self._header(criteria.get("toBlock", "latest")).block_number
            if end < start:
                raise RpcError(INVALID_PARAMS, f"invalid params: fromBlock {start} is after toBlock {end}")
            span = end - start + 1
            if span > self.config.max_log_block_range:
                raise RpcError(
                    LIMIT_EXCEEDED,
                    f"block range too large: {span} blocks requested, the limit is "
                    f"{self.config.max_log_block_range} (rpc.max_log_block_range)",
                )
            if validate_only:
                return []
            first_topics = (
                [t.to_bytes(32, "big") for t in topic_sets[0]] if topic_sets and topic_sets[0] else []
            )
            candidates = self.chain.blocks_with_logs(start, end, wanted_addresses, first_topics)
            out: list[dict[str, Any]] = []
            for number in sorted(candidates):
                header = self._require(self.chain.header_by_number(number))
                block, receipts = self.chain.block_and_receipts(header)
                for tx_index, log_index, log in iter_logs(receipts):
                    if wanted_addresses and log.address not in wanted_addresses:
                        continue
                    if not _topics_match(log.topics, topic_sets):
                        continue
                    out.append(_log_json(log, header, block.transactions[tx_index].hash, tx_index, log_index))
                    if len(out) > self.config.max_log_results:
                        raise RpcError(
                            LIMIT_EXCEEDED,
                            f"query returns more than {self.config.max_log_results} logs; "
                            "narrow the block range",
                        )
            return out

    # ---------------------------------------------------------------- permissioning (Besu names)

    def perm__getAccountsAllowlist(self, params: list[Any]) -> list[str]:
        with self.chain.lock:
            return self.chain.allowlist()

    def perm__addAccountsToAllowlist(self, params: list[Any]) -> str:
        (accounts,) = _params(params, 1, 1)
        self.chain.set_allowlisted(_address_list(accounts), True)
        return "Success"

    def perm__removeAccountsFromAllowlist(self, params: list[Any]) -> str:
        (accounts,) = _params(params, 1, 1)
        addresses = _address_list(accounts)
        with self.chain.lock:
            missing = [to_checksum_address(a) for a in addresses if not self.chain.allowlisted(a)]
            if missing:
                raise RpcError(INVALID_PARAMS, f"invalid params: not on the allowlist: {', '.join(missing)}")
            self.chain.set_allowlisted(addresses, False)
        return "Success"

    # ---------------------------------------------------------------- passport_*

    def passport__getBlockSeal(self, params: list[Any]) -> Any:
        (ref,) = _params(params, 1, 1)
        with self.chain.lock:
            header = (
                self.chain.header_by_hash(_hash(ref))
                if isinstance(ref, str) and len(ref) == 66
                else self._header(ref, missing_ok=True)
            )
            if header is None:
                return None
            seal = self.chain.seal(header.hash)
        return {
            "blockNumber": hex(header.block_number),
            "blockHash": _hex(header.hash),
            "signature": _hex(seal) if seal else None,
            "signer": seal_signer(self.chain.chain_id, header.hash, seal) if seal else None,
        }

    def passport__getBlocksRlp(self, params: list[Any]) -> list[dict[str, str]]:
        start, count = _params(params, 2, 2)
        first, wanted = _quantity(start, "start"), min(_quantity(count, "count"), 256)
        out = []
        with self.chain.lock:
            for number in range(first, first + wanted):
                header = self.chain.header_by_number(number)
                if header is None:
                    break
                block, _ = self.chain.block_and_receipts(header)
                seal = self.chain.seal(header.hash) or b""
                out.append({"block": _hex(rlp.encode(block)), "seal": _hex(seal)})
        return out

    def passport__getGenesis(self, params: list[Any]) -> dict[str, Any]:
        return {"genesis": self.chain.genesis.to_json(), "hash": _hex(self.chain.genesis_hash)}

    def passport__nodeInfo(self, params: list[Any]) -> dict[str, Any]:
        return self.node.info()

    def passport__reportReplicaHead(self, params: list[Any]) -> bool:
        replica, number = _params(params, 2, 2)
        if not isinstance(replica, str) or not 0 < len(replica) <= 64:
            raise RpcError(INVALID_PARAMS, "invalid params: replica id must be a string of 1-64 characters")
        self.node.record_replica(replica, _quantity(number, "number"))
        return True

    # ---------------------------------------------------------------- helpers

    def _number(self, tag: Any) -> int:
        return int(self._header(tag).block_number)

    def _header(self, tag: Any, missing_ok: bool = False) -> Any:
        """Resolve a block tag, number or EIP-1898 object; call with the chain lock held."""
        if tag is None or tag in ("latest", "pending", "safe", "finalized"):
            return self.chain.head
        if tag == "earliest":
            return self.chain.header_by_number(0)
        if isinstance(tag, dict):
            if "blockHash" in tag:
                header = self.chain.header_by_hash(_hash(tag["blockHash"]))
                if header is None:
                    raise RpcError(SERVER_ERROR, f"header for hash {tag['blockHash']} not found")
                return header
            if "blockNumber" in tag:
                return self._header(tag["blockNumber"], missing_ok)
            raise RpcError(INVALID_PARAMS, "invalid params: a block object needs blockHash or blockNumber")
        number = _quantity(tag, "block")
        header = self.chain.header_by_number(number)
        if header is None and not missing_ok:
            raise RpcError(SERVER_ERROR, f"header not found: block {number} is beyond the head")
        return header

    def _block_json(self, header: BlockHeaderAPI, full: bool) -> dict[str, Any]:
        block, _ = self.chain.block_and_receipts(header)
        txs: list[Any] = [
            _tx_json(tx, header.hash, header.block_number, i, _base_fee(header)) if full else _hex(tx.hash)
            for i, tx in enumerate(block.transactions)
        ]
        return {
            "number": hex(header.block_number),
            "hash": _hex(header.hash),
            "parentHash": _hex(header.parent_hash),
            "nonce": _hex(header.nonce),
            "sha3Uncles": _hex(header.uncles_hash),
            "logsBloom": "0x" + header.bloom.to_bytes(256, "big").hex(),
            "transactionsRoot": _hex(header.transaction_root),
            "stateRoot": _hex(header.state_root),
            "receiptsRoot": _hex(header.receipt_root),
            "miner": to_checksum_address(header.coinbase),
            "difficulty": hex(header.difficulty),
            "totalDifficulty": "0x0",
            "extraData": _hex(header.extra_data),
            "size": hex(len(rlp.encode(block))),
            "gasLimit": hex(header.gas_limit),
            "gasUsed": hex(header.gas_used),
            "timestamp": hex(header.timestamp),
            "transactions": txs,
            "uncles": [],
            "mixHash": _hex(header.mix_hash),
            "baseFeePerGas": hex(_base_fee(header)),
            "withdrawalsRoot": _hex(header.withdrawals_root or b""),
            "withdrawals": [],
            "blobGasUsed": hex(header.blob_gas_used or 0),
            "excessBlobGas": hex(header.excess_blob_gas or 0),
            "parentBeaconBlockRoot": _hex(header.parent_beacon_block_root or b""),
        }

    @staticmethod
    def _require(header: Any) -> Any:
        if header is None:
            raise RpcError(INTERNAL_ERROR, "internal error: a canonical header is missing from the store")
        return header


# -------------------------------------------------------------------- formatting


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _tx_json(
    tx: SignedTransactionAPI,
    block_hash: bytes | None,
    number: int | None,
    index: int | None,
    base_fee: int | None,
) -> dict[str, Any]:
    type_id = tx.type_id or 0
    out: dict[str, Any] = {
        "hash": _hex(tx.hash),
        "type": hex(type_id),
        "nonce": hex(tx.nonce),
        "blockHash": _hex(block_hash) if block_hash is not None else None,
        "blockNumber": hex(number) if number is not None else None,
        "transactionIndex": hex(index) if index is not None else None,
        "from": to_checksum_address(tx.sender),
        "to": to_checksum_address(tx.to) if tx.to else None,
        "value": hex(tx.value),
        "gas": hex(tx.gas),
        "input": _hex(tx.data),
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
        price = tx.max_fee_per_gas if base_fee is None else _effective_price(tx, base_fee)
        out["gasPrice"] = hex(price)
    return out


def _base_fee(header: BlockHeaderAPI) -> int:
    return header.base_fee_per_gas or 0


def _effective_price(tx: SignedTransactionAPI, base_fee: int) -> int:
    return int(min(tx.max_fee_per_gas, base_fee + tx.max_priority_fee_per_gas))


def _receipt_json(
    header: BlockHeaderAPI,
    txs: tuple[SignedTransactionAPI, ...],
    receipts: tuple[ReceiptAPI, ...],
    index: int,
) -> dict[str, Any]:
    tx, receipt = txs[index], receipts[index]
    previous = receipts[index - 1].gas_used if index else 0
    first_log = sum(len(r.logs) for r in receipts[:index])
    return {
        "transactionHash": _hex(tx.hash),
        "transactionIndex": hex(index),
        "blockHash": _hex(header.hash),
        "blockNumber": hex(header.block_number),
        "from": to_checksum_address(tx.sender),
        "to": to_checksum_address(tx.to) if tx.to else None,
        "cumulativeGasUsed": hex(receipt.gas_used),
        "gasUsed": hex(receipt.gas_used - previous),
        "effectiveGasPrice": hex(_effective_price(tx, _base_fee(header))),
        "contractAddress": None
        if tx.to
        else to_checksum_address(generate_contract_address(tx.sender, tx.nonce)),
        "logs": [_log_json(log, header, tx.hash, index, first_log + i) for i, log in enumerate(receipt.logs)],
        "logsBloom": "0x" + receipt.bloom.to_bytes(256, "big").hex(),
        "status": "0x1" if receipt.state_root == b"\x01" else "0x0",
        "type": hex(tx.type_id or 0),
    }


def _log_json(
    log: Any, header: BlockHeaderAPI, tx_hash: bytes, tx_index: int, log_index: int
) -> dict[str, Any]:
    return {
        "address": to_checksum_address(log.address),
        "topics": ["0x" + t.to_bytes(32, "big").hex() for t in log.topics],
        "data": _hex(log.data),
        "blockNumber": hex(header.block_number),
        "blockHash": _hex(header.hash),
        "blockTimestamp": hex(header.timestamp),
        "transactionHash": _hex(tx_hash),
        "transactionIndex": hex(tx_index),
        "logIndex": hex(log_index),
        "removed": False,
    }


def _topics_match(log_topics: tuple[int, ...], wanted: list[set[int] | None]) -> bool:
    if len(wanted) > len(log_topics) and any(w is not None for w in wanted[len(log_topics) :]):
        return False
    return all(w is None or (i < len(log_topics) and log_topics[i] in w) for i, w in enumerate(wanted))


def _execution_error(error: Any) -> RpcError:
    if isinstance(error, Revert):
        data = bytes(error.args[0]) if error.args and isinstance(error.args[0], bytes) else b""
        message = "execution reverted"
        if data[:4] == ERROR_STRING:
            with contextlib.suppress(Exception):  # a malformed reason string is still a revert
                message += ": " + abi_decode(["string"], data[4:])[0]
        return RpcError(EXECUTION_REVERTED, message, _hex(data))
    return RpcError(SERVER_ERROR, f"execution failed: {type(error).__name__} {error}".strip())


# -------------------------------------------------------------------- parameter parsing


def _params(params: list[Any], required: int, total: int) -> list[Any]:
    if not required <= len(params) <= total:
        expected = f"{required}" if required == total else f"{required} to {total}"
        raise RpcError(INVALID_PARAMS, f"invalid params: expected {expected} parameters, got {len(params)}")
    return list(params) + [None] * (total - len(params))


def _quantity(value: Any, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.startswith("0x") and len(value) > 2:
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise RpcError(INVALID_PARAMS, f"invalid params: {what} must be a hex quantity, got {json.dumps(value)}")


def _data(value: Any, what: str) -> bytes:
    if isinstance(value, str) and value.startswith("0x") and len(value) % 2 == 0:
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    raise RpcError(INVALID_PARAMS, f"invalid params: {what} must be 0x-prefixed hex bytes")


def _hash(value: Any) -> bytes:
    data = _data(value, "hash")
    if len(data) != 32:
        raise RpcError(INVALID_PARAMS, f"invalid params: a hash is 32 bytes, got {len(data)}")
    return data


def _address(value: Any) -> Address:
    if not isinstance(value, str) or not is_hex_address(value):
        raise RpcError(INVALID_PARAMS, f"invalid params: {json.dumps(value)} is not an address")
    return Address(to_canonical_address(value))


def _address_list(value: Any) -> list[bytes]:
    if not isinstance(value, list) or not value:
        raise RpcError(INVALID_PARAMS, "invalid params: expected a non-empty list of addresses")
    return [_address(a) for a in value]


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise RpcError(INVALID_PARAMS, "invalid params: expected true or false")
    return value


def _call_object(call: Any) -> tuple[bytes, bytes, int, bytes, int | None]:
    if not isinstance(call, dict):
        raise RpcError(INVALID_PARAMS, "invalid params: the call must be an object")
    sender = _address(call["from"]) if call.get("from") else b"\0" * 20
    to = _address(call["to"]) if call.get("to") else b""
    value = _quantity(call["value"], "value") if call.get("value") is not None else 0
    raw = call.get("input", call.get("data"))
    data = _data(raw, "input") if raw is not None else b""
    gas = _quantity(call["gas"], "gas") if call.get("gas") is not None else None
    return sender, to, value, data, gas
