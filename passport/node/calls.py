"""``eth_call`` and ``eth_estimateGas`` in worker processes.

A heavy call is CPU-bound Python: run in one of the node's threads, it holds the interpreter
lock against every other request and against sealing. So calls run in a pool of worker
processes (``rpc.call_workers``), each with the chain store open read-only: LMDB serves any
number of reader processes beside the writer, and each call reads one committed version (a
read transaction) from start to end. The node's own process only waits for the answer.

Every call carries a deadline (``rpc.evm_timeout_seconds`` from its arrival, waiting for a
worker included) that the worker's EVM checks at every JUMPDEST; a worker that does not answer
by a margin past it is replaced.

A worker keeps the state of the last block it served (:class:`_BlockState`): calls at that block
run on it one after another, each inside a snapshot that is reverted, so the accounts, code and
storage slots read by earlier calls are not read from the tries again, and each call starts from
the block's state exactly as a cold one would (warm/cold access sets, transient storage and
nonces are journaled and reverted too). It is dropped for a call at another block (the head
moved), and when the worker's memory passes ``MAX_WORKER_RSS``. Below it, every read goes through
:class:`~passport.node.storage.CallAccountDB`: decoded trie nodes kept by hash across blocks (a
node's hash is its content's) and up to 65,536 slots per contract (py-evm keeps 2,048). A
call runs as py-evm's ``costless_execute_transaction`` without its finalisation, which changes
only state the call discards (:func:`~passport.node.chain.run_call`), and the writes py-evm's
message building makes to the sender's account are made once per sender and kept under its
later calls (:class:`KeptCalls`). A JSON-RPC batch's calls go to the workers as a few units
(:meth:`~passport.node.workers.CallPool.run_many`) rather than one by one.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, cast

import lmdb
from eth.abc import ComputationAPI, StateAPI, VirtualMachineAPI
from eth.constants import UINT_64_MAX
from eth.exceptions import Revert, VMError
from eth.vm.forks.cancun.state import CancunTransactionExecutor
from eth.vm.message import Message
from eth_typing import Address, Hash32
from eth_utils import ValidationError

from passport.exceptions import EvmTimeout
from passport.node.chain import CallVM, call_vm_state, chain_class, estimate_on, run_call, spoofed
from passport.node.interpreter import deadline
from passport.node.storage import CALL_TRIE_NODES
from passport.node.store import DEFAULT_MAP_SIZE, MAX_READERS, StoreSnapshot

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a call or estimate came to, in a form that crosses processes.

    ``kind``: "ok" (``value`` is the output bytes or the gas), "revert" (``value`` is the revert
    data), "failure" (``value`` names the VM error class), "invalid" (``value`` says why it
    could not start), "timeout", "missing" (the block is not in this store version), or "lost"
    (``value`` says how the worker running it ended).
    """

    kind: str
    value: Any = None

    def __reduce__(self) -> tuple[Any, ...]:
        # as a plain tuple: a slotted dataclass's own pickling lists its fields every time
        return (Outcome, (self.kind, self.value))


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

    def __reduce__(self) -> tuple[Any, ...]:
        # as a plain tuple (see Outcome.__reduce__): a batch sends a thousand of these
        return (CallRequest, (self.estimate, self.block_hash, self.sender, self.to, self.value, self.data,
                              self.gas, self.timeout, self.deadline))  # fmt: skip


_worker: dict[str, Any] = {}
MAX_WORKER_RSS = 192 * 1024 * 1024  # past this, a worker drops its block state (the limit is 256 MiB)


def _init_worker(store_path: str, chain_id: int) -> None:
    import passport  # noqa: F401  (the node's Keccak backend in this process too)

    _worker["env"] = lmdb.open(
        store_path, readonly=True, lock=True, subdir=True, max_readers=MAX_READERS, map_size=DEFAULT_MAP_SIZE
    )
    _worker["chain"] = chain_class(chain_id, CallVM)
    _worker["state"] = None


