"""The validator set is governed on-chain, under transaction load: the Consortium's M-of-N
proposals add a fifth validator (a member's full node), remove one, and take the power of a
sanctioned member's validator away (and give it back); CometBFT's set follows each decision and
the chain goes on with no acknowledged transaction lost."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from passport.core.types import Role
from passport.node.consensus.comet import comet_rpc
from passport.node.consensus.network import Network, init_network
from passport.node.replica import call
from passport.sdk import Client, Founder, Sdk
from passport.sdk.accounts import dev_accounts
from tests.cometbft.conftest import Load, wait_for
from tests.cometbft.test_faults import settle

pytestmark = pytest.mark.slow


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    with init_network(tmp_path / "net", validators=4, timeout_commit="500ms", full_nodes=1).running() as net:
        yield net


def powers(network: Network, index: int = 0) -> dict[str, int]:
    answer = comet_rpc(network.node(index).comet_rpc, "validators", {"per_page": "100"})
    return {v["address"]: int(v["voting_power"]) for v in answer["validators"]}


def height(network: Network, index: int = 0) -> int:
    return int(comet_rpc(network.node(index).comet_rpc, "status", {})["sync_info"]["latest_block_height"])


def decide(sdk: Sdk, proposer: int, approver: int, propose: object) -> None:
    accounts = dev_accounts()
    result = propose(accounts[proposer])  # type: ignore[operator]
    sdk.consortium.approve(accounts[approver], result.value.proposal_id)
    sdk.consortium.execute(accounts[approver], result.value.proposal_id)


def test_validators_added_removed_and_sanctioned_by_governance(network: Network) -> None:
    accounts = dev_accounts()
    founders = [Founder(a.address, Role.ADMIN | Role.REGULATOR, "VN") for a in accounts[:5]]
    sdk = Sdk.deploy(Client.connect(network.node(1).rpc_url), accounts[0], founders, threshold=2)
    consortium = sdk.consortium
    fifth, first, fourth = network.node(4), network.node(0), network.node(3)
    assert fifth.validator_address not in powers(network)
    with Load(network, senders=2, targets=[1, 2, 4]) as load:
        key = base64.b64decode(fifth.pub_key)
        decide(sdk, 1, 2, lambda a: consortium.propose_validator(a, key, fifth.account, 10, execute=False))
        wait_for(lambda: powers(network).get(fifth.validator_address) == 10, 60, "the fifth validator")
        # the fifth node sees the same set once it has the block that made it (it may be one behind)
        wait_for(lambda: len(powers(network, 4)) == 5, 30, "the fifth node to see five validators")

        key = base64.b64decode(first.pub_key)
        decide(sdk, 1, 2, lambda a: consortium.propose_validator(a, key, first.account, 0, execute=False))
        wait_for(lambda: first.validator_address not in powers(network, 1), 60, "node0 to leave the set")
        assert sorted(powers(network, 1).values()) == [10, 10, 10, 10]

        decide(
            sdk, 1, 2, lambda a: consortium.propose_member_sanction(a, fourth.account, True, execute=False)
        )
        wait_for(
            lambda: fourth.validator_address not in powers(network, 1),
            30,
            "the sanctioned member's validator",
        )
        before = height(network, 1)
        wait_for(lambda: height(network, 1) > before + 2, 60, "blocks from the three left")

        decide(
            sdk, 1, 2, lambda a: consortium.propose_member_sanction(a, fourth.account, False, execute=False)
        )
        wait_for(lambda: powers(network, 1).get(fourth.validator_address) == 10, 60, "the power to come back")
        load.wait_acknowledged(load.acknowledged_count() + 10)
    listed = {v["address"]: v for v in call(network.node(2).rpc_url, "passport_validators", [])}
    assert listed[fifth.validator_address]["power"] == 10
    assert listed[fifth.validator_address]["account"] == fifth.account
    assert listed[first.validator_address]["power"] == 0
    settle(network, load, [0, 1, 2, 3, 4])
