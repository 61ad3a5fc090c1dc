"""An anvil from node_modules per test module, and the contracts deployed on it."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType

import pytest
from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from passport.toolchain.anvil import Anvil
from passport.toolchain.compiler import REPO_ROOT


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_gas", REPO_ROOT / "scripts" / "bench_gas.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


@pytest.fixture(scope="module")
def anvil() -> Iterator[Anvil]:
    with Anvil() as node:
        yield node


@dataclass(frozen=True)
class Deployment:
    chain: object
    consortium: Contract
    passport: Contract
    registry: Contract
    admin: LocalAccount
    certifier: LocalAccount
    miner: LocalAccount
    schema_id: int


@pytest.fixture(scope="module")
def deployment(anvil: Anvil) -> Deployment:
    chain = bench.Chain(anvil.url)
    admin, miner, certifier = bench.dev_accounts(3)
    founders = [
        (admin.address, bench.ADMIN, b"VN"),
        (miner.address, bench.MINER, b"VN"),
        (certifier.address, bench.CERTIFIER, b"CH"),
    ]
    consortium = chain.deploy("Consortium", admin, founders, 1)
    passport = chain.deploy("MineralPassport", admin, consortium.address, 50, 100, "")
    registry = chain.deploy("AttestationRegistry", admin, consortium.address, passport.address)
    chain.send(
        admin, consortium.functions.proposeAddFacility(miner.address, b"VN", bench.MINE_KIND, b"\x01" * 32)
    )
    chain.send(admin, consortium.functions.execute(1))
    chain.send(miner, passport.functions.mint(1, bench.CONCENTRATE, 1_000_000, 650_000, b"\x00" * 32))
    chain.send(admin, registry.functions.registerSchema("origin-verified", True, 0))
    expiry = chain.w3.eth.get_block("latest")["timestamp"] + 365 * 86_400
    chain.send(admin, consortium.functions.proposeAccreditation(certifier.address, 1, expiry))
    chain.send(admin, consortium.functions.execute(2))
    return Deployment(chain, consortium, passport, registry, admin, certifier, miner, 1)
