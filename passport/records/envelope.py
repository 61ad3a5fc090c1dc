"""Disclosure packages encrypted to the recipient's Ethereum key: ECIES over secp256k1
(``eciespy``: ephemeral key, HKDF-SHA256, AES-256-GCM), so only the holder of the key the
buyer signs its transactions with can read what the seller disclosed."""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Literal

import ecies
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PublicKey
from eth_utils import ValidationError as KeyValidationError
from pydantic import Field, ValidationError

from passport._utils.files import JsonFile, first_error
from passport.exceptions import PassportFileInvalid, RecordError
from passport.records.disclosure import PACKAGE_KIND, Package

ENCRYPTED_KIND = "mineral-passport/encrypted-disclosures@1"
SCHEME = "ecies-secp256k1-hkdf-sha256-aes-256-gcm"


class EncryptedPackage(JsonFile):
    kind: Literal["mineral-passport/encrypted-disclosures@1"] = "mineral-passport/encrypted-disclosures@1"
    scheme: Literal["ecies-secp256k1-hkdf-sha256-aes-256-gcm"] = "ecies-secp256k1-hkdf-sha256-aes-256-gcm"
    recipient: str = Field(description="address of the key the package is encrypted to")
    ciphertext: str = Field(description="base64 of eciespy's ephemeral public key || nonce || tag || data")


def public_key(text: str) -> PublicKey:
    """A secp256k1 public key from hex: 64 bytes, or 65 with the 0x04 prefix, or 33 compressed.

    Raises:
        RecordError: not such a key.
    """
    raw_hex = text.removeprefix("0x")
    try:
        raw = bytes.fromhex(raw_hex)
        if len(raw) == 33:
            return PublicKey.from_compressed_bytes(raw)
        if len(raw) == 65 and raw[0] == 4:
            raw = raw[1:]
        return PublicKey(raw)
    except (ValueError, KeyValidationError) as exc:
        raise RecordError("--encrypt-to", f"not a secp256k1 public key ({exc})") from exc


def encrypt(package: Package, recipient_key: str) -> EncryptedPackage:
    key = public_key(recipient_key)
    sealed = ecies.encrypt(b"\x04" + key.to_bytes(), package.to_json().encode())
    return EncryptedPackage(recipient=key.to_checksum_address(), ciphertext=base64.b64encode(sealed).decode())


def decrypt(envelope: EncryptedPackage, account: LocalAccount, source: str) -> Package:
    """Raises RecordError: encrypted to another key, or the ciphertext was altered."""
    if account.address.lower() != envelope.recipient.lower():
        raise RecordError(source, f"encrypted to {envelope.recipient}, not to {account.address}")
    try:
        plain = ecies.decrypt(account.key, base64.b64decode(envelope.ciphertext, validate=True))
    except (ValueError, binascii.Error) as exc:
        raise RecordError(
            source, f"cannot decrypt: the ciphertext was altered or is not for this key ({exc})"
        ) from exc
    try:
        return Package.model_validate_json(plain)
    except ValidationError as exc:
        raise RecordError(source, f"decrypted, but not a disclosure package ({first_error(exc)})") from exc


def read_package(path: Path) -> Package | EncryptedPackage:
    """A plain or encrypted package file, by its ``kind``.

    Raises:
        RecordError: unreadable, not JSON, or neither kind of package (the reason named).
    """
    where = f"disclosure package {path}"
    try:
        kind = json.loads(path.read_text()).get("kind")
    except FileNotFoundError:
        raise RecordError(where, "no such file") from None
    except (OSError, ValueError, AttributeError) as exc:
        raise RecordError(where, f"not a JSON object ({exc})") from exc
    try:
        if kind == ENCRYPTED_KIND:
            return EncryptedPackage.load(path)
        if kind == PACKAGE_KIND:
            return Package.load(path)
    except PassportFileInvalid as exc:
        raise RecordError(where, exc.reason) from exc
    raise RecordError(where, f"kind {kind!r} is not {PACKAGE_KIND!r} or {ENCRYPTED_KIND!r}")
