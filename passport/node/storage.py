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

from typing import Any

from eth.db.account import AccountDB
from eth.db.batch import BatchDB
from eth.db.cache import CacheDB
from eth.db.journal import JournalDB
from eth.db.storage import AccountStorageDB, StorageLookup
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
    def __init__(self, db: Any, storage_root: Hash32, address: Address) -> None:
        super().__init__(db, storage_root, address)
        # py-evm's pipe (db -> lookup -> cache -> locked changes -> journal), with our lookup
        self._storage_lookup = BatchedStorageLookup(db, storage_root, address)
        self._storage_cache = CacheDB(self._storage_lookup)
        self._locked_changes = JournalDB(self._storage_cache)
        self._journal_storage = JournalDB(self._locked_changes)


class PassportAccountDB(AccountDB):
    """py-evm's account database, with :class:`BatchedAccountStorageDB` for contract storage."""

    def _get_address_store(self, address: Address) -> Any:
        store = self._account_stores.get(address)
        if store is None:
            store = BatchedAccountStorageDB(self._raw_store_db, self._get_storage_root(address), address)
            self._account_stores[address] = store
        return store
