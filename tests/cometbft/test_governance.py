"""The validator set is governed on-chain: the Consortium's M-of-N proposals that sanction (or
deactivate) a member take its validator's voting power away in CometBFT, and lifting the
sanction gives it back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from passport.core.types import Role
from passport.node.consensus.cometbft import comet_rpc
from passport.node.consensus.network import Network, init_network
from passport.sdk import Client, Founder, Sdk
from passport.sdk.accounts import dev_accounts
from tests.cometbft.conftest import wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    net = init_network(tmp_path / "net", validators=4, timeout_commit="500ms")
    try:
        for i in range(4):
            net.start_node(i)
        net.wait_ready()
        yield net
    finally:
        for i in range(4):
            net.stop_node(i, timeout=15)


def powers(network: Network, index: int = 0) -> dict[str, int]:
    answer = comet_rpc(network.node(index).comet_rpc, "validators", {"per_page": "100"})
    return {v["address"]: int(v["voting_power"]) for v in answer["validators"]}


def test_sanctioned_member_loses_its_validator_power(network: Network) -> None:
    accounts = dev_accounts()
    founders = [Founder(a.address, Role.ADMIN | Role.REGULATOR, "VN") for a in accounts[:4]]
    sdk = Sdk.deploy(Client.connect(network.node(1).rpc_url), accounts[0], founders, threshold=2)
    target = network.node(3)
    assert powers(network)[target.validator_address] == 10
    consortium = sdk.consortium
    proposal = consortium.propose_member_sanction(accounts[0], target.account, True, execute=False)
    consortium.approve(accounts[1], proposal.proposal_id)
    consortium.execute(accounts[1], proposal.proposal_id)
    wait_for(lambda: target.validator_address not in powers(network), 30, "the validator to lose its power")
    assert sorted(powers(network, 2).values()) == [10, 10, 10]
    # three of the four still commit blocks
    head = int(comet_rpc(network.node(0).comet_rpc, "status", {})["sync_info"]["latest_block_height"])
    wait_for(
        lambda: (
            int(comet_rpc(network.node(0).comet_rpc, "status", {})["sync_info"]["latest_block_height"])
            > head + 2
        ),
        30,
        "blocks after the change",
    )
    proposal = consortium.propose_member_sanction(accounts[0], target.account, False, execute=False)
    consortium.approve(accounts[2], proposal.proposal_id)
    consortium.execute(accounts[2], proposal.proposal_id)
    wait_for(lambda: powers(network).get(target.validator_address) == 10, 30, "the power to come back")
