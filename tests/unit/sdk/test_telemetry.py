"""Telemetry: OpenZeppelin-compatible Merkle trees and device signatures."""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from passport.core.telemetry import LEAF_TYPES, reading_leaf
from passport.sdk.telemetry import MerkleTree, Reading, sign_reading, verify_proof

leaves = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40, unique=True)


@given(leaves)
def test_every_leaf_proves_and_no_other(items: list[bytes]) -> None:
    tree = MerkleTree(items)
    for i, leaf in enumerate(items):
        proof = tree.proof(i)
        assert verify_proof(tree.root, leaf, proof)
        assert not verify_proof(tree.root, keccak(leaf), proof)


def test_known_two_leaf_root_matches_openzeppelin_pair_hashing() -> None:
    a, b = keccak(b"a"), keccak(b"b")
    expected = keccak(min(a, b) + max(a, b))
    assert MerkleTree([a, b]).root == expected
    assert MerkleTree([a]).root == a


def test_proof_index_out_of_range() -> None:
    with pytest.raises(IndexError, match=r"leaf 3 of 2"):
        MerkleTree([b"\x01" * 32, b"\x02" * 32]).proof(3)
    with pytest.raises(ValueError, match=r"at least one leaf"):
        MerkleTree([])


def test_device_signatures() -> None:
    device, other = Account.create(), Account.create()
    reading = Reading(device.address, 1, 1_800_000_000, "net-mass", 12_000_000, "g")
    signed = sign_reading(device, reading)
    assert signed.is_from_device()
    assert signed.signer() == device.address
    forged = type(signed)(
        Reading(device.address, 1, 1_800_000_000, "net-mass", 13_000_000, "g"), signed.signature
    )
    assert not forged.is_from_device()
    with pytest.raises(ValueError, match=r"reading names device .* key is"):
        sign_reading(other, reading)


@settings(max_examples=300, deadline=None)
@given(
    facility=st.integers(0, 2**32 - 1),
    seq=st.integers(0, 2**64 - 1),
    time=st.integers(0, 2**64 - 1),
    kind=st.text(max_size=80),
    value=st.integers(-(2**255), 2**255 - 1),
    unit=st.text(max_size=40),
    device=st.binary(min_size=20, max_size=20),
)
def test_reading_leaf_equals_eth_abi_encoding(
    facility: int, seq: int, time: int, kind: str, value: int, unit: str, device: bytes
) -> None:
    address = to_checksum_address(device)
    encoded = abi_encode(LEAF_TYPES, [address, facility, seq, time, kind, value, unit])
    assert reading_leaf(address, facility, seq, time, kind, value, unit) == keccak(keccak(encoded))
