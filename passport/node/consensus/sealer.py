"""The single sealer: one validator key builds blocks from the node's pool and signs each block
hash (the v1 seal scheme). The ``--dev`` node and the embedded chain of ``make demo``."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from eth.abc import BlockAPI, SignedTransactionAPI
from eth_keys.datatypes import PrivateKey

from passport._utils.seals import seal_digest
from passport.exceptions import NodeError
from passport.node.consensus import start_thread

if TYPE_CHECKING:
    from passport.node.service import Node

log = logging.getLogger("passport.node")
EXTRA_DATA = b"mineral-passport"


class SingleSealer:
    """Seals from the node's pool: on an interval, or as soon as transactions wait."""

    role = "sealer"

    def __init__(self, node: Node, validator: PrivateKey) -> None:
        address = validator.public_key.to_checksum_address()
        if address not in node.chain.validators:
            raise NodeError(f"the validator key {address} is not in the genesis validator set")
        self.node = node
        self.validator = validator
        self._wake = threading.Event()
        self._batching = threading.local()
        self._batch_count_lock = threading.Lock()
        self._open_batches = 0
        self._stopping = threading.Event()
        with node.chain.lock:
            kept, dropped = node.mempool.restore()
        if kept or dropped:
            log.info("transaction pool restored: %d kept, %d no longer valid", kept, dropped)

    def start(self) -> list[threading.Thread]:
        return start_thread(self._seal_loop, "passport-sealer")

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    # ---------------------------------------------------------------- submissions

    def submit(self, raw: bytes) -> bytes:
        node = self.node
        state = self._batching
        batched = getattr(state, "active", False)
        with node.chain.lock:
            tx_hash = node.mempool.add(raw)
            if not batched:
                node.mempool.sync()  # durable before the hash is returned
        if not batched:
            self._wake.set()
        elif not state.submitted:
            state.submitted = True  # from now on the sealer waits for this batch's end
            with self._batch_count_lock:
                self._open_batches += 1
        return tx_hash

    @contextlib.contextmanager
    def submissions_batched(self) -> Iterator[None]:
        """Transactions submitted inside (on this thread) wake the sealer once, at the end, and
        the sealer waits while a batch that has admitted transactions is still being admitted,
        so a JSON-RPC batch of transactions goes into one block rather than being split across
        blocks as they arrive. Batches without transactions do not hold the sealer."""
        state = self._batching
        if getattr(state, "active", False):
            yield
            return
        state.active, state.submitted = True, False
        try:
            yield
        finally:
            state.active = False
            if state.submitted:
                with self.node.chain.lock:
                    self.node.mempool.sync()  # the batch's transactions, durable before its answer
                with self._batch_count_lock:
                    self._open_batches -= 1
                self._wake.set()

    def pending_nonce(self, sender: bytes, account_nonce: int) -> int:
        return self.node.mempool.pending_nonce(sender, account_nonce)

    def pending_transaction(self, tx_hash: bytes) -> SignedTransactionAPI | None:
        entry = self.node.mempool.get(tx_hash)
        return None if entry is None else entry.tx

    def pending_count(self) -> int:
        return len(self.node.mempool)

    def health(self) -> tuple[bool, dict[str, Any]]:
        return True, {}

    def info(self) -> dict[str, Any]:
        return {"sealer": self.validator.public_key.to_checksum_address()}

    # ---------------------------------------------------------------- sealing

    def seal_once(self, allow_empty: bool = False) -> BlockAPI | None:
        """Build, sign and commit one block from the pool; None if there was nothing to seal."""
        node = self.node
        chain = node.chain
        with chain.lock:
            txs = node.mempool.ready(node.config.sealer.max_block_transactions)
            if not txs and not allow_empty:
                return None
            started = time.perf_counter()
            parent = chain.head
            timestamp = max(int(time.time()), parent.timestamp + 1)
            built = chain.build(
                txs,
                timestamp=timestamp,
                coinbase=self.validator.public_key.to_canonical_address(),
                extra_data=EXTRA_DATA,
                check_permission=node.config.permissioning.enabled,
            )
            seal = self.validator.sign_msg_hash(seal_digest(chain.chain_id, built.block.hash)).to_bytes()
            chain.commit(built.block, built.receipts, seal)
            for tx, reason in built.skipped:
                log.warning("dropped transaction %s: %s", tx.hash.hex(), reason)
            node.mempool.remove(list(built.block.transactions) + [tx for tx, _ in built.skipped])
            node.mempool.prune()
            node.mempool.sync()
            seconds = time.perf_counter() - started
            node.metrics.sealed_blocks.inc()
            node.metrics.sealed_transactions.inc(len(built.block.transactions))
            node.metrics.seal_seconds.observe(seconds)
            log_block("sealed", built.block, seconds)
            return built.block

    def _seal_loop(self) -> None:
        sealer = self.node.config.sealer
        next_due = time.monotonic() + sealer.block_interval
        while not self._stopping.is_set():
            if sealer.seal_on_transaction:
                woken = self._wake.wait(timeout=sealer.block_interval)
                if not woken and self._open_batches:
                    continue  # the batch's end wakes the sealer
            else:
                self._stopping.wait(timeout=max(0.0, next_due - time.monotonic()))
                next_due = time.monotonic() + sealer.block_interval
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                while (
                    self.seal_once(allow_empty=sealer.empty_blocks) is not None and sealer.seal_on_transaction
                ):
                    if self._stopping.is_set() or not len(self.node.mempool) or self._open_batches:
                        break
            except Exception:
                log.exception("sealing failed; the pool is kept and sealing retries")
                time.sleep(0.5)


def log_block(verb: str, block: BlockAPI, seconds: float) -> None:
    header = block.header
    log.info(
        "%s block number=%d hash=%s txs=%d gas=%d ms=%.1f",
        verb, header.block_number, header.hash.hex()[:12], len(block.transactions), header.gas_used,
        seconds * 1000,
    )  # fmt: skip