class KeptCalls:
    """Calls run one after another on one kept state (a block's, in a call worker), each as
    :func:`run_call` runs it, with one saving: py-evm's message building writes the sender's
    account (its balance less a fee that is zero for a call, its nonce plus one), and those
    writes are the same for every call from that sender on that state. So they are made once, at
    the sender's first call, and kept under every later call from it; each call is reverted only
    to them. A call from another sender, or a contract creation (whose address is the nonce's),
    starts again from the untouched state. Every call is still validated as py-evm validates it:
    the sender's balance is unchanged by the kept writes, and its nonce is read from the state."""

    def __init__(self, vm: VirtualMachineAPI, state: StateAPI) -> None:
        self.vm, self.state = vm, state
        # py-evm's message building logs at debug2 (its own path then: the same log lines)
        self._traced = state.logger.show_debug2
        self._sender: bytes | None = None  # whose message-building writes the state holds
        self._untouched: Any = None  # the snapshot before them
        # (to, value, gas, intrinsic gas) of the calls validated on those writes (see run)
        self._validated: set[tuple[bytes, int, int, int]] = set()

    def run(self, sender: bytes, to: bytes, value: int, data: bytes, gas: int) -> ComputationAPI:
        state, at = self.state, Address(sender)
        executor: Any = state.get_transaction_executor()
        if (
            not to
            or type(executor).build_evm_message is not CancunTransactionExecutor.build_evm_message
            or self._traced
        ):
            self._forget()  # py-evm's own path, from the untouched state
            snapshot = state.snapshot()
            try:
                return run_call(state, spoofed(self.vm, state, sender, to, value, data, gas))
            finally:
                state.revert(snapshot)
        first = sender != self._sender
        if first:
            self._forget()
            self._untouched, self._sender = state.snapshot(), sender
        try:
            transaction = spoofed(self.vm, state, sender, to, value, data, gas)
            if first:
                executor.validate_transaction(transaction)
                balance = state.get_balance(at)
                message = executor.build_evm_message(transaction)
                # kept only if a later call validates as on the untouched state: the balance it
                # checks unchanged, the nonce it reads still below py-evm's limit
                keep = state.get_balance(at) == balance and state.get_nonce(at) < UINT_64_MAX
            else:
                # On the kept writes, py-evm's validation of a call reads the sender's balance
                # and nonce (the same for every call: each is reverted to those writes), the
                # block's fees, and the transaction's fields: its data only by the intrinsic gas
                # it costs (and by being bytes). So a call validated once validates again for
                # any data of the same intrinsic gas.
                checked = (transaction.to, transaction.value, transaction.gas, transaction.intrinsic_gas)
                if checked not in self._validated:
                    executor.validate_transaction(transaction)
                    self._validated.add(checked)
                # what py-evm's Cancun build_evm_message builds, on the writes it made before
                code, delegation = executor.get_code_at_address(transaction.to)
                message = Message(
                    gas=transaction.gas - transaction.intrinsic_gas,
                    to=transaction.to,
                    sender=transaction.sender,
                    value=transaction.value,
                    data=transaction.data,
                    code=code,
                    create_address=cast(Address, None),
                    refund=executor.calc_message_refund(transaction),
                    is_delegation=delegation is not None,
                )
                keep = True
        except BaseException:
            if first:
                self._forget()
            raise
        snapshot = state.snapshot()
        try:
            return cast(ComputationAPI, executor.build_computation(message, transaction))
        finally:
            state.revert(snapshot)
            if not keep:
                self._forget()

    def _forget(self) -> None:
        if self._untouched is not None:
            self.state.revert(self._untouched)
        self._sender = self._untouched = None
        self._validated.clear()


@dataclass
class _BlockState:
    """A worker's state of one block, kept between calls: its store snapshot (a fresh LMDB read
    transaction for each unit of calls; a block's state never changes), header, and py-evm state
    with the reads of the calls run on it so far."""

    block_hash: bytes
    db: StoreSnapshot
    header: Any
    kept: KeptCalls | None = None  # the VM and state the calls run on, built at the first call

    def run(self, request: CallRequest, at: float) -> Outcome:
        """One call on the block's state, stopped at ``at`` (``time.monotonic()``), inside a
        snapshot reverted afterwards (to the sender's message-building writes, :class:`KeptCalls`)."""
        args = (request.sender, request.to, request.value, request.data, request.gas)
        chain = _worker["chain"]
        try:
            with deadline(at):
                if request.estimate:  # its trials change the state: a state of its own
                    return Outcome("ok", estimate_on(chain, self.db, self.header, *args))
                if self.kept is None:
                    self.kept = KeptCalls(*call_vm_state(chain, self.db, self.header))
                computation = self.kept.run(*args)
        except EvmTimeout:
            return Outcome("timeout")
        except ValidationError as exc:
            return Outcome("invalid", str(exc))
        except VMError as exc:
            return _failed(exc)
        if computation.is_error:
            return _failed(computation.error)
        return Outcome("ok", bytes(computation.output))


def _begin() -> Any:
    env = _worker["env"]
    try:
        return env.begin(buffers=False)
    except lmdb.MapResizedError:
        # the node's store grew past the map this process set up: take the size it has now
        env.set_mapsize(0)
        return env.begin(buffers=False)


def _within_memory() -> bool:
    """Whether the worker is under ``MAX_WORKER_RSS``; past it, its kept state and decoded trie
    nodes are dropped."""
    if _rss() < MAX_WORKER_RSS:
        return True
    _worker["state"] = None
    CALL_TRIE_NODES.clear()
    return False


def _block_state(block_hash: bytes, txn: Any) -> _BlockState | None:
    """The worker's state of ``block_hash`` reading through ``txn``: the one it kept when it is
    of that block, else a new one (the old is dropped); None when the block is not in the store."""
    kept: _BlockState | None = _worker.get("state")
    if kept is not None and kept.block_hash == block_hash:
        kept.db.swap(txn)
        return kept
    _worker["state"] = None
    db = StoreSnapshot(txn)
    try:
        header = _worker["chain"](db).get_block_header_by_hash(Hash32(block_hash))
    except Exception:
        return None
    fresh = _BlockState(block_hash, db, header)
    _worker["state"] = fresh
    return fresh


def _execute_many(requests: list[CallRequest]) -> list[Outcome]:
    """Calls in order, each with its own deadline counted from when it starts (as if it had just
    arrived at an idle worker), on the worker's kept state of their block."""
    txn = _begin()
    try:
        out = []
        _within_memory()  # once a unit: reading /proc costs as much as a small call
        for queued in requests:
            kept = _block_state(queued.block_hash, txn)
            out.append(
                Outcome("missing") if kept is None else kept.run(queued, time.monotonic() + queued.timeout)
            )
        return out
    finally:
        txn.abort()


def _execute(request: CallRequest) -> Outcome:
    if time.monotonic() > request.deadline:
        return Outcome("timeout")
    txn = _begin()
    try:
        _within_memory()
        kept = _block_state(request.block_hash, txn)
        return Outcome("missing") if kept is None else kept.run(request, request.deadline)
    finally:
        txn.abort()


def _rss() -> int:
    """This process's resident memory, in bytes (Linux), or 0."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


def _failed(error: VMError) -> Outcome:
    if isinstance(error, Revert):
        data = error.args[0] if error.args and isinstance(error.args[0], bytes) else b""
        return Outcome("revert", bytes(data))
    return Outcome("failure", type(error).__name__)
