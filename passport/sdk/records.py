"""Records on chain: putting a record (vault first, then its root), reading the roots the chain
holds, and making and receiving disclosure packages for a batch's lineage."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from passport._utils.addresses import checksum
from passport.core.document import PassportDocument
from passport.core.events import topic
from passport.exceptions import RecordError
from passport.records.disclosure import Disclosure, Package, Tier, disclose
from passport.records.fields import Kind, SaltedRecord, salt_record
from passport.records.vault import Ref, Vault, crash_point
from passport.sdk.client import Call, Sent
from passport.sdk.contracts import Contracts

ZERO = b"\x00" * 32


@dataclass(frozen=True, slots=True)
class PutResult:
    kind: str
    subject: str
    root: str
    changed: bool
    tx: str | None


@dataclass(frozen=True, slots=True)
class OnChainRoot:
    root: bytes
    anchor_tx: str | None  # the BatchDocumentsAdded transaction (batch roots appended by event)


def normalise_subject(kind: str, subject: str) -> str:
    """A member's checksummed address, or a facility's or batch's decimal id.

    Raises:
        RecordError: the subject is not of that form.
    """
    if kind == "member":
        try:
            return checksum(subject)
        except ValueError:
            raise RecordError(f"member {subject!r}", "not an address (0x and 40 hex digits)") from None
    if not subject.isdigit() or int(subject) <= 0:
        raise RecordError(f"{kind} {subject!r}", "not a positive integer id")
    return str(int(subject))


class RecordsApi:
    def __init__(self, contracts: Contracts) -> None:
        self.contracts = contracts
        self.client = contracts.client

    # ---------------------------------------------------------------- roots

    def roots(self, kind: str, subject: str, block: int | str = "latest") -> list[OnChainRoot]:
        """The roots the chain holds for a record, oldest first: a member's profile root, a
        facility's record root, or a batch's content hash followed by every document root its
        holders appended."""
        c, p = self.contracts.consortium, self.contracts.passport
        if kind == "member":
            root = bytes(self.client.call(Call(c, "profileRoot", (checksum(subject),)), block))
            return [OnChainRoot(root, None)] if root != ZERO else []
        if kind == "facility":
            raw = self.client.call(Call(c, "facility", (int(subject),)), block)  # reverts when unknown
            root = bytes(raw[-1])
            return [OnChainRoot(root, None)] if root != ZERO else []
        if kind == "batch":
            raw = self.client.call(Call(p, "batch", (int(subject),)), block)
            out = [OnChainRoot(bytes(raw[-1]), None)] if bytes(raw[-1]) != ZERO else []
            logs = self.client.get_logs(
                [p.address], [topic("BatchDocumentsAdded"), int(subject).to_bytes(32, "big")], block
            )
            for log in logs:
                out.append(OnChainRoot(bytes.fromhex(log["data"][-64:]), log["transactionHash"]))
            return out
        raise RecordError(kind, "unknown record kind (expected member, facility or batch)")

    def send_root(self, account: LocalAccount, kind: str, subject: str, root: bytes) -> Sent[None]:
        c, p = self.contracts.consortium.functions, self.contracts.passport.functions
        if kind == "member":
            if checksum(subject) != account.address:
                raise RecordError(
                    f"member {subject}", f"only the member itself sets its profile, not {account.address}"
                )
            call = c.setProfileRoot(root)
        elif kind == "facility":
            call = c.setFacilityRecord(int(subject), root)
        else:
            call = p.addDocuments(int(subject), root)
        return self.client.send(account, call)

    # ---------------------------------------------------------------- put

    def put(
        self, vault: Vault, account: LocalAccount, kind: Kind, subject: str, record: Mapping[str, Any]
    ) -> PutResult:
        """Validate, salt and store ``record`` in the vault, then send its root; unchanged fields
        keep their salts, so an unchanged record sends nothing.

        Raises:
            RecordError: the record breaks its schema, or the subject is malformed.
            ContractRevert: the chain refused the root (not the member, operator or holder).
        """
        subject = normalise_subject(kind, subject)
        chain_roots = self.roots(kind, subject)
        ref = vault.reconcile(kind, subject, {r.root for r in chain_roots})
        previous = vault.record(ref.object) if ref.object else None
        salted = salt_record(kind, subject, record, previous)
        root = salted.root
        digest = vault.store_record(salted)
        crash_point("stored")
        latest = chain_roots[-1] if chain_roots else None
        if latest is not None and latest.root == root:
            vault.set_ref(kind, subject, Ref(digest, None, latest.anchor_tx))
            return PutResult(kind, subject, "0x" + root.hex(), False, None)
        vault.set_ref(kind, subject, Ref(ref.object, digest, ref.anchor_tx))
        crash_point("pending")
        tx = self.send_root(account, kind, subject, root).tx_hash
        crash_point("sent")
        vault.set_ref(kind, subject, Ref(digest, None, tx if kind == "batch" else None))
        return PutResult(kind, subject, "0x" + root.hex(), True, tx)

    def show(
        self, vault: Vault, kind: Kind, subject: str
    ) -> tuple[SaltedRecord | None, Ref, list[OnChainRoot]]:
        subject = normalise_subject(kind, subject)
        chain_roots = self.roots(kind, subject)
        ref = vault.reconcile(kind, subject, {r.root for r in chain_roots})
        return (vault.record(ref.object) if ref.object else None), ref, chain_roots

    # ---------------------------------------------------------------- disclosures

    def own_disclosures(
        self, vault: Vault, wanted: Iterable[tuple[str, str]], tier: Tier, block: int | str = "latest"
    ) -> list[Disclosure]:
        """Disclosures of the vault's own records among ``wanted`` (kind, subject), at ``tier``,
        for records whose root is on chain at ``block``."""
        out = []
        for kind, subject in wanted:
            ref = vault.ref(kind, subject)
            if ref.pending is not None:  # a put interrupted by a crash: settle it first
                ref = vault.reconcile(kind, subject, {r.root for r in self.roots(kind, subject)})
            if ref.object is None:
                continue
            record = vault.record(ref.object)
            root = record.root
            anchor = next((r for r in self.roots(kind, subject, block) if r.root == root), None)
            if anchor is None:
                continue  # the vault's record is not (or no longer) the one on chain
            out.append(disclose(record, tier.patterns(kind), anchor.anchor_tx))
        return out

    def share(self, vault: Vault, document: PassportDocument, tier: Tier) -> Package:
        """The disclosures the vault may pass on for ``document``'s lineage at ``tier``: its own
        records and those received from upstream, each narrowed to the tier."""
        wanted = document.record_subjects()
        block = document.chain.as_of_block
        own = self.own_disclosures(vault, sorted(wanted), tier, block)
        have = {d.key for d in own}
        received = [
            d.restricted(tier.patterns(d.kind))
            for d in vault.received()
            if d.key in wanted and d.key not in have
        ]
        current = [d for d in received if self._on_chain(d, block)]
        return Package(
            chain_id=self.client.chain_id,
            batch_id=document.product.batch_id,
            tier=tier.tier,
            disclosures=sorted([*own, *current], key=lambda d: (d.kind, d.subject)),
        )

    def _on_chain(self, d: Disclosure, block: int | str) -> bool:
        return any(
            r.root.hex() == d.root[2:] and r.anchor_tx == d.anchor_tx
            for r in self.roots(d.kind, d.subject, block)
        )

    def receive(self, vault: Vault, package: Package, document: PassportDocument) -> list[str]:
        """Check every disclosure of ``package`` against itself and the chain, then keep them.

        Raises:
            RecordError: the package is for another chain or batch, a disclosure's subject is
                outside the batch's lineage, a field does not match its leaf, or a root is not
                on chain. Nothing is kept then.
        """
        if package.chain_id != self.client.chain_id:
            raise RecordError(
                "package", f"for chain {package.chain_id}, this chain is {self.client.chain_id}"
            )
        if package.batch_id != document.product.batch_id:
            raise RecordError(
                "package", f"for batch {package.batch_id}, not batch {document.product.batch_id}"
            )
        wanted = document.record_subjects()
        for d in package.disclosures:
            if d.key not in wanted:
                raise RecordError(
                    f"package disclosure {d.label()}", f"not in batch {package.batch_id}'s lineage"
                )
            failures = d.check()
            if failures:
                what, why = failures[0]
                raise RecordError(f"package {what}", why)
            roots = self.roots(d.kind, d.subject)
            match = next((r for r in roots if "0x" + r.root.hex() == d.root), None)
            if match is None:
                raise RecordError(f"package disclosure {d.label()}", f"root {d.root} is not on chain")
            if d.kind == "batch" and d.anchor_tx != match.anchor_tx:
                raise RecordError(
                    f"package disclosure {d.label()}",
                    f"anchor_tx {d.anchor_tx} is not the root's transaction",
                )
        return [d.label() for d in package.disclosures if vault.receive(d)]


def resolve_documents(vault: Vault, record: dict[str, Any], base: Path) -> dict[str, Any]:
    """A batch record whose documents name files (``{"file": "assay.pdf"}``) with each file
    stored in the vault and replaced by its reference (name, media type, SHA-256, size).

    Raises:
        RecordError: a named file cannot be read.
    """
    documents = record.get("documents")
    if not isinstance(documents, dict):
        return record
    out = dict(documents)
    for name, entry in documents.items():
        if isinstance(entry, dict) and set(entry) <= {"file", "mediaType", "name"} and "file" in entry:
            path = base / str(entry["file"])
            digest = vault.put_file(path)
            media = entry.get("mediaType") or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            out[name] = {
                "name": entry.get("name", path.name),
                "mediaType": media,
                "sha256": digest,
                "size": path.stat().st_size,
            }
    return {**record, "documents": out}
