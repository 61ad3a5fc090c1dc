"""The three contracts of one deployment, bound to a client."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from passport.core.types import Role
from passport.exceptions import DeploymentExists, DeploymentMismatch
from passport.sdk import deployments
from passport.sdk.client import Client
from passport.sdk.deployments import ContractRecord, Deployment, abi_hash
from passport.toolchain import load_artifact


@dataclass(frozen=True, slots=True)
class Founder:
    """A member registered at deployment."""

    address: str
    roles: Role
    jurisdiction: str


@dataclass(frozen=True, slots=True)
class Contracts:
    client: Client
    deployment: Deployment
    consortium: Contract
    passport: Contract
    registry: Contract

    @property
    def addresses(self) -> list[str]:
        return [self.consortium.address, self.passport.address, self.registry.address]


def attach(client: Client, deployment: Deployment) -> Contracts:
    """Bind recorded addresses to the client, checking that code is deployed there.

    Raises:
        DeploymentMismatch: the chain id differs or an address holds no code.
    """
    if deployment.chain_id != client.chain_id:
        raise DeploymentMismatch(
            deployment.network, f"records are for chain {deployment.chain_id}, not {client.chain_id}"
        )
    bound = {}
    for name in deployments.CONTRACTS:
        address = deployment.address(name)
        if not client.w3.eth.get_code(address):  # type: ignore[arg-type]
            raise DeploymentMismatch(deployment.network, f"no code at {name} address {address}")
        bound[name] = client.contract(address, load_artifact(name).abi)
    return Contracts(
        client, deployment, bound["Consortium"], bound["MineralPassport"], bound["AttestationRegistry"]
    )


def attach_records(client: Client, directory: Path, network: str) -> Contracts:
    """Load ``deployments/<network>`` and attach."""
    return attach(client, deployments.load(directory, network, client.chain_id))


def deploy(
    client: Client,
    deployer: LocalAccount,
    founders: Sequence[Founder],
    threshold: int = 1,
    mass_tolerance_bps: int = 50,
    assay_tolerance_bps: int = 100,
    base_token_uri: str = "",
    network: str = "local",
    directory: Path | None = None,
    force: bool = False,
) -> Contracts:
    """Deploy Consortium, MineralPassport and AttestationRegistry and bootstrap the consortium.

    When ``directory`` is given the records are written to ``directory/<network>/``; an existing
    deployment there is refused unless ``force`` (checked before anything is sent).

    Raises:
        DeploymentExists: records exist and ``force`` is false.
        ContractRevert: a constructor rejected its arguments (e.g. threshold above admins).
    """
    if directory is not None and not force and any((directory / network).glob("*.json")):
        raise DeploymentExists(network, str(directory / network))
    founder_args = [(f.address, int(f.roles), f.jurisdiction.encode()) for f in founders]
    records: dict[str, ContractRecord] = {}
    addresses = {
        "Consortium": _deploy_one(client, deployer, "Consortium", [founder_args, threshold], records)
    }
    addresses["MineralPassport"] = _deploy_one(
        client,
        deployer,
        "MineralPassport",
        [addresses["Consortium"], mass_tolerance_bps, assay_tolerance_bps, base_token_uri],
        records,
    )
    addresses["AttestationRegistry"] = _deploy_one(
        client,
        deployer,
        "AttestationRegistry",
        [addresses["Consortium"], addresses["MineralPassport"]],
        records,
    )
    deployment = Deployment(network=network, chain_id=client.chain_id, records=records)
    if directory is not None:
        deployments.write(directory, deployment, force=force)
    return attach(client, deployment)


def _deploy_one(
    client: Client, deployer: LocalAccount, name: str, args: list[object], records: dict[str, ContractRecord]
) -> str:
    artifact = load_artifact(name)
    factory = client.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = client.transact(deployer, factory.constructor(*args))
    address = str(receipt["contractAddress"])
    records[name] = ContractRecord(
        contract=name,
        address=address,
        abi_hash=abi_hash(artifact.abi),
        tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
        block=int(receipt["blockNumber"]),
        args=[_jsonable(a) for a in args],
        chain_id=client.chain_id,
    )
    return address


def _jsonable(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode() if value.isascii() and value.isalnum() else "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
