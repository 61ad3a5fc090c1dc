"""Reading chain data out of an evidence bundle: headers by hash, accounts and storage slots by
Merkle-Patricia proof against the anchor block's state root, events from receipts proven against
their blocks' receipts roots (and transaction hashes from the transactions roots).

Every proof is walked with py-trie's ``HexaryTrie`` over the bundle's node pool, keyed by the
keccak of each node as computed here (the same walk ``HexaryTrie.get_from_proof`` does for one
proof): a node whose bytes were changed is simply not found, and the read fails naming what it was
for. Nothing in the bundle is taken on its word except through a proof.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rlp
from eth_hash.auto import keccak
from trie.exceptions import MissingTrieNode
from trie.hexary import HexaryTrie

from passport._utils.addresses import checksum
from passport.core.derive import AttestationState, ChainData, Schema, process_ids, relevant, tainted_of
from passport.core.document import ChainRef, Evidence
from passport.core.events import Event, decode_parts, topic
from passport.core.types import Batch, BatchFlag, Facility
from passport.evidence import layout
from passport.exceptions import EvidenceFormatError, ProofError

EMPTY_ROOT = keccak(rlp.encode(b""))
# Logs no claim reads, skipped before decoding: Transfers from address zero (a batch's creation;
# the claims read its BatchMinted, BatchSplit or BatchesProcessed) and BatchProduced.
UNREAD = {topic("Transfer"), topic("BatchProduced")}


def _unread(topics: list[bytes]) -> bool:
    return topics[0] == topic("BatchProduced") or (len(topics) > 1 and not any(topics[1]))


@dataclass(frozen=True, slots=True)
class Header:
    hash: bytes
    number: int
    timestamp: int
    parent_hash: bytes
    state_root: bytes
    transactions_root: bytes
    receipts_root: bytes
    seal: bytes | None


def _hex(value: str, what: str) -> bytes:
    try:
        if not value.startswith("0x"):
            raise ValueError("no 0x prefix")
        return bytes.fromhex(value[2:])
    except ValueError as exc:
        raise ProofError(what, f"not hex ({exc})") from exc


def _int(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


def decode_header(encoded: bytes, seal: bytes | None, what: str) -> Header:
    try:
        fields = rlp.decode(encoded)
    except rlp.exceptions.DecodingError as exc:
        raise ProofError(what, f"not an RLP header ({exc})") from exc
    if not isinstance(fields, list) or len(fields) < 15 or not all(isinstance(f, bytes) for f in fields):
        raise ProofError(what, "not a block header (a list of at least 15 byte strings)")
    return Header(
        hash=keccak(encoded),
        number=_int(fields[8]),
        timestamp=_int(fields[11]),
        parent_hash=fields[0],
        state_root=fields[3],
        transactions_root=fields[4],
        receipts_root=fields[5],
        seal=seal,
    )


class _Pool(dict[bytes, bytes]):
    """Trie nodes by their keccak; remembers which were read, and keeps them decoded."""

    def __init__(self, nodes: list[bytes]) -> None:
        super().__init__((keccak(n), n) for n in nodes)
        self.read: set[bytes] = set()
        self.decoded: dict[bytes, Any] = {}

    def __getitem__(self, key: bytes) -> bytes:
        value = super().__getitem__(key)
        self.read.add(key)
        return value


class _ProofTrie(HexaryTrie):
    """py-trie's traversal over the pool, decoding each node once: a node's bytes are fixed by
    its hash, and the upper nodes of a contract's storage trie are on every slot's path."""

    def get_node(self, node_hash: bytes) -> Any:
        decoded = self.db.decoded
        node = decoded.get(node_hash)
        if node is None:
            node = super().get_node(node_hash)  # type: ignore[no-untyped-call]
            if len(node_hash) == 32:
                decoded[node_hash] = node
        return node


Parts = tuple[list[bytes], list[bytes], list[bytes]]  # headers, seals, trie nodes


class ProvenChain:
    """The chain as the bundle proves it, at its anchor block."""

    def __init__(
        self, evidence: Evidence, parts: tuple[list[bytes], list[bytes], list[bytes]] | None = None
    ) -> None:
        """``parts``: the (headers, seals, nodes) themselves, for an exporter that has not packed
        them yet; otherwise they are unpacked from ``evidence.proofs``."""
        self.evidence = evidence
        try:
            headers, seals, nodes = parts if parts is not None else evidence.unpack()
        except EvidenceFormatError as exc:
            raise ProofError("evidence.proofs", f"unreadable ({exc})") from exc
        self.headers: dict[bytes, Header] = {}
        self.order: list[bytes] = []
        for n, (encoded, seal) in enumerate(zip(headers, seals, strict=True)):
            header = decode_header(encoded, seal or None, f"evidence header {n}")
            if header.hash in self.headers:
                raise ProofError(f"evidence header {n}", "the same header twice")
            self.headers[header.hash] = header
            self.order.append(header.hash)
        anchor = self.headers.get(_hex(evidence.anchor, "evidence.anchor"))
        if anchor is None:
            raise ProofError("evidence.anchor", "no header with the anchor block's hash")
        self.anchor = anchor
        self.pool = _Pool(nodes)
        self._accounts: dict[str, tuple[int, int, bytes, bytes]] = {}
        self._storage: dict[tuple[str, int], int] = {}
        self.read_slots: set[tuple[str, int]] = set()

    def walk(self, root: bytes, key: bytes, what: str) -> bytes:
        """The value at ``key`` in the trie at ``root`` (b"" when the proof shows it absent)."""
        if root == EMPTY_ROOT:
            return b""
        try:
            return bytes(_ProofTrie(self.pool, root).get(key))
        except MissingTrieNode as exc:
            raise ProofError(what, f"proof node 0x{exc.missing_node_hash.hex()} is missing") from exc
        except (rlp.exceptions.DecodingError, ValueError, TypeError, IndexError) as exc:
            raise ProofError(what, f"malformed proof node ({exc})") from exc

    def account(self, address: str) -> tuple[int, int, bytes, bytes]:
        """(nonce, balance, storage root, code hash) of ``address`` at the anchor block."""
        address = checksum(address)
        if address not in self._accounts:
            what = f"account proof of {address}"
            raw = self.walk(self.anchor.state_root, keccak(bytes.fromhex(address[2:])), what)
            if not raw:
                raise ProofError(what, "the account does not exist at the anchor block")
            try:
                nonce, balance, storage_root, code_hash = rlp.decode(raw)
            except (rlp.exceptions.DecodingError, ValueError) as exc:
                raise ProofError(what, f"not an account ({exc})") from exc
            self._accounts[address] = (_int(nonce), _int(balance), storage_root, code_hash)
        return self._accounts[address]

    def storage(self, address: str, slot: int, what: str) -> int:
        """The word at ``slot`` of ``address`` at the anchor block."""
        address = checksum(address)
        key = (address, slot)
        if key not in self._storage:
            storage_root = self.account(address)[2]
            raw = self.walk(storage_root, keccak(slot.to_bytes(32, "big")), f"storage proof of {what}")
            self._storage[key] = _int(rlp.decode(raw)) if raw else 0
        self.read_slots.add(key)
        return self._storage[key]

    def string(self, address: str, slot: int, what: str) -> str:
        word = self.storage(address, slot, what)
        data = [self.storage(address, s, f"{what} (data)") for s in layout.string_data_slots(slot, word)]
        return layout.string_of(word, data)

    def events(self, chain: ChainRef) -> tuple[list[Event], set[int]]:
        """Every log of the listed receipts (as decoded events of the three contracts), and the
        numbers of the blocks they are in. A log's index is (transaction index << 16) + position:
        the block-wide index needs the receipts before it, and order is all the claims use."""
        out: list[Event] = []
        blocks: set[int] = set()
        seen: set[tuple[bytes, int]] = set()
        ours = {bytes.fromhex(a[2:]) for a in (chain.passport, chain.consortium, chain.registry)}
        for n, ref in enumerate(self.evidence.receipts):
            what = f"receipt proof evidence.receipts[{n}]"
            header = self.headers.get(_hex(ref.block, what))
            if header is None:
                raise ProofError(what, f"no header for block {ref.block}")
            if header.number > self.anchor.number:
                raise ProofError(
                    what, f"block {header.number} is after the anchor block {self.anchor.number}"
                )
            if (header.hash, ref.index) in seen:
                raise ProofError(what, "listed twice")
            seen.add((header.hash, ref.index))
            key = rlp.encode(ref.index)
            tx = self.walk(header.transactions_root, key, f"transaction proof evidence.receipts[{n}]")
            receipt = self.walk(header.receipts_root, key, what)
            if not tx or not receipt:
                raise ProofError(what, f"block {header.number} has no transaction {ref.index}")
            tx_hash = "0x" + keccak(tx).hex()
            blocks.add(header.number)
            for position, (address, topics, data) in enumerate(_logs(receipt, what)):
                if address not in ours or (topics and topics[0] in UNREAD and _unread(topics)):
                    continue
                event = decode_parts(
                    address, topics, data, header.number, (ref.index << 16) + position, tx_hash
                )
                if event is not None:
                    out.append(event)
        return sorted(out, key=lambda e: (e.block, e.log_index)), blocks

    def unread_nodes(self) -> int:
        return len(set(self.pool) - self.pool.read)


def _logs(receipt: bytes, what: str) -> list[Any]:
    payload = receipt[1:] if receipt[0] < 0x7F else receipt  # EIP-2718 typed receipt
    try:
        status, _cumulative, _bloom, logs = rlp.decode(payload)
    except (rlp.exceptions.DecodingError, ValueError) as exc:
        raise ProofError(what, f"not a receipt ({exc})") from exc
    if _int(status) != 1:
        raise ProofError(what, "the transaction failed")
    return list(logs)


@dataclass(frozen=True)
class ProvenData:
    data: ChainData
    history: dict[int, int]  # batch id -> its Record.history counter


def read_chain_data(chain: ProvenChain, ref: ChainRef, batch_id: int) -> ProvenData:
    """Everything ``batch_id``'s passport is derived from, read from proofs.

    Raises:
        ProofError: a read lacks its proof, or what it proves is inconsistent.
    """
    p, c, r = ref.passport, ref.consortium, ref.registry
    batches: dict[int, Batch] = {}
    parents: dict[int, list[int]] = {}
    history: dict[int, int] = {}
    frontier = [batch_id]
    while frontier:
        following: list[int] = []
        for i in frontier:
            record = chain.storage(p, layout.record_slot(i), f"batch {i} record")
            if layout.field(record, "Record", "owner") == 0:
                where = "product.batch_id" if i == batch_id else f"batch {i}"
                raise ProofError(where, f"BatchNotFound: batch {i} does not exist at the anchor block")
            holding = chain.storage(p, layout.holding_slot(i), f"batch {i} holding")
            content = chain.storage(p, layout.content_hash_slot(i), f"batch {i} content hash")
            b = layout.batch_of(i, record, holding, content)
            batches[i] = b
            history[i] = layout.field(record, "Record", "history")
            if BatchFlag.FROM_SPLIT in b.flags:
                parents[i] = [b.parent_ref]
            elif BatchFlag.FROM_PROCESS in b.flags:
                slot = layout.process_inputs_slot(b.parent_ref)
                what = f"process {b.parent_ref} inputs"
                length = chain.storage(p, slot, what)
                if length > 64:
                    raise ProofError(what, f"{length} inputs (at most 64)")
                start = layout.array_data(slot)
                parents[i] = [chain.storage(p, start + n, f"{what}[{n}]") for n in range(length)]
            else:
                parents[i] = []
            following += [
                x for x in parents[i] if x not in batches and x not in following and x not in frontier
            ]
        frontier = following

    facilities: dict[int, Facility] = {}
    for f in sorted({b.facility_id for b in batches.values()}):
        base = layout.facility_slot(f)
        word0 = chain.storage(c, base, f"facility {f}")
        word1 = chain.storage(c, layout.member_slot(base, "Facility", "recordRoot"), f"facility {f} location")
        if layout.field(word0, "Facility", "operator") == 0:
            raise ProofError(f"facility {f}", "ConsortiumUnknownFacility at the anchor block")
        facilities[f] = layout.facility_of(f, word0, word1)
    tainted = tainted_of(batches, facilities)
    base_uri = chain.string(p, layout.base_uri_slot(), "the base token URI")
    token_uri = f"{base_uri}{batch_id}" if base_uri else ""

    all_events, _ = chain.events(ref)
    ids = set(batches)
    facility_ids = set(facilities)
    events = relevant(all_events, ref, ids, set(process_ids(batches)), ids | facility_ids)
    schemas: dict[int, Schema] = {}
    for s in sorted({int(e.args["schemaId"]) for e in events if e.name == "Attested"}):
        base = layout.schema_slot(s)
        name = chain.string(r, base, f"schema {s} name")
        word = chain.storage(r, layout.member_slot(base, "Schema", "revocable"), f"schema {s}")
        if not name:
            raise ProofError(f"schema {s}", "AttestationUnknownSchema at the anchor block")
        schemas[s] = Schema(
            name, bool(layout.field(word, "Schema", "revocable")), layout.field(word, "Schema", "subjectKind")
        )
    states: dict[str, AttestationState] = {}
    for e in events:
        if e.name != "Attested" or e.args["uid"] in states:
            continue
        uid = e.args["uid"]
        word = chain.storage(r, layout.attestation_slot(uid), f"attestation {uid}")
        certifier_int = layout.field(word, "Attestation", "certifier")
        if certifier_int == 0:
            raise ProofError(f"attestation {uid}", "AttestationNotFound at the anchor block")
        certifier = layout.address_of(certifier_int)
        schema_id = layout.field(word, "Attestation", "schemaId")
        flags = layout.field(word, "Attestation", "flags")
        issued = layout.field(word, "Attestation", "issuedAt")
        expires = layout.field(word, "Attestation", "expiresAt")
        standing = flags & 1 == 0 and not (expires and ref.as_of_time >= expires)
        # Read for a revoked or expired attestation too (its DCC names the window, so exports
        # prove it), but files exported before that lack those nodes: no failure, it is invalid.
        try:
            accredited = _accredited(chain, c, certifier, schema_id, issued)
        except ProofError:
            if standing:
                raise
            accredited = False
        valid = standing and accredited
        states[uid] = AttestationState(certifier, schema_id, flags, issued, expires, valid)
    times = {h.number: h.timestamp for h in chain.headers.values()}
    data = ChainData(ref, batches, parents, tainted, facilities, token_uri, events, schemas, states, times)
    return ProvenData(data, history)


def _accredited(chain: ProvenChain, consortium: str, certifier: str, schema_id: int, at: int) -> bool:
    return accreditation_window(chain, consortium, certifier, schema_id, at) is not None


def accreditation_window(
    chain: ProvenChain, consortium: str, certifier: str, schema_id: int, at: int
) -> tuple[int, int] | None:
    """The window [validFrom, validUntil) of ``certifier``'s accreditation for ``schema_id``
    covering ``at``, as ``Consortium.isAccredited`` finds it (newest first), or None."""
    slot = layout.accreditations_slot(certifier, schema_id)
    what = f"accreditation of {certifier} for schema {schema_id}"
    length = chain.storage(consortium, slot, what)
    start = layout.array_data(slot)
    for n in range(length - 1, -1, -1):
        word = chain.storage(consortium, start + n, f"{what}[{n}]")
        valid_from = layout.field(word, "Accreditation", "validFrom")
        valid_until = layout.field(word, "Accreditation", "validUntil")
        if valid_from <= at < valid_until:
            return valid_from, valid_until
        if valid_until <= at:
            return None
    return None
