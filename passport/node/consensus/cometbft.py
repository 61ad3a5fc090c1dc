"""The node as the ABCI 2.0 application of a CometBFT node (v0.38, socket transport).

CometBFT orders transactions and decides blocks; this application executes them with the node's
chain, one EVM block per CometBFT height:

- ``CheckTx``: the node's admission (signature, chain id, nonce, balance, intrinsic gas,
  Consortium permission) against a mirror of the pool, with the reason on refusal;
- ``PrepareProposal``: orders the mempool's transactions (each sender's by nonce), builds the
  block and proposes the transactions it kept; ``ProcessProposal``: strictly re-executes a
  proposal and rejects any invalid transaction;
- ``FinalizeBlock``: executes the decided block (EVM number = height, timestamp = the block
  time in seconds, at least the parent's + 1, coinbase = the proposer's member account) and
  answers the EVM block hash as ``app_hash``, so the CometBFT header of height H+1 binds EVM
  block H; the validator updates decided on-chain come back here;
- ``Commit``: one LMDB commit (block, receipts, state, indexes, and the acknowledgements the
  block settles); ``Info``: the EVM head, so CometBFT's handshake replays what a crash lost.

A built block is kept (uncommitted, in the store's overlay) from ``PrepareProposal`` or
``ProcessProposal`` to ``FinalizeBlock`` when the decided block is the one built, so each node
executes a block once in the common case.

``eth_sendRawTransaction`` persists the transaction, then hands it to CometBFT's mempool
(``broadcast_tx_sync``, which runs ``CheckTx``); its hash is returned only when both succeeded.
Acknowledged transactions are re-broadcast after a restart (and periodically) until a committed
block carries them or ``CheckTx`` refuses them.

The ``cometbft`` process and CometBFT's JSON-RPC are in :mod:`passport.node.consensus.comet`; the
validator set governed on-chain in :mod:`passport.node.consensus.validators`.
"""

from __future__ import annotations

import base64
import contextlib
import heapq
import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from eth.abc import SignedTransactionAPI
from eth.constants import ZERO_ADDRESS
from eth_utils import keccak, to_canonical_address, to_checksum_address

from passport._proto.tendermint.abci import types_pb2 as abci
from passport.exceptions import NodeError, RpcError, TransactionRefused
from passport.node.chain import BlockRejected, BuiltBlock
from passport.node.consensus import cometbft_version
from passport.node.consensus.abci import AbciServer
from passport.node.consensus.comet import (
    CometConfig,
    CometProcess,
    comet_rpc,
    comet_rpc_batch,
    cometbft_binary,
)
from passport.node.consensus.sealer import EXTRA_DATA, log_block
from passport.node.consensus.validators import (
    VALIDATOR_PREFIX,
    ValidatorRecord,
    comet_address,
    validator_records,
    validator_updates,
)
from passport.node.rpc.codes import SERVER_ERROR

log = logging.getLogger("passport.node.cometbft")

ACK_PREFIX = b"pp:ack:"  # acknowledged transactions not yet committed: hash -> raw
TX_REFUSED = 1  # CheckTx code for a refused transaction (0 is OK)
REBROADCAST_SECONDS = 15.0
RELAY_BATCH = 500
APP_VERSION = 1
FATAL_STOP_SECONDS = 20.0


def _exit_after(seconds: float) -> None:  # pragma: no cover - only when a graceful stop hangs
    time.sleep(seconds)
    log.critical("the node did not stop within %.0f s of a fatal error: exiting now", seconds)
    os._exit(1)


