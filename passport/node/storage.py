"""Contract storage writes applied to the storage trie in one pass per block.

py-evm writes a block's storage changes into each contract's storage trie one slot at a time
when it computes the state root, re-encoding and re-hashing the path from the root for every
slot. :class:`BatchedStorageLookup` gathers those writes and applies them with
:func:`passport.node.tries.update_trie` when the root is needed, so the upper levels are done
once per block. Deletions (slots set to zero) still go through py-evm's trie. The storage roots,
and so the state roots, are py-evm's: ``tests/node/test_interpreter.py`` imports the node's
blocks into stock py-evm.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import rlp
from eth.db.account import AccountDB
from eth.db.batch import BatchDB
from eth.db.cache import CacheDB
from eth.db.journal import JournalDB
from eth.db.storage import AccountStorageDB, StorageLookup
from eth.rlp.accounts import Account
from eth_typing import Address, Hash32
from trie.hexary import HexaryTrie

from passport.node.tries import update_trie


class BatchedStorageLookup(StorageLookup):
    """py-evm's ``StorageLookup`` with its sets held until the trie is read, rooted or saved."""

    _pending: dict[bytes, bytes]

    def _initialize_to_root_hash(self, root_hash: Hash32) -> None:
        super()._initialize_to_root_hash(root_hash)
        self._pending = {}

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._pending[self._decode_key(key)] = value

    def __getitem__(self, key: bytes) -> bytes:
        pending = self._pending.get(self._decode_key(key))
        return pending if pending is not None else super().__getitem__(key)

    def _exists(self, key: bytes) -> bool:
        return self._decode_key(key) in self._pending or super()._exists(key)

    def __delitem__(self, key: bytes) -> None:
        self._flush()
        super().__delitem__(key)

    @property
    def has_changed_root(self) -> bool:
        return bool(self._pending) or super().has_changed_root

    def get_changed_root(self) -> Hash32:
        self._flush()
        return super().get_changed_root()

    def commit_to(self, db: Any) -> None:
        self._flush()
        super().commit_to(db)

    def new_trie(self) -> int:
        self._flush()
        return super().new_trie()

    def rollback_trie(self, trie_index: int) -> None:
        self._pending = {}  # writes since the last new_trie belong to the trie being dropped
        super().rollback_trie(trie_index)

    def _get_write_trie(self) -> HexaryTrie:
        # Not pruning, unlike py-evm's: py-trie prunes by a reference count of the nodes it
        # wrote itself, and the nodes :meth:`_flush` writes are not in that count. A pruning
        # trie would delete them from the batch on the next delete that rewrites them (a
        # delete of an absent key rewrites the root), and the block would commit a root whose
        # nodes were never written. Without pruning, nodes replaced within the block stay in the
        # batch and are committed too: a few unreferenced nodes, never a missing one.
        if self._trie_nodes_batch is None:
            self._trie_nodes_batch = BatchDB(self._db, read_through_deletes=True)
        if self._write_trie is None:
            self._write_trie = HexaryTrie(self._trie_nodes_batch, root_hash=self._starting_root_hash)
        return self._write_trie

    def _flush(self) -> None:
        if not self._pending:
            return
        updates, self._pending = self._pending, {}
        write_trie = self._get_write_trie()
        batch = self._trie_nodes_batch
        root, nodes = update_trie(batch, Hash32(write_trie.root_hash), updates)
        for node_hash, encoded in nodes.items():
            batch[node_hash] = encoded
        self._write_trie = HexaryTrie(batch, root_hash=root)


class BatchedAccountStorageDB(AccountStorageDB):
    lookup_class: type[StorageLookup] = BatchedStorageLookup
    cache_size = 2_048  # slots, py-evm's own

    def __init__(self, db: Any, storage_root: Hash32, address: Address) -> None:
        super().__init__(db, storage_root, address)
        # py-evm's pipe (db -> lookup -> cache -> locked changes -> journal), with our lookup
        self._storage_lookup = self.lookup_class(db, storage_root, address)
        self._storage_cache = CacheDB(self._storage_lookup, cache_size=self.cache_size)
        self._locked_changes = JournalDB(self._storage_cache)
        self._journal_storage = JournalDB(self._locked_changes)


