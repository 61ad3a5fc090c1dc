"""Domain vocabulary shared by the SDK: enums mirroring the contracts and frozen result types."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, IntFlag


class Role(IntFlag):
    """Member role bits (contracts/libraries/Roles.sol)."""

    MINER = 1
    PROCESSOR = 2
    TRADER = 4
    CARRIER = 8
    CERTIFIER = 16
    REGULATOR = 32
    BUYER = 64
    ADMIN = 128


class Stage(IntEnum):
    """Form of the material (IMineralPassport.Stage)."""

    ORE = 0
    CONCENTRATE = 1
    APT = 2
    OXIDE = 3
    POWDER = 4
    CARBIDE = 5
    WF6 = 6
    SCRAP = 7

    @property
    def step(self) -> str:
        """The supply-chain step that produces this stage: mined, refined, converted or recycled."""
        if self in (Stage.ORE, Stage.CONCENTRATE):
            return "mined"
        if self is Stage.APT:
            return "refined"
        if self is Stage.SCRAP:
            return "recycled"
        return "converted"


class FacilityKind(IntEnum):
    """IConsortium.FacilityKind."""

    MINE = 0
    CONCENTRATOR = 1
    REFINERY = 2
    CONVERTER = 3
    RECYCLER = 4
    WAREHOUSE = 5
    FABRICATOR = 6


class SubjectKind(IntEnum):
    """IAttestationRegistry.SubjectKind."""

    BATCH = 0
    FACILITY = 1
    MEMBER = 2


class BatchFlag(IntFlag):
    """MineralPassport flag bits."""

    CONSUMED = 1
    FROZEN = 2
    TAINTED = 4
    DISCREPANCY = 8
    OFFER_PENDING = 16
    FROM_SPLIT = 32
    FROM_PROCESS = 64
    APPROVED = 128


def role_names(roles: int) -> list[str]:
    return [r.name for r in Role if roles & r and r.name]


@dataclass(frozen=True, slots=True)
class Member:
    address: str
    roles: Role
    active: bool
    sanctioned: bool
    jurisdiction: str
    joined_at: int


@dataclass(frozen=True, slots=True)
class Facility:
    facility_id: int
    operator: str
    country: str
    kind: FacilityKind
    sanctioned: bool
    operator_sanctioned: bool
    record_root: str


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch as the chain holds it."""

    batch_id: int
    owner: str
    custodian: str
    stage: Stage
    mass_grams: int
    grade_ppm: int
    facility_id: int
    country: str
    flags: BatchFlag
    parent_ref: int
    content_hash: str

    @property
    def contained_tungsten_ug(self) -> int:
        """Micrograms of tungsten: mass in grams x grade in ppm, exact (the contract's
        ``containedTungsten``)."""
        return self.mass_grams * self.grade_ppm

    @property
    def consumed(self) -> bool:
        return BatchFlag.CONSUMED in self.flags


@dataclass(frozen=True, slots=True)
class ProcessOutput:
    """One product of a processing step."""

    stage: Stage
    mass_grams: int
    grade_ppm: int
    content_hash: bytes = b"\x00" * 32


@dataclass(frozen=True, slots=True)
class AttestationRecord:
    uid: str
    certifier: str
    schema_id: int
    revoked: bool
    revocable: bool
    issued_at: int
    expires_at: int
