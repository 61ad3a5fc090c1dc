"""The consortium's trust anchor: what a buyer pins once to check passports offline.

It names the chain (id and genesis hash), who may seal its blocks (the validator set and the seal
scheme), and the three contracts (addresses and code hashes). A chain without seals (anvil,
eth-tester) gets an anchor with ``sealed: false``; passports checked against it say so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from passport._utils.addresses import checksum
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


class TrustAnchor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

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

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"

    def save(self, path: Path) -> None:
        """Write atomically (a reader never sees half a file)."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.to_json())
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> TrustAnchor:
        """Read and validate a trust anchor file.

        Raises:
            PassportFileInvalid: unreadable, not JSON, or not a trust anchor.
        """
        try:
            anchor = cls.model_validate(json.loads(path.read_text()))
        except FileNotFoundError as exc:
            raise PassportFileInvalid(str(path), "no such file") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(map(str, first["loc"])) or "document"
            raise PassportFileInvalid(str(path), f"{where}: {first['msg']}") from exc
        except (OSError, ValueError) as exc:
            raise PassportFileInvalid(str(path), f"not JSON ({exc})") from exc
        if set(anchor.contracts) != {"consortium", "passport", "registry"}:
            raise PassportFileInvalid(str(path), "contracts: needs consortium, passport and registry")
        if anchor.sealed and (not anchor.validators or anchor.seal_scheme is None):
            raise PassportFileInvalid(str(path), "a sealed chain needs validators and a seal scheme")
        return anchor
