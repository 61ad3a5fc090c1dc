"""The Digital Mineral Passport document (JSON), validated with pydantic at the file boundary.

The committed JSON Schema (``schemas/passport.schema.json``) is generated from these models
by ``passport passport schema``; a test keeps it current.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import zlib
from enum import Enum
from typing import Annotated, Any, Literal

import rfc8785
import rlp
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)

from passport._utils.files import JsonFile
from passport.core.types import FacilityKind, Stage
from passport.exceptions import EvidenceFormatError
from passport.records.disclosure import Disclosure, Tier

# @2 (December 2026): contained tungsten as an exact integer in micrograms (grams x ppm, the
# contract's containedTungsten) instead of a float in grams. @1 files keep verifying.
KIND: Literal["mineral-passport/passport@2"] = "mineral-passport/passport@2"
KIND_V1: Literal["mineral-passport/passport@1"] = "mineral-passport/passport@1"
KINDS = (KIND, KIND_V1)
Hex32 = str
Address = str


def _member_of(enum: type[Enum]) -> Any:
    """A validator: ``enum``'s member, given it or its name (``"WF6"``)."""

    def parse(value: object) -> Enum:
        if isinstance(value, enum):
            return value
        if isinstance(value, str) and value in enum.__members__:
            return enum[value]
        names = ", ".join(enum.__members__)
        raise ValueError(f"{value!r} is not a {enum.__name__.lower()}: one of {names}")

    return PlainValidator(parse)


def _names(enum: type[Enum]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(enum.__members__)})


_BY_NAME = PlainSerializer(lambda member: member.name, return_type=str)

# Enums in Python, their members' names in JSON ("WF6"), as the contracts' enums are.
StageName = Annotated[Stage, _member_of(Stage), _BY_NAME, _names(Stage)]
FacilityKindName = Annotated[FacilityKind, _member_of(FacilityKind), _BY_NAME, _names(FacilityKind)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChainRef(_Model):
    """Where and as of when the passport was read."""

    chain_id: int
    consortium: Address
    passport: Address
    registry: Address
    as_of_block: int = Field(ge=0)
    as_of_block_hash: Hex32
    as_of_time: int


class Product(_Model):
    batch_id: int = Field(gt=0)
    token_uri: str
    stage: StageName
    mass_grams: int
    grade_ppm: int
    contained_tungsten_ug: int | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="micrograms of tungsten: mass_grams x grade_ppm, exact (passport@2)",
    )
    contained_tungsten_grams: float | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="passport@1 files only: the same quantity as a float in grams",
    )

    @property
    def contained_ug(self) -> int:
        """Micrograms of tungsten the file states, whichever format it is in."""
        if self.contained_tungsten_ug is not None:
            return self.contained_tungsten_ug
        return round((self.contained_tungsten_grams or 0.0) * 1_000_000)

    owner: Address
    custodian: Address
    facility_id: int
    country: str
    content_hash: Hex32
    flags: list[str]


class Origin(_Model):
    """A batch that entered the chain by mint: a mine's (or recycler's) output."""

    batch_id: int
    facility_id: int
    facility_kind: FacilityKindName
    operator: Address
    country: str
    stage: StageName
    mass_grams: int


class Node(_Model):
    batch_id: int
    stage: StageName
    mass_grams: int
    grade_ppm: int
    facility_id: int
    country: str
    flags: list[str]
    tainted: bool
    content_hash: Hex32


class Edge(_Model):
    parent: int
    child: int
    via: Literal["split", "process"]
    process_id: int | None = None


class Lineage(_Model):
    nodes: list[Node]
    edges: list[Edge]


class CustodyEvent(_Model):
    batch_id: int
    type: Literal["minted", "offered", "cancelled", "accepted", "discrepancy", "title-transfer"]
    sender: Address | None = None
    receiver: Address | None = None
    custody_only: bool | None = None
    measured_grams: int | None = None
    recorded_grams: int | None = None
    block: int
    time: int
    tx: Hex32


class Quantity(_Model):
    batch_id: int
    quantity_grams: int


