"""Issuers' identifiers: ``did:pkh`` (CAIP-10, the member's chain account) and ``did:web`` (a
member's domain, tied to its account by the profile disclosed in the passport)."""

from __future__ import annotations

from typing import Any

from eth_keys.datatypes import PublicKey
from eth_utils import to_checksum_address

from passport.core.document import PassportDocument
from passport.exceptions import CredentialError
from passport.formats.untp.jose import public_jwk


def did_pkh(chain_id: int, address: str) -> str:
    return f"did:pkh:eip155:{chain_id}:{to_checksum_address(address)}"


def issuer_id(chain_id: int, address: str, did_web: str | None) -> str:
    """``did:web:<domain>`` when the member has one, else ``did:pkh:eip155:<chainId>:<address>``."""
    return f"did:web:{did_web}" if did_web else did_pkh(chain_id, address)


def did_document(did_web: str, chain_id: int, address: str, key: PublicKey) -> dict[str, Any]:
    """The did.json to publish at the member's domain: its signing key, and its chain account."""
    did = f"did:web:{did_web}"
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
        "id": did,
        "alsoKnownAs": [did_pkh(chain_id, address)],
        "verificationMethod": [
            {
                "id": f"{did}#key-1",
                "type": "JsonWebKey2020",
                "controller": did,
                "publicKeyJwk": public_jwk(key),
            },
            {
                "id": f"{did}#blockchainAccountId",
                "type": "EcdsaSecp256k1RecoveryMethod2020",
                "controller": did,
                "blockchainAccountId": f"eip155:{chain_id}:{to_checksum_address(address)}",
            },
        ],
        "assertionMethod": [f"{did}#key-1", f"{did}#blockchainAccountId"],
    }


def web_issuer(document: PassportDocument, did: str) -> str:
    """The member whose profile, disclosed in ``document`` (and so proven against its on-chain
    profile root), names ``did``'s domain: how a did:web issuer is tied to an account without DNS.

    Raises:
        CredentialError: no disclosed member profile names that domain.
    """
    domain = did.removeprefix("did:web:")
    for d in document.disclosures:
        field = d.revealed.get("didWeb")
        if d.kind == "member" and field is not None and field.value == domain:
            return to_checksum_address(d.subject)
    raise CredentialError(f"issuer {did}: no member profile disclosed in the passport names that domain")


def parse_did_pkh(did: str) -> tuple[int, str]:
    parts = did.split(":")
    if len(parts) != 5 or parts[:3] != ["did", "pkh", "eip155"] or not parts[3].isdigit():
        raise CredentialError(f"issuer {did!r} is not a did:pkh:eip155 DID")
    try:
        return int(parts[3]), to_checksum_address(parts[4])
    except ValueError:
        raise CredentialError(f"issuer {did!r}: not an address") from None
