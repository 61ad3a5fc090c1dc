"""The demo on the passport node (sealed) and on anvil (unsealed), exported with evidence."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from passport import demo
from passport.core.document import PassportDocument
from passport.evidence import TrustAnchor
from passport.sdk import Client, Sdk
from passport.toolchain.anvil import RpcProcess


@dataclass(frozen=True)
class Exported:
    sdk: Sdk
    result: demo.DemoResult
    wf6: PassportDocument
    other: PassportDocument  # another batch's passport (apt-mine-a), same block
    trust: TrustAnchor
    out: Path


def _export(process: RpcProcess, out: Path) -> Exported:
    client = Client.connect(process.url)
    result = demo.run(client, out)
    sdk = Sdk.attach(client, out / "deployments", "demo")
    block = result.documents["wf6"].chain.as_of_block
    wf6 = PassportDocument.load(result.passports["wf6-with-evidence"])
    other = sdk.export_with_evidence(result.batches["apt-mine-a"], block)
    assert result.trust_anchor is not None
    return Exported(sdk, result, wf6, other, TrustAnchor.load(result.trust_anchor), out)


@pytest.fixture(scope="session")
def node_export(dev_node: RpcProcess, tmp_path_factory: pytest.TempPathFactory) -> Exported:
    return _export(dev_node, tmp_path_factory.mktemp("evidence-node"))


@pytest.fixture(scope="session")
def anvil_export(anvil: RpcProcess, tmp_path_factory: pytest.TempPathFactory) -> Exported:
    return _export(anvil, tmp_path_factory.mktemp("evidence-anvil"))


def chain_args(exported: Exported) -> list[str]:
    """The CLI's chain options for the exported demo's node and deployment."""
    return [
        "--rpc-url",
        exported.sdk.client.url,
        "--network",
        "demo",
        "--deployments",
        str(exported.out / "deployments"),
    ]
