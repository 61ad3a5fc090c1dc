"""The node's chain: py-evm (Cancun) over the LMDB store, one-pass block building, seals,
log indexes and the Consortium permission check.

Every method runs under :attr:`NodeChain.lock`; py-evm is not thread-safe, and holding the
lock from the first state write of a block to its commit means no reader ever sees a block
(or its receipts) that is not yet on disk. Calls (``eth_call``, ``eth_estimateGas``) run apart,
in worker processes (``passport.node.calls``), through :func:`call_on` and :func:`estimate_on`.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import rlp
from eth.abc import (
    BlockAPI,
    BlockHeaderAPI,
    ComputationAPI,
    ReceiptAPI,
    SignedTransactionAPI,
    StateAPI,
    VirtualMachineAPI,
    WithdrawalAPI,
)
from eth.chains.base import BaseChain, Chain
from eth.constants import ZERO_ADDRESS, ZERO_HASH32
from eth.db.schema import SchemaV1
from eth.exceptions import BlockNotFound, HeaderNotFound, TransactionNotFound, VMError
from eth.vm.forks.cancun import CancunVM
from eth.vm.forks.cancun.blocks import CancunBlock
from eth.vm.forks.cancun.state import CancunState
from eth.vm.spoof import SpoofTransaction
from eth_abi import encode as abi_encode
from eth_typing import Address, BlockNumber, Hash32
from eth_utils import ValidationError, keccak, to_canonical_address, to_checksum_address

from passport.exceptions import NodeError
from passport.node.config import Genesis
from passport.node.interpreter import BoundedComputation, PassportComputation
from passport.node.storage import CallAccountDB, PassportAccountDB
from passport.node.store import LmdbStore
from passport.node.tries import ordered_trie

GENESIS_KEY = b"pp:genesis"
SEAL_PREFIX = b"pp:seal:"
ADDRESS_INDEX = b"pp:la:"
TOPIC_INDEX = b"pp:lt:"
ALLOWLIST_PREFIX = b"pp:allow:"
ALLOWED_SELECTOR = keccak(b"transactionAllowed(address,address,uint256,uint256,uint256,bytes)")[:4]
PERMISSION_CALL_GAS = 1_000_000
CACHE_BLOCKS = 256
CACHE_HEADERS = 65_536  # decoded headers by hash (about 1 KB each; a header never changes)
CACHE_TRANSACTIONS = 10_000


class PassportState(CancunState):
    """Cancun state whose computations run the inline opcode loop (same results, less time)."""

    computation_class = PassportComputation
    account_db_class = PassportAccountDB


class PassportBlock(CancunBlock):
    """A Cancun block whose ``copy`` shares its transactions, uncles and withdrawals.

    rlp's ``Serializable.copy`` deep-copies every field it is not given, and py-evm copies the
    block twice per sealed block (to set the state root, then to pack it), rebuilding every
    transaction each time. Those items are immutable rlp objects, so sharing them is safe; the
    encoding and hash are unchanged.
    """

    def copy(self, *args: Any, **kwargs: Any) -> PassportBlock:
        if not args:
            for name in ("transactions", "uncles", "withdrawals"):
                kwargs.setdefault(name, getattr(self, name))
        return cast(PassportBlock, super().copy(*args, **kwargs))


class PassportVM(CancunVM):
    """Cancun rules, executed with :class:`PassportComputation`, and per-block tries built in
    one pass (:func:`ordered_trie`); the results are stock py-evm's."""

    _state_class = PassportState
    block_class = PassportBlock

    def set_block_transactions_and_withdrawals(
        self,
        base_block: BlockAPI,
        new_header: BlockHeaderAPI,
        transactions: Sequence[SignedTransactionAPI],
        receipts: Sequence[ReceiptAPI],
        withdrawals: Sequence[WithdrawalAPI] | None = None,
    ) -> BlockAPI:
        # py-evm's VM.set_block_transactions_and_withdrawals, with ordered_trie
        fields: dict[str, Any] = {"transactions": transactions}
        roots: dict[str, bytes] = {}
        for name, items in (("transaction_root", transactions), ("receipt_root", receipts)):
            roots[name], nodes = ordered_trie([item.encode() for item in items])
            self.chaindb.persist_trie_data_dict(nodes)
        if withdrawals:
            roots["withdrawals_root"], nodes = ordered_trie([w.encode() for w in withdrawals])
            self.chaindb.persist_trie_data_dict(nodes)
            fields["withdrawals"] = withdrawals
        fields["header"] = new_header.copy(**roots)
        return base_block.copy(**fields)


