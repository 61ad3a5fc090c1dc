"""IoT telemetry: readings signed by device keys, anchored as a Merkle root in a batch's content hash.

The tree is compatible with OpenZeppelin's ``MerkleProof``: leaves are
``keccak256(keccak256(abi.encode(device, facilityId, seq, time, kind, value, unit)))`` (as in OZ's
StandardMerkleTree) and inner nodes hash the sorted pair. ``MineralPassport.verifyTelemetry``
checks a proof against a batch's content hash on-chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from passport.core.telemetry import LEAF_TYPES, pair, reading_leaf, verify_proof


@dataclass(frozen=True, slots=True)
class Reading:
    """One measurement; ``value`` is an integer in ``unit`` (e.g. grams, or milli-percent);
    ``seq`` numbers the device's readings (a gateway takes each (device, seq) once)."""

    device: str
    facility_id: int
    time: int
    kind: str
    value: int
    unit: str
    seq: int = 0

    def leaf(self) -> bytes:
        return reading_leaf(
            self.device, self.facility_id, self.seq, self.time, self.kind, self.value, self.unit
        )


@dataclass(frozen=True, slots=True)
class SignedReading:
    reading: Reading
    signature: bytes

    def signer(self) -> str:
        """The address that signed (EIP-191 over the leaf)."""
        return str(
            Account.recover_message(encode_defunct(primitive=self.reading.leaf()), signature=self.signature)
        )

    def is_from_device(self) -> bool:
        return self.signer() == to_checksum_address(self.reading.device)


def sign_reading(device: LocalAccount, reading: Reading) -> SignedReading:
    """Sign as the device (EIP-191 personal message over the leaf hash)."""
    if to_checksum_address(reading.device) != device.address:
        raise ValueError(f"reading names device {reading.device}, key is {device.address}")
    return SignedReading(
        reading, bytes(device.sign_message(encode_defunct(primitive=reading.leaf())).signature)
    )


_pair = pair


class MerkleTree:
    """A binary Merkle tree over leaf hashes; an unpaired node moves up unchanged."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if not leaves:
            raise ValueError("a Merkle tree needs at least one leaf")
        self.leaves = list(leaves)
        self.levels: list[list[bytes]] = [self.leaves]
        while len(self.levels[-1]) > 1:
            level = self.levels[-1]
            self.levels.append(
                [
                    _pair(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
                    for i in range(0, len(level), 2)
                ]
            )

    @classmethod
    def of_readings(cls, readings: Sequence[Reading]) -> MerkleTree:
        return cls([r.leaf() for r in readings])

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def proof(self, index: int) -> list[bytes]:
        """Sibling hashes from leaf ``index`` up to the root."""
        if not 0 <= index < len(self.leaves):
            raise IndexError(f"leaf {index} of {len(self.leaves)}")
        proof = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            index //= 2
        return proof


__all__ = ["LEAF_TYPES", "MerkleTree", "Reading", "SignedReading", "sign_reading", "verify_proof"]
