"""A running node: the store, the chain, the pool, the JSON-RPC server and the call workers,
started and stopped together with one consensus engine (``passport.node.consensus``): the
single sealer, the replica follower or the CometBFT application."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Any

from eth.abc import BlockAPI, SignedTransactionAPI
from eth_keys.datatypes import PrivateKey

from passport.exceptions import NodeError, ReplicaDiverged, RpcError
from passport.node.chain import NodeChain
from passport.node.config import CHAIN_DIR, Genesis, NodeConfig, is_loopback
from passport.node.consensus import Consensus
from passport.node.consensus.follower import Follower
from passport.node.consensus.sealer import SingleSealer
from passport.node.mempool import Mempool
from passport.node.metrics import NodeMetrics
from passport.node.rpc import Methods
from passport.node.rpc.codes import SERVER_ERROR
from passport.node.server import Dispatcher, RpcServer
from passport.node.store import LmdbStore
from passport.node.workers import CallPool

log = logging.getLogger("passport.node")


class Node:
    """One node. Use as a context manager, or call :meth:`start` and :meth:`stop`.

    Exactly one engine: a ``validator`` key (it seals), ``upstream`` (a replica of that URL),
    or ``cometbft_home`` (the ABCI application of the CometBFT node in that directory).
    """

    def __init__(
        self,
        data_dir: Path,
        genesis: Genesis,
        config: NodeConfig,
        validator: PrivateKey | None = None,
        upstream: str | None = None,
        cometbft_home: Path | None = None,
    ) -> None:
        if sum(x is not None for x in (validator, upstream, cometbft_home)) != 1:
            raise NodeError(
                "a node either seals (a validator key), follows another node (--replica-of) or runs "
                "under CometBFT (--consensus cometbft): exactly one of them"
            )
        self.data_dir = data_dir
        self.config = config
        self.upstream = upstream
        self.validator = validator
        host = config.rpc.host
        auth_required = bool(config.rpc.tokens) or not is_loopback(host)
        if not is_loopback(host) and not config.rpc.tokens:
            raise NodeError(
                f"refusing to listen on {host} without authentication: add rpc.tokens to the config"
            )
        self.store = LmdbStore(data_dir / CHAIN_DIR)
        try:
            self.chain = NodeChain(self.store, genesis)
            self.mempool = Mempool(
                self.chain,
                config.mempool,
                check_permission=config.permissioning.enabled,
                store=self.store if validator is not None else None,
            )
            self.metrics = NodeMetrics()
            self.consensus: Consensus
            if validator is not None:
                self.consensus = SingleSealer(self, validator)
            elif upstream is not None:
                self.consensus = Follower(self, upstream)
            else:
                from passport.node.consensus.cometbft import CometConsensus

                assert cometbft_home is not None
                self.consensus = CometConsensus(self, cometbft_home)
        except BaseException:
            self.store.close()
            raise
        self.metrics.watch(
            head=lambda: int(self.chain.head.block_number),
            pending=self.consensus.pending_count,
            replica_lag=self.replica_lags,
        )
        self.calls = CallPool(
            data_dir / CHAIN_DIR, genesis.chain_id, config.rpc.call_workers or os.cpu_count() or 2
        )
        self.methods = Methods(self, config.rpc)
        self.dispatcher = Dispatcher(self.methods, config.rpc, auth_required, self.metrics)
        self._replicas: dict[str, tuple[int, float]] = {}
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
        thread = threading.Thread(target=self._server.serve_forever, name="passport-rpc", daemon=True)
        thread.start()
        self._threads.append(thread)
        try:
            self._threads.extend(self.consensus.start())
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving, finish the block being sealed, close the store."""
        self._stopping.set()
        self.consensus.stop()
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
        return self.consensus.submit(raw)

    def submissions_batched(self) -> AbstractContextManager[None]:
        return self.consensus.submissions_batched()

    def pending_nonce(self, sender: bytes, account_nonce: int) -> int:
        return self.consensus.pending_nonce(sender, account_nonce)

    def pending_transaction(self, tx_hash: bytes) -> SignedTransactionAPI | None:
        return self.consensus.pending_transaction(tx_hash)

    def validators(self) -> list[dict[str, Any]]:
        """The consensus engine's validators: CometBFT's (ed25519 keys bound to members, with
        their power) or the single sealer's genesis validators."""
        listed = getattr(self.consensus, "validators", None)
        if listed is not None:
            return list(listed())
        return [
            {"account": v, "power": 1, "scheme": "passport-node/v1"} for v in sorted(self.chain.validators)
        ]

    def light_block(self, height: int | None) -> dict[str, Any] | None:
        """The CometBFT light block at ``height`` (see ``CometConsensus.light_block``).

        Raises:
            RpcError: this node does not run CometBFT.
        """
        light_block = getattr(self.consensus, "light_block", None)
        if light_block is None:
            raise RpcError(SERVER_ERROR, "passport_lightBlock: this node does not run CometBFT")
        result: dict[str, Any] | None = light_block(height)
        return result

    def next_base_fee(self) -> int:
        return self.mempool.next_base_fee()

    def syncing(self) -> Any:
        syncing = getattr(self.consensus, "syncing", None)
        return False if syncing is None else syncing()

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
        engine's threads run; ready when the engine says so (a replica: not diverged, within 2
        blocks of its upstream; a CometBFT node: its cometbft process runs and has caught up)."""
        worker_alive = all(t.is_alive() for t in self._threads) and not self._stopping.is_set()
        head = int(self.chain.head.block_number)
        ready, extra = self.consensus.health()
        detail: dict[str, Any] = {"head": head, "role": self.consensus.role, **extra}
        return worker_alive, worker_alive and ready, detail

    def info(self) -> dict[str, Any]:
        with self.chain.lock:
            head = self.chain.head
        return {
            "role": self.consensus.role,
            "chainId": self.chain.chain_id,
            "head": {
                "number": head.block_number,
                "hash": "0x" + head.hash.hex(),
                "timestamp": head.timestamp,
            },
            "sealer": None,
            "validators": sorted(self.chain.validators),
            "pending": self.consensus.pending_count(),
            "replicas": [
                {"id": k, "head": n, "lag": max(0, head.block_number - n)}
                for k, n in sorted(self.replica_heads().items())
            ],
            "upstream": None,
            "upstreamHead": None,
            "upstreamError": None,
            "diverged": None,
            **self.consensus.info(),
            "dataDir": str(self.data_dir),
            "storeBytes": self.store.size_bytes(),
        }

    # ---------------------------------------------------------------- engine shortcuts (tests, tools)

    def seal_once(self, allow_empty: bool = False) -> BlockAPI | None:
        """Seal one block now (single sealer only)."""
        if not isinstance(self.consensus, SingleSealer):
            raise NodeError("only a sealing node seals blocks")
        return self.consensus.seal_once(allow_empty)

    def follow_once(self, fetch: Any = None) -> int:
        """Import what the upstream has now (replica only)."""
        if not isinstance(self.consensus, Follower):
            raise NodeError("only a replica follows another node")
        return self.consensus.follow_once(fetch)

    @property
    def diverged(self) -> ReplicaDiverged | None:
        return getattr(self.consensus, "diverged", None)