class CallState(PassportState):
    """The state ``eth_call`` and ``eth_estimateGas`` run on: computations that stop at a
    wall-clock deadline, reading through :class:`~passport.node.storage.CallAccountDB`."""

    computation_class = BoundedComputation
    account_db_class = CallAccountDB


class CallVM(PassportVM):
    _state_class = CallState


class _PassportChain(Chain):
    vm_configuration: tuple[tuple[BlockNumber, type[VirtualMachineAPI]], ...] = (
        (BlockNumber(0), PassportVM),
    )

    def create_header_from_parent(
        self, parent_header: BlockHeaderAPI, **header_params: Any
    ) -> BlockHeaderAPI:
        # A consortium chain keeps the genesis gas limit (no miner votes to move it).
        header_params.setdefault("gas_limit", parent_header.gas_limit)
        return super().create_header_from_parent(parent_header, **header_params)


@dataclass
class BuiltBlock:
    block: BlockAPI
    receipts: tuple[ReceiptAPI, ...]
    skipped: list[tuple[SignedTransactionAPI, str]] = field(default_factory=list)
    deferred: list[SignedTransactionAPI] = field(default_factory=list)


class BlockRejected(NodeError):
    """A transaction of a block being imported is invalid (strict execution)."""

    def __init__(self, index: int, reason: str) -> None:
        self.index = index
        self.reason = reason
        super().__init__(f"transaction {index}: {reason}")


