"""Per-block tries (transactions, receipts, withdrawals) built in one pass.

py-evm builds them by inserting items one at a time into a ``HexaryTrie``, which re-encodes and
re-hashes the path from the root on every insert. All of a block's items are known at once, so
:func:`ordered_trie` builds each node exactly once, bottom-up. The root and the node set are the
ones py-evm's ``make_trie_root_and_nodes`` gives (``tests/node/test_tries.py`` compares them),
so the node's headers and stored transaction and receipt tries are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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
    for nibble, group in _by_nibble(items, depth, branch):
        branch[nibble] = _reference(_node(group, depth + 1, nodes), nodes)
    return branch


def _by_nibble(
    items: list[tuple[bytes, bytes]], depth: int, branch: Node
) -> Iterator[tuple[int, list[tuple[bytes, bytes]]]]:
    """Split sorted ``items`` by their nibble at ``depth``; a key ending at ``depth`` (sorted
    first) becomes ``branch``'s value."""
    start = 0
    if len(items[0][0]) == depth:
        branch[16] = items[0][1]
        start = 1
    while start < len(items):
        nibble = items[start][0][depth]
        end = start + 1
        while end < len(items) and items[end][0][depth] == nibble:
            end += 1
        yield nibble, items[start:end]
        start = end


BLANK_NODE = b""


def update_trie(
    db: Any, root_hash: Hash32, updates: dict[bytes, bytes]
) -> tuple[Hash32, dict[Hash32, bytes]]:
    """Insert or overwrite many keys of the trie at ``root_hash`` in one pass.

    ``db`` maps node hashes to encoded nodes (read only); ``updates`` maps keys to non-empty values
    (deletions go through ``HexaryTrie``). Returns the new root and the nodes it needs that may
    not be in ``db`` yet. Every node on the paths to the updated keys is encoded and hashed once,
    where one insert at a time would do the upper levels once per key. The result is the trie a
    sequence of ``HexaryTrie`` sets gives (the trie is canonical: its shape depends only on its
    contents); ``tests/node/test_tries.py`` checks that.
    """
    if not updates:
        return root_hash, {}
    nodes: dict[Hash32, bytes] = {}
    items = sorted((_nibbles(key), value) for key, value in updates.items())
    root_node = BLANK_NODE if root_hash == BLANK_ROOT_HASH else rlp.decode(db[root_hash])
    encoded = rlp.encode(_update(root_node, 0, items, db, nodes))
    root = Hash32(keccak(encoded))
    nodes[root] = encoded
    return root, nodes


def _load(reference: Any, db: Any, nodes: dict[Hash32, bytes]) -> Any:
    if isinstance(reference, list) or reference == BLANK_NODE:
        return reference
    encoded = nodes.get(reference)
    return rlp.decode(encoded if encoded is not None else db[reference])


def _path(encoded: bytes) -> tuple[bytes, bool]:
    """Nibbles and leaf flag of a hex-prefix encoded path."""
    nibbles = _nibbles(encoded)
    flag = nibbles[0]
    return (nibbles[1:] if flag & 1 else nibbles[2:]), bool(flag & 2)


def _update(
    node: Any, depth: int, items: list[tuple[bytes, bytes]], db: Any, nodes: dict[Hash32, bytes]
) -> Node:
    """``node`` (sitting below the first ``depth`` nibbles) with ``items`` written into it."""
    if node == BLANK_NODE:
        return _node(items, depth, nodes)
    if len(node) == 17:  # branch
        branch = list(node)
        for nibble, group in _by_nibble(items, depth, branch):
            child = _update(_load(branch[nibble], db, nodes), depth + 1, group, db, nodes)
            branch[nibble] = _reference(child, nodes)
        return branch
    path, leaf = _path(node[0])
    prefix = items[0][0][:depth]
    if leaf:
        merged = {prefix + path: node[1]}
        merged.update(items)
        return _node(sorted(merged.items()), depth, nodes)
    # extension: how much of its path do all the items share?
    shared = len(path)
    for key, _value in items:
        same = 0
        limit = min(shared, len(key) - depth)
        while same < limit and key[depth + same] == path[same]:
            same += 1
        shared = same
    if shared == len(path):
        child = _update(_load(node[1], db, nodes), depth + shared, items, db, nodes)
        return [node[0], _reference(child, nodes)]
    # split the extension at `shared`: a branch there, holding the rest of the old path
    rest = path[shared + 1 :]
    old: Any = _load(node[1], db, nodes) if not rest else [_hex_prefix(rest, leaf=False), node[1]]
    split: Node = [BLANK_NODE] * 17
    split[path[shared]] = _reference(old, nodes)
    below = _update(split, depth + shared, items, db, nodes)
    if shared == 0:
        return below
    return [_hex_prefix(path[:shared], leaf=False), _reference(below, nodes)]
