"""Block seals of the passport node: a validator's secp256k1 signature over the block hash, bound
to the chain id. The node signs with it; the offline verifier checks it."""

from __future__ import annotations

from eth_hash.auto import keccak
from eth_keys.datatypes import Signature
from eth_keys.exceptions import BadSignature

SEAL_DOMAIN = b"\x19Mineral Passport block seal:\n"
SEAL_SCHEME = "passport-node/v1"


def seal_digest(chain_id: int, block_hash: bytes) -> bytes:
    """What a validator signs: the block hash, bound to the chain id."""
    return keccak(SEAL_DOMAIN + chain_id.to_bytes(32, "big") + block_hash)


def seal_signer(chain_id: int, block_hash: bytes, seal: bytes) -> str | None:
    """The address that produced ``seal`` over ``block_hash``, or None if it is no signature."""
    try:
        signature = Signature(seal)
        return str(
            signature.recover_public_key_from_msg_hash(
                seal_digest(chain_id, block_hash)
            ).to_checksum_address()
        )
    except (BadSignature, ValueError, TypeError):
        return None