class NodeChain:
    """One chain in one store; see the module docstring for the locking rule."""

    def __init__(self, store: LmdbStore, genesis: Genesis) -> None:
        self.store = store
        self.genesis = genesis
        self.chain_id = genesis.chain_id
        self.lock = threading.RLock()
        self.validators = {to_checksum_address(v) for v in genesis.validators}
        self.consortium = to_canonical_address(genesis.consortium) if genesis.consortium else None
        self._chain_class = chain_class(genesis.chain_id)
        stored = store.get(GENESIS_KEY)
        encoded = _canonical_json(genesis.to_json())
        if stored is None:
            self._chain = self._chain_class.from_genesis(
                store, _genesis_params(genesis), cast(Any, _genesis_state(genesis))
            )
            store[GENESIS_KEY] = encoded
            for address in genesis.allowlist:
                store[ALLOWLIST_PREFIX + to_canonical_address(address)] = b"1"
            store.commit()
        elif stored != encoded:
            raise NodeError(
                f"the store in {store.path} was created from a different genesis; refusing to open it"
            )
        else:
            self._chain = self._chain_class(store)
        self._blocks: OrderedDict[bytes, tuple[BlockAPI, tuple[ReceiptAPI, ...]]] = OrderedDict()
        self._cached_txs = 0
        self._headers: OrderedDict[bytes, BlockHeaderAPI] = OrderedDict()
        self._head: BlockHeaderAPI | None = None
        self._head_state: tuple[bytes, StateAPI] | None = None
        self._permission_cache: dict[bytes, bool] = {}
        self._permission_head: bytes = b""

    # ---------------------------------------------------------------- reads

    @property
    def head(self) -> BlockHeaderAPI:
        if self._head is None:
            self._head = self._chain.get_canonical_head()
        return self._head

    def head_state(self) -> StateAPI:
        """The state after the head, reused until the next block (read it, never write it)."""
        head = self.head
        if self._head_state is None or self._head_state[0] != head.hash:
            self._head_state = (head.hash, self.state_at(head))
        return self._head_state[1]

    @property
    def genesis_hash(self) -> bytes:
        return bytes(self._chain.get_canonical_block_hash(BlockNumber(0)))

    def _header(self, block_hash: bytes) -> BlockHeaderAPI:
        """The header of ``block_hash``, decoded once (a bounded cache: a scan of logs or headers
        reads hundreds of them, each RLP-decoded by py-evm otherwise)."""
        header = self._headers.get(block_hash)
        if header is None:
            header = self._chain.get_block_header_by_hash(Hash32(block_hash))
            self._headers[block_hash] = header
            while len(self._headers) > CACHE_HEADERS:
                with contextlib.suppress(KeyError):
                    self._headers.popitem(last=False)
        return header

    def header_by_number(self, number: int) -> BlockHeaderAPI | None:
        # the canonical hash from the store every time (the key and encoding py-evm's HeaderDB
        # reads, without its per-call checks); the header by hash from the cache
        try:
            encoded = self.store[SchemaV1.make_block_number_to_hash_lookup_key(BlockNumber(number))]
            return self._header(rlp.decode(encoded, sedes=rlp.sedes.binary))
        except (HeaderNotFound, BlockNotFound, KeyError):
            return None

    def header_by_hash(self, block_hash: bytes) -> BlockHeaderAPI | None:
        try:
            header = self._header(block_hash)
        except (HeaderNotFound, BlockNotFound, KeyError, ValidationError):
            return None
        if self.header_by_number(header.block_number) != header:
            return None  # not canonical (cannot happen without forks, but never serve it)
        return header

    def block_and_receipts(self, header: BlockHeaderAPI) -> tuple[BlockAPI, tuple[ReceiptAPI, ...]]:
        """The block and its receipts, from a bounded cache."""
        cached = self._blocks.get(header.hash)
        if cached is not None:
            self._blocks.move_to_end(header.hash)
            return cached
        block = self._chain.get_block_by_header(header)
        receipts = tuple(block.get_receipts(self._chain.chaindb))
        self._remember(block, receipts)
        return block, receipts

    def _remember(self, block: BlockAPI, receipts: tuple[ReceiptAPI, ...]) -> None:
        """Cache a block and its receipts; the cache is bounded in blocks and in transactions."""
        self._blocks[block.hash] = (block, receipts)
        self._cached_txs += len(block.transactions)
        while len(self._blocks) > CACHE_BLOCKS or (
            self._cached_txs > CACHE_TRANSACTIONS and len(self._blocks) > 1
        ):
            _, (old, _) = self._blocks.popitem(last=False)
            self._cached_txs -= len(old.transactions)

    def transaction_location(self, tx_hash: bytes) -> tuple[int, int] | None:
        try:
            number, index = self._chain.chaindb.get_transaction_index(Hash32(tx_hash))
        except (TransactionNotFound, KeyError):
            return None
        return int(number), int(index)

    def seal(self, block_hash: bytes) -> bytes | None:
        return self.store.get(SEAL_PREFIX + block_hash)

    def state_at(self, header: BlockHeaderAPI) -> StateAPI:
        return self.vm_at(header).state

    def vm_at(self, header: BlockHeaderAPI) -> VirtualMachineAPI:
        return self._chain.get_vm(header)

    def blocks_with_logs(
        self, start: int, stop: int, addresses: Sequence[bytes], topic_sets: Sequence[Sequence[bytes]] = ()
    ) -> set[int]:
        """Blocks in [start, stop] that log any of ``addresses`` (if given) and, for each
        non-empty one of ``topic_sets``, any of its topics, from the indexes: no block outside
        the answer is read. The topic index does not say at which position a topic was logged,
        so the answer may hold blocks whose logs match no position: the caller matches them.
        A set with more topics than there are blocks left to read is not looked up (its scans
        would cost more than reading those blocks)."""
        found: set[int] | None = None
        lookups = [(ADDRESS_INDEX, addresses)] + [(TOPIC_INDEX, t) for t in sorted(topic_sets, key=len)]
        low, high = start.to_bytes(8, "big"), (stop + 1).to_bytes(8, "big")
        for prefix, keys_ in lookups:
            if not keys_ or (found is not None and len(keys_) > len(found)):
                continue
            ranges = ((prefix + key + low, prefix + key + high) for key in keys_)
            blocks = {int.from_bytes(k[-8:], "big") for k in self.store.scan_ranges(ranges)}
            found = blocks if found is None else found & blocks
        return found if found is not None else set(range(start, stop + 1))

    # ---------------------------------------------------------------- permissioning

    def allowlisted(self, address: bytes) -> bool:
        return self.store.get(ALLOWLIST_PREFIX + address) is not None

    def allowlist(self) -> list[str]:
        end = ALLOWLIST_PREFIX[:-1] + bytes([ALLOWLIST_PREFIX[-1] + 1])
        return [
            to_checksum_address(k[len(ALLOWLIST_PREFIX) :]) for k in self.store.scan(ALLOWLIST_PREFIX, end)
        ]

    def set_allowlisted(self, addresses: Iterable[bytes], allowed: bool) -> None:
        with self.lock:
            for address in addresses:
                key = ALLOWLIST_PREFIX + address
                if allowed:
                    self.store[key] = b"1"
                elif key in self.store:
                    del self.store[key]
            self.store.commit()

    def permitted(self, header: BlockHeaderAPI, tx: SignedTransactionAPI) -> bool:
        """The sender is on the allowlist or the Consortium's ``transactionAllowed`` says yes on
        the state after ``header``. The answer is cached per sender and block: this
        Consortium's rule depends on the sender only (see IConsortium)."""
        sender = tx.sender
        if self.allowlisted(sender):
            return True
        if self.consortium is None:
            return False
        if self._permission_head != header.hash:
            self._permission_cache = {}
            self._permission_head = header.hash
        cached = self._permission_cache.get(sender)
        if cached is None:
            cached = self._consortium_allows(header, tx)
            self._permission_cache[sender] = cached
        return cached

    def _consortium_allows(self, header: BlockHeaderAPI, tx: SignedTransactionAPI) -> bool:
        assert self.consortium is not None
        vm = self.vm_at(header)
        code = vm.state.get_code(self.consortium)
        if not code:
            return False
        gas_price = tx.max_fee_per_gas
        payload = abi_encode(
            ["address", "address", "uint256", "uint256", "uint256", "bytes"],
            [tx.sender, tx.to or ZERO_ADDRESS, tx.value, gas_price, tx.gas, tx.data],
        )
        computation = vm.execute_bytecode(
            origin=ZERO_ADDRESS,
            gas_price=0,
            gas=PERMISSION_CALL_GAS,
            to=self.consortium,
            sender=ZERO_ADDRESS,
            value=0,
            data=ALLOWED_SELECTOR + payload,
            code=code,
        )
        return bool(not computation.is_error and computation.output == (1).to_bytes(32, "big"))

    # ---------------------------------------------------------------- building and committing blocks

    def build(
        self,
        transactions: Sequence[SignedTransactionAPI],
        *,
        timestamp: int,
        coinbase: bytes,
        extra_data: bytes = b"",
        mix_hash: bytes = ZERO_HASH32,
        strict: bool = False,
        check_permission: bool = True,
    ) -> BuiltBlock:
        """Execute ``transactions`` on top of the head in one pass and return the sealed-to-be block.

        Not strict (sealing): invalid or non-permitted transactions are skipped with their
        reason; transactions that no longer fit the gas limit are deferred. Strict
        (importing): any of those raises :class:`BlockRejected`. Writes stay in the store's
        overlay until :meth:`commit` (or :meth:`abandon`).
        """
        parent = self.head
        header = self._chain.create_header_from_parent(
            parent, timestamp=timestamp, coinbase=coinbase, extra_data=extra_data, mix_hash=mix_hash
        )
        vm = self._chain.get_vm(header)
        cast(PassportVM, vm).block_preprocessing(vm.get_block())
        included: list[SignedTransactionAPI] = []
        receipts: list[ReceiptAPI] = []
        result = BuiltBlock(block=vm.get_block(), receipts=())
        running = header
        for index, tx in enumerate(transactions):
            if check_permission and not self.permitted(parent, tx):
                reason = (
                    f"account {to_checksum_address(tx.sender)} is not permitted to transact on this chain"
                )
                if strict:
                    raise BlockRejected(index, reason)
                result.skipped.append((tx, reason))
                continue
            if tx.gas < tx.intrinsic_gas:
                # py-evm 0.12.1b1 executes a typed transaction whose gas is below its intrinsic
                # gas (access lists, data); the protocol, and admission, refuse it
                reason = f"intrinsic gas too low: gas {tx.gas}, needs at least {tx.intrinsic_gas}"
                if strict:
                    raise BlockRejected(index, reason)
                result.skipped.append((tx, reason))
                continue
            if tx.gas > running.gas_limit - running.gas_used and not strict:
                result.deferred.append(tx)
                continue
            try:
                # py-evm validates (nonce, balance, fees, gas) before it touches the state, so a
                # refused transaction leaves nothing to undo.
                receipt, _ = vm.apply_transaction(running, tx)
            except ValidationError as exc:
                if strict:
                    raise BlockRejected(index, str(exc)) from None
                result.skipped.append((tx, str(exc)))
                continue
            running = vm.add_receipt_to_header(running, receipt)
            included.append(tx)
            receipts.append(receipt)
        filled = vm.set_block_transactions_and_withdrawals(vm.get_block(), running, included, receipts)
        result.block = vm.mine_block(filled).block
        result.receipts = tuple(receipts)
        return result

    def commit(self, block: BlockAPI, receipts: Sequence[ReceiptAPI], seal: bytes) -> None:
        """Persist ``block`` as the new head with its seal and log indexes, in one LMDB transaction."""
        try:
            self._chain.chaindb.persist_block(block)
            self.store[SEAL_PREFIX + block.hash] = seal
            number = block.number.to_bytes(8, "big")
            for receipt in receipts:
                for log in receipt.logs:
                    self.store[ADDRESS_INDEX + log.address + number] = b""
                    for topic in log.topics:
                        self.store[TOPIC_INDEX + topic.to_bytes(32, "big") + number] = b""
            self.store.commit()
        except BaseException:
            self.abandon()
            raise
        self._head = block.header
        self._remember(block, tuple(receipts))

    def abandon(self) -> None:
        """Drop uncommitted writes (a block that will not be committed) and reload the head."""
        self.store.discard()
        self._chain = self._chain_class(self.store)
        self._headers.clear()
        self._head = None
        self._head_state = None


