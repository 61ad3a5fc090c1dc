"""Chains for integration tests: the embedded chain, anvil and the passport node, and the demo
scenario run once on each. Every test taking ``chain`` runs against all three."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from passport import demo
from passport.sdk import Client, Sdk
from passport.sdk.accounts import dev_accounts
from passport.toolchain.anvil import RpcProcess


@pytest.fixture(scope="module", params=["embedded", "anvil", "node"])
def chain(request: pytest.FixtureRequest) -> Client:
    if request.param == "embedded":
        return Client.embedded(fund=[a.address for a in dev_accounts()])
    node: RpcProcess = request.getfixturevalue("anvil" if request.param == "anvil" else "dev_node")
    return Client.connect(node.url)


@dataclass(frozen=True)
class DemoRun:
    client: Client
    sdk: Sdk
    result: demo.DemoResult
    out: Path


@pytest.fixture(scope="module")
def demo_run(chain: Client, tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    out = tmp_path_factory.mktemp("demo")
    result = demo.run(chain, out)
    return DemoRun(chain, Sdk.attach(chain, out / "deployments", "demo"), result, out)
