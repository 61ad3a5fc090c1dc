"""A running node: the store, the chain, the pool, the sealer (or the replica follower) and the
JSON-RPC server, started and stopped together."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import rlp
from eth.abc import BlockAPI, SignedTransactionAPI
from eth.db.trie import make_trie_root_and_nodes
from eth_keys.datatypes import PrivateKey

from passport._utils.seals import seal_digest, seal_signer
from passport.exceptions import NodeError, ReplicaDiverged, RpcError
from passport.node.calls import CallPool
from passport.node.chain import BlockRejected, NodeChain, PassportVM
from passport.node.config import CHAIN_DIR, Genesis, NodeConfig, is_loopback
from passport.node.mempool import Mempool
from passport.node.metrics import NodeMetrics
from passport.node.replica import call
from passport.node.rpc import Methods
from passport.node.server import Dispatcher, RpcServer
from passport.node.store import LmdbStore

log = logging.getLogger("passport.node")
EXTRA_DATA = b"mineral-passport"
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


class Node:
    """One node. Use as a context manager, or call :meth:`start` and :meth:`stop`.

    With a ``validator`` key it seals blocks; with ``upstream`` it is a replica of that URL.
    """

    def __init__(
        self,
        data_dir: Path,
        genesis: Genesis,
        config: NodeConfig,
        validator: PrivateKey | None = None,
        upstream: str | None = None,
    ) -> None:
        if (validator is None) == (upstream is None):
            raise NodeError(
                "a node either seals (a validator key) or follows another node (--replica-of), not both"
            )
        self.data_dir = data_dir
        self.config = config
        self.upstream = upstream
        self.validator = validator
        if validator is not None and validator.public_key.to_checksum_address() not in genesis.validators:
            raise NodeError(
                f"the validator key {validator.public_key.to_checksum_address()} "
                "is not in the genesis validator set"
            )
        host = config.rpc.host
        auth_required = bool(config.rpc.tokens) or not is_loopback(host)
        if not is_loopback(host) and not config.rpc.tokens:
            raise NodeError(
                f"refusing to listen on {host} without authentication: add rpc.tokens to the config"
            )
        self.store = LmdbStore(data_dir / CHAIN_DIR)
        try:
            self.chain = NodeChain(self.store, genesis)
        except BaseException:
            self.store.close()
            raise
        self.mempool = Mempool(
            self.chain, config.mempool, check_permission=config.permissioning.enabled, store=self.store
        )
        if validator is not None:
            with self.chain.lock:
                kept, dropped = self.mempool.restore()
            if kept or dropped:
                log.info("transaction pool restored: %d kept, %d no longer valid", kept, dropped)
        self.metrics = NodeMetrics()
        self.metrics.watch(
            head=lambda: int(self.chain.head.block_number),
            pending=lambda: len(self.mempool),
            replica_lag=self.replica_lags,
        )
        self.calls = CallPool(
            data_dir / CHAIN_DIR, genesis.chain_id, config.rpc.call_workers or os.cpu_count() or 2
        )
        self.methods = Methods(self, config.rpc)
        self.dispatcher = Dispatcher(self.methods, config.rpc, auth_required, self.metrics)
        self.diverged: ReplicaDiverged | None = None
        self.upstream_error: str | None = None
        self.upstream_head: int | None = None
        self._replicas: dict[str, tuple[int, float]] = {}
        self._replica_id = uuid.uuid4().hex[:12]
        self._upstream_token = (
            os.environ.get("PASSPORT_UPSTREAM_TOKEN") or config.replica.upstream_token or None
        )
        self._wake = threading.Event()
        self._batching = threading.local()
        self._batch_count_lock = threading.Lock()
        self._open_batches = 0
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server: RpcServer | None = None
        self._temp_dir: Path | None = None
        self._closed = False
        self.url = ""

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> Node:
        try:
            self._server = RpcServer(self.config.rpc.host, self.config.rpc.port, self.dispatcher, self.health)
        except OSError as exc:
            self.close_store()
            raise NodeError(
                f"cannot listen on {self.config.rpc.host}:{self.config.rpc.port}: {exc.strerror}"
            ) from None
        port = self._server.server_address[1]
        self.url = f"http://{self.config.rpc.host}:{port}"
        worker = self._seal_loop if self.validator is not None else self._follow_loop
        for target, name in (
            (self._server.serve_forever, "rpc"),
            (worker, "sealer" if self.validator else "replica"),
        ):
            thread = threading.Thread(target=target, name=f"passport-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving, finish the block being sealed, close the store."""
        self._stopping.set()
        self._wake.set()
        self.calls.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()
        self.close_store()

    def close_store(self) -> None:
        with self.chain.lock:
            if not self._closed:
                self._closed = True
                self.store.close()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    @property
    def temporary(self) -> bool:
        """The data dir is a temporary one that :meth:`stop` deletes."""
        return self._temp_dir is not None

    def __enter__(self) -> Node:
        return self.start() if not self._threads else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @classmethod
    def dev(cls, data_dir: Path | None = None, port: int = 0, **overrides: Any) -> Node:
        """The ``--dev`` node: the standard test mnemonic's ten accounts funded and allowlisted,
        sealing as soon as transactions wait; a temporary data dir unless one is given."""
        from passport.node.devchain import dev_setup

        temp = None
        if data_dir is None:
            temp = Path(tempfile.mkdtemp(prefix="passport-dev-"))
            data_dir = temp
        genesis, config, validator = dev_setup(data_dir, port, **overrides)
        node = cls(data_dir, genesis, config, validator=validator)
        node._temp_dir = temp
        return node

    # ---------------------------------------------------------------- used by the RPC methods

    def submit(self, raw: bytes) -> bytes:
        if self.upstream is not None:
            result = call(self.upstream, "eth_sendRawTransaction", ["0x" + raw.hex()], self._upstream_token)
            return bytes.fromhex(str(result)[2:])
        state = self._batching
        batched = getattr(state, "active", False)
        with self.chain.lock:
            tx_hash = self.mempool.add(raw)
            if not batched:
                self.mempool.sync()  # durable before the hash is returned
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
                with self.chain.lock:
                    self.mempool.sync()  # the batch's transactions, durable before its answer
                with self._batch_count_lock:
                    self._open_batches -= 1
                self._wake.set()

    def pending_nonce(self, sender: bytes, account_nonce: int) -> int:
        return self.mempool.pending_nonce(sender, account_nonce)

    def pending_transaction(self, tx_hash: bytes) -> SignedTransactionAPI | None:
        entry = self.mempool.get(tx_hash)
        return None if entry is None else entry.tx

    def next_base_fee(self) -> int:
        return self.mempool.next_base_fee()

    def syncing(self) -> Any:
        if self.upstream is None or self.upstream_head is None:
            return False
        current = self.chain.head.block_number
        if self.upstream_head - current <= 1:
            return False
        return {"startingBlock": "0x0", "currentBlock": hex(current), "highestBlock": hex(self.upstream_head)}

    def record_replica(self, replica: str, number: int) -> None:
        self._replicas[replica] = (number, time.time())
        if len(self._replicas) > 256:
            oldest = min(self._replicas, key=lambda k: self._replicas[k][1])
            del self._replicas[oldest]

    def replica_heads(self) -> dict[str, int]:
        cutoff = time.time() - 60
        return {k: n for k, (n, seen) in self._replicas.items() if seen >= cutoff}

    def replica_lags(self) -> dict[str, int]:
        head = self.chain.head.block_number
        return {k: max(0, head - n) for k, n in self.replica_heads().items()}

    def health(self) -> tuple[bool, bool, dict[str, Any]]:
        """(live, ready, detail) for ``/liveness`` and ``/readiness``, as Besu's: live while the
        sealer or follower thread runs; a replica is ready when it has not diverged, reaches its
        upstream and is within 2 blocks of it."""
        worker_alive = all(t.is_alive() for t in self._threads) and not self._stopping.is_set()
        head = int(self.chain.head.block_number)
        detail: dict[str, Any] = {"head": head, "role": "sealer" if self.validator is not None else "replica"}
        ready = worker_alive
        if self.upstream is not None:
            lag = None if self.upstream_head is None else max(0, self.upstream_head - head)
            detail.update(upstreamError=self.upstream_error, lag=lag, diverged=self.diverged is not None)
            ready = (
                ready
                and self.diverged is None
                and self.upstream_error is None
                and lag is not None
                and lag <= 2
            )
        return worker_alive, ready, detail

    def info(self) -> dict[str, Any]:
        with self.chain.lock:
            head = self.chain.head
            pending = len(self.mempool)
        return {
            "role": "sealer" if self.validator is not None else "replica",
            "chainId": self.chain.chain_id,
            "head": {
                "number": head.block_number,
                "hash": "0x" + head.hash.hex(),
                "timestamp": head.timestamp,
            },
            "sealer": self.validator.public_key.to_checksum_address() if self.validator else None,
            "validators": sorted(self.chain.validators),
            "pending": pending,
            "replicas": [
                {"id": k, "head": n, "lag": max(0, head.block_number - n)}
                for k, n in sorted(self.replica_heads().items())
            ],
            "upstream": self.upstream,
            "upstreamHead": self.upstream_head,
            "upstreamError": self.upstream_error,
            "diverged": None
            if self.diverged is None
            else {
                "block": self.diverged.number,
                "field": self.diverged.field,
                "detail": self.diverged.detail,
            },
            "dataDir": str(self.data_dir),
            "storeBytes": self.store.size_bytes(),
        }

    # ---------------------------------------------------------------- sealing

    def seal_once(self, allow_empty: bool = False) -> BlockAPI | None:
        """Build, sign and commit one block from the pool; None if there was nothing to seal."""
        assert self.validator is not None
        with self.chain.lock:
            txs = self.mempool.ready(self.config.sealer.max_block_transactions)
            if not txs and not allow_empty:
                return None
            started = time.perf_counter()
            parent = self.chain.head
            timestamp = max(int(time.time()), parent.timestamp + 1)
            built = self.chain.build(
                txs,
                timestamp=timestamp,
                coinbase=self.validator.public_key.to_canonical_address(),
                extra_data=EXTRA_DATA,
                check_permission=self.config.permissioning.enabled,
            )
            seal = self.validator.sign_msg_hash(seal_digest(self.chain.chain_id, built.block.hash)).to_bytes()
            self.chain.commit(built.block, built.receipts, seal)
            for tx, reason in built.skipped:
                log.warning("dropped transaction %s: %s", tx.hash.hex(), reason)
            self.mempool.remove(list(built.block.transactions) + [tx for tx, _ in built.skipped])
            self.mempool.prune()
            self.mempool.sync()
            seconds = time.perf_counter() - started
            self.metrics.sealed_blocks.inc()
            self.metrics.sealed_transactions.inc(len(built.block.transactions))
            self.metrics.seal_seconds.observe(seconds)
            _log_block("sealed", built.block, seconds)
            return built.block

    def _seal_loop(self) -> None:
        sealer = self.config.sealer
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
                    if self._stopping.is_set() or not len(self.mempool) or self._open_batches:
                        break
            except Exception:
                log.exception("sealing failed; the pool is kept and sealing retries")
                time.sleep(0.5)

    # ---------------------------------------------------------------- replica

    def _follow_loop(self) -> None:
        assert self.upstream is not None
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
        assert self.upstream is not None
        start = self.chain.head.block_number + 1
        if fetch is None:
            items = call(
                self.upstream, "passport_getBlocksRlp", [hex(start), hex(FOLLOW_BATCH)], self._upstream_token
            )
            blocks = [(bytes.fromhex(i["block"][2:]), bytes.fromhex(i["seal"][2:])) for i in items]
        else:
            blocks = fetch(start, FOLLOW_BATCH)
        for raw, seal in blocks:
            self.import_block(raw, seal)
        head = self.chain.head.block_number
        self.upstream_head = max(head, self.upstream_head or 0)
        with contextlib.suppress(RpcError, OSError):  # reporting is a courtesy; following goes on
            call(
                self.upstream,
                "passport_reportReplicaHead",
                [self._replica_id, hex(head)],
                self._upstream_token,
            )
        return len(blocks)

    def import_block(self, raw: bytes, seal: bytes) -> None:
        """Verify one block from the upstream and commit it, or raise :class:`ReplicaDiverged`."""
        try:
            block = rlp.decode(raw, sedes=PassportVM.get_block_class())
        except (rlp.DecodingError, rlp.DeserializationError) as exc:
            raise ReplicaDiverged(self.chain.head.block_number + 1, "encoding", str(exc)) from None
        header = block.header
        number = header.block_number
        started = time.perf_counter()
        with self.chain.lock:
            head = self.chain.head
            if number != head.block_number + 1:
                raise ReplicaDiverged(number, "number", f"expected block {head.block_number + 1}")
            if header.parent_hash != head.hash:
                raise ReplicaDiverged(number, "parent_hash", f"does not extend our head {head.hash.hex()}")
            signer = seal_signer(self.chain.chain_id, header.hash, seal)
            if signer not in self.chain.validators:
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
                built = self.chain.build(
                    block.transactions,
                    timestamp=header.timestamp,
                    coinbase=header.coinbase,
                    extra_data=header.extra_data,
                    mix_hash=header.mix_hash,
                    strict=True,
                    check_permission=self.config.permissioning.enabled,
                )
            except BlockRejected as exc:
                self.chain.abandon()
                raise ReplicaDiverged(number, "transactions", str(exc)) from None
            except Exception as exc:
                self.chain.abandon()
                raise ReplicaDiverged(number, "execution", f"{type(exc).__name__}: {exc}") from None
            mine = built.block.header
            for name in VERIFIED_FIELDS:
                ours, theirs = getattr(mine, name), getattr(header, name)
                if ours != theirs:
                    self.chain.abandon()
                    raise ReplicaDiverged(
                        number, name, f"re-execution gives {_show(ours)}, the block has {_show(theirs)}"
                    )
            if mine.hash != header.hash:
                self.chain.abandon()
                raise ReplicaDiverged(
                    number, "hash", f"re-execution gives {mine.hash.hex()}, the block has {header.hash.hex()}"
                )
            self.chain.commit(built.block, built.receipts, seal)
        seconds = time.perf_counter() - started
        self.metrics.imported_blocks.inc()
        self.metrics.import_seconds.observe(seconds)
        _log_block("imported", built.block, seconds)


def _log_block(verb: str, block: BlockAPI, seconds: float) -> None:
    header = block.header
    log.info(
        "%s block number=%d hash=%s txs=%d gas=%d ms=%.1f",
        verb, header.block_number, header.hash.hex()[:12], len(block.transactions), header.gas_used,
        seconds * 1000,
    )  # fmt: skip


def _show(value: Any) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)
