"""The one-pass block tries are py-evm's tries: the same root and the same stored nodes."""

from __future__ import annotations

import random

import pytest
import rlp
from eth.constants import BLANK_ROOT_HASH
from eth.db.trie import _make_trie_root_and_nodes
from trie import HexaryTrie

from passport.node.tries import ordered_trie, update_trie


@pytest.mark.parametrize("count", [*range(0, 40), 127, 128, 129, 255, 256, 257, 1000])
def test_root_and_nodes_match_py_evm(count: int) -> None:
    rng = random.Random(count)
    # item sizes around the 32-byte line where a node stops being inlined in its parent
    items = tuple(rng.randbytes(rng.choice([1, 2, 5, 20, 25, 31, 32, 33, 100, 600])) for _ in range(count))
    root, nodes = ordered_trie(items)
    expected_root, expected_nodes = _make_trie_root_and_nodes(items)
    assert root == expected_root
    assert nodes == expected_nodes
    trie = HexaryTrie(nodes, root)
    assert [trie[rlp.encode(index)] for index in range(count)] == list(items)


def test_empty_is_the_blank_root() -> None:
    assert ordered_trie([]) == (BLANK_ROOT_HASH, {})


@pytest.mark.parametrize("seed", range(40))
def test_batched_updates_give_the_trie_single_sets_give(seed: int) -> None:
    rng = random.Random(seed)
    width = rng.choice([32, 32, 32, 3, 1])  # storage keys are 32-byte hashes; short keys split extensions
    existing = {
        rng.randbytes(width): rng.randbytes(rng.choice([1, 5, 33]))
        for _ in range(rng.choice([0, 1, 2, 50, 400]))
    }
    db: dict[bytes, bytes] = {}
    reference = HexaryTrie(db, BLANK_ROOT_HASH)
    for key, value in existing.items():
        reference[key] = value
    start = reference.root_hash
    updates = {
        rng.randbytes(width): rng.randbytes(rng.choice([1, 5, 33]))
        for _ in range(rng.choice([1, 2, 30, 300]))
    }
    for key in rng.sample(sorted(existing), min(len(existing), 20)):
        updates[key] = b"\x07" + key[:3]  # overwrite some
    snapshot = dict(db)
    root, nodes = update_trie(snapshot, start, updates)
    for key, value in updates.items():
        reference[key] = value
    assert root == reference.root_hash
    result = HexaryTrie({**snapshot, **nodes}, root)
    for key, value in {**existing, **updates}.items():
        assert result[key] == value