class Transformation(_Model):
    """Shaped like a GS1 EPCIS 2.0 TransformationEvent."""

    type: Literal["TransformationEvent"] = "TransformationEvent"
    event_time: int
    biz_step: Literal["splitting", "transforming"]
    biz_location: int = Field(description="facility id")
    country: str
    actor: Address
    process_id: int | None = None
    input_quantity_list: list[Quantity]
    output_quantity_list: list[Quantity]
    block: int
    tx: Hex32


class AttestationEntry(_Model):
    uid: Hex32
    schema_id: int
    schema_name: str
    subject_kind: Literal["BATCH", "FACILITY", "MEMBER"]
    subject: int
    certifier: Address
    data_hash: Hex32
    issued_at: int
    expires_at: int
    status: Literal["valid", "expired", "revoked", "unaccredited"]
    block: int
    tx: Hex32


class FacilityEntry(_Model):
    facility_id: int
    operator: Address
    country: str
    kind: FacilityKindName
    sanctioned: bool
    operator_sanctioned: bool
    record_root: Hex32


class TaintSource(_Model):
    batch_id: int
    reason: Literal["regulator", "sanctioned-facility", "inherited"]
    facility_id: int | None = None


class Taint(_Model):
    tainted: bool
    sources: list[TaintSource]


class RegulatoryEvent(_Model):
    batch_id: int
    type: Literal["frozen", "unfrozen", "tainted"]
    regulator: Address
    reason: Hex32 | None = None
    block: int
    time: int
    tx: Hex32


class Verification(_Model):
    method: str = (
        "Every field is re-derived from the chain as of chain.as_of_block (eth_call and eth_getLogs "
        "at that block); `passport passport verify FILE` reports each mismatch. With `evidence`, "
        "`passport passport verify FILE --trust ANCHOR` re-derives every field offline from the "
        "proofs, checked against the consortium's trust anchor."
    )


class ReceiptRef(_Model):
    """A transaction whose receipt (receiptsRoot) and transaction (transactionsRoot) are proven."""

    block: Hex32 = Field(description="block hash")
    index: int = Field(ge=0)


# A bundle's proofs decompress to at most this many bytes (a gzip bomb is refused).
MAX_PROOF_BYTES = 64 * 1024 * 1024


class ConsensusEvidence(_Model):
    """CometBFT light blocks that prove the EVM headers of a CometBFT network's passport, in
    CometBFT's own JSON (``/commit``'s ``signed_header``; ``/validators``' list).

    The last signed header of ``path`` is at the anchor block's height + 1: its ``app_hash`` is
    the anchor block's hash. ``path`` runs from the trust anchor's height, each header verified
    from the one before it (CometBFT's light-client ``Verify``). ``commits`` are signed headers at
    N + 1 for cited blocks N that no ``parentHash`` links to a proven header.
    """

    kind: Literal["cometbft-light@1"] = "cometbft-light@1"
    validator_sets: dict[str, list[dict[str, Any]]] = Field(
        description="validators_hash (hex) -> the validator set, as CometBFT's /validators lists it"
    )
    path: list[dict[str, Any]] = Field(min_length=1)
    commits: list[dict[str, Any]] = Field(default_factory=list)


