"""Disclosures: some fields of a record revealed with their salts, the rest withheld as leaf
hashes, and an OpenZeppelin multiproof from the revealed leaves to the record's root.

Because every withheld leaf is listed, anyone holding a disclosure can cut a narrower one (for a
lower tier) without the salts of what it withholds: the tree is rebuilt from the leaves.

What a disclosure proves by itself is that its fields hang from ``root``; that ``root`` is the
one on chain is checked against the chain (``passport records receive``) or against a passport's
proofs (``passport passport verify``).
"""

from __future__ import annotations

import fnmatch
import hashlib
from importlib import resources
from typing import Any, Literal

import rfc8785
from pydantic import BaseModel, ConfigDict, Field

from passport._utils.files import JsonFile, load_shipped_or_file, shipped_names
from passport._utils.merkle import MultiProof, StandardTree, process_multiproof
from passport.exceptions import MerkleError, RecordError
from passport.records.fields import Kind, SaltedRecord, leaf_hash

Hex32 = str
PACKAGE_KIND = "mineral-passport/disclosures@1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Revealed(_Model):
    """A revealed field: its value and salt, and the leaf they were committed as."""

    value: Any
    salt: Hex32 = Field(pattern=r"^0x[0-9a-f]{64}$")
    leaf: Hex32 = Field(pattern=r"^0x[0-9a-f]{64}$")

    def computed(self, path: str) -> bytes:
        return leaf_hash(path, self.value, bytes.fromhex(self.salt[2:]))


class Disclosure(_Model):
    """One record's revealed and withheld fields, and the multiproof of the revealed ones.

    ``subject`` is the member's address, or the facility's or batch's id. For a batch record,
    ``anchor_tx`` is the transaction whose ``BatchDocumentsAdded`` event appended ``root``
    (None when the root is the batch's content hash, set at mint or process).
    """

    kind: Kind
    subject: str = Field(min_length=1, max_length=64)
    root: Hex32 = Field(pattern=r"^0x[0-9a-f]{64}$")
    anchor_tx: Hex32 | None = Field(default=None, pattern=r"^0x[0-9a-f]{64}$")
    revealed: dict[str, Revealed]
    withheld: dict[str, Hex32]
    proof: list[Hex32]
    flags: list[bool]

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.subject.lower())

    def label(self) -> str:
        return f"{self.kind} {self.subject}"

    def values(self) -> dict[str, Any]:
        return {p: f.value for p, f in self.revealed.items()}

    def check(self) -> list[tuple[str, str]]:
        """(what, why) for everything that does not hang together, without the chain: each
        revealed value and salt against its leaf, the multiproof of the revealed leaves against
        the root, and all the leaves (revealed and withheld) against the root."""
        where = f"disclosure {self.label()}"
        failures: list[tuple[str, str]] = [
            (f"{where} field {p}", "both revealed and withheld")
            for p in sorted(set(self.revealed) & set(self.withheld))
        ]
        try:
            root = bytes.fromhex(self.root[2:])
            stated = {p: bytes.fromhex(f.leaf[2:]) for p, f in self.revealed.items()}
            withheld = [bytes.fromhex(h[2:]) for h in self.withheld.values()]
            multi = MultiProof(
                tuple(sorted(stated.values())),
                tuple(bytes.fromhex(h[2:]) for h in self.proof),
                tuple(self.flags),
            )
        except ValueError as exc:
            return [*failures, (where, f"malformed hex ({exc})")]
        if not stated and not withheld:
            return [*failures, (where, "no fields")]
        for path, field in sorted(self.revealed.items()):
            if field.computed(path) != stated[path]:
                failures.append(
                    (f"{where} field {path}", "the value or salt does not match its committed leaf")
                )
        if stated:
            try:
                if process_multiproof(multi) != root:
                    failures.append((f"{where} proof", f"the multiproof does not lead to root {self.root}"))
            except MerkleError as exc:
                failures.append((f"{where} proof", str(exc)))
        if StandardTree([*stated.values(), *withheld]).root != root:
            failures.append((f"{where} withheld", f"the leaves do not rebuild root {self.root}"))
        return failures

    def restricted(self, patterns: list[str]) -> Disclosure:
        """A narrower disclosure revealing only the revealed fields that match ``patterns``."""
        keep = {p: f for p, f in self.revealed.items() if _matches(p, patterns)}
        drop = {p: f.leaf for p, f in self.revealed.items() if p not in keep}
        return build_disclosure(self.kind, self.subject, self.anchor_tx, keep, {**self.withheld, **drop})


