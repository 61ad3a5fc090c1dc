"""``eth_getLogs`` and the filter methods (``eth_newFilter``, ``eth_newBlockFilter``, polls)."""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

from passport.exceptions import RpcError
from passport.node.chain import iter_logs
from passport.node.config import RpcConfig
from passport.node.rpc.base import Backend, Namespace, method
from passport.node.rpc.codes import INVALID_PARAMS, LIMIT_EXCEEDED, SERVER_ERROR
from passport.node.rpc.formatting import hex_bytes, log_json, topics_match
from passport.node.rpc.params import BlockRef, LogFilter, Param, filter_id, log_filter

FILTER = Param("filter", log_filter)
FILTER_ID = Param("filterId", filter_id)
CACHE_LOGS = 200_000  # logs kept formatted, by block (a block's logs never change)

# a block's logs, each as (address, topics, its JSON answer): what a filter matches and returns
BlockLogs = tuple[tuple[bytes, tuple[int, ...], dict[str, Any]], ...]


@dataclass
class Filter:
    kind: str  # "logs" | "blocks"
    criteria: LogFilter | None
    last_block: int
    touched: float = field(default_factory=time.monotonic)


class LogMethods(Namespace):
    def __init__(self, node: Backend, config: RpcConfig) -> None:
        super().__init__(node, config)
        self.filters: dict[str, Filter] = {}
        self._filter_ids = itertools.count(1)
        self._filter_lock = threading.Lock()
        self._block_logs: OrderedDict[bytes, BlockLogs] = OrderedDict()
        self._cached_logs = 0

    @method("eth_getLogs", FILTER)
    def get_logs(self, criteria: LogFilter) -> list[dict[str, Any]]:
        return self._logs(criteria)

    @method("eth_newFilter", FILTER)
    def new_filter(self, criteria: LogFilter) -> str:
        self._logs(criteria, validate_only=True)  # refuse a bad filter now, not at the first poll
        with self.chain.lock:
            head = self.chain.head.block_number
            start = criteria.from_block
            last = head if start is None or start.tag in ("latest", "pending") else self._number(start) - 1
        return self._install(Filter("logs", criteria, last))

    @method("eth_newBlockFilter")
    def new_block_filter(self) -> str:
        return self._install(Filter("blocks", None, self.chain.head.block_number))

    @method("eth_getFilterChanges", FILTER_ID)
    def filter_changes(self, key: str) -> list[Any]:
        flt = self._filter(key)
        head = self.chain.head.block_number
        if flt.last_block >= head:
            return []
        start, flt.last_block = flt.last_block + 1, head
        if flt.criteria is None:
            with self.chain.lock:
                return [
                    hex_bytes(self.require(self.chain.header_by_number(n)).hash)
                    for n in range(start, head + 1)
                ]
        to_block = flt.criteria.to_block
        with self.chain.lock:
            end = (
                head
                if to_block is None or to_block.tag in ("latest", "pending")
                else min(head, self._number(to_block))
            )
        if end < start:
            return []
        window = replace(
            flt.criteria, from_block=BlockRef(number=start), to_block=BlockRef(number=end), block_hash=None
        )
        return self._logs(window)

    @method("eth_getFilterLogs", FILTER_ID)
    def filter_logs(self, key: str) -> list[Any]:
        flt = self._filter(key)
        if flt.criteria is None:
            raise RpcError(SERVER_ERROR, "filter not found: it is not a log filter")
        return self._logs(flt.criteria)

    @method("eth_uninstallFilter", FILTER_ID)
    def uninstall_filter(self, key: str) -> bool:
        with self._filter_lock:
            return self.filters.pop(key, None) is not None

    def _number(self, ref: BlockRef) -> int:
        return int(self.header(ref).block_number)

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
            key = hex(next(self._filter_ids))
            self.filters[key] = flt
            return key

    def _filter(self, key: str) -> Filter:
        with self._filter_lock:
            flt = self.filters.get(key)
            if flt is None or time.monotonic() - flt.touched > self.config.filter_timeout_seconds:
                self.filters.pop(key, None)
                raise RpcError(SERVER_ERROR, "filter not found")
            flt.touched = time.monotonic()
            return flt

    def _logs_of(self, header: Any) -> BlockLogs:
        """The block's logs, formatted, from a cache bounded in logs; call with the chain lock."""
        cached = self._block_logs.get(header.hash)
        if cached is not None:
            self._block_logs.move_to_end(header.hash)
            return cached
        block, receipts = self.chain.block_and_receipts(header)
        found = tuple(
            (
                bytes(log.address),
                tuple(log.topics),
                log_json(log, header, block.transactions[tx_index].hash, tx_index, log_index),
            )
            for tx_index, log_index, log in iter_logs(receipts)
        )
        self._block_logs[header.hash] = found
        self._cached_logs += len(found)
        while self._cached_logs > CACHE_LOGS and len(self._block_logs) > 1:
            _, old = self._block_logs.popitem(last=False)
            self._cached_logs -= len(old)
        return found

    def _logs(self, criteria: LogFilter, validate_only: bool = False) -> list[dict[str, Any]]:
        topic_sets = criteria.topics
        with self.chain.lock:
            if criteria.block_hash is not None:
                header = self.chain.header_by_hash(criteria.block_hash)
                if header is None:
                    raise RpcError(SERVER_ERROR, "unknown block")
                start = end = header.block_number
            else:
                start = self.header(criteria.from_block or BlockRef(tag="latest")).block_number
                end = self.header(criteria.to_block or BlockRef(tag="latest")).block_number
            if end < start:
                raise RpcError(
                    INVALID_PARAMS, f"invalid params: filter: fromBlock {start} is after toBlock {end}"
                )
            span = end - start + 1
            if span > self.config.max_log_block_range:
                raise RpcError(
                    LIMIT_EXCEEDED,
                    f"block range too large: {span} blocks requested, the limit is "
                    f"{self.config.max_log_block_range} (rpc.max_log_block_range)",
                )
            if validate_only:
                return []
            wanted = [[t.to_bytes(32, "big") for t in topics] for topics in topic_sets if topics]
            candidates = self.chain.blocks_with_logs(start, end, criteria.addresses, wanted)
            out: list[dict[str, Any]] = []
            for number in sorted(candidates):
                header = self.require(self.chain.header_by_number(number))
                for address, topics, answer in self._logs_of(header):
                    if criteria.addresses and address not in criteria.addresses:
                        continue
                    if not topics_match(topics, topic_sets):
                        continue
                    out.append(dict(answer))
                    if len(out) > self.config.max_log_results:
                        raise RpcError(
                            LIMIT_EXCEEDED,
                            f"query returns more than {self.config.max_log_results} logs; "
                            "narrow the block range",
                        )
            return out
