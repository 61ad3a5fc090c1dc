"""The gateway's durable store: SQLite in WAL mode with ``synchronous=FULL``, so a reading the
gateway acknowledged survives kill -9 and power loss.

Readings are keyed by (device, seq): a second copy is refused as a duplicate. Windows are cut
from the oldest unwindowed readings in one transaction (the reading rows and the window row
together), so a reading is in at most one window; windows are anchored in id order, and a window
is marked anchored only with the transaction and block that anchored it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from passport.sdk.telemetry import MerkleTree, Reading, SignedReading

SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    facility INTEGER NOT NULL,
    time INTEGER NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    unit TEXT NOT NULL,
    signature BLOB NOT NULL,
    leaf BLOB NOT NULL,
    window INTEGER,
    PRIMARY KEY (device, seq)
);
CREATE INDEX IF NOT EXISTS readings_unwindowed ON readings (window) WHERE window IS NULL;
CREATE TABLE IF NOT EXISTS windows (
    id INTEGER PRIMARY KEY,
    root BLOB NOT NULL UNIQUE,
    count INTEGER NOT NULL,
    from_time INTEGER NOT NULL,
    to_time INTEGER NOT NULL,
    tx TEXT,
    block INTEGER
);
CREATE TABLE IF NOT EXISTS devices (
    device TEXT PRIMARY KEY,
    facility INTEGER NOT NULL,
    active INTEGER NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Window:
    id: int
    root: bytes
    count: int
    from_time: int
    to_time: int
    tx: str | None
    block: int | None


class Store:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "gateway.sqlite"
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ readings

    def add(self, readings: Sequence[SignedReading], leaves: Sequence[bytes] | None = None) -> list[bool]:
        """Store ``readings`` (with their ``leaves`` when already computed) in one transaction;
        True for each stored, False for each that was already there (a duplicate (device, seq)).
        Returns once committed to disk."""
        out: list[bool] = []
        if leaves is None:
            leaves = [s.reading.leaf() for s in readings]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for s, leaf in zip(readings, leaves, strict=True):
                    r = s.reading
                    cursor = self._db.execute(
                        "INSERT OR IGNORE INTO readings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                        (
                            r.device,
                            r.seq,
                            r.facility_id,
                            r.time,
                            r.kind,
                            str(r.value),
                            r.unit,
                            s.signature,
                            leaf,
                        ),
                    )
                    out.append(cursor.rowcount == 1)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return out

    def has(self, device: str, seq: int) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM readings WHERE device = ? AND seq = ?", (device, seq)
            ).fetchone()
        return row is not None

    def reading(self, device: str, seq: int) -> tuple[SignedReading, int | None] | None:
        """A stored reading and the id of its window (None before it is windowed)."""
        with self._lock:
            row = self._db.execute(
                "SELECT device, facility, time, kind, value, unit, seq, signature, window FROM readings "
                "WHERE device = ? AND seq = ?",
                (device, seq),
            ).fetchone()
        if row is None:
            return None
        return _signed(row[:8]), row[8]

    def unwindowed(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM readings WHERE window IS NULL").fetchone()[0])

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM readings").fetchone()[0])

    # ------------------------------------------------------------------ windows

    def cut_window(self, limit: int) -> Window | None:
        """A new window of up to ``limit`` of the oldest unwindowed readings, or None."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = self._db.execute(
                    "SELECT rowid, leaf, time FROM readings WHERE window IS NULL ORDER BY rowid LIMIT ?",
                    (limit,),
                ).fetchall()
                if not rows:
                    self._db.execute("COMMIT")
                    return None
                root = MerkleTree([bytes(r[1]) for r in rows]).root
                times = [int(r[2]) for r in rows]
                cursor = self._db.execute(
                    "INSERT INTO windows (root, count, from_time, to_time) VALUES (?, ?, ?, ?)",
                    (root, len(rows), min(times), max(times)),
                )
                window_id = int(cursor.lastrowid or 0)
                self._db.executemany(
                    "UPDATE readings SET window = ? WHERE rowid = ?", [(window_id, r[0]) for r in rows]
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return Window(window_id, root, len(rows), min(times), max(times), None, None)

    def pending(self) -> list[Window]:
        """Windows not anchored yet, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM windows WHERE tx IS NULL ORDER BY id").fetchall()
        return [Window(r[0], bytes(r[1]), *r[2:]) for r in rows]

    def window(self, window_id: int) -> Window | None:
        with self._lock:
            r = self._db.execute("SELECT * FROM windows WHERE id = ?", (window_id,)).fetchone()
        return None if r is None else Window(r[0], bytes(r[1]), *r[2:])

    def windows(self) -> list[Window]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM windows ORDER BY id").fetchall()
        return [Window(r[0], bytes(r[1]), *r[2:]) for r in rows]

    def leaves(self, window_id: int) -> list[tuple[str, int, bytes]]:
        """(device, seq, leaf) of a window's readings, in tree order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT device, seq, leaf FROM readings WHERE window = ? ORDER BY rowid", (window_id,)
            ).fetchall()
        return [(r[0], int(r[1]), bytes(r[2])) for r in rows]

    def anchored(self, window_id: int, tx: str, block: int) -> None:
        with self._lock:
            self._db.execute("UPDATE windows SET tx = ?, block = ? WHERE id = ?", (tx, block, window_id))

    # ------------------------------------------------------------------ devices

    def devices(self) -> dict[str, tuple[int, bool]]:
        with self._lock:
            rows = self._db.execute("SELECT device, facility, active FROM devices").fetchall()
        return {r[0]: (int(r[1]), bool(r[2])) for r in rows}

    def set_devices(self, devices: Iterable[tuple[str, int, bool]]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR REPLACE INTO devices VALUES (?, ?, ?)", list(devices))
            self._db.execute("COMMIT")


def _signed(row: Sequence[Any]) -> SignedReading:
    device, facility, time, kind, value, unit, seq, signature = row
    reading = Reading(str(device), int(facility), int(time), str(kind), int(value), str(unit), int(seq))
    return SignedReading(reading, bytes(signature))
