"""Device readings' leaves, signatures and Merkle proofs, without web3: what the offline verifier,
the gateway and the SDK share. A leaf is OpenZeppelin's standard leaf,
``keccak256(keccak256(abi.encode(device, facilityId, seq, time, kind, value, unit)))``; a device
signs it as an EIP-191 personal message; inner nodes hash the sorted pair (``MerkleProof``)."""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi import encode as abi_encode
from eth_hash.auto import keccak
from eth_keys.datatypes import Signature
from eth_keys.exceptions import BadSignature

from passport._utils.addresses import checksum

LEAF_TYPES = ["address", "uint32", "uint64", "uint64", "string", "int256", "string"]
PERSONAL = b"\x19Ethereum Signed Message:\n32"


def reading_leaf(device: str, facility: int, seq: int, time: int, kind: str, value: int, unit: str) -> bytes:
    encoded = abi_encode(LEAF_TYPES, [checksum(device), facility, seq, time, kind, value, unit])
    return bytes(keccak(keccak(encoded)))


def leaf_signer(leaf: bytes, signature: bytes) -> str | None:
    """The address that signed ``leaf`` (EIP-191), or None for no valid signature."""
    if len(signature) != 65:
        return None
    sig = bytearray(signature)
    if sig[64] >= 27:
        sig[64] -= 27
    try:
        key = Signature(bytes(sig)).recover_public_key_from_msg_hash(keccak(PERSONAL + leaf))
        return str(key.to_checksum_address())
    except (BadSignature, ValueError):
        return None


def pair(a: bytes, b: bytes) -> bytes:
    return bytes(keccak(a + b)) if a < b else bytes(keccak(b + a))


def verify_proof(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    """Same computation as OpenZeppelin's ``MerkleProof.verify``."""
    node = leaf
    for sibling in proof:
        node = pair(node, sibling)
    return node == root