def _matches(path: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) or path.startswith(p + ".") for p in patterns)


def build_disclosure(
    kind: Kind, subject: str, anchor_tx: str | None, revealed: dict[str, Revealed], withheld: dict[str, str]
) -> Disclosure:
    leaves = {p: bytes.fromhex(f.leaf[2:]) for p, f in revealed.items()}
    tree = StandardTree([*leaves.values(), *(bytes.fromhex(h[2:]) for h in withheld.values())])
    multi = tree.multiproof(sorted(leaves.values())) if leaves else MultiProof((), (), ())
    return Disclosure(
        kind=kind,
        subject=subject,
        root="0x" + tree.root.hex(),
        anchor_tx=anchor_tx,
        revealed=dict(sorted(revealed.items())),
        withheld=dict(sorted(withheld.items())),
        proof=["0x" + h.hex() for h in multi.proof],
        flags=list(multi.flags),
    )


def disclose(record: SaltedRecord, patterns: list[str], anchor_tx: str | None = None) -> Disclosure:
    """``record``'s fields matching ``patterns`` revealed, the others withheld."""
    revealed = {
        p: Revealed(value=f.value, salt=f.salt, leaf="0x" + f.leaf(p).hex())
        for p, f in record.fields.items()
        if _matches(p, patterns)
    }
    withheld = {p: "0x" + f.leaf(p).hex() for p, f in record.fields.items() if p not in revealed}
    return build_disclosure(record.kind, record.subject, anchor_tx, revealed, withheld)


# -------------------------------------------------------------------- tiers


class Tier(_Model):
    """Which fields of which record kinds a tier reveals (glob patterns over field paths)."""

    tier: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    description: str = ""
    reveal: dict[Kind, list[str]]

    def patterns(self, kind: str) -> list[str]:
        return list(self.reveal.get(kind, []))  # type: ignore[call-overload]

    def reveals(self, kind: str, path: str) -> bool:
        """Whether this tier reveals the field ``path`` of a ``kind`` record."""
        return _matches(path, self.patterns(kind))

    def fingerprint(self) -> str:
        """``sha256:`` and the SHA-256 of the tier's RFC 8785 form: names the tier's rules, so a
        buyer can compare them with the tier agreed."""
        return "sha256:" + hashlib.sha256(rfc8785.dumps(self.model_dump(mode="json"))).hexdigest()


def builtin_tiers() -> list[str]:
    return shipped_names(resources.files("passport.records").joinpath("tiers"))


def load_tier(name_or_path: str) -> Tier:
    """A shipped tier (``public``, ``buyer``, ``authority``) or a member's own tier file.

    Raises:
        RecordError: unknown tier, unreadable or malformed file.
    """
    folder = resources.files("passport.records").joinpath("tiers")
    return load_shipped_or_file(
        Tier,
        name_or_path,
        folder,
        ("tier", "tiers"),
        lambda reason: RecordError(f"tier {name_or_path!r}", reason),
    )


# -------------------------------------------------------------------- packages


class Package(JsonFile):
    """What a seller hands a buyer with the goods: disclosures for a batch's lineage at a tier."""

    kind: Literal["mineral-passport/disclosures@1"] = "mineral-passport/disclosures@1"
    chain_id: int
    batch_id: int = Field(gt=0)
    tier: str
    disclosures: list[Disclosure]
