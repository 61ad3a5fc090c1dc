"""``eth_call`` and ``eth_estimateGas`` in worker processes.

A heavy call is CPU-bound Python: run in one of the node's threads, it holds the interpreter
lock against every other request and against sealing. So calls run in a pool of worker
processes (``rpc.call_workers``), each with the chain store open read-only: LMDB serves any
number of reader processes beside the writer, and each call reads one committed version (a
read transaction) from start to end. The node's own process only waits for the answer.

Every call carries a deadline (``rpc.evm_timeout_seconds`` from its arrival, waiting for a
worker included) that the worker's EVM checks at every JUMPDEST; a worker that does not answer
by a margin past it is replaced.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import multiprocessing.pool
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lmdb
from eth.exceptions import Revert, VMError
from eth_typing import Hash32
from eth_utils import ValidationError

from passport.exceptions import EvmTimeout
from passport.node.chain import CallVM, call_on, chain_class, estimate_on
from passport.node.interpreter import deadline
from passport.node.store import DEFAULT_MAP_SIZE, MAX_READERS, StoreSnapshot

GRACE_SECONDS = 5.0  # past the deadline, a silent worker is presumed stuck and replaced


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a call or estimate came to, in a form that crosses processes.

    ``kind``: "ok" (``value`` is the output bytes or the gas), "revert" (``value`` is the revert
    data), "failure" (``value`` names the VM error class), "invalid" (``value`` says why it
    could not start), "timeout", or "missing" (the block is not in this store version).
    """

    kind: str
    value: Any = None


@dataclass(frozen=True, slots=True)
class CallRequest:
    estimate: bool
    block_hash: bytes
    sender: bytes
    to: bytes
    value: int
    data: bytes
    gas: int
    timeout: float  # seconds, from when a worker pool is up (waiting in its queue counts)
    deadline: float = 0.0  # time.monotonic(), the same clock in every process on the host; set by run


_worker: dict[str, Any] = {}


def _init_worker(store_path: str, chain_id: int) -> None:
    import passport  # noqa: F401  (the node's Keccak backend in this process too)

    _worker["env"] = lmdb.open(
        store_path, readonly=True, lock=True, subdir=True, max_readers=MAX_READERS, map_size=DEFAULT_MAP_SIZE
    )
    _worker["chain"] = chain_class(chain_id, CallVM)


def _execute(request: CallRequest) -> Outcome:
    if time.monotonic() > request.deadline:
        return Outcome("timeout")
    env = _worker["env"]
    try:
        txn = env.begin(buffers=False)
    except lmdb.MapResizedError:
        # the node's store grew past the map this process set up: take the size it has now
        env.set_mapsize(0)
        txn = env.begin(buffers=False)
    with StoreSnapshot(txn) as db:
        chain = _worker["chain"](db)
        try:
            header = chain.get_block_header_by_hash(Hash32(request.block_hash))
        except Exception:
            return Outcome("missing")
        args = (request.sender, request.to, request.value, request.data, request.gas)
        try:
            with deadline(request.deadline):
                if request.estimate:
                    return Outcome("ok", estimate_on(_worker["chain"], db, header, *args))
                computation = call_on(_worker["chain"], db, header, *args)
        except EvmTimeout:
            return Outcome("timeout")
        except ValidationError as exc:
            return Outcome("invalid", str(exc))
        except VMError as exc:
            return _failed(exc)
        if computation.is_error:
            return _failed(computation.error)
        return Outcome("ok", bytes(computation.output))


def _ready(_index: int) -> bool:
    return "chain" in _worker


def _failed(error: VMError) -> Outcome:
    if isinstance(error, Revert):
        data = error.args[0] if error.args and isinstance(error.args[0], bytes) else b""
        return Outcome("revert", bytes(data))
    return Outcome("failure", type(error).__name__)


class CallPool:
    """Worker processes for calls; started on first use, stopped with the node."""

    def __init__(self, store_path: Path, chain_id: int, workers: int) -> None:
        self._store_path = str(store_path)
        self._chain_id = chain_id
        self._workers = max(1, workers)
        self._pool: multiprocessing.pool.Pool | None = None
        self._lock = threading.Lock()
        self._closed = False

    def _get(self) -> multiprocessing.pool.Pool:
        with self._lock:
            if self._closed:
                raise RuntimeError("the node is stopping")
            if self._pool is None:
                # spawn, not fork: the node's threads and its LMDB environment must not be copied
                context = multiprocessing.get_context("spawn")
                pool = context.Pool(
                    self._workers, initializer=_init_worker, initargs=(self._store_path, self._chain_id)
                )
                # the workers' start-up (an interpreter and py-evm each) counts against no call
                pool.map(_ready, range(self._workers))
                self._pool = pool
            return self._pool

    def run(self, request: CallRequest) -> Outcome:
        pool = self._get()
        request = dataclasses.replace(request, deadline=time.monotonic() + request.timeout)
        pending = pool.apply_async(_execute, (request,))
        try:
            return pending.get(timeout=max(0.0, request.deadline - time.monotonic()) + GRACE_SECONDS)
        except multiprocessing.TimeoutError:
            self._replace(pool)
            return Outcome("timeout")

    def _replace(self, pool: multiprocessing.pool.Pool) -> None:
        """A worker did not answer: start a fresh pool (the stuck one is terminated)."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.terminate()

    def warm_up(self) -> None:
        """Start the workers now rather than on the first call."""

        def start() -> None:
            with contextlib.suppress(RuntimeError):  # the node stopped first
                self._get()

        threading.Thread(target=start, name="passport-call-pool", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()
            pool.join()
