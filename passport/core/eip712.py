"""The EIP-712 document of an attestation (AttestationRegistry's ``_digest``): what a certifier
signs, and whose digest is the attestation's id."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address

DOMAIN_NAME = "MineralPassport Attestations"
DOMAIN_VERSION = "1"
ATTESTATION_TYPES = {
    "Attestation": [
        {"name": "certifier", "type": "address"},
        {"name": "schemaId", "type": "uint256"},
        {"name": "subject", "type": "uint256"},
        {"name": "dataHash", "type": "bytes32"},
        {"name": "expiresAt", "type": "uint64"},
        {"name": "deadline", "type": "uint64"},
        {"name": "salt", "type": "bytes32"},
    ]
}


def attestation_typed_data(
    chain_id: int,
    registry: str,
    certifier: str,
    schema_id: int,
    subject: int,
    data_hash: bytes,
    expires_at: int,
    deadline: int,
    salt: bytes,
) -> dict[str, Any]:
    """The EIP-712 document (``deadline`` is 0 for a direct ``attest``)."""
    return {
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(registry),
        },
        "types": ATTESTATION_TYPES,
        "primaryType": "Attestation",
        "message": {
            "certifier": to_checksum_address(certifier),
            "schemaId": schema_id,
            "subject": subject,
            "dataHash": data_hash,
            "expiresAt": expires_at,
            "deadline": deadline,
            "salt": salt,
        },
    }


def attestation_uid(typed: dict[str, Any]) -> str:
    """The EIP-712 digest of ``typed``: the attestation id the registry stores."""
    from eth_account.messages import _hash_eip191_message, encode_typed_data

    return "0x" + bytes(_hash_eip191_message(encode_typed_data(full_message=typed))).hex()
