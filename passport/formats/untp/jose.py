"""VC-JOSE: a credential as a compact JWS (``typ: vc+jwt``, ``alg: ES256K``), signed with the
member's chain key, the public key in the header (``jwk``); joserfc signs and verifies."""

from __future__ import annotations

import base64
import json
from typing import Any

import rfc8785
from eth_keys.datatypes import PrivateKey, PublicKey
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from passport.core.document import PassportDocument
from passport.exceptions import CredentialError

ALG = "ES256K"
MEDIA_TYPE = "vc+jwt"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(key: PublicKey) -> dict[str, str]:
    raw = key.to_bytes()
    return {"kty": "EC", "crv": "secp256k1", "x": _b64(raw[:32]), "y": _b64(raw[32:])}


def sign(credential: dict[str, Any], private_key: bytes) -> str:
    """The credential as a compact JWS (``typ: vc+jwt``, ``alg: ES256K``), key in the header."""
    secret = PrivateKey(private_key)
    jwk = public_jwk(secret.public_key)
    key = ECKey.import_key({**jwk, "d": _b64(private_key)})
    header = {
        "alg": ALG,
        "typ": MEDIA_TYPE,
        "cty": "vc",
        "kid": credential["issuer"]["id"] + "#blockchainAccountId",
        "jwk": jwk,
    }
    return str(jws.serialize_compact(header, rfc8785.dumps(credential), key, algorithms=[ALG]))


def address_of(jwk: dict[str, Any]) -> str:
    def raw(v: str) -> bytes:
        return base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))

    return PublicKey(raw(jwk["x"]) + raw(jwk["y"])).to_checksum_address()


def read(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(protected header, credential), the signature checked with the header's key.

    Raises:
        CredentialError: not a compact JWS, a header that is not ES256K vc+jwt with a secp256k1
            public key, a signature that does not verify, or a payload that is not JSON.
    """
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise CredentialError("not a compact JWS (three base64url parts)")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except ValueError as exc:
        raise CredentialError(f"the JWS header is not JSON ({exc})") from exc
    if not isinstance(header, dict) or header.get("alg") != ALG or header.get("typ") != MEDIA_TYPE:
        raise CredentialError(f"the JWS header must say alg {ALG} and typ {MEDIA_TYPE}")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or jwk.get("crv") != "secp256k1" or "d" in jwk or not {"x", "y"} <= set(jwk):
        raise CredentialError("the JWS header carries no secp256k1 public key (jwk)")
    try:
        public: dict[str, str | list[str]] = {k: str(jwk[k]) for k in ("kty", "crv", "x", "y")}
        obj = jws.deserialize_compact(token.strip(), ECKey.import_key(public), algorithms=[ALG])
    except (JoseError, ValueError, KeyError) as exc:
        raise CredentialError(f"the JWS signature does not verify ({exc})") from exc
    try:
        credential = json.loads(obj.payload)
    except ValueError as exc:
        raise CredentialError(f"the payload is not JSON ({exc})") from exc
    if not isinstance(credential, dict):
        raise CredentialError("the payload is not a credential object")
    return header, credential


def embedded_passport(token: str) -> PassportDocument | None:
    """The passport a credential carries, read without checking anything (for display)."""
    try:
        payload = token.strip().split(".")[1]
        credential = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return PassportDocument.model_validate(credential["evidence"][0]["passport"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None
