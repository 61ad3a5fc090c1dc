"""Batches: mint, custody hand-overs, splits, processing, regulator actions, reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from passport._utils.addresses import checksum
from passport.core.types import Batch, BatchFlag, ProcessOutput, Stage
from passport.sdk.client import Call, Sent
from passport.sdk.contracts import Contracts
from passport.sdk.logs import receipt_events

ZERO32 = b"\x00" * 32


@dataclass(frozen=True, slots=True)
class PendingOffer:
    """An offer waiting for its receiver: title and custody, or custody only."""

    to: str
    custody_only: bool
    offered_at: int  # seconds


class BatchesApi:
    def __init__(self, contracts: Contracts) -> None:
        self._client = contracts.client
        self.contract = contracts.passport

    def mint(
        self,
        miner: LocalAccount,
        facility_id: int,
        stage: Stage,
        mass_grams: int,
        grade_ppm: int,
        content_hash: bytes = ZERO32,
    ) -> Sent[int]:
        """Record a new batch at a facility ``miner`` operates; its value is the new batch id."""
        fn = self.contract.functions.mint(facility_id, int(stage), mass_grams, grade_ppm, content_hash)
        receipt = self._client.transact(miner, fn)
        return Sent.of(receipt, int(receipt_events(receipt, "BatchMinted")[0]["batchId"]))

    def offer(self, holder: LocalAccount, batch_id: int, to: str) -> Sent[None]:
        """Offer title and custody; ``to`` must accept."""
        return self._client.send(holder, self.contract.functions.offer(batch_id, checksum(to)))

    def offer_custody(self, holder: LocalAccount, batch_id: int, to: str) -> Sent[None]:
        """Offer physical custody only (e.g. to a carrier)."""
        return self._client.send(holder, self.contract.functions.offerCustody(batch_id, checksum(to)))

    def cancel_offer(self, account: LocalAccount, batch_id: int) -> Sent[None]:
        return self._client.send(account, self.contract.functions.cancelOffer(batch_id))

    def accept(self, receiver: LocalAccount, batch_id: int, measured_grams: int) -> Sent[bool]:
        """Accept a pending offer with the measured mass; its value is True when a discrepancy was
        recorded."""
        receipt = self._client.transact(receiver, self.contract.functions.accept(batch_id, measured_grams))
        return Sent.of(receipt, bool(receipt_events(receipt, "CustodyDiscrepancyRecorded")))

    def transfer(self, owner: LocalAccount, batch_id: int, to: str) -> Sent[None]:
        """ERC-721 title transfer (custody stays where it is)."""
        fn = self.contract.functions.transferFrom(owner.address, checksum(to), batch_id)
        return self._client.send(owner, fn)

    def split(self, owner: LocalAccount, batch_id: int, masses: Sequence[int]) -> Sent[list[int]]:
        """Split into children of the given masses (summing exactly to the parent's); its value is
        their ids."""
        receipt = self._client.transact(owner, self.contract.functions.split(batch_id, list(masses)))
        first = int(receipt_events(receipt, "BatchSplit")[0]["firstChildId"])
        return Sent.of(receipt, list(range(first, first + len(masses))))

    def process(
        self,
        processor: LocalAccount,
        inputs: Sequence[int],
        facility_id: int,
        outputs: Sequence[ProcessOutput],
    ) -> Sent[list[int]]:
        """Turn inputs (held in title and custody) into outputs at the processor's facility; its
        value is the outputs' ids."""
        fn = self.contract.functions.process(
            sorted(inputs),
            facility_id,
            [(int(o.stage), o.mass_grams, o.grade_ppm, o.content_hash) for o in outputs],
        )
        receipt = self._client.transact(processor, fn)
        return Sent.of(receipt, [int(e["batchId"]) for e in receipt_events(receipt, "BatchProduced")])

    def freeze(self, regulator: LocalAccount, batch_id: int, reason: bytes = ZERO32) -> Sent[None]:
        return self._client.send(regulator, self.contract.functions.freeze(batch_id, reason))

    def unfreeze(self, regulator: LocalAccount, batch_id: int) -> Sent[None]:
        return self._client.send(regulator, self.contract.functions.unfreeze(batch_id))

    def taint(self, regulator: LocalAccount, batch_id: int, reason: bytes = ZERO32) -> Sent[None]:
        return self._client.send(regulator, self.contract.functions.taint(batch_id, reason))

    # ------------------------------------------------------------ reads

    def get(self, batch_id: int) -> Batch:
        """The batch's record.

        Raises:
            ContractRevert: ``BatchNotFound`` for an unknown id.
        """
        return batch_from(batch_id, self._client.call(Call(self.contract, "batch", (batch_id,))))

    def offer_of(self, batch_id: int) -> PendingOffer | None:
        """The offer of ``batch_id`` waiting for acceptance, or None."""
        to, custody_only, offered_at = self._client.call(Call(self.contract, "offerOf", (batch_id,)))
        if int(str(to), 16) == 0:
            return None
        return PendingOffer(checksum(to), bool(custody_only), int(offered_at))

    def mass_tolerance_bps(self) -> int:
        """The hand-over tolerance: a measured mass further than this from the recorded one is
        recorded as a discrepancy."""
        return int(self._client.call(Call(self.contract, "massToleranceBps", ())))

    def parents(self, batch_id: int) -> list[int]:
        return [int(p) for p in self._client.call(Call(self.contract, "parentsOf", (batch_id,)))]

    def is_tainted(self, batch_id: int) -> bool:
        return bool(self._client.call(Call(self.contract, "isTainted", (batch_id,))))

    def count(self) -> int:
        return int(self._client.call(Call(self.contract, "batchCount")))


def batch_from(batch_id: int, raw: tuple[object, ...]) -> Batch:
    owner, stage, flags, grade, facility, country, custodian, mass, parent_ref, content = raw
    return Batch(
        batch_id=batch_id,
        owner=checksum(str(owner)),
        custodian=checksum(str(custodian)),
        stage=Stage(int(stage)),  # type: ignore[call-overload]
        mass_grams=int(mass),  # type: ignore[call-overload]
        grade_ppm=int(grade),  # type: ignore[call-overload]
        facility_id=int(facility),  # type: ignore[call-overload]
        country=bytes(country).decode("ascii", errors="replace").strip("\x00"),  # type: ignore[call-overload]
        flags=BatchFlag(int(flags)),  # type: ignore[call-overload]
        parent_ref=int(parent_ref),  # type: ignore[call-overload]
        content_hash="0x" + bytes(content).hex(),  # type: ignore[call-overload]
    )
