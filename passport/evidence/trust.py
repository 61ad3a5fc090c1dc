"""The consortium's trust anchor: what a buyer pins once to check passports offline.

It names the chain (id and genesis hash), who may seal its blocks (the validator set and the seal
scheme), and the three contracts (addresses and code hashes). A chain without seals (anvil,
eth-tester) gets an anchor with ``sealed: false``; passports checked against it say so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from passport._utils.addresses import checksum
from passport.core.files import JsonFile
from passport.exceptions import PassportFileInvalid

KIND = "mineral-passport/trust-anchor@1"
HEX32 = r"^0x[0-9a-f]{64}$"


class ContractAnchor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str
    code_hash: str = Field(pattern=HEX32)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        if len(value) != 42 or not value.startswith("0x"):
            raise ValueError("not a 20-byte hex address")
        return checksum(value)


class TrustAnchor(JsonFile):
    kind: Literal["mineral-passport/trust-anchor@1"] = "mineral-passport/trust-anchor@1"
    name: str = Field(description="the consortium's name, as shown to readers")
    chain_id: int = Field(gt=0)
    genesis_hash: str = Field(pattern=HEX32)
    sealed: bool = Field(description="false: headers are not sealed and are trusted as exported")
    seal_scheme: Literal["passport-node/v1"] | None = None
    validators: list[str] = Field(description="addresses allowed to seal blocks")
    contracts: dict[Literal["consortium", "passport", "registry"], ContractAnchor]

    @field_validator("validators")
    @classmethod
    def _validators(cls, value: list[str]) -> list[str]:
        return [checksum(v) for v in value]

    @classmethod
    def load(cls, path: Path) -> TrustAnchor:
        """Read and validate a trust anchor file.

        Raises:
            PassportFileInvalid: unreadable, not JSON, not a trust anchor, or incomplete.
        """
        anchor = super().load(path)
        if set(anchor.contracts) != {"consortium", "passport", "registry"}:
            raise PassportFileInvalid(str(path), "contracts: needs consortium, passport and registry")
        if anchor.sealed and (not anchor.validators or anchor.seal_scheme is None):
            raise PassportFileInvalid(str(path), "a sealed chain needs validators and a seal scheme")
        return anchor
