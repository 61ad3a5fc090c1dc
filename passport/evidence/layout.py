"""Where the contracts keep what a passport's claims read: the one source of truth for slots and
packing. ``tests/evidence/test_layout.py`` checks every entry against ``forge inspect <Contract>
storageLayout``, so a contract change cannot silently break proofs.

Slots follow Solidity's rules: a mapping value lives at ``keccak(key . slot)``, a dynamic array's
elements from ``keccak(slot)``, a string of 32 bytes or more from ``keccak(slot)`` with
``2 * length + 1`` in the slot itself (shorter strings sit in the slot with ``2 * length``).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_hash.auto import keccak

from passport._utils.addresses import checksum
from passport.core.types import Batch, BatchFlag, Facility, FacilityKind, Stage


@dataclass(frozen=True, slots=True)
class Member:
    """A struct member: slot offset from the struct's slot, byte offset in it, size in bytes."""

    label: str
    slot: int
    offset: int
    size: int


# Contract -> state variable -> slot.
VARIABLES: dict[str, dict[str, int]] = {
    "MineralPassport": {
        "_records": 0,
        "_holdings": 1,
        "_contentHashes": 2,
        "_processInputs": 4,
        "_baseTokenURI": 9,
    },
    "Consortium": {
        "_members": 0,
        "_facilities": 1,
        "_devices": 2,
        "_accreditations": 3,
        "_profileRoots": 10,
        "_telemetryAnchors": 11,
    },
    "AttestationRegistry": {"_schemas": 2, "_attestations": 4},
}

# Struct -> members read by the verifier.
STRUCTS: dict[str, tuple[Member, ...]] = {
    "Record": (
        Member("owner", 0, 0, 20),
        Member("stage", 0, 20, 1),
        Member("flags", 0, 21, 1),
        Member("gradePpm", 0, 22, 3),
        Member("facilityId", 0, 25, 4),
        Member("country", 0, 29, 2),
        Member("history", 0, 31, 1),
    ),
    "Member": (
        Member("roles", 0, 0, 1),
        Member("active", 0, 1, 1),
        Member("sanctioned", 0, 2, 1),
        Member("jurisdiction", 0, 3, 2),
        Member("joinedAt", 0, 5, 5),
    ),
    "Holding": (Member("custodian", 0, 0, 20), Member("massGrams", 0, 20, 8), Member("parentRef", 0, 28, 4)),
    "Facility": (
        Member("operator", 0, 0, 20),
        Member("country", 0, 20, 2),
        Member("kind", 0, 22, 1),
        Member("sanctioned", 0, 23, 1),
        Member("operatorSanctioned", 0, 24, 1),
        Member("recordRoot", 1, 0, 32),
    ),
    "Accreditation": (Member("validFrom", 0, 0, 5), Member("validUntil", 0, 5, 5)),
    "Device": (Member("facilityId", 0, 0, 4), Member("active", 0, 4, 1)),
    "TelemetryAnchor": (
        Member("facilityId", 0, 0, 4),
        Member("count", 0, 4, 4),
        Member("fromTime", 0, 8, 5),
        Member("toTime", 0, 13, 5),
        Member("anchoredAt", 0, 18, 5),
    ),
    "Attestation": (
        Member("certifier", 0, 0, 20),
        Member("schemaId", 0, 20, 3),
        Member("flags", 0, 23, 1),
        Member("issuedAt", 0, 24, 4),
        Member("expiresAt", 0, 28, 4),
    ),
    "Schema": (Member("name", 0, 0, 32), Member("revocable", 1, 0, 1), Member("subjectKind", 1, 1, 1)),
}

# History counter saturation (MineralPassport Record.history).
HISTORY_MAX = 255


def _word(n: int) -> bytes:
    return n.to_bytes(32, "big")


def mapping_slot(slot: int, key: int) -> int:
    """The slot of ``mapping[key]`` for a mapping at ``slot`` (value-type keys, left-padded)."""
    return int.from_bytes(keccak(_word(key) + _word(slot)), "big")


def array_data(slot: int) -> int:
    """The first element slot of the dynamic array (or long string) whose length is at ``slot``."""
    return int.from_bytes(keccak(_word(slot)), "big")


def field(word: int, struct: str, label: str) -> int:
    """A member's value from its slot's word."""
    for m in STRUCTS[struct]:
        if m.label == label:
            return (word >> (8 * m.offset)) & ((1 << (8 * m.size)) - 1)
    raise KeyError(f"{struct}.{label}")


def member_slot(base: int, struct: str, label: str) -> int:
    for m in STRUCTS[struct]:
        if m.label == label:
            return base + m.slot
    raise KeyError(f"{struct}.{label}")