class Evidence(_Model):
    """What proves the claims against the anchor block.

    ``proofs`` packs, as base64 of gzip of RLP, the list ``[headers, seals, nodes]``: block headers
    (RLP, as hashed: the anchor block's and those of blocks whose events are cited), each
    header's validator seal (empty when the chain does not seal), and one pool of Merkle-Patricia
    trie nodes, addressed by their keccak, that proves the three contracts' accounts, every
    storage slot the claims read, and the receipt and transaction of every event they read.
    """

    kind: Literal["mineral-passport/evidence@1"] = "mineral-passport/evidence@1"
    anchor: Hex32 = Field(description="hash of the block the claims are read at")
    receipts: list[ReceiptRef]
    completeness: dict[str, str] = Field(
        description="list -> whether the evidence proves it complete, and how (or why not)"
    )
    encoding: Literal["rlp+gzip+base64"] = "rlp+gzip+base64"
    proofs: str = Field(description="base64(gzip(rlp([headers, seals, nodes])))")
    consensus: ConsensusEvidence | None = Field(
        default=None,
        exclude_if=lambda value: value is None,  # a single sealer's evidence keeps its format
        description="a CometBFT network's commits that prove the headers (seals stay empty)",
    )

    @staticmethod
    def pack(headers: list[bytes], seals: list[bytes], nodes: list[bytes]) -> str:
        body = rlp.encode([headers, seals, nodes])
        return base64.b64encode(gzip.compress(body, 9, mtime=0)).decode("ascii")

    def unpack(self) -> tuple[list[bytes], list[bytes], list[bytes]]:
        """(headers, seals, nodes).

        Raises:
            EvidenceFormatError: not base64, not gzip, too large, or not the three lists.
        """
        try:
            packed = base64.b64decode(self.proofs, validate=True)
            inflate = zlib.decompressobj(wbits=31)
            body = inflate.decompress(packed, MAX_PROOF_BYTES)
            if inflate.unconsumed_tail or not inflate.eof:
                raise EvidenceFormatError(f"more than {MAX_PROOF_BYTES} bytes, or truncated")
            lists = rlp.decode(body)
        except (binascii.Error, zlib.error, rlp.exceptions.DecodingError) as exc:
            raise EvidenceFormatError(str(exc)) from exc
        if (
            not isinstance(lists, list)
            or len(lists) != 3
            or not all(isinstance(x, list) and all(isinstance(i, bytes) for i in x) for x in lists)
        ):
            raise EvidenceFormatError("not the lists [headers, seals, nodes]")
        headers, seals, nodes = lists
        if len(seals) != len(headers):
            raise EvidenceFormatError(f"{len(headers)} headers but {len(seals)} seals")
        return headers, seals, nodes


class TelemetryWindow(_Model):
    """An anchored window of device readings (``Consortium.anchorTelemetry``)."""

    root: Hex32 = Field(pattern=r"^0x[0-9a-f]{64}$")
    count: int = Field(ge=1)
    from_time: int
    to_time: int


class DeviceReading(_Model):
    """A device-signed reading as the gateway took it (its JSON wire form)."""

    device: Address
    facility: int
    seq: int
    time: int
    kind: str
    value: int
    unit: str
    signature: str = Field(pattern=r"^0x[0-9a-f]{130}$")


class Weighing(_Model):
    """A reading that measured a lot: signed by a device of the lot's facility, in the lot's
    document root (``lot_proof``, sorted-pair Merkle proof to the batch's content hash) and in a
    window anchored on chain before the mint (``window_proof``)."""

    batch_id: int
    reading: DeviceReading
    lot_proof: list[Hex32]
    window: TelemetryWindow
    window_proof: list[Hex32]

    def label(self) -> str:
        return f"{self.reading.device}:{self.reading.seq}"


class Version(_Model):
    """The passport version's hash: what a registry (the EU DPP registry) stores per version."""

    hash: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    method: Literal["sha256(rfc8785(claims))"] = "sha256(rfc8785(claims))"


UNCLAIMED = {"evidence", "version", "tier", "tier_spec", "tier_missing", "disclosures", "readings"}


