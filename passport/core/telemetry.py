"""Device readings' leaves, signatures and Merkle proofs, without web3: what the offline verifier,
the gateway and the SDK share. A leaf is OpenZeppelin's standard leaf,
``keccak256(keccak256(abi.encode(device, facilityId, seq, time, kind, value, unit)))``; a device
signs it as an EIP-191 personal message; inner nodes hash the sorted pair (``MerkleProof``)."""

from __future__ import annotations

from collections.abc import Sequence

import coincurve
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from passport._utils.addresses import checksum

LEAF_TYPES = ["address", "uint32", "uint64", "uint64", "string", "int256", "string"]
PERSONAL = b"\x19Ethereum Signed Message:\n32"


def reading_leaf(device: str, facility: int, seq: int, time: int, kind: str, value: int, unit: str) -> bytes:
    """The reading's leaf. The gateway computes thousands a second, so the fixed layout of
    ``abi.encode(LEAF_TYPES, ...)`` is written out here; ``tests/unit/sdk/test_telemetry.py``
    holds it equal to eth-abi's encoding for random readings (and out-of-range values go to
    eth-abi, which refuses them)."""
    if not (0 <= facility < 2**32 and 0 <= seq < 2**64 and 0 <= time < 2**64 and -(2**255) <= value < 2**255):
        return bytes(keccak(keccak(abi_encode(LEAF_TYPES, [device, facility, seq, time, kind, value, unit]))))
    k, u = kind.encode(), unit.encode()
    k_padded = k + b"\0" * (-len(k) % 32)
    head = (
        bytes(12)
        + bytes.fromhex(device[2:])
        + facility.to_bytes(32, "big")
        + seq.to_bytes(32, "big")
        + time.to_bytes(32, "big")
        + (7 * 32).to_bytes(32, "big")
        + value.to_bytes(32, "big", signed=True)
        + (7 * 32 + 32 + len(k_padded)).to_bytes(32, "big")
    )
    tail = len(k).to_bytes(32, "big") + k_padded + len(u).to_bytes(32, "big") + u + b"\0" * (-len(u) % 32)
    return bytes(keccak(keccak(head + tail)))


def leaf_signer_bytes(leaf: bytes, signature: bytes) -> bytes | None:
    """The 20-byte address that signed ``leaf`` (EIP-191), or None for no valid signature."""
    if len(signature) != 65:
        return None
    sig = bytearray(signature)
    if sig[64] >= 27:
        sig[64] -= 27
    if sig[64] > 1:
        return None
    digest = bytes(keccak(PERSONAL + leaf))
    try:  # coincurve (libsecp256k1, eth-keys' own backend): the gateway checks thousands a second
        public = coincurve.PublicKey.from_signature_and_message(bytes(sig), digest, hasher=None)
    except Exception:  # coincurve raises plain Exception subclasses for invalid signatures
        return None
    return bytes(keccak(public.format(compressed=False)[1:]))[-20:]


def leaf_signer(leaf: bytes, signature: bytes) -> str | None:
    """The checksummed address that signed ``leaf`` (EIP-191), or None for no valid signature."""
    raw = leaf_signer_bytes(leaf, signature)
    return None if raw is None else checksum("0x" + raw.hex())


def pair(a: bytes, b: bytes) -> bytes:
    return bytes(keccak(a + b)) if a < b else bytes(keccak(b + a))


def verify_proof(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    """Same computation as OpenZeppelin's ``MerkleProof.verify``."""
    node = leaf
    for sibling in proof:
        node = pair(node, sibling)
    return node == root
