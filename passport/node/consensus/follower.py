"""The replica: pulls sealed blocks from an upstream node, checks each seal against the genesis
validators, re-executes the block and compares every root before committing it."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import rlp
from eth.abc import SignedTransactionAPI
from eth.db.trie import make_trie_root_and_nodes

from passport._utils.seals import seal_signer
from passport.exceptions import NodeError, ReplicaDiverged, RpcError
from passport.node.chain import BlockRejected, PassportVM
from passport.node.consensus import start_thread
from passport.node.consensus.sealer import log_block
from passport.node.replica import call

if TYPE_CHECKING:
    from passport.node.service import Node

log = logging.getLogger("passport.node")
MAX_FUTURE_SECONDS = 15
FOLLOW_BATCH = 64
FOLLOW_POLL_SECONDS = 0.2
# Fields a replica recomputes and compares, in the order it reports the first mismatch.
VERIFIED_FIELDS = (
    "state_root",
    "receipt_root",
    "gas_used",
    "bloom",
    "base_fee_per_gas",
    "gas_limit",
    "withdrawals_root",
    "blob_gas_used",
    "excess_blob_gas",
    "parent_beacon_block_root",
    "uncles_hash",
    "difficulty",
    "nonce",
)


class Follower:
    """Follows ``upstream``; transactions submitted here are forwarded to it."""

    role = "replica"

    def __init__(self, node: Node, upstream: str) -> None:
        self.node = node
        self.upstream = upstream
        self.diverged: ReplicaDiverged | None = None
        self.upstream_error: str | None = None
        self.upstream_head: int | None = None
        self._replica_id = uuid.uuid4().hex[:12]
        self._token = os.environ.get("PASSPORT_UPSTREAM_TOKEN") or node.config.replica.upstream_token or None
        self._stopping = threading.Event()

    def start(self) -> list[threading.Thread]:
        return start_thread(self._follow_loop, "passport-replica")

    def stop(self) -> None:
        self._stopping.set()

    def submit(self, raw: bytes) -> bytes:
        result = call(self.upstream, "eth_sendRawTransaction", ["0x" + raw.hex()], self._token)
        return bytes.fromhex(str(result)[2:])

    @contextlib.contextmanager
    def submissions_batched(self) -> Iterator[None]:
        yield

    def pending_nonce(self, sender: bytes, account_nonce: int) -> int:
        return account_nonce

    def pending_transaction(self, tx_hash: bytes) -> SignedTransactionAPI | None:
        return None

    def pending_count(self) -> int:
        return 0

    def syncing(self) -> Any:
        if self.upstream_head is None:
            return False
        current = self.node.chain.head.block_number
        if self.upstream_head - current <= 1:
            return False
        return {"startingBlock": "0x0", "currentBlock": hex(current), "highestBlock": hex(self.upstream_head)}

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Ready when it has not diverged, reaches its upstream and is within 2 blocks of it."""
        head = int(self.node.chain.head.block_number)
        lag = None if self.upstream_head is None else max(0, self.upstream_head - head)
        detail = {"upstreamError": self.upstream_error, "lag": lag, "diverged": self.diverged is not None}
        ready = self.diverged is None and self.upstream_error is None and lag is not None and lag <= 2
        return ready, detail

    def info(self) -> dict[str, Any]:
        return {
            "sealer": None,
            "upstream": self.upstream,
            "upstreamHead": self.upstream_head,
            "upstreamError": self.upstream_error,
            "diverged": None if self.diverged is None else _diverged(self.diverged),
        }

    def _follow_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                imported = self.follow_once()
                self.upstream_error = None
            except ReplicaDiverged as exc:
                self.diverged = exc
                log.error("stopped following %s: %s", self.upstream, exc)
                return
            except (NodeError, RpcError, OSError, ValueError) as exc:
                self.upstream_error = str(exc)
                self._stopping.wait(1.0)
                continue
            if not imported:
                self._stopping.wait(FOLLOW_POLL_SECONDS)

    def follow_once(self, fetch: Any = None) -> int:
        """Import the blocks the upstream has beyond our head; returns how many.

        ``fetch(start, count)`` returns ``[(block_rlp, seal), ...]`` (tests inject tampering here).

        Raises:
            ReplicaDiverged: a block failed verification; our head stays at the last good block.
        """
        start = self.node.chain.head.block_number + 1
        if fetch is None:
            items = call(self.upstream, "passport_getBlocksRlp", [hex(start), hex(FOLLOW_BATCH)], self._token)
            blocks = [(bytes.fromhex(i["block"][2:]), bytes.fromhex(i["seal"][2:])) for i in items]
        else:
            blocks = fetch(start, FOLLOW_BATCH)
        for raw, seal in blocks:
            self.import_block(raw, seal)
        head = self.node.chain.head.block_number
        self.upstream_head = max(head, self.upstream_head or 0)
        with contextlib.suppress(RpcError, OSError):  # reporting is a courtesy; following goes on
            call(self.upstream, "passport_reportReplicaHead", [self._replica_id, hex(head)], self._token)
        return len(blocks)

    def import_block(self, raw: bytes, seal: bytes) -> None:
        """Verify one block from the upstream and commit it, or raise :class:`ReplicaDiverged`."""
        chain = self.node.chain
        try:
            block = rlp.decode(raw, sedes=PassportVM.get_block_class())
        except (rlp.DecodingError, rlp.DeserializationError) as exc:
            raise ReplicaDiverged(chain.head.block_number + 1, "encoding", str(exc)) from None
        header = block.header
        number = header.block_number
        started = time.perf_counter()
        with chain.lock:
            head = chain.head
            if number != head.block_number + 1:
                raise ReplicaDiverged(number, "number", f"expected block {head.block_number + 1}")
            if header.parent_hash != head.hash:
                raise ReplicaDiverged(number, "parent_hash", f"does not extend our head {head.hash.hex()}")
            signer = seal_signer(chain.chain_id, header.hash, seal)
            if signer not in chain.validators:
                raise ReplicaDiverged(
                    number, "seal", f"signed by {signer or 'nobody'}, which is not a validator"
                )
            tx_root, _ = make_trie_root_and_nodes(block.transactions)
            if tx_root != header.transaction_root:
                raise ReplicaDiverged(
                    number,
                    "transactions_root",
                    "the transactions do not match the header (changed or reordered)",
                )
            if header.timestamp > time.time() + MAX_FUTURE_SECONDS:
                raise ReplicaDiverged(number, "timestamp", f"{header.timestamp} is in the future")
            try:
                built = chain.build(
                    block.transactions,
                    timestamp=header.timestamp,
                    coinbase=header.coinbase,
                    extra_data=header.extra_data,
                    mix_hash=header.mix_hash,
                    strict=True,
                    check_permission=self.node.config.permissioning.enabled,
                )
            except BlockRejected as exc:
                chain.abandon()
                raise ReplicaDiverged(number, "transactions", str(exc)) from None
            except Exception as exc:
                chain.abandon()
                raise ReplicaDiverged(number, "execution", f"{type(exc).__name__}: {exc}") from None
            mine = built.block.header
            for name in VERIFIED_FIELDS:
                ours, theirs = getattr(mine, name), getattr(header, name)
                if ours != theirs:
                    chain.abandon()
                    raise ReplicaDiverged(
                        number, name, f"re-execution gives {_show(ours)}, the block has {_show(theirs)}"
                    )
            if mine.hash != header.hash:
                chain.abandon()
                raise ReplicaDiverged(
                    number, "hash", f"re-execution gives {mine.hash.hex()}, the block has {header.hash.hex()}"
                )
            chain.commit(built.block, built.receipts, seal)
        seconds = time.perf_counter() - started
        self.node.metrics.imported_blocks.inc()
        self.node.metrics.import_seconds.observe(seconds)
        log_block("imported", built.block, seconds)


def _diverged(exc: ReplicaDiverged) -> dict[str, Any]:
    return {"block": exc.number, "field": exc.field, "detail": exc.detail}


def _show(value: Any) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)
