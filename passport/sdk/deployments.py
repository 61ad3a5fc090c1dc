"""Deployment records: ``deployments/<network>/<Contract>.json``."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import keccak

from passport.exceptions import DeploymentExists, DeploymentMismatch, DeploymentNotFound
from passport.toolchain import load_artifact

CONTRACTS = ("Consortium", "MineralPassport", "AttestationRegistry")
DEFAULT_DIR = Path("deployments")


def abi_hash(abi: list[dict[str, Any]]) -> str:
    """keccak256 of the ABI in canonical JSON: tells whether a record matches the artifacts."""
    return "0x" + keccak(json.dumps(abi, sort_keys=True, separators=(",", ":")).encode()).hex()


@dataclass(frozen=True, slots=True)
class ContractRecord:
    contract: str
    address: str
    abi_hash: str
    tx_hash: str
    block: int
    args: list[Any]
    chain_id: int


@dataclass(frozen=True, slots=True)
class Deployment:
    """Where the three contracts live on one network."""

    network: str
    chain_id: int
    records: dict[str, ContractRecord]

    def address(self, contract: str) -> str:
        return self.records[contract].address


def write(directory: Path, deployment: Deployment, force: bool = False) -> Path:
    """Write the records of a deployment; all files or none.

    Raises:
        DeploymentExists: records exist and ``force`` is false.
    """
    target = directory / deployment.network
    if target.exists() and any(target.glob("*.json")) and not force:
        raise DeploymentExists(deployment.network, str(target))
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{deployment.network}-", dir=directory))
    for name, record in deployment.records.items():
        body = {
            "contract": record.contract,
            "address": record.address,
            "abiHash": record.abi_hash,
            "txHash": record.tx_hash,
            "block": record.block,
            "args": record.args,
            "chainId": record.chain_id,
        }
        (staging / f"{name}.json").write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
    if target.exists():
        old = target.with_name(f".{deployment.network}.old")
        os.replace(target, old)
        os.replace(staging, target)
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
    else:
        os.replace(staging, target)
    return target


def load(directory: Path, network: str, chain_id: int | None = None) -> Deployment:
    """Read a network's records and check them against the artifacts and the chain id.

    Raises:
        DeploymentNotFound: a record is missing.
        DeploymentMismatch: a record is unreadable, for another chain, or for other bytecode's ABI.
    """
    records: dict[str, ContractRecord] = {}
    for name in CONTRACTS:
        path = directory / network / f"{name}.json"
        if not path.is_file():
            raise DeploymentNotFound(network, name, str(path))
        try:
            data = json.loads(path.read_text())
            record = ContractRecord(
                contract=name,
                address=data["address"],
                abi_hash=data["abiHash"],
                tx_hash=data["txHash"],
                block=int(data["block"]),
                args=data["args"],
                chain_id=int(data["chainId"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DeploymentMismatch(network, f"{path} is unreadable: {exc}") from exc
        if chain_id is not None and record.chain_id != chain_id:
            raise DeploymentMismatch(
                network, f"{name} was deployed on chain {record.chain_id}, not {chain_id}"
            )
        if record.abi_hash != abi_hash(load_artifact(name).abi):
            raise DeploymentMismatch(network, f"{name}'s ABI differs from this version's artifacts")
        records[name] = record
    return Deployment(network=network, chain_id=next(iter(records.values())).chain_id, records=records)
