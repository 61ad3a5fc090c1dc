"""A member's local vault: its records with their salts, its documents, and the disclosures it
received from upstream. Nothing here is on chain, and nothing on chain depends on it: losing
the vault loses the ability to disclose, not the roots.

Layout (``--vault DIR``)::

    objects/<sha256>                     immutable content, addressed by its SHA-256
    refs/<kind>/<subject>.json           {"object": sha | null, "pending": sha | null, "anchor_tx": ...}
    received/<kind>/<subject>.json       {"<root>": {"object": sha, "anchor_tx": ...}, ...}
    tmp/                                 writes in progress (cleared on open)

Every write goes to ``tmp/``, is fsynced, and is renamed into place, so a crash leaves either
the old file or the new one. ``records put`` stores the new record, marks it ``pending``, sends
the root, then makes it current; whichever of current and pending the chain holds wins when the
ref is next read (``reconcile``), so a crash at any point leaves the vault consistent with the
chain.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from passport._utils.files import atomic_write, first_error
from passport.exceptions import RecordError
from passport.records.disclosure import Disclosure, build_disclosure
from passport.records.fields import KINDS, SaltedRecord

FORMAT = "mineral-passport-vault/1"
CRASH_ENV = "PASSPORT_CRASH_AT"  # test hook: SIGKILL this process at a named point


def crash_point(name: str) -> None:
    """Kill the process with SIGKILL when ``$PASSPORT_CRASH_AT`` names this point (crash tests)."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True, slots=True)
class Ref:
    object: str | None
    pending: str | None
    anchor_tx: str | None = None
    pending_anchor_tx: str | None = None


def _subject(kind: str, subject: str) -> str:
    if kind not in KINDS:
        raise RecordError(kind, f"unknown record kind (expected one of {', '.join(KINDS)})")
    s = subject.lower()
    if not s or not all(c.isalnum() for c in s.removeprefix("0x")):
        raise RecordError(f"{kind} {subject!r}", "not a member address or a numeric id")
    return s