class CometConsensus:
    """The CometBFT engine of a node: the ABCI application, its ``cometbft`` process and the
    acknowledged-transaction relay. See the module docstring."""

    role = "cometbft"

    def __init__(self, node: Any, home: Path) -> None:
        self.node = node
        self.chain = node.chain
        self.home = home
        self.comet = CometConfig.read(home)
        self.binary = cometbft_binary()
        accounts = node.chain.genesis.consensus_accounts
        self._accounts = {bytes.fromhex(k): to_canonical_address(v) for k, v in accounts.items()}
        self._built: tuple[tuple[Any, ...], BuiltBlock] | None = None
        self._finalized: tuple[int, BuiltBlock] | None = None
        self._stopping = threading.Event()
        self.halted: str | None = None
        self._server: AbciServer | None = None
        self._process: CometProcess | None = None
        self._last_status: dict[str, Any] = {}
        self._finalize_seconds = 0.0
        self._batching = threading.local()
        self._outbox: queue.Queue[list[tuple[bytes, bytes]]] = queue.Queue()
        self._handed: set[bytes] = set()
        # CometBFT refuses JSON-RPC batches above rpc.max_request_batch_size
        self._batch_size = min(RELAY_BATCH, self.comet.max_batch)

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> list[threading.Thread]:
        try:
            self._server = AbciServer(self.comet.abci_host, self.comet.abci_port, self)
        except OSError as exc:
            raise NodeError(
                f"cannot listen for CometBFT on {self.comet.abci_host}:{self.comet.abci_port}: {exc.strerror}"
            ) from None
        threads = [self._server.serve_in_thread()]
        self._process = CometProcess(self.binary, self.home, self._diverged)
        self._process.start()
        for target, name in ((self._relay_loop, "passport-rebroadcast"), (self._relay_out, "passport-relay")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            threads.append(thread)
        return threads

    def stop(self) -> None:
        self._stopping.set()
        if self._process is not None:
            self._process.stop()
        if self._server is not None:
            self._server.close()

    def fatal(self, message: str) -> None:
        """Stop the node: its state cannot follow the network. The graceful stop (SIGTERM) gets
        FATAL_STOP_SECONDS; past them the process exits at once (every commit is atomic, so an
        abrupt exit loses nothing acknowledged)."""
        if self.halted is None:
            self.halted = message
            log.critical("%s; stopping this node", message)
            threading.Thread(target=_exit_after, args=(FATAL_STOP_SECONDS,), daemon=True).start()
            os.kill(os.getpid(), signal.SIGTERM)

    def _diverged(self, ours: str, network: str) -> None:
        self.fatal(
            "this node's state diverged from the network: its last block hash (app hash) is "
            f"0x{ours.lower()}, "
            f"the network's is 0x{network.lower()}; the store in {self.node.data_dir} does not match the "
            "chain: restore it from a backup or delete it to replay the chain from CometBFT"
        )

    # ---------------------------------------------------------------- submissions

    def submit(self, raw: bytes) -> bytes:
        """Admit ``raw`` (the same checks ``CheckTx`` runs), make it durable, and queue it for
        CometBFT's mempool; the hash is returned once it is durable. Inside a JSON-RPC batch the
        batch's transactions are made durable together, before the batch is answered."""
        with self.chain.lock:
            tx_hash = bytes(self.node.mempool.add(raw))
        state = self._batching
        if getattr(state, "active", False):
            state.pending.append((tx_hash, raw))
        else:
            self._acknowledge([(tx_hash, raw)])
        return tx_hash

    @contextlib.contextmanager
    def submissions_batched(self) -> Iterator[None]:
        state = self._batching
        if getattr(state, "active", False):
            yield
            return
        state.active, state.pending = True, []
        try:
            yield
        finally:
            state.active = False
            if state.pending:
                self._acknowledge(state.pending)

    def _acknowledge(self, items: list[tuple[bytes, bytes]]) -> None:
        try:
            self.node.store.write_through({ACK_PREFIX + tx_hash: raw for tx_hash, raw in items})
        except BaseException:
            with self.chain.lock:
                for tx_hash, _ in items:
                    entry = self.node.mempool.get(tx_hash)
                    if entry is not None:
                        self.node.mempool.remove([entry.tx])
            raise
        self._outbox.put(items)

    def _relay_out(self) -> None:
        """Hand acknowledged transactions to CometBFT's mempool, in order, many per request."""
        while not self._stopping.is_set():
            try:
                items = self._outbox.get(timeout=0.5)
            except queue.Empty:
                continue
            while len(items) < self._batch_size:
                try:
                    items = items + self._outbox.get_nowait()
                except queue.Empty:
                    break
            for start in range(0, len(items), self._batch_size):
                self._broadcast(items[start : start + self._batch_size])

    def _broadcast(self, items: list[tuple[bytes, bytes]]) -> int:
        """``broadcast_tx_sync`` of each item, in one JSON-RPC batch; returns how many CometBFT
        took. A refused transaction that no block carries loses its acknowledgement (logged);
        an unreachable CometBFT leaves them for the periodic re-broadcast."""
        calls = [("broadcast_tx_sync", {"tx": base64.b64encode(raw).decode()}) for _, raw in items]
        try:
            answers = comet_rpc_batch(self.comet.rpc_url, calls)
        except OSError as exc:
            log.warning("CometBFT did not take %d transactions (re-broadcast later): %s", len(items), exc)
            return 0
        taken = 0
        for (tx_hash, _), (result, error) in zip(items, answers, strict=True):
            if error is not None and "already exists in cache" not in error:
                log.warning("CometBFT did not take 0x%s (re-broadcast later): %s", tx_hash.hex(), error)
                continue
            if result is not None and int(result.get("code", 0)) != 0:
                with self.chain.lock:
                    committed = self.chain.transaction_location(tx_hash) is not None
                if not committed:
                    log.warning(
                        "acknowledged transaction 0x%s is now refused: %s", tx_hash.hex(), result.get("log")
                    )
                    self.node.store.write_through({ACK_PREFIX + tx_hash: None})
                continue
            self._handed.add(tx_hash)
            taken += 1
        return taken

    def pending_nonce(self, sender: bytes, account_nonce: int) -> int:
        with self.chain.lock:
            return int(self.node.mempool.pending_nonce(sender, account_nonce))

    def pending_transaction(self, tx_hash: bytes) -> SignedTransactionAPI | None:
        entry = self.node.mempool.get(tx_hash)
        return None if entry is None else entry.tx

    def pending_count(self) -> int:
        return len(self.node.mempool)

    def _relay_loop(self) -> None:
        """Re-broadcast acknowledged transactions no block has carried yet: at start (CometBFT's
        mempool does not survive a restart), then every REBROADCAST_SECONDS."""
        while not self._stopping.is_set():
            with contextlib.suppress(OSError, RpcError):
                self._last_status = comet_rpc(self.comet.rpc_url, "status", {}, timeout=5)
                break
            self._stopping.wait(0.2)
        rounds = 0
        while not self._stopping.is_set():
            try:
                self.rebroadcast(everything=rounds % 4 == 0)
            except Exception:
                log.exception("re-broadcasting acknowledged transactions failed; retrying")
            rounds += 1
            self._stopping.wait(REBROADCAST_SECONDS)
            with contextlib.suppress(OSError, RpcError):
                self._last_status = comet_rpc(self.comet.rpc_url, "status", {}, timeout=5)

    def rebroadcast(self, everything: bool = False) -> int:
        """Hand acknowledged, uncommitted transactions to CometBFT again (all of them, or those
        not handed since this process started); returns how many it took."""
        pending: list[tuple[bytes, bytes]] = []
        settled: dict[bytes, bytes | None] = {}
        for key, raw in self.node.store.prefixed(ACK_PREFIX):
            tx_hash = key[len(ACK_PREFIX) :]
            with self.chain.lock:
                committed = self.chain.transaction_location(tx_hash) is not None
            if committed:
                settled[key] = None
            elif everything or tx_hash not in self._handed:
                pending.append((tx_hash, raw))
        if settled:
            self.node.store.write_through(settled)
        sent = 0
        for start in range(0, len(pending), self._batch_size):
            sent += self._broadcast(pending[start : start + self._batch_size])
        if sent:
            log.info("re-broadcast %d acknowledged transactions", sent)
        return sent

    # ---------------------------------------------------------------- status

    def health(self) -> tuple[bool, dict[str, Any]]:
        running = self._process is not None and self._process.running()
        sync = self._last_status.get("sync_info", {})
        catching_up = bool(sync.get("catching_up", False))
        detail = {"cometbft": running, "catchingUp": catching_up, "halted": self.halted}
        return running and not catching_up and self.halted is None, detail

    def info(self) -> dict[str, Any]:
        validator = self._last_status.get("validator_info", {})
        return {
            "cometbft": {
                "version": cometbft_version(),
                "chainId": self.comet.chain_id,
                "home": str(self.home),
                "rpc": self.comet.rpc_url,
                "running": self._process is not None and self._process.running(),
                "validatorAddress": validator.get("address"),
                "votingPower": int(validator.get("voting_power", 0) or 0),
                "halted": self.halted,
            }
        }

    # ---------------------------------------------------------------- ABCI

    def handle(self, kind: str, request: Any) -> Any:
        handler = getattr(self, f"abci_{kind}", None)
        if handler is None:
            return _EMPTY_RESPONSES[kind]()
        return handler(request)

    def abci_info(self, request: abci.RequestInfo) -> abci.ResponseInfo:
        with self.chain.lock:
            head = self.chain.head
        number = int(head.block_number)
        return abci.ResponseInfo(
            data="mineral-passport",
            version=cometbft_version(),
            app_version=APP_VERSION,
            last_block_height=number,
            last_block_app_hash=bytes(head.hash) if number else b"",
        )

    def abci_init_chain(self, request: abci.RequestInitChain) -> abci.ResponseInitChain:
        if request.initial_height > 1:
            raise NodeError("the EVM block number is the CometBFT height: initial_height must be 1")
        validators: dict[bytes, bytes | None] = {}
        for update in request.validators:
            key = bytes(update.pub_key.ed25519)
            if len(key) != 32:
                raise NodeError("validators must have ed25519 keys")
            address = comet_address(key)
            account = self._accounts.get(address, ZERO_ADDRESS)
            power = int(update.power).to_bytes(8, "big")
            validators[VALIDATOR_PREFIX + address] = key + account + power + power
        with self.chain.lock:
            self.node.store.write_through(validators)
            genesis_hash = self.chain.genesis_hash
        return abci.ResponseInitChain(app_hash=genesis_hash)

    def abci_query(self, request: abci.RequestQuery) -> abci.ResponseQuery:
        with self.chain.lock:
            head = self.chain.head
        return abci.ResponseQuery(
            code=0, height=int(head.block_number), value=bytes(head.hash), log="the EVM head; use JSON-RPC"
        )

    def abci_check_tx(self, request: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        raw = bytes(request.tx)
        mempool = self.node.mempool
        with self.chain.lock:
            try:
                # a transaction's hash is the keccak of its encoding: the pool's own (relayed
                # from this node, or rechecked after a block) pass without being decoded again
                known = mempool.get(keccak(raw))
                if known is not None:
                    return abci.ResponseCheckTx(code=0, gas_wanted=int(known.tx.gas))
                tx_hash = mempool.add(raw)
            except TransactionRefused as exc:
                return abci.ResponseCheckTx(code=TX_REFUSED, log=str(exc), codespace="passport")
            entry = mempool.get(tx_hash)
        gas = int(entry.tx.gas) if entry is not None else 0
        return abci.ResponseCheckTx(code=0, gas_wanted=gas)

    def abci_prepare_proposal(self, request: abci.RequestPrepareProposal) -> abci.ResponsePrepareProposal:
        decoded: list[SignedTransactionAPI] = []
        raw_of: dict[bytes, bytes] = {}
        for raw in request.txs:
            try:
                tx = self._decode(bytes(raw))
                _ = tx.sender
            except (TransactionRefused, ValueError):
                continue
            if tx.hash in raw_of:
                continue
            raw_of[bytes(tx.hash)] = bytes(raw)
            decoded.append(tx)
        ordered = order_by_nonce(decoded)
        with self.chain.lock:
            built = self._build(ordered, request, strict=False)
            kept = [raw_of[bytes(tx.hash)] for tx in built.block.transactions]
            for tx, reason in built.skipped:
                log.info("left transaction 0x%s out of the proposal: %s", bytes(tx.hash).hex(), reason)
            self._built = (self._key(request, kept), built)
        return abci.ResponsePrepareProposal(txs=kept)

    def _decode(self, raw: bytes) -> SignedTransactionAPI:
        """The pool's decoded transaction for ``raw`` (sender already recovered), or a fresh
        decoding of it."""
        known = self.node.mempool.get(keccak(raw))
        tx: SignedTransactionAPI = known.tx if known is not None else self.node.mempool.decode(raw)
        return tx

    def _coinbase(self, proposer: bytes) -> bytes:
        stored = self.node.store.get(VALIDATOR_PREFIX + bytes(proposer))
        if stored is not None:
            return ValidatorRecord.decode(stored).account
        return self._accounts.get(bytes(proposer), ZERO_ADDRESS)

    def _build(self, txs: Sequence[SignedTransactionAPI], request: Any, strict: bool) -> BuiltBlock:
        """Build the block of ``request`` (height, time, proposer) on the head; the caller holds
        the chain lock. Raises BlockRejected (strict) or NodeError (wrong height)."""
        chain = self.chain
        height = int(request.height)
        parent = chain.head
        if height != parent.block_number + 1:
            raise NodeError(f"CometBFT asks for height {height}, the EVM head is {parent.block_number}")
        self._discard_built()
        timestamp = max(int(request.time.seconds), int(parent.timestamp) + 1)
        built: BuiltBlock = chain.build(
            txs,
            timestamp=timestamp,
            coinbase=self._coinbase(request.proposer_address),
            extra_data=EXTRA_DATA,
            strict=strict,
            check_permission=self.node.config.permissioning.enabled,
        )
        return built

    def _discard_built(self) -> None:
        if self._built is not None:
            self._built = None
            self.chain.abandon()

    def _key(self, request: Any, raws: Sequence[bytes]) -> tuple[Any, ...]:
        return (
            int(request.height),
            int(request.time.seconds),
            bytes(request.proposer_address),
            tuple(raws),
        )

    def abci_process_proposal(self, request: abci.RequestProcessProposal) -> abci.ResponseProcessProposal:
        raws = [bytes(tx) for tx in request.txs]
        key = self._key(request, raws)
        with self.chain.lock:
            if self._built is not None and self._built[0] == key:
                return abci.ResponseProcessProposal(status=abci.ResponseProcessProposal.ACCEPT)
            try:
                txs = [self._decode(raw) for raw in raws]
                built = self._build(txs, request, strict=True)
            except (BlockRejected, RpcError) as exc:
                self.chain.abandon()
                log.warning("rejected the proposal for height %d: %s", request.height, exc)
                return abci.ResponseProcessProposal(status=abci.ResponseProcessProposal.REJECT)
            self._built = (key, built)
        return abci.ResponseProcessProposal(status=abci.ResponseProcessProposal.ACCEPT)

    def abci_finalize_block(self, request: abci.RequestFinalizeBlock) -> abci.ResponseFinalizeBlock:
        raws = [bytes(tx) for tx in request.txs]
        key = self._key(request, raws)
        started = time.perf_counter()
        with self.chain.lock:
            if self._built is not None and self._built[0] == key:
                built = self._built[1]
                self._built = None
            else:
                try:
                    txs = [self._decode(raw) for raw in raws]
                    built = self._build(txs, request, strict=True)
                except (BlockRejected, RpcError, NodeError) as exc:
                    self.chain.abandon()
                    message = getattr(exc, "message", str(exc))
                    self.fatal(f"the network decided block {request.height}, which fails here: {message}")
                    raise
            updates = validator_updates(self.chain, self.node.store, built)
            self._finalized = (int(request.height), built)
        results = [
            abci.ExecTxResult(
                code=0,
                gas_wanted=int(tx.gas),
                gas_used=int(receipt.gas_used) - int(previous),
                log="" if receipt.state_root == b"\x01" else "reverted",
            )
            for tx, receipt, previous in zip(
                built.block.transactions,
                built.receipts,
                [0, *(r.gas_used for r in built.receipts)],
                strict=False,
            )
        ]
        self._finalize_seconds = time.perf_counter() - started
        return abci.ResponseFinalizeBlock(
            tx_results=results, validator_updates=updates, app_hash=bytes(built.block.hash)
        )

    def validators(self) -> list[dict[str, Any]]:
        """The validator set the chain has (power > 0) and every validator it has known."""
        with self.chain.lock:
            records = validator_records(self.node.store)
        return [
            {
                "address": address.hex().upper(),
                "pubKey": base64.b64encode(r.key).decode(),
                "account": to_checksum_address(r.account) if r.account != ZERO_ADDRESS else None,
                "power": r.power,
                "genesisPower": r.genesis_power,
            }
            for address, r in sorted(records.items())
        ]

    def light_block(self, height: int | None) -> dict[str, Any] | None:
        """CometBFT's signed header at ``height`` (default: the latest with a commit) and the
        validator set that signed it, in CometBFT's JSON (``/commit``, ``/validators``): what a
        light client verifies. None for a height CometBFT has not committed.

        Raises:
            RpcError: CometBFT refused (a pruned height, say) or is unreachable.
        """
        url = self.comet.rpc_url
        try:
            commit = comet_rpc(url, "commit", {} if height is None else {"height": str(height)}, timeout=10)
            signed = commit["signed_header"]
            at = signed["header"]["height"]
            validators: list[dict[str, Any]] = []
            page = 1
            while True:
                part = comet_rpc(
                    url, "validators", {"height": at, "page": str(page), "per_page": "100"}, timeout=10
                )
                validators += part["validators"]
                if not part["validators"] or len(validators) >= int(part["total"]):
                    break
                page += 1
        except RpcError as exc:
            if "must be less than or equal to the current blockchain height" in exc.message:
                return None
            raise RpcError(SERVER_ERROR, f"CometBFT: {exc.message}") from None
        except OSError as exc:
            raise RpcError(SERVER_ERROR, str(exc)) from None
        return {
            "signed_header": signed,
            "canonical": bool(commit.get("canonical")),
            "validator_set": {"validators": validators},
        }

    def abci_commit(self, request: abci.RequestCommit) -> abci.ResponseCommit:
        if self._finalized is None:
            raise NodeError("Commit without a finalized block")
        started = time.perf_counter()
        _, built = self._finalized
        mempool = self.node.mempool
        store = self.node.store
        with self.chain.lock:
            for tx in built.block.transactions:
                key = ACK_PREFIX + bytes(tx.hash)
                if key in store:
                    del store[key]  # settled, atomically with the block
            self.chain.commit(built.block, built.receipts, b"")
            self._finalized = None
            mempool.remove(list(built.block.transactions))
            mempool.prune()
        seconds = self._finalize_seconds + time.perf_counter() - started
        self.node.metrics.sealed_blocks.inc()
        self.node.metrics.sealed_transactions.inc(len(built.block.transactions))
        self.node.metrics.seal_seconds.observe(seconds)
        if built.block.transactions:
            log_block("committed", built.block, seconds)
        return abci.ResponseCommit(retain_height=0)


def order_by_nonce(txs: Sequence[SignedTransactionAPI]) -> list[SignedTransactionAPI]:
    """Each sender's transactions in nonce order, senders interleaved by first arrival."""
    by_sender: dict[bytes, list[tuple[int, int, SignedTransactionAPI]]] = {}
    for index, tx in enumerate(txs):
        by_sender.setdefault(bytes(tx.sender), []).append((int(tx.nonce), index, tx))
    heap: list[tuple[int, bytes]] = []
    for sender, waiting in by_sender.items():
        waiting.sort(key=lambda item: item[0])
        heap.append((min(item[1] for item in waiting), sender))
    heapq.heapify(heap)
    out: list[SignedTransactionAPI] = []
    positions = dict.fromkeys(by_sender, 0)
    while heap:
        _, sender = heapq.heappop(heap)
        waiting = by_sender[sender]
        position = positions[sender]
        out.append(waiting[position][2])
        positions[sender] = position + 1
        if position + 1 < len(waiting):
            heapq.heappush(heap, (waiting[position + 1][1], sender))
    return out


_EMPTY_RESPONSES: dict[str, Any] = {
    "list_snapshots": abci.ResponseListSnapshots,
    "offer_snapshot": abci.ResponseOfferSnapshot,
    "load_snapshot_chunk": abci.ResponseLoadSnapshotChunk,
    "apply_snapshot_chunk": abci.ResponseApplySnapshotChunk,
    "extend_vote": abci.ResponseExtendVote,
    "verify_vote_extension": lambda: abci.ResponseVerifyVoteExtension(
        status=abci.ResponseVerifyVoteExtension.ACCEPT
    ),
}
