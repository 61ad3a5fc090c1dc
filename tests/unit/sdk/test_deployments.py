"""Deployment records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from passport.exceptions import DeploymentExists, DeploymentMismatch, DeploymentNotFound
from passport.sdk import deployments
from passport.sdk.deployments import ContractRecord, Deployment, abi_hash
from passport.toolchain import load_artifact


def _deployment(network: str = "testnet", chain_id: int = 7) -> Deployment:
    records = {
        name: ContractRecord(
            name,
            "0x" + f"{n + 1:040x}",
            abi_hash(load_artifact(name).abi),
            "0x" + "aa" * 32,
            5,
            [1],
            chain_id,
        )
        for n, name in enumerate(deployments.CONTRACTS)
    }
    return Deployment(network, chain_id, records)


def test_round_trip(tmp_path: Path) -> None:
    written = deployments.write(tmp_path, _deployment())
    assert sorted(p.name for p in written.iterdir()) == [
        "AttestationRegistry.json",
        "Consortium.json",
        "MineralPassport.json",
    ]
    record = json.loads((written / "Consortium.json").read_text())
    assert set(record) == {"contract", "address", "abiHash", "txHash", "block", "args", "chainId"}
    assert deployments.load(tmp_path, "testnet", 7) == _deployment()


def test_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    deployments.write(tmp_path, _deployment())
    with pytest.raises(DeploymentExists, match=r"network 'testnet' already has a deployment"):
        deployments.write(tmp_path, _deployment())
    deployments.write(tmp_path, _deployment(chain_id=8), force=True)
    assert deployments.load(tmp_path, "testnet").chain_id == 8
    assert [p.name for p in tmp_path.iterdir()] == ["testnet"]


def test_missing_and_mismatched(tmp_path: Path) -> None:
    with pytest.raises(DeploymentNotFound, match=r"no deployment of Consortium on network 'nope'"):
        deployments.load(tmp_path, "nope")
    deployments.write(tmp_path, _deployment())
    with pytest.raises(DeploymentMismatch, match=r"deployed on chain 7, not 1"):
        deployments.load(tmp_path, "testnet", 1)
    path = tmp_path / "testnet" / "MineralPassport.json"
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "abiHash": "0x00"}))
    with pytest.raises(DeploymentMismatch, match=r"MineralPassport's ABI differs"):
        deployments.load(tmp_path, "testnet")
    path.write_text("{")
    with pytest.raises(DeploymentMismatch, match=r"is unreadable"):
        deployments.load(tmp_path, "testnet")
