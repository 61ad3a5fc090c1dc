"""The consortium's trust anchor: what a buyer pins once to check passports offline.

Version 1 (``trust-anchor@1``, the single-sealer chain) names the chain (id and genesis hash),
who may seal its blocks (the validator set and the seal scheme), and the three contracts
(addresses and code hashes). A chain without seals (anvil, eth-tester) gets an anchor with
``sealed: false``; passports checked against it say so.

Version 2 (``trust-anchor@2``, a CometBFT network) replaces the sealers by a CometBFT light
client's trusted state: the CometBFT chain id, a header at a height (hence its time) and the
validator set that signed it (ed25519 keys, voting power, the members they belong to), and a
trusting period. A passport's block is proven by a commit of more than 2/3 of a validator set's
power, that set vouched for by this one (``passport.evidence.cometbft``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from passport._utils.addresses import checksum
from passport._utils.files import JsonFile
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


def _fingerprint(anchor: JsonFile) -> str:
    """SHA-256 of the anchor's RFC 8785 form: what a buyer compares with the consortium's."""
    import hashlib

    import rfc8785

    return "sha256:" + hashlib.sha256(rfc8785.dumps(anchor.model_dump(mode="json"))).hexdigest()


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

    def fingerprint(self) -> str:
        return _fingerprint(self)

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


class AnchorValidator(BaseModel):
    """A validator of the anchor's set, as CometBFT's ``/validators`` lists it, with the member
    account its key is bound to and the member's name (as the exporting member gave it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str = Field(pattern=r"^[0-9A-F]{40}$")
    pub_key: dict[str, str]
    voting_power: str
    account: str | None = None
    name: str | None = None

    def rpc(self) -> dict[str, Any]:
        return {"address": self.address, "pub_key": self.pub_key, "voting_power": self.voting_power}


class CometAnchor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    chain_id: str = Field(description="CometBFT's chain id (what validators sign)")
    height: int = Field(gt=0)
    time: str = Field(description="the header's time (RFC 3339)")
    header: dict[str, Any] = Field(description="the trusted header, as CometBFT's /commit gives it")
    validators: list[AnchorValidator] = Field(min_length=1, description="the set that signed the header")
    trusting_period_seconds: int = Field(
        gt=0, description="how long after the header's time the set is trusted to vouch for a new one"
    )


class CometTrustAnchor(JsonFile):
    kind: Literal["mineral-passport/trust-anchor@2"] = "mineral-passport/trust-anchor@2"
    name: str = Field(description="the consortium's name, as shown to readers")
    chain_id: int = Field(gt=0, description="the EVM chain id")
    genesis_hash: str = Field(pattern=HEX32)
    cometbft: CometAnchor
    contracts: dict[Literal["consortium", "passport", "registry"], ContractAnchor]

    @property
    def sealed(self) -> bool:
        """Blocks are proven (by commits), as a v1 anchor's sealed chain's are (by seals)."""
        return True

    @property
    def validators(self) -> list[str]:
        return [v.address for v in self.cometbft.validators]

    def names(self) -> dict[str, str]:
        """CometBFT address -> what to call the validator: the member's name, else its account."""
        return {v.address: v.name or v.account or v.address for v in self.cometbft.validators}

    def fingerprint(self) -> str:
        return _fingerprint(self)

    @classmethod
    def load(cls, path: Path) -> CometTrustAnchor:
        anchor = super().load(path)
        if set(anchor.contracts) != {"consortium", "passport", "registry"}:
            raise PassportFileInvalid(str(path), "contracts: needs consortium, passport and registry")
        return anchor


AnyTrustAnchor = TrustAnchor | CometTrustAnchor


def load_trust_anchor(path: Path) -> AnyTrustAnchor:
    """A trust anchor of either version, by its ``kind``.

    Raises:
        PassportFileInvalid: unreadable, not JSON, not a trust anchor, or incomplete.
    """
    import json

    try:
        kind = json.loads(path.read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        kind = None
    if kind == "mineral-passport/trust-anchor@2":
        return CometTrustAnchor.load(path)
    return TrustAnchor.load(path)