def call_state(
    chain_type: type[Chain],
    db: Any,
    header: BlockHeaderAPI,
    sender: bytes,
    to: bytes,
    value: int,
    data: bytes,
    gas: int,
) -> tuple[StateAPI, Any]:
    """State after ``header`` on ``db``, in ``header``'s block context (as geth: NUMBER is that
    block's) with no base fee, and the spoofed transaction to run on it."""
    vm, state = call_vm_state(chain_type, db, header)
    return state, spoofed(vm, state, sender, to, value, data, gas)


def call_vm_state(
    chain_type: type[Chain], db: Any, header: BlockHeaderAPI
) -> tuple[VirtualMachineAPI, StateAPI]:
    """The VM of ``header`` and the state after it on ``db``, in its block context with no base
    fee: what calls at that block run on."""
    vm = chain_type(db).get_vm(header)
    state = vm.build_state(
        db, header.copy(base_fee_per_gas=0), cast(Any, vm).chain_context, vm.previous_hashes or ()
    )
    return vm, state


def spoofed(
    vm: VirtualMachineAPI, state: StateAPI, sender: bytes, to: bytes, value: int, data: bytes, gas: int
) -> SignedTransactionAPI:
    """The call as an unsigned transaction from ``sender`` at its nonce in ``state``, free."""
    unsigned = vm.create_unsigned_transaction(
        nonce=state.get_nonce(Address(sender)), gas_price=0, gas=gas, to=Address(to), value=value, data=data
    )
    return cast(SignedTransactionAPI, SpoofTransaction(unsigned, from_=sender))


