"""Attestations: schemas, direct attestations, EIP-712 signatures made offline and relayed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, field_validator

from passport._utils.files import atomic_write, load_model
from passport.core.eip712 import attestation_typed_data
from passport.core.types import AttestationRecord, SubjectKind
from passport.exceptions import PassportFileInvalid, SdkError
from passport.formats.untp import OnChainAttestation
from passport.sdk.client import Call, Sent
from passport.sdk.contracts import Contracts
from passport.sdk.logs import receipt_events

FLAG_REVOKED = 1
FLAG_REVOCABLE = 2


@dataclass(frozen=True, slots=True)
class AttestationRequest:
    """What a certifier claims. ``subject``: batch id, facility id, or an address as int."""

    schema_id: int
    subject: int
    data_hash: bytes
    expires_at: int = 0
    salt: bytes = b"\x00" * 32

    def as_tuple(self) -> tuple[int, int, bytes, int, bytes]:
        return (self.schema_id, self.subject, self.data_hash, self.expires_at, self.salt)


_HEX32 = r"^0x[0-9a-fA-F]{64}$"


class SignedAttestation(BaseModel):
    """An EIP-712 attestation signed offline: the JSON file a certifier hands to a relayer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = Field(
        default="mineral-passport/signed-attestation@1", pattern=r"^mineral-passport/signed-attestation@1$"
    )
    chain_id: int = Field(gt=0)
    registry: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    certifier: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    schema_id: int = Field(ge=0, lt=2**256)
    subject: int = Field(ge=0, lt=2**256)
    data_hash: str = Field(pattern=_HEX32)
    expires_at: int = Field(ge=0, lt=2**64)
    deadline: int = Field(ge=0, lt=2**64)
    salt: str = Field(pattern=_HEX32)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]+$")
    uid: str = Field(pattern=_HEX32)

    @field_validator("registry", "certifier")
    @classmethod
    def _checksum(cls, value: str) -> str:
        return to_checksum_address(value)

    def request(self) -> AttestationRequest:
        return AttestationRequest(
            self.schema_id,
            self.subject,
            bytes.fromhex(self.data_hash[2:]),
            self.expires_at,
            bytes.fromhex(self.salt[2:]),
        )

    def save(self, path: Path) -> None:
        atomic_write(path, self.model_dump_json(indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> SignedAttestation:
        """Read a signed attestation file.

        Raises:
            PassportFileInvalid: unreadable, not JSON, or not of this schema.
        """
        return load_model(cls, path)


def typed_data(
    chain_id: int, registry: str, certifier: str, request: AttestationRequest, deadline: int
) -> dict[str, Any]:
    """The EIP-712 document a certifier signs."""
    return attestation_typed_data(
        chain_id,
        registry,
        certifier,
        request.schema_id,
        request.subject,
        request.data_hash,
        request.expires_at,
        deadline,
        request.salt,
    )


def sign_attestation(
    certifier: LocalAccount,
    chain_id: int,
    registry: str,
    request: AttestationRequest,
    deadline: int | None = None,
) -> SignedAttestation:
    """Sign offline (no chain access needed). ``deadline`` defaults to 7 days from now."""
    deadline = deadline if deadline is not None else int(time.time()) + 7 * 86_400
    signed = Account.sign_typed_data(
        certifier.key, full_message=typed_data(chain_id, registry, certifier.address, request, deadline)
    )
    return SignedAttestation(
        chain_id=chain_id,
        registry=registry,
        certifier=certifier.address,
        schema_id=request.schema_id,
        subject=request.subject,
        data_hash="0x" + request.data_hash.hex(),
        expires_at=request.expires_at,
        deadline=deadline,
        salt="0x" + request.salt.hex(),
        signature="0x" + bytes(signed.signature).hex(),
        uid="0x" + bytes(signed.message_hash).hex(),
    )


class AttestationsApi:
    def __init__(self, contracts: Contracts) -> None:
        self._client = contracts.client
        self.contract = contracts.registry

    def register_schema(
        self, admin: LocalAccount, name: str, revocable: bool, subject_kind: SubjectKind
    ) -> Sent[int]:
        """Register an attestation schema; its value is the schema id."""
        receipt = self._client.transact(
            admin, self.contract.functions.registerSchema(name, revocable, int(subject_kind))
        )
        return Sent.of(receipt, int(receipt_events(receipt, "SchemaRegistered")[0]["schemaId"]))

    def schema_id(self, name: str) -> int:
        """The schema's id, 0 when unknown."""
        return int(self._client.call(Call(self.contract, "schemaIdOf", (name,))))

    def schema(self, schema_id: int) -> tuple[str, bool, SubjectKind]:
        name, revocable, kind = self._client.call(Call(self.contract, "schema", (schema_id,)))
        return str(name), bool(revocable), SubjectKind(int(kind))

    def attest(self, certifier: LocalAccount, request: AttestationRequest) -> Sent[str]:
        """Attest directly as ``certifier``; its value is the uid."""
        receipt = self._client.transact(certifier, self.contract.functions.attest(request.as_tuple()))
        return Sent.of(receipt, str(receipt_events(receipt, "Attested")[0]["uid"]))

    def sign(
        self, certifier: LocalAccount, request: AttestationRequest, deadline: int | None = None
    ) -> SignedAttestation:
        return sign_attestation(certifier, self._client.chain_id, self.contract.address, request, deadline)

    def submit(self, relayer: LocalAccount, signed: SignedAttestation) -> Sent[str]:
        """Relay a signed attestation (anyone may); its value is the uid."""
        if signed.chain_id != self._client.chain_id or signed.registry != self.contract.address:
            raise PassportFileInvalid(
                "signed attestation",
                f"signed for chain {signed.chain_id} registry {signed.registry}, "
                f"not chain {self._client.chain_id} registry {self.contract.address}",
            )
        fn = self.contract.functions.attestBySig(
            signed.request().as_tuple(),
            signed.certifier,
            signed.deadline,
            bytes.fromhex(signed.signature[2:]),
        )
        receipt = self._client.transact(relayer, fn)
        return Sent.of(receipt, str(receipt_events(receipt, "Attested")[0]["uid"]))

    def revoke(self, certifier: LocalAccount, uid: str) -> Sent[None]:
        return self._client.send(certifier, self.contract.functions.revoke(bytes.fromhex(uid[2:])))

    def is_valid(self, uid: str) -> bool:
        return bool(self._client.call(Call(self.contract, "isValid", (bytes.fromhex(uid[2:]),))))

    def get(self, uid: str) -> AttestationRecord:
        certifier, schema_id, flags, issued, expires = self._client.call(
            Call(self.contract, "attestation", (bytes.fromhex(uid[2:]),))
        )
        return AttestationRecord(
            uid=uid,
            certifier=to_checksum_address(certifier),
            schema_id=int(schema_id),
            revoked=bool(flags & FLAG_REVOKED),
            revocable=bool(flags & FLAG_REVOCABLE),
            issued_at=int(issued),
            expires_at=int(expires),
        )


def on_chain_attestation(contracts: Contracts, uid: str, block: int | str = "latest") -> OnChainAttestation:
    """What the registry hashed into ``uid`` beyond the ``Attested`` event's listed fields: the
    salt (from the event) and the signature deadline (from the transaction's calldata; 0 for a
    direct ``attest``).

    Raises:
        SdkError: no such attestation on chain.
    """
    from passport.core.events import decode, topic

    client, registry = contracts.client, contracts.registry
    try:
        uid_topic = bytes.fromhex(uid.removeprefix("0x"))
    except ValueError:
        raise SdkError(f"attestation {uid!r}: not a 32-byte hex id") from None
    logs = client.get_logs([registry.address], [topic("Attested"), uid_topic], block)
    if len(uid_topic) != 32 or not logs:
        raise SdkError(f"attestation {uid}: no Attested event on chain")
    event = decode(logs[0])
    assert event is not None
    tx = client.w3.eth.get_transaction(logs[0]["transactionHash"])
    function, params = registry.decode_function_input(tx["input"])
    deadline = int(params["deadline"]) if function.fn_name == "attestBySig" else 0
    return OnChainAttestation(uid=str(event.args["uid"]), salt=str(event.args["salt"]), deadline=deadline)