class Vault:
    def __init__(self, root: Path) -> None:
        self.root = root
        marker = root / "VERSION"
        if root.exists() and not root.is_dir():
            raise RecordError(f"vault {root}", "not a directory")
        if marker.exists():
            found = marker.read_text().strip()
            if found != FORMAT:
                raise RecordError(f"vault {root}", f"format {found!r}, expected {FORMAT!r}")
        for sub in ("objects", "refs", "received", "tmp"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        for leftover in (root / "tmp").iterdir():  # a crash mid-write left it; it was never renamed
            leftover.unlink(missing_ok=True)
        if not marker.exists():
            self._write(marker, (FORMAT + "\n").encode())

    @classmethod
    def existing(cls, root: Path) -> Vault:
        """The vault at ``root``, which must already be one (for reading: nothing is created).

        Raises:
            RecordError: ``root`` is not a vault.
        """
        if not (root / "VERSION").is_file():
            raise RecordError(
                f"vault {root}", "not a vault (no VERSION file): give the vault that holds the records"
            )
        return cls(root)

    # ---------------------------------------------------------------- atomic files

    def _write(self, path: Path, data: bytes) -> None:
        atomic_write(path, data, tmp_dir=self.root / "tmp")

    def put_object(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self.root / "objects" / digest
        if not path.exists():
            self._write(path, data)
        return digest

    def put_file(self, source: Path) -> str:
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise RecordError(str(source), f"cannot read the document ({exc.strerror})") from exc
        return self.put_object(data)

    def get_object(self, digest: str) -> bytes:
        path = self.root / "objects" / digest
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise RecordError(f"vault object {digest}", "missing") from exc
        if hashlib.sha256(data).hexdigest() != digest:
            raise RecordError(f"vault object {digest}", "its content does not match its address (damaged)")
        return data

    # ---------------------------------------------------------------- own records

    def _ref_path(self, kind: str, subject: str) -> Path:
        return self.root / "refs" / kind / f"{_subject(kind, subject)}.json"

    def ref(self, kind: str, subject: str) -> Ref:
        path = self._ref_path(kind, subject)
        if not path.exists():
            return Ref(None, None)
        try:
            raw = json.loads(path.read_text())
            return Ref(raw["object"], raw["pending"], raw.get("anchor_tx"), raw.get("pending_anchor_tx"))
        except (ValueError, KeyError, OSError) as exc:
            raise RecordError(str(path), f"unreadable ref ({exc})") from exc

    def set_ref(self, kind: str, subject: str, ref: Ref) -> None:
        body = {
            "object": ref.object,
            "pending": ref.pending,
            "anchor_tx": ref.anchor_tx,
            "pending_anchor_tx": ref.pending_anchor_tx,
        }
        self._write(self._ref_path(kind, subject), (json.dumps(body, sort_keys=True) + "\n").encode())

    def store_record(self, record: SaltedRecord) -> str:
        return self.put_object(record.model_dump_json().encode())

    def record(self, digest: str) -> SaltedRecord:
        try:
            return SaltedRecord.model_validate_json(self.get_object(digest))
        except ValidationError as exc:
            raise RecordError(f"vault object {digest}", f"not a record ({first_error(exc)})") from exc

    def current(self, kind: str, subject: str) -> SaltedRecord | None:
        ref = self.ref(kind, subject)
        return self.record(ref.object) if ref.object else None

    def reconcile(self, kind: str, subject: str, on_chain: set[bytes]) -> Ref:
        """Settle a pending put against the roots the chain holds: a pending record whose root
        is on chain becomes current; one whose root is not is dropped (its transaction never
        landed, or was never sent)."""
        ref = self.ref(kind, subject)
        if ref.pending is None:
            return ref
        if self.record(ref.pending).root in on_chain:
            settled = Ref(ref.pending, None, ref.pending_anchor_tx)
        else:
            settled = Ref(ref.object, None, ref.anchor_tx)
        self.set_ref(kind, subject, settled)
        return settled

    def subjects(self, kind: str) -> list[str]:
        folder = self.root / "refs" / kind
        return sorted(p.stem for p in folder.glob("*.json")) if folder.exists() else []

    # ---------------------------------------------------------------- received disclosures

    def _received_path(self, kind: str, subject: str) -> Path:
        return self.root / "received" / kind / f"{_subject(kind, subject)}.json"

    def receive(self, disclosure: Disclosure) -> bool:
        """Keep ``disclosure`` (already checked); merges with one received earlier for the same
        root, keeping every field either revealed. Returns whether anything new was kept."""
        path = self._received_path(disclosure.kind, disclosure.subject)
        index = self._index(path)
        earlier = index.get(disclosure.root)
        merged = disclosure
        if earlier is not None:
            old = self.disclosure(earlier)
            revealed = {**old.revealed, **disclosure.revealed}
            if set(revealed) == set(old.revealed):
                return False
            withheld = {p: h for p, h in {**old.withheld, **disclosure.withheld}.items() if p not in revealed}
            merged = build_disclosure(
                disclosure.kind, disclosure.subject, disclosure.anchor_tx, revealed, withheld
            )
        index[disclosure.root] = self.put_object(merged.model_dump_json().encode())
        self._write(path, (json.dumps(index, sort_keys=True, indent=1) + "\n").encode())
        return True

    def _index(self, path: Path) -> dict[str, str]:
        if not path.exists():
            return {}
        try:
            loaded: dict[str, str] = json.loads(path.read_text())
            return loaded
        except (ValueError, OSError) as exc:
            raise RecordError(str(path), f"unreadable index ({exc})") from exc

    def disclosure(self, digest: str) -> Disclosure:
        try:
            return Disclosure.model_validate_json(self.get_object(digest))
        except ValidationError as exc:
            raise RecordError(f"vault object {digest}", f"not a disclosure ({first_error(exc)})") from exc

    def received(self) -> list[Disclosure]:
        out = []
        for kind in KINDS:
            folder = self.root / "received" / kind
            for path in sorted(folder.glob("*.json")) if folder.exists() else []:
                out += [self.disclosure(d) for d in self._index(path).values()]
        return out
