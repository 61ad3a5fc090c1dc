"""The transaction pool: admission checks with named errors, nonce ordering, replacement.

Admission messages follow go-ethereum's wording ("nonce too low", "replacement transaction
underpriced", ...) because wallets and Foundry match on them.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time
from dataclasses import dataclass

import rlp
from eth.abc import SignedTransactionAPI
from eth_typing import Address
from eth_utils import ValidationError, to_checksum_address

from passport.exceptions import TransactionRefused
from passport.node.chain import NodeChain, PassportVM
from passport.node.config import MempoolConfig
from passport.node.store import LmdbStore

log = logging.getLogger("passport.node")

BLOB_TX_TYPE = 3


POOL_PREFIX = b"pp:pool:"


@dataclass
class PoolTx:
    tx: SignedTransactionAPI
    raw: bytes
    seq: int
    key: bytes = b""  # where the store keeps it: POOL_PREFIX, arrival time (ns), hash

    @property
    def tip(self) -> int:
        return int(self.tx.max_priority_fee_per_gas)

    @property
    def fee_cap(self) -> int:
        return int(self.tx.max_fee_per_gas)


class Mempool:
    """Call every method with ``chain.lock`` held.

    Admitted transactions are persisted in the store (``POOL_PREFIX`` keys): :meth:`add` and
    :meth:`remove` record the change and :meth:`sync` writes what changed in one synced
    transaction. The node syncs before it acknowledges a submission (once per JSON-RPC batch)
    and after each block, and :meth:`restore` re-admits the persisted pool after a restart.
    """

    def __init__(
        self,
        chain: NodeChain,
        config: MempoolConfig,
        check_permission: bool = True,
        store: LmdbStore | None = None,
    ) -> None:
        self.chain = chain
        self.store = store
        self._unsynced: dict[bytes, bytes | None] = {}
        self.config = config
        self.check_permission = check_permission
        self.by_hash: dict[bytes, PoolTx] = {}
        self.by_sender: dict[bytes, dict[int, PoolTx]] = {}
        self._seq = itertools.count()
        self._base_fee: tuple[bytes, int] | None = None

    def __len__(self) -> int:
        return len(self.by_hash)

    def get(self, tx_hash: bytes) -> PoolTx | None:
        return self.by_hash.get(tx_hash)

    def decode(self, raw: bytes) -> SignedTransactionAPI:
        if len(raw) > self.config.max_transaction_bytes:
            raise _reject(
                f"oversized data: transaction is {len(raw)} bytes, limit {self.config.max_transaction_bytes}"
            )
        if not raw:
            raise _reject("invalid transaction: empty")
        if raw[0] == BLOB_TX_TYPE:
            raise _reject("transaction type not supported: blob transactions (type 3) are not accepted")
        builder = PassportVM.get_transaction_builder()
        try:
            tx = builder.decode(raw)
            tx.validate()
        except (
            rlp.DecodingError,
            rlp.DeserializationError,
            ValidationError,
            ValueError,
            TypeError,
            IndexError,
        ) as exc:
            raise _reject(f"invalid transaction: cannot decode ({_first_line(exc)})") from None
        except Exception as exc:  # py-evm raises assorted errors on malformed signatures
            raise _reject(f"invalid transaction: {_first_line(exc)}") from None
        return tx

    def add(self, raw: bytes) -> bytes:
        """Admit a signed raw transaction and return its hash.

        Raises:
            TransactionRefused: with the reason it was refused.
        """
        tx = self.decode(raw)
        if tx.hash in self.by_hash:
            raise _reject(f"already known: transaction {tx.hash.hex()} is in the pool")
        try:
            sender = tx.sender
        except (ValidationError, ValueError) as exc:
            raise _reject(f"invalid sender: {_first_line(exc)}") from None
        chain_id = tx.chain_id
        if chain_id is None:
            raise _reject("only replay-protected (EIP-155) transactions are accepted")
        if chain_id != self.chain.chain_id:
            raise _reject(
                f"invalid chain id: transaction is for chain {chain_id}, this chain is {self.chain.chain_id}"
            )
        head = self.chain.head
        if tx.gas > head.gas_limit:
            raise _reject(f"exceeds block gas limit: gas {tx.gas} > {head.gas_limit}")
        intrinsic = tx.intrinsic_gas
        if tx.gas < intrinsic:
            raise _reject(f"intrinsic gas too low: gas {tx.gas}, needs at least {intrinsic}")
        candidate = PoolTx(tx, raw, next(self._seq))
        if candidate.tip > candidate.fee_cap:
            raise _reject("max priority fee per gas higher than max fee per gas")
        next_base_fee = self.next_base_fee()
        if candidate.fee_cap < next_base_fee:
            raise _reject(f"max fee per gas less than block base fee: {candidate.fee_cap} < {next_base_fee}")
        state = self.chain.head_state()
        account_nonce = state.get_nonce(Address(sender))
        if tx.nonce < account_nonce:
            raise _reject(f"nonce too low: next nonce {account_nonce}, tx nonce {tx.nonce}")
        if tx.nonce > account_nonce + self.config.max_nonce_gap + len(self.by_sender.get(sender, {})):
            raise _reject(
                f"nonce too high: next nonce {account_nonce}, tx nonce {tx.nonce} "
                f"(gap limit {self.config.max_nonce_gap})"
            )
        cost = tx.gas * candidate.fee_cap + tx.value
        balance = state.get_balance(sender)
        if balance < cost:
            raise _reject(f"insufficient funds for gas * price + value: balance {balance}, tx cost {cost}")
        if self.check_permission and not self.chain.permitted(head, tx):
            raise _reject(
                f"account {to_checksum_address(sender)} is not permitted to transact on this chain: "
                "it is neither an active, unsanctioned consortium member nor on the node's allowlist",
            )
        queue = self.by_sender.setdefault(sender, {})
        existing = queue.get(tx.nonce)
        if existing is not None:
            bump = 100 + self.config.price_bump_percent
            if candidate.tip * 100 < existing.tip * bump or candidate.fee_cap * 100 < existing.fee_cap * bump:
                raise _reject(
                    "replacement transaction underpriced: raise both fees by at least "
                    f"{self.config.price_bump_percent}%"
                )
            del self.by_hash[existing.tx.hash]
            self._unsynced[existing.key] = None
        else:
            if len(queue) >= self.config.max_per_sender:
                raise _reject(
                    f"txpool is full for sender {to_checksum_address(sender)} "
                    f"({self.config.max_per_sender} transactions)"
                )
            if len(self.by_hash) >= self.config.max_transactions:
                raise _reject(f"txpool is full ({self.config.max_transactions} transactions)")
        candidate.key = POOL_PREFIX + time.time_ns().to_bytes(8, "big") + tx.hash
        self._unsynced[candidate.key] = raw
        queue[tx.nonce] = candidate
        self.by_hash[tx.hash] = candidate
        return bytes(tx.hash)

    def sync(self) -> None:
        """Make the pool's changes since the last sync durable (one synced LMDB transaction)."""
        if self.store is not None and self._unsynced:
            self.store.write_through(self._unsynced)
        self._unsynced = {}

    def restore(self) -> tuple[int, int]:
        """Re-admit the persisted pool (after a restart), in arrival order; a transaction that
        became invalid meanwhile (its nonce used, its sender no longer permitted) is dropped
        with a log line. Returns (kept, dropped)."""
        if self.store is None:
            return 0, 0
        kept = dropped = 0
        for key, raw in self.store.prefixed(POOL_PREFIX):
            self._unsynced[key] = None
            try:
                self.add(raw)
                kept += 1
            except TransactionRefused as exc:
                dropped += 1
                log.info("dropped persisted transaction 0x%s: %s", key[-32:].hex(), exc)
        self.sync()
        return kept, dropped

    def next_base_fee(self) -> int:
        head = self.chain.head
        if self._base_fee is None or self._base_fee[0] != head.hash:
            vm = self.chain.vm_at(head)
            self._base_fee = (head.hash, vm.create_header_from_parent(head).base_fee_per_gas or 0)
        return self._base_fee[1]

    def pending_nonce(self, sender: bytes, account_nonce: int) -> int:
        queue = self.by_sender.get(sender, {})
        nonce = account_nonce
        while nonce in queue:
            nonce += 1
        return nonce

    def ready(self, limit: int) -> list[SignedTransactionAPI]:
        """Executable transactions in arrival order, each sender's in nonce order from its
        account nonce (later nonces wait for the gap to fill)."""
        state = self.chain.head_state()
        heap: list[tuple[int, bytes, int]] = []
        for sender, queue in self.by_sender.items():
            nonce = state.get_nonce(Address(sender))
            if nonce in queue:
                heap.append((queue[nonce].seq, sender, nonce))
        heapq.heapify(heap)
        out: list[SignedTransactionAPI] = []
        while heap and len(out) < limit:
            _, sender, nonce = heapq.heappop(heap)
            queue = self.by_sender[sender]
            out.append(queue[nonce].tx)
            following = queue.get(nonce + 1)
            if following is not None:
                heapq.heappush(heap, (following.seq, sender, nonce + 1))
        return out

    def remove(self, txs: list[SignedTransactionAPI]) -> None:
        for tx in txs:
            entry = self.by_hash.pop(tx.hash, None)
            if entry is None:
                continue
            self._unsynced[entry.key] = None
            queue = self.by_sender.get(tx.sender)
            if queue is not None:
                queue.pop(tx.nonce, None)
                if not queue:
                    del self.by_sender[tx.sender]

    def prune(self) -> None:
        """Drop transactions whose nonce a committed block has used."""
        state = self.chain.head_state()
        stale: list[SignedTransactionAPI] = []
        for sender, queue in self.by_sender.items():
            nonce = state.get_nonce(Address(sender))
            stale.extend(p.tx for n, p in queue.items() if n < nonce)
        self.remove(stale)


def _reject(message: str) -> TransactionRefused:
    return TransactionRefused(message)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
