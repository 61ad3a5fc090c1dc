"""Per-block tries (transactions, receipts, withdrawals) built in one pass.

py-evm builds them by inserting items one at a time into a ``HexaryTrie``, which re-encodes and
re-hashes the path from the root on every insert. All of a block's items are known at once, so
:func:`ordered_trie` builds each node exactly once, bottom-up. The root and the node set are the
ones py-evm's ``make_trie_root_and_nodes`` gives (``tests/node/test_tries.py`` compares them),
so the node's headers and stored transaction and receipt tries are unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import rlp
from eth.constants import BLANK_ROOT_HASH
from eth_hash.auto import keccak
from eth_typing import Hash32

Node = list[Any]


def ordered_trie(items: Sequence[bytes]) -> tuple[Hash32, dict[Hash32, bytes]]:
    """Root hash and ``{hash: encoded node}`` of the trie mapping ``rlp(index)`` to ``items[index]``."""
    if not items:
        return BLANK_ROOT_HASH, {}
    nodes: dict[Hash32, bytes] = {}
    keyed = sorted((_nibbles(rlp.encode(index)), item) for index, item in enumerate(items))
    encoded = rlp.encode(_node(keyed, 0, nodes))
    root = Hash32(keccak(encoded))
    nodes[root] = encoded
    return root, nodes


def _nibbles(key: bytes) -> bytes:
    return bytes(half for byte in key for half in (byte >> 4, byte & 0x0F))


def _hex_prefix(nibbles: bytes, leaf: bool) -> bytes:
    flag = 2 if leaf else 0
    prefixed = bytes([flag + 1]) + nibbles if len(nibbles) % 2 else bytes([flag, 0]) + nibbles
    return bytes(prefixed[i] << 4 | prefixed[i + 1] for i in range(0, len(prefixed), 2))


def _reference(node: Node, nodes: dict[Hash32, bytes]) -> Any:
    """How a parent refers to ``node``: inline under 32 encoded bytes, else by hash."""
    encoded = rlp.encode(node)
    if len(encoded) < 32:
        return node
    digest = Hash32(keccak(encoded))
    nodes[digest] = encoded
    return digest


def _node(items: list[tuple[bytes, bytes]], depth: int, nodes: dict[Hash32, bytes]) -> Node:
    """The node for ``items`` (sorted, sharing their first ``depth`` nibbles)."""
    if len(items) == 1:
        key, value = items[0]
        return [_hex_prefix(key[depth:], leaf=True), value]
    first, last = items[0][0], items[-1][0]
    shared = 0
    limit = min(len(first), len(last)) - depth
    while shared < limit and first[depth + shared] == last[depth + shared]:
        shared += 1
    if shared:
        child = _node(items, depth + shared, nodes)
        return [_hex_prefix(first[depth : depth + shared], leaf=False), _reference(child, nodes)]
    branch: Node = [b""] * 17
    start = 0
    if len(first) == depth:  # a key ending here: the branch's value (sorted first)
        branch[16] = items[0][1]
        start = 1
    while start < len(items):
        nibble = items[start][0][depth]
        end = start + 1
        while end < len(items) and items[end][0][depth] == nibble:
            end += 1
        branch[nibble] = _reference(_node(items[start:end], depth + 1, nodes), nodes)
        start = end
    return branch
