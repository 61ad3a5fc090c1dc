"""``eth_getLogs`` narrows the blocks it reads by the log indexes (address, and every topic
position's values), and still answers exactly what the filter's definition selects: the demo's
logs, filtered in Python, against the node's answers to generated filters."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from web3 import Web3

from passport import demo
from passport.node.service import Node
from passport.sdk import Client


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Web3, list[dict[str, Any]]]]:
    with Node.dev(data_dir=tmp_path_factory.mktemp("node")).start() as node:
        demo.run(Client.connect(node.url), tmp_path_factory.mktemp("out"))
        w3 = Web3(Web3.HTTPProvider(node.url))
        everything = w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest"})
        yield w3, [dict(log) for log in everything]


def _selects(log: dict[str, Any], addresses: list[str], topics: list[Any]) -> bool:
    """The filter's definition (the Ethereum JSON-RPC spec's): any of the addresses, and at each
    position, any of its topics (None: anything), a log with fewer topics matching no position
    that asks for one."""
    if addresses and log["address"].lower() not in {a.lower() for a in addresses}:
        return False
    logged = ["0x" + bytes(t).hex() for t in log["topics"]]
    for position, wanted in enumerate(topics):
        if wanted is None:
            continue
        options = wanted if isinstance(wanted, list) else [wanted]
        if position >= len(logged) or logged[position] not in options:
            return False
    return True


def _generated_filter(everything: list[dict[str, Any]], seed: int) -> tuple[list[str], list[Any]]:
    """Addresses and topics of a filter. Topics are drawn from the logs themselves, at any
    position, so that an index hit at the wrong position (the index does not say which) is often
    among the candidate blocks; most filters follow one log's topics, so that they select some."""
    rng = random.Random(seed)
    seen_topics = sorted({"0x" + bytes(t).hex() for log in everything for t in log["topics"]})
    seen_addresses = sorted({log["address"] for log in everything})
    template = ["0x" + bytes(t).hex() for t in everything[rng.randrange(len(everything))]["topics"]]
    topics: list[Any] = []
    for position in range(rng.randint(1, 4)):
        roll = rng.random()
        if roll < 0.3:
            topics.append(None)
            continue
        picked = [template[position]] if roll < 0.75 and position < len(template) else []
        picked += rng.sample(seen_topics, rng.choice([0, 1, 3, 40]) if picked else rng.choice([1, 3, 40]))
        if rng.random() < 0.3:
            picked.append("0x" + "ee" * 32)  # logged nowhere
        rng.shuffle(picked)
        topics.append(picked[0] if len(picked) == 1 and rng.random() < 0.5 else picked)
    return rng.sample(seen_addresses, rng.randint(0, min(2, len(seen_addresses)))), topics


SEEDS = range(40)


@pytest.mark.parametrize("seed", SEEDS)
def test_get_logs_answers_what_the_filter_selects(
    chain: tuple[Web3, list[dict[str, Any]]], seed: int
) -> None:
    w3, everything = chain
    addresses, topics = _generated_filter(everything, seed)
    query: dict[str, Any] = {"fromBlock": 0, "toBlock": "latest", "topics": topics}
    if addresses:
        query["address"] = addresses
    answer = [dict(log) for log in w3.eth.get_logs(query)]  # type: ignore[arg-type]
    assert answer == [log for log in everything if _selects(log, addresses, topics)]


def test_the_generated_filters_select_some_logs_and_none(chain: tuple[Web3, list[dict[str, Any]]]) -> None:
    """The comparison above is only a check if its filters select logs, and sometimes none."""
    _w3, everything = chain
    assert len(everything) > 50
    filters = [_generated_filter(everything, seed) for seed in SEEDS]
    counts = [sum(_selects(log, *f) for log in everything) for f in filters]
    assert sum(1 for c in counts if 0 < c < len(everything)) >= 15
    assert sum(1 for c in counts if c == 0) >= 5