class PassportAccountDB(AccountDB):
    """py-evm's account database, with :class:`BatchedAccountStorageDB` for contract storage."""

    storage_class: type[AccountStorageDB] = BatchedAccountStorageDB

    def _get_address_store(self, address: Address) -> Any:
        store = self._account_stores.get(address)
        if store is None:
            store = self.storage_class(self._raw_store_db, self._get_storage_root(address), address)
            self._account_stores[address] = store
        return store


class BoundedCache:
    """Values by key, bounded in count (the oldest go first)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._nodes: dict[Hashable, Any] = {}

    def get(self, key: Hashable) -> Any:
        return self._nodes.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        nodes = self._nodes
        if len(nodes) >= self.limit:
            del nodes[next(iter(nodes))]
        nodes[key] = value

    def clear(self) -> None:
        self._nodes.clear()

    def __len__(self) -> int:
        return len(self._nodes)


# Decoded trie nodes by hash. A node's hash is its content's, so an entry is right at every
# block: kept across blocks, it spares the upper levels of every trie (read by every lookup)
# their LMDB read and RLP decoding. About 1.3 KB a decoded branch node: ~50 MB at most.
CALL_TRIE_NODES = BoundedCache(40_000)
CALL_ACCOUNTS = BoundedCache(4_096)  # decoded accounts by their encoding (an account is immutable)
CALL_ENCODINGS = BoundedCache(4_096)  # and back: (account, encoding) by the account's id


class CachedReadTrie(HexaryTrie):
    """A read-only use of ``HexaryTrie`` whose nodes come from :data:`CALL_TRIE_NODES` when
    there. Lookups only: a trie that is written is py-evm's own (see ``_get_read_trie``), so a
    cached node is never changed."""

    def get_node(self, node_hash: Any) -> Any:
        if len(node_hash) == 32:
            node = CALL_TRIE_NODES.get(node_hash)
            if node is None:
                node = super().get_node(node_hash)  # type: ignore[no-untyped-call]
                CALL_TRIE_NODES.put(node_hash, node)
            return node
        return super().get_node(node_hash)  # type: ignore[no-untyped-call]


class CallStorageLookup(BatchedStorageLookup):
    def _get_read_trie(self) -> HexaryTrie:
        if self._write_trie is not None:
            return self._write_trie
        return CachedReadTrie(self._db, root_hash=self._starting_root_hash)


class CallAccountStorageDB(BatchedAccountStorageDB):
    lookup_class = CallStorageLookup
    cache_size = 1 << 16  # slots kept per contract by a call state


class CallAccountDB(PassportAccountDB):
    """The account database of calls (``eth_call``, ``eth_estimateGas``): reads through
    :class:`CachedReadTrie` and a larger slot cache per contract. The values read are the
    trie's; only where they come from differs."""

    storage_class = CallAccountStorageDB

    def _get_account(self, address: Address, from_journal: bool = True) -> Account:
        # py-evm's, with the decoding kept by encoding (an account is immutable; calls at one
        # block decode the same few accounts again after every revert)
        if from_journal and address in self._account_cache:
            return self._account_cache[address]
        encoded = self._get_encoded_account(address, from_journal)
        if not encoded:
            account = Account()
        else:
            account = CALL_ACCOUNTS.get(encoded)
            if account is None:
                account = rlp.decode(encoded, sedes=Account)
                CALL_ACCOUNTS.put(encoded, account)
                CALL_ENCODINGS.put(id(account), (account, encoded))
        if from_journal:
            self._account_cache[address] = account
        return account

    def _set_account(self, address: Address, account: Account) -> None:
        # py-evm's, with the encoding of an account decoded here reused: every call touches the
        # account it calls, writing it back unchanged. Looked up by identity (the entry holds
        # the account, so its id stays its own), never by value.
        kept = CALL_ENCODINGS.get(id(account))
        if kept is None or kept[0] is not account:
            super()._set_account(address, account)
            return
        self._account_cache[address] = account
        self._journaltrie[address] = kept[1]

    def _get_accessed_node_hashes(self) -> Any:
        # py-evm copies the whole set of keys read (a frozenset) at every code read, only to test
        # one hash against it; the kept state of a call worker reads thousands of keys
        return self._raw_store_db._keys_read
