"""Four validators agreeing through CometBFT, under transaction load: kill -9 one, two or all
four, freeze one, tamper with one's store. After each fault no acknowledged transaction is lost
and every node holds the same block at every height (the EVM block hash is CometBFT's app hash).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from passport.exceptions import RpcError
from passport.node.consensus.network import Network, init_network, running_pid
from passport.node.replica import call
from tests.cometbft.conftest import Load, heads, wait_for

pytestmark = pytest.mark.slow


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def kill9(network: Network, index: int) -> None:
    pid = running_pid(network.node(index))
    assert pid is not None, f"node{index} is not running"
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: running_pid(network.node(index)) is None, 10, f"node{index} to die")


def assert_same_chain(network: Network, indexes: list[int], upto: int) -> None:
    """Every node's block hash (and parent link) at every height up to ``upto`` is the same."""
    for start in range(0, upto + 1, 100):
        numbers = list(range(start, min(upto, start + 99) + 1))
        per_node = []
        for index in indexes:
            url = network.node(index).rpc_url
            per_node.append([call(url, "eth_getBlockByNumber", [hex(n), False])["hash"] for n in numbers])
        for other in per_node[1:]:
            assert other == per_node[0]


def settle(network: Network, load: Load, indexes: list[int]) -> None:
    """All acknowledged transactions have receipts on every node, and the chains agree."""
    for index in indexes:
        url = network.node(index).rpc_url
        missing = load.uncommitted(url, timeout=90)
        assert not missing, f"node{index}: {len(missing)} acknowledged transactions never committed"
    top = min(h for h in heads(network, indexes).values() if h is not None)
    assert_same_chain(network, indexes, top)


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    with init_network(tmp_path / "net", validators=4, timeout_commit="500ms").running() as net:
        wait_for(lambda: min(heads(net).values(), default=0) >= 2, 60, "the first blocks")  # type: ignore[type-var]
        yield net


def test_one_validator_killed_chain_goes_on_and_it_catches_up(network: Network) -> None:
    with Load(network, senders=4, targets=[0, 1, 2]) as load:
        load.wait_acknowledged(20)
        kill9(network, 3)
        before = heads(network, [0, 1, 2])[0] or 0
        wait_for(lambda: (heads(network, [0])[0] or 0) >= before + 4, 30, "blocks without node3")
        network.start_node(3)
        network.wait_ready([3])
        load.wait_acknowledged(load.acknowledged_count() + 20)
    top = heads(network, [0])[0] or 0
    wait_for(lambda: (heads(network, [3])[3] or 0) >= top, 90, "node3 to catch up")
    settle(network, load, [0, 1, 2, 3])


def test_two_validators_killed_halts_safely_then_resumes(network: Network) -> None:
    with Load(network, senders=2, targets=[0, 1]) as load:
        load.wait_acknowledged(10)
        kill9(network, 2)
        kill9(network, 3)
        time.sleep(2)  # a block already decided may still commit
        halted = heads(network, [0, 1])
        time.sleep(5)
        assert heads(network, [0, 1]) == halted, "a block was committed with half the power"
        acknowledged = load.acknowledged_count()
        load.wait_acknowledged(acknowledged + 5)  # the mempool still takes transactions
        network.start_node(2)
        network.start_node(3)
        network.wait_ready([2, 3])
        wait_for(
            lambda: (heads(network, [0])[0] or 0) > max(h or 0 for h in halted.values()) + 2, 60, "resume"
        )
    settle(network, load, [0, 1, 2, 3])


def test_all_killed_mid_load_lose_nothing(network: Network) -> None:
    with Load(network, senders=4, targets=[0, 1, 2, 3]) as load:
        load.wait_acknowledged(30)
        for i in range(4):
            kill9(network, i)
    for i in range(4):
        network.start_node(i)
    network.wait_ready()
    settle(network, load, [0, 1, 2, 3])
    assert load.acknowledged_count() >= 30


def test_frozen_validator_catches_up(network: Network) -> None:
    pid = running_pid(network.node(1))
    assert pid is not None
    frozen = [pid, *children(pid)]
    with Load(network, senders=2, targets=[0, 2, 3]) as load:
        for p in frozen:
            os.kill(p, signal.SIGSTOP)
        try:
            before = heads(network, [0])[0] or 0
            time.sleep(30)
            assert (heads(network, [0])[0] or 0) >= before + 5, "the chain stopped with one validator frozen"
        finally:
            for p in frozen:
                os.kill(p, signal.SIGCONT)
        load.wait_acknowledged(load.acknowledged_count() + 5)
    top = heads(network, [0])[0] or 0
    wait_for(lambda: (heads(network, [1])[1] or 0) >= top, 90, "node1 to catch up")
    settle(network, load, [0, 1, 2, 3])


def test_tampered_store_stops_that_node_only(network: Network) -> None:
    from eth_utils import to_canonical_address

    from passport.node.chain import NodeChain
    from passport.node.config import GENESIS_FILE, Genesis
    from passport.node.store import LmdbStore

    node3 = network.node(3)
    network.stop_node(3)
    store = LmdbStore(node3.data_dir / "chain")
    try:
        chain = NodeChain(store, Genesis.read(node3.data_dir / GENESIS_FILE))
        head = chain.head
        state = chain.state_at(head)
        victim = to_canonical_address(node3.account)
        state.set_balance(victim, state.get_balance(victim) + 1)
        state.persist()
        # the head's state root now resolves to the altered state
        store[bytes(head.state_root)] = store[bytes(state.state_root)]
        store.commit()
    finally:
        store.close()
    network.start_node(3)
    with Load(network, senders=2, targets=[0, 1]):
        wait_for(lambda: running_pid(node3) is None, 150, "the tampered node to stop")
        before = heads(network, [0])[0] or 0
        wait_for(lambda: (heads(network, [0])[0] or 0) >= before + 3, 30, "the others to go on")
    log = node3.log_file.read_text(errors="replace")
    assert "diverged from the network" in log
    assert "Traceback" not in log.split("diverged from the network")[-1]


def test_rejects_bad_transactions_with_reason(network: Network) -> None:
    url = network.node(0).rpc_url
    with pytest.raises(RpcError, match="invalid transaction"):
        call(url, "eth_sendRawTransaction", ["0x01"])
    from eth_account import Account

    from passport._utils.dev import dev_accounts

    outsider = Account.create()
    tx = outsider.sign_transaction(
        {
            "chainId": 1337,
            "nonce": 0,
            "to": dev_accounts()[1].address,
            "value": 1,
            "gas": 21_000,
            "gasPrice": 2 * 10**9,
        }
    )
    with pytest.raises(RpcError, match=r"insufficient funds|not permitted"):
        call(url, "eth_sendRawTransaction", ["0x" + tx.raw_transaction.hex()])