def run_call(state: StateAPI, transaction: SignedTransactionAPI) -> ComputationAPI:
    """A free :func:`spoofed` transaction run as py-evm's ``costless_execute_transaction`` runs
    it, up to its computation: validated, its message built (nonce and the sender's balance as
    py-evm sets them), executed. py-evm's last step, finalisation (gas refunds, the coinbase's
    fee, removing self-destructed and touched empty accounts), changes only state, which a call
    discards; the output and the error are the computation's. So it is left out, with the
    transaction copy and context override that a transaction already free does not need."""
    executor = state.get_transaction_executor()
    executor.validate_transaction(transaction)
    message = executor.build_evm_message(transaction)
    return executor.build_computation(message, transaction)


def call_on(
    chain_type: type[Chain],
    db: Any,
    header: BlockHeaderAPI,
    sender: bytes,
    to: bytes,
    value: int,
    data: bytes,
    gas: int,
) -> Any:
    """Run a message call on the state after ``header``, fees waived; returns the computation.

    Raises:
        EvmTimeout: it passed the thread's :func:`~passport.node.interpreter.deadline`.
        ValidationError: the call cannot start (e.g. the value exceeds the sender's balance).
    """
    state, tx = call_state(chain_type, db, header, sender, to, value, data, gas)
    return state.costless_execute_transaction(tx)