def address_of(value: int) -> str:
    return checksum("0x" + value.to_bytes(20, "big").hex())


def country_of(value: int) -> str:
    return value.to_bytes(2, "big").decode("ascii", errors="replace")


# ------------------------------------------------------------------ MineralPassport


def record_slot(batch_id: int) -> int:
    return mapping_slot(VARIABLES["MineralPassport"]["_records"], batch_id)


def holding_slot(batch_id: int) -> int:
    return mapping_slot(VARIABLES["MineralPassport"]["_holdings"], batch_id)


def content_hash_slot(batch_id: int) -> int:
    return mapping_slot(VARIABLES["MineralPassport"]["_contentHashes"], batch_id)


def process_inputs_slot(process_id: int) -> int:
    """The length slot of ``_processInputs[processId]``; element i is at ``array_data(..) + i``."""
    return mapping_slot(VARIABLES["MineralPassport"]["_processInputs"], process_id)


def base_uri_slot() -> int:
    return VARIABLES["MineralPassport"]["_baseTokenURI"]


def batch_of(batch_id: int, record: int, holding: int, content_hash: int) -> Batch:
    """A batch from its three slots (as ``MineralPassport.batch`` returns it)."""
    return Batch(
        batch_id=batch_id,
        owner=address_of(field(record, "Record", "owner")),
        custodian=address_of(field(holding, "Holding", "custodian")),
        stage=Stage(field(record, "Record", "stage")),
        mass_grams=field(holding, "Holding", "massGrams"),
        grade_ppm=field(record, "Record", "gradePpm"),
        facility_id=field(record, "Record", "facilityId"),
        country=country_of(field(record, "Record", "country")),
        flags=BatchFlag(field(record, "Record", "flags")),
        parent_ref=field(holding, "Holding", "parentRef"),
        content_hash="0x" + _word(content_hash).hex(),
    )


# ------------------------------------------------------------------ Consortium


def facility_slot(facility_id: int) -> int:
    return mapping_slot(VARIABLES["Consortium"]["_facilities"], facility_id)


def member_record_slot(member: str) -> int:
    return mapping_slot(VARIABLES["Consortium"]["_members"], int(member, 16))


def profile_root_slot(member: str) -> int:
    return mapping_slot(VARIABLES["Consortium"]["_profileRoots"], int(member, 16))


def facility_of(facility_id: int, word0: int, word1: int) -> Facility:
    return Facility(
        facility_id=facility_id,
        operator=address_of(field(word0, "Facility", "operator")),
        country=country_of(field(word0, "Facility", "country")),
        kind=FacilityKind(field(word0, "Facility", "kind")),
        sanctioned=bool(field(word0, "Facility", "sanctioned")),
        operator_sanctioned=bool(field(word0, "Facility", "operatorSanctioned")),
        record_root="0x" + _word(field(word1, "Facility", "recordRoot")).hex(),
    )


def device_slot(device: str) -> int:
    return mapping_slot(VARIABLES["Consortium"]["_devices"], int(device, 16))


def telemetry_anchor_slot(root: str) -> int:
    return mapping_slot(VARIABLES["Consortium"]["_telemetryAnchors"], int(root, 16))


def accreditations_slot(certifier: str, schema_id: int) -> int:
    """The length slot of ``_accreditations[certifier][schemaId]``."""
    inner = mapping_slot(VARIABLES["Consortium"]["_accreditations"], int(certifier, 16))
    return mapping_slot(inner, schema_id)


# ------------------------------------------------------------------ AttestationRegistry


def schema_slot(schema_id: int) -> int:
    return mapping_slot(VARIABLES["AttestationRegistry"]["_schemas"], schema_id)


def attestation_slot(uid: str) -> int:
    return mapping_slot(VARIABLES["AttestationRegistry"]["_attestations"], int(uid, 16))


# ------------------------------------------------------------------ strings


def string_data_slots(slot: int, word: int) -> list[int]:
    """The data slots of a storage string whose slot holds ``word`` (none for a short string)."""
    if word & 1 == 0:
        return []
    length = (word - 1) // 2
    start = array_data(slot)
    return [start + i for i in range((length + 31) // 32)]


def string_of(word: int, data: list[int]) -> str:
    """A storage string from its slot's word and its data slots' words.

    Raises:
        ValueError: the encoding is inconsistent (a long string with too few data words).
    """
    if word & 1 == 0:
        length = (word & 0xFF) // 2
        raw = _word(word)[:length]
    else:
        length = (word - 1) // 2
        if len(data) * 32 < length:
            raise ValueError("string data slots missing")
        raw = b"".join(_word(w) for w in data)[:length]
    return raw.decode("utf-8", errors="replace")