class PassportDocument(JsonFile):
    kind: Literal["mineral-passport/passport@2", "mineral-passport/passport@1"] = KIND
    chain: ChainRef
    product: Product
    origins: list[Origin]
    stage_countries: dict[str, list[str]]
    lineage: Lineage
    custody: list[CustodyEvent]
    transformations: list[Transformation]
    attestations: list[AttestationEntry]
    facilities: list[FacilityEntry]
    taint: Taint
    regulatory: list[RegulatoryEvent]
    telemetry_roots: dict[str, Hex32] = Field(
        description="batch id -> content hash (documents/telemetry root)"
    )
    verification: Verification = Verification()
    evidence: Evidence | None = None
    version: Version | None = Field(
        default=None,
        description="SHA-256 of the RFC 8785 form of the claims: equal for equal passport versions",
    )
    tier: str | None = Field(default=None, description="the disclosure tier the passport was exported at")
    tier_spec: Tier | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="the tier's rules (which fields of which records it reveals): the verifier checks "
        "that every lineage record on chain is disclosed with those fields; a shipped tier's must equal it",
    )
    tier_missing: list[str] = Field(
        default_factory=list,
        exclude_if=lambda value: not value,
        description='records ("facility 3") or fields ("facility 3 licence.number") the tier names but '
        "the exporter did not have: the passport is marked incomplete at its tier",
    )
    disclosures: list[Disclosure] = Field(
        default_factory=list,
        description="revealed and withheld fields of the lineage's member, facility and batch records",
    )
    readings: list[Weighing] = Field(
        default_factory=list,
        description="device readings that measured the lineage's lots, with their Merkle proofs and anchors",
    )

    @model_validator(mode="after")
    def _contained_tungsten_of_its_kind(self) -> PassportDocument:
        p = self.product
        grams, ug = p.contained_tungsten_grams is not None, p.contained_tungsten_ug is not None
        if self.kind == KIND_V1 and not (grams and not ug):
            raise ValueError(f"a {KIND_V1} file states product.contained_tungsten_grams (and not _ug)")
        if self.kind == KIND and not (ug and not grams):
            raise ValueError(f"a {KIND} file states product.contained_tungsten_ug (and not _grams)")
        return self

    def in_format_of(self, other: PassportDocument) -> PassportDocument:
        """This (re-derived, current-format) document as ``other``'s format writes it, so that a
        file exported in an earlier format compares, and hashes, as it was written."""
        if other.kind == self.kind:
            return self
        if other.kind != KIND_V1 or self.kind != KIND:
            raise ValueError(f"cannot write a {self.kind} document as {other.kind}")
        p = self.product
        grams = p.mass_grams * p.grade_ppm / 1_000_000  # as @1 computed it
        product = p.model_copy(update={"contained_tungsten_ug": None, "contained_tungsten_grams": grams})
        return self.model_copy(update={"kind": KIND_V1, "product": product})

    def claims(self) -> dict[str, Any]:
        """The document without its evidence and disclosures: what verification re-derives."""
        return self.model_dump(mode="json", exclude=UNCLAIMED)

    def lineage_subjects(self) -> set[tuple[str, str]]:
        """(kind, subject) of the lineage's records, subjects lower-cased: its batches, their
        facilities, and the members operating those or holding the product."""
        out = {("batch", str(n.batch_id)) for n in self.lineage.nodes}
        for f in self.facilities:
            out |= {("facility", str(f.facility_id)), ("member", f.operator.lower())}
        return out | {("member", self.product.owner.lower()), ("member", self.product.custodian.lower())}

    def record_subjects(self) -> set[tuple[str, str]]:
        """(kind, subject) of every record the passport may disclose: the lineage's, and the
        profile of every other party it names (senders and receivers of custody events, carriers
        among them; certifiers; regulators)."""
        parties = {c.sender for c in self.custody} | {c.receiver for c in self.custody}
        parties |= {a.certifier for a in self.attestations} | {r.regulator for r in self.regulatory}
        return self.lineage_subjects() | {("member", p.lower()) for p in parties if p is not None}

    def versioned(self) -> PassportDocument:
        """The document with its version hash recorded."""
        return self.model_copy(update={"version": Version(hash=version_hash(self))})


def version_hash(document: PassportDocument) -> str:
    """``sha256:`` and the SHA-256 of the RFC 8785 (JCS) form of the passport's claims."""
    return "sha256:" + hashlib.sha256(rfc8785.dumps(document.claims())).hexdigest()


def json_schema() -> str:
    """The JSON Schema of the passport document, as committed in schemas/passport.schema.json."""
    schema = PassportDocument.model_json_schema()
    schema["$id"] = "https://mineral-passport.example/schemas/passport.schema.json"
    schema["title"] = "Digital Mineral Passport"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