def estimate_on(
    chain_type: type[Chain],
    db: Any,
    header: BlockHeaderAPI,
    sender: bytes,
    to: bytes,
    value: int,
    data: bytes,
    cap: int,
) -> int:
    """The least gas (within 64) with which the call succeeds, searched up to ``cap``.

    Raises:
        VMError: it fails even with ``cap`` gas (a revert carries its data).
        EvmTimeout: the search passed the thread's deadline.
        ValidationError: the call cannot start.
    """
    state, base = call_state(chain_type, db, header, sender, to, value, data, cap)

    def fails(gas: int) -> VMError | None:
        snapshot = state.snapshot()
        try:
            trial = cast(SignedTransactionAPI, SpoofTransaction(base, gas=gas))
            computation = state.apply_transaction(trial)
            return computation.error if computation.is_error else None
        finally:
            state.revert(snapshot)

    snapshot = state.snapshot()
    try:
        computation = state.apply_transaction(base)
        if computation.is_error:
            raise computation.error
        used = cap - computation.get_gas_remaining()
    finally:
        state.revert(snapshot)
    low, high = base.intrinsic_gas - 1, cap
    guess = min(high, used * 64 // 63 + 3000)
    if fails(guess) is None:
        high = guess
    else:
        low = guess
    while high - low > 64:
        mid = (low + high) // 2
        if fails(mid) is None:
            high = mid
        else:
            low = mid
    return high


def iter_logs(receipts: Sequence[ReceiptAPI]) -> Iterator[tuple[int, int, Any]]:
    """(transaction index, log index in block, log) for every log of a block."""
    log_index = 0
    for tx_index, receipt in enumerate(receipts):
        for log in receipt.logs:
            yield tx_index, log_index, log
            log_index += 1


def chain_class(chain_id: int, vm: type[PassportVM] = PassportVM) -> type[_PassportChain]:
    return type(
        "PassportChain",
        (_PassportChain,),
        {"chain_id": chain_id, "vm_configuration": ((BlockNumber(0), vm),)},
    )


class _ReferenceChain(_PassportChain):
    vm_configuration: tuple[tuple[BlockNumber, type[VirtualMachineAPI]], ...] = ((BlockNumber(0), CancunVM),)


def reference_chain(genesis: Genesis) -> BaseChain:
    """The node's chain rules on stock py-evm (``CancunVM`` and its own opcode loop), in memory.
    Blocks the node sealed import into it unchanged; the tests and the benchmark use it to check
    the node's execution and to measure against py-evm itself. Its genesis is the node's."""
    from eth.db.atomic import AtomicDB

    chain_class: type[_ReferenceChain] = type(
        "ReferenceChain", (_ReferenceChain,), {"chain_id": genesis.chain_id}
    )
    return chain_class.from_genesis(AtomicDB(), _genesis_params(genesis), cast(Any, _genesis_state(genesis)))


def genesis_hash(genesis: Genesis) -> bytes:
    """Block 0's hash for ``genesis``, computed in memory."""
    return bytes(reference_chain(genesis).get_canonical_head().hash)


def _genesis_params(genesis: Genesis) -> dict[str, Any]:
    return {
        "difficulty": 0,
        "gas_limit": genesis.gas_limit,
        "timestamp": genesis.timestamp,
        "extra_data": bytes.fromhex(genesis.extra_data.removeprefix("0x")),
        "base_fee_per_gas": genesis.base_fee_per_gas,
        "nonce": b"\0" * 8,
        "mix_hash": ZERO_HASH32,
        "coinbase": ZERO_ADDRESS,
    }


def _genesis_state(genesis: Genesis) -> dict[bytes, dict[str, Any]]:
    state: dict[bytes, dict[str, Any]] = {}
    for address, entry in genesis.alloc.items():
        state[to_canonical_address(address)] = {
            "balance": int(entry.get("balance", "0x0"), 16),
            "nonce": int(entry.get("nonce", 0)),
            "code": bytes.fromhex(str(entry.get("code", "0x")).removeprefix("0x")),
            "storage": {int(k, 0): int(v, 0) for k, v in entry.get("storage", {}).items()},
        }
    return state


def _canonical_json(data: Any) -> bytes:
    import json

    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
