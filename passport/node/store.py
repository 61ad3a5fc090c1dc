"""The node's chain store: one LMDB environment holding everything py-evm and the node write.

Why LMDB: a commit is one copy-on-write B+tree transaction, so a block (header, body,
receipts, state-trie nodes, seal, indexes, head pointer) lands entirely or not at all, and a
process killed at any instant leaves the previous committed version readable with no
recovery step (there is no write-ahead log to replay; opening a 10,000-block store costs the
same as opening an empty one). Readers never block the writer. LevelDB (plyvel) also has
atomic write batches, but its default writes are not synced and it needs compaction and
log recovery on open; RocksDB has no maintained wheel for this Python.

Writes made by py-evm between two commits collect in an in-memory overlay and reach the
disk only in :meth:`LmdbStore.commit`, one synced transaction per block.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import lmdb
from eth.abc import AtomicWriteBatchAPI
from eth.db.atomic import AtomicDBWriteBatch
from eth.db.backends.base import BaseAtomicDB

from passport.exceptions import NodeError

_DELETED = None
DEFAULT_MAP_SIZE = 1 << 36  # 64 GiB of address space; the file grows only as data is written
MAX_READERS = 1024  # snapshots held by concurrent eth_calls (rpc.max_connections at most) and more


class StoreLocked(NodeError):
    """Another process has the data directory open."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"the data directory {path} is in use by another node process")


class _OverlayDB(BaseAtomicDB):
    """py-evm's atomic database interface: writes collect in ``_pending`` over a committed
    version that :meth:`_committed` reads."""

    _pending: dict[bytes, bytes | None]

    def _committed(self, key: bytes) -> bytes | None:
        raise NotImplementedError

    def __getitem__(self, key: bytes) -> bytes:
        if key in self._pending:
            value = self._pending[key]
            if value is _DELETED:
                raise KeyError(key)
            return value
        found = self._committed(key)
        if found is None:
            raise KeyError(key)
        return found

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._pending[key] = bytes(value)

    def __delitem__(self, key: bytes) -> None:
        if key not in self:
            raise KeyError(key)
        self._pending[key] = _DELETED

    def _exists(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    @contextmanager
    def atomic_batch(self) -> Iterator[AtomicWriteBatchAPI]:
        with AtomicDBWriteBatch._commit_unless_raises(self) as batch:
            yield batch


class LmdbStore(_OverlayDB):
    """py-evm's atomic database interface over LMDB, with block-sized commits."""

    def __init__(self, path: Path, map_size: int = DEFAULT_MAP_SIZE) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock_file = _exclusive_lock(path / "LOCK")
        self._env = lmdb.open(
            str(path),
            map_size=map_size,
            subdir=True,
            max_dbs=0,
            readahead=False,
            meminit=False,
            max_readers=MAX_READERS,
        )
        self._pending: dict[bytes, bytes | None] = {}
        self._read = self._env.begin(buffers=False)
        self._guard = threading.Lock()

    def _committed(self, key: bytes) -> bytes | None:
        with self._guard:
            found = self._read.get(key)
        return None if found is None else bytes(found)

    # ---------------------------------------------------------------- block-sized transactions

    def commit(self) -> None:
        """Write every pending change in one synced LMDB transaction."""
        if not self._pending:
            return
        with self._env.begin(write=True) as txn:
            for key, value in self._pending.items():
                if value is _DELETED:
                    txn.delete(key)
                else:
                    txn.put(key, value)
        self._pending.clear()
        self._renew()

    def discard(self) -> None:
        """Forget every change since the last commit (a block that failed to build)."""
        self._pending.clear()

    def write_through(self, changes: dict[bytes, bytes | None]) -> None:
        """Write ``changes`` (None deletes) in a synced transaction of their own, outside the
        block overlay: the transaction pool's entries, which must be durable before a
        submission is acknowledged and whatever block is being built."""
        if not changes:
            return
        with self._env.begin(write=True) as txn:
            for key, value in changes.items():
                if value is _DELETED:
                    txn.delete(key)
                else:
                    txn.put(key, value)
        self._renew()

    def prefixed(self, prefix: bytes) -> list[tuple[bytes, bytes]]:
        """Committed ``(key, value)`` pairs whose key starts with ``prefix``, in key order."""
        with self._env.begin(buffers=False) as txn:
            cursor = txn.cursor()
            if not cursor.set_range(prefix):
                return []
            out = []
            for key, value in cursor.iternext():
                if not key.startswith(prefix):
                    break
                out.append((bytes(key), bytes(value)))
            return out

    def scan(self, start: bytes, stop: bytes) -> Iterator[bytes]:
        """Committed keys in ``[start, stop)``, in order (index range queries)."""
        return self.scan_ranges(((start, stop),))

    def scan_ranges(self, ranges: Iterable[tuple[bytes, bytes]]) -> Iterator[bytes]:
        """Committed keys in each ``[start, stop)`` of ``ranges``, range by range, in one read
        transaction (an index lookup of many keys)."""
        with self._env.begin(buffers=False) as txn:
            cursor = txn.cursor()
            for start, stop in ranges:
                if not cursor.set_range(start):
                    continue
                for key in cursor.iternext(keys=True, values=False):
                    if key >= stop:
                        break
                    yield bytes(key)

    def _renew(self) -> None:
        with self._guard:
            self._read.abort()
            self._read = self._env.begin(buffers=False)

    def size_bytes(self) -> int:
        info = self._env.info()
        stat = self._env.stat()
        return int(info["last_pgno"] + 1) * int(stat["psize"])

    def close(self) -> None:
        with self._guard:
            self._read.abort()
        self._env.close()
        os.close(self._lock_file)


class StoreSnapshot(_OverlayDB):
    """The store as of one committed version (an LMDB read transaction), with writes kept in
    memory and dropped: a call executes on it beside the blocks being sealed and committed.
    Use from one thread; :meth:`close` (or ``with``) ends it."""

    def __init__(self, txn: lmdb.Transaction) -> None:
        self._txn = txn
        self._pending = {}

    def _committed(self, key: bytes) -> bytes | None:
        found = self._txn.get(key)
        return None if found is None else bytes(found)

    def swap(self, txn: lmdb.Transaction) -> None:
        """Read through ``txn`` from now on (a newer committed version: what was committed
        stays, so a block's state reads the same through it)."""
        self._txn = txn

    def close(self) -> None:
        self._txn.abort()

    def __enter__(self) -> StoreSnapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _exclusive_lock(path: Path) -> int:
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StoreLocked(str(path.parent)) from None
    return fd
