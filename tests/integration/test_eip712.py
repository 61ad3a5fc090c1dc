"""Off-chain EIP-712 attestations: eth-account's encoding equals the contract's digest, and a
certifier's typed-data signature is accepted when relayed by someone else."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3

from tests.integration.conftest import Deployment

pytestmark = pytest.mark.slow

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


uint256 = st.integers(min_value=0, max_value=2**256 - 1)
uint64 = st.integers(min_value=0, max_value=2**64 - 1)
bytes32 = st.binary(min_size=32, max_size=32)


def typed_data(d: Deployment, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "domain": {
            "name": "MineralPassport Attestations",
            "version": "1",
            "chainId": d.chain.chain_id,  # type: ignore[attr-defined]
            "verifyingContract": d.registry.address,
        },
        "types": ATTESTATION_TYPES,
        "primaryType": "Attestation",
        "message": message,
    }


def digest_of(signable: Any) -> bytes:
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    certifier=st.binary(min_size=20, max_size=20),
    schema_id=uint256,
    subject=uint256,
    data_hash=bytes32,
    expires_at=uint64,
    deadline=uint64,
    salt=bytes32,
)
def test_digest_matches_eth_account(
    deployment: Deployment,
    certifier: bytes,
    schema_id: int,
    subject: int,
    data_hash: bytes,
    expires_at: int,
    deadline: int,
    salt: bytes,
) -> None:
    certifier_address = Web3.to_checksum_address(certifier)
    message = {
        "certifier": certifier_address,
        "schemaId": schema_id,
        "subject": subject,
        "dataHash": data_hash,
        "expiresAt": expires_at,
        "deadline": deadline,
        "salt": salt,
    }
    expected = digest_of(encode_typed_data(full_message=typed_data(deployment, message)))
    request = (schema_id, subject, data_hash, expires_at, salt)
    onchain = deployment.registry.functions.attestationDigest(request, certifier_address, deadline).call()
    assert onchain == expected


def test_typed_data_signature_relayed_by_another_member(deployment: Deployment) -> None:
    d = deployment
    now = d.chain.w3.eth.get_block("latest")["timestamp"]  # type: ignore[attr-defined]
    message = {
        "certifier": d.certifier.address,
        "schemaId": d.schema_id,
        "subject": 1,
        "dataHash": keccak(b"due diligence report 2026-11"),
        "expiresAt": now + 180 * 86_400,
        "deadline": now + 3_600,
        "salt": b"\x07" * 32,
    }
    signed = Account.sign_typed_data(d.certifier.key, full_message=typed_data(d, message))
    request = (message["schemaId"], 1, message["dataHash"], message["expiresAt"], message["salt"])
    receipt = d.chain.send(  # type: ignore[attr-defined]
        d.miner,
        d.registry.functions.attestBySig(request, d.certifier.address, message["deadline"], signed.signature),
    )
    uid = d.registry.events.Attested().process_receipt(receipt)[0]["args"]["uid"]
    assert uid == signed.message_hash
    assert d.registry.functions.isValid(uid).call()
    assert d.registry.functions.attestation(uid).call()[0] == d.certifier.address
