"""Consortium governance: propose, approve, execute; member, facility and device records."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from passport._utils.addresses import checksum
from passport.core.types import Facility, FacilityKind, Member, Role
from passport.exceptions import SdkError
from passport.sdk.client import Call, Sent
from passport.sdk.contracts import Contracts
from passport.sdk.logs import receipt_events


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposal, whether this call executed it and, for an executed facility, its new id. A
    proposing call returns it as the value of a :class:`Sent` whose transaction did the last of
    it (the execution, else the proposal)."""

    proposal_id: int
    executed: bool
    facility_id: int | None = None


class ConsortiumApi:
    """Every change goes through a proposal; with ``execute=True`` (the default) the proposal is
    executed at once when the threshold is 1, which is what a development network uses."""

    def __init__(self, contracts: Contracts) -> None:
        self._c = contracts
        self._client = contracts.client
        self.contract = contracts.consortium

    # ------------------------------------------------------------ proposals

    def _propose(self, admin: LocalAccount, call: object, execute: bool) -> Sent[Proposal]:
        receipt = self._client.transact(admin, call)
        created = receipt_events(receipt, "ProposalCreated")
        proposal_id = int(created[0]["proposalId"])
        executed = execute and self.threshold() == 1
        if executed:
            receipt = self.execute(admin, proposal_id).receipt
        added = receipt_events(receipt, "FacilityAdded") if executed else []
        return Sent.of(
            receipt, Proposal(proposal_id, executed, int(added[0]["facilityId"]) if added else None)
        )

    def propose_member(
        self, admin: LocalAccount, account: str, roles: Role, jurisdiction: str, execute: bool = True
    ) -> Sent[Proposal]:
        fn = self.contract.functions.proposeAddMember(checksum(account), int(roles), jurisdiction.encode())
        return self._propose(admin, fn, execute)

    def propose_roles(
        self, admin: LocalAccount, account: str, roles: Role, execute: bool = True
    ) -> Sent[Proposal]:
        return self._propose(
            admin, self.contract.functions.proposeSetRoles(checksum(account), int(roles)), execute
        )

    def propose_active(
        self, admin: LocalAccount, account: str, active: bool, execute: bool = True
    ) -> Sent[Proposal]:
        return self._propose(
            admin, self.contract.functions.proposeSetActive(checksum(account), active), execute
        )

    def propose_member_sanction(
        self, admin: LocalAccount, account: str, sanctioned: bool = True, execute: bool = True
    ) -> Sent[Proposal]:
        fn = self.contract.functions.proposeMemberSanction(checksum(account), sanctioned)
        return self._propose(admin, fn, execute)

    def propose_validator(
        self, admin: LocalAccount, pub_key: bytes, account: str, power: int, execute: bool = True
    ) -> Sent[Proposal]:
        """Propose adding, re-weighting (power > 0) or removing (power 0) a consensus validator:
        its ed25519 public key (32 bytes), bound to the member ``account``."""
        if len(pub_key) != 32:
            raise SdkError(f"a validator key is an ed25519 public key of 32 bytes, not {len(pub_key)}")
        fn = self.contract.functions.proposeSetValidator(pub_key, checksum(account), power)
        return self._propose(admin, fn, execute)

    def propose_facility(
        self,
        admin: LocalAccount,
        operator: str,
        country: str,
        kind: FacilityKind,
        record_root: bytes = b"\x00" * 32,
        execute: bool = True,
    ) -> Sent[Proposal]:
        fn = self.contract.functions.proposeAddFacility(
            checksum(operator), country.encode(), int(kind), record_root
        )
        return self._propose(admin, fn, execute)

    def propose_facility_sanction(
        self, admin: LocalAccount, facility_id: int, sanctioned: bool = True, execute: bool = True
    ) -> Sent[Proposal]:
        return self._propose(
            admin, self.contract.functions.proposeFacilitySanction(facility_id, sanctioned), execute
        )

    def propose_accreditation(
        self, admin: LocalAccount, certifier: str, schema_id: int, valid_until: int, execute: bool = True
    ) -> Sent[Proposal]:
        fn = self.contract.functions.proposeAccreditation(checksum(certifier), schema_id, valid_until)
        return self._propose(admin, fn, execute)

    def propose_revoke_accreditation(
        self, admin: LocalAccount, certifier: str, schema_id: int, execute: bool = True
    ) -> Sent[Proposal]:
        fn = self.contract.functions.proposeRevokeAccreditation(checksum(certifier), schema_id)
        return self._propose(admin, fn, execute)

    def propose_threshold(self, admin: LocalAccount, threshold: int, execute: bool = True) -> Sent[Proposal]:
        return self._propose(admin, self.contract.functions.proposeThreshold(threshold), execute)

    def approve(self, admin: LocalAccount, proposal_id: int) -> Sent[None]:
        return self._client.send(admin, self.contract.functions.approve(proposal_id))

    def execute(self, admin: LocalAccount, proposal_id: int) -> Sent[None]:
        return self._client.send(admin, self.contract.functions.execute(proposal_id))

    # ------------------------------------------------------------ devices

    def register_device(self, operator: LocalAccount, device: str, facility_id: int) -> Sent[None]:
        fn = self.contract.functions.registerDevice(checksum(device), facility_id)
        return self._client.send(operator, fn)

    def revoke_device(self, operator: LocalAccount, device: str) -> Sent[None]:
        return self._client.send(operator, self.contract.functions.revokeDevice(checksum(device)))

    # ------------------------------------------------------------ views

    def threshold(self) -> int:
        return int(self._client.call(Call(self.contract, "threshold")))

    def member(self, account: str) -> Member:
        roles, active, sanctioned, jurisdiction, joined = self._client.call(
            Call(self.contract, "member", (checksum(account),))
        )
        return Member(checksum(account), Role(roles), active, sanctioned, _country(jurisdiction), joined)

    def facility(self, facility_id: int) -> Facility:
        return facility_from(facility_id, self._client.call(Call(self.contract, "facility", (facility_id,))))

    def accreditation_history(self, certifier: str, schema_id: int) -> list[tuple[int, int]]:
        """A certifier's accreditation windows [validFrom, validUntil) for a schema, oldest first."""
        raw = self._client.call(Call(self.contract, "accreditationHistory", (checksum(certifier), schema_id)))
        return [(int(a), int(b)) for a, b in raw]

    def facility_count(self) -> int:
        return int(self._client.call(Call(self.contract, "facilityCount")))

    def device(self, device: str) -> tuple[int, bool]:
        facility_id, active = self._client.call(Call(self.contract, "device", (checksum(device),)))
        return int(facility_id), bool(active)

    def transaction_allowed(self, sender: str) -> bool:
        call = Call(self.contract, "transactionAllowed", (checksum(sender), sender, 0, 0, 0, b""))
        return bool(self._client.call(call))


def facility_from(facility_id: int, raw: tuple[object, ...]) -> Facility:
    operator, country, kind, sanctioned, operator_sanctioned, location = raw
    return Facility(
        facility_id=facility_id,
        operator=checksum(str(operator)),
        country=_country(country),
        kind=FacilityKind(int(kind)),  # type: ignore[call-overload]
        sanctioned=bool(sanctioned),
        operator_sanctioned=bool(operator_sanctioned),
        record_root="0x" + bytes(location).hex(),  # type: ignore[call-overload]
    )


def _country(raw: object) -> str:
    return str(bytes(raw).decode("ascii", errors="replace").strip("\x00"))  # type: ignore[call-overload]
