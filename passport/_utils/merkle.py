"""OpenZeppelin StandardMerkleTree: the array layout, proofs and multiproofs of
``@openzeppelin/merkle-tree`` 1.x, so a root, proof or multiproof made here is the one that
library makes and that ``MerkleProof.verify`` / ``multiProofVerify`` accept in Solidity.

- a leaf is ``keccak256(keccak256(abi.encode(types, values)))`` (``standard_leaf_hash``);
- a pair is ``keccak256(sorted(a, b))``;
- leaf hashes are sorted ascending and placed at the end of the array in reverse order;
  node ``i`` has children ``2i+1`` and ``2i+2``; the root is node 0.

The tests compare every function with the npm library on random trees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak

from passport.exceptions import MerkleError


def standard_leaf_hash(types: Sequence[str], values: Sequence[Any]) -> bytes:
    return keccak(keccak(abi_encode(list(types), list(values))))


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


@dataclass(frozen=True, slots=True)
class MultiProof:
    """What ``getMultiProof`` returns: the leaves in the order the proof consumes them."""

    leaves: tuple[bytes, ...]
    proof: tuple[bytes, ...]
    flags: tuple[bool, ...]


class StandardTree:
    """A tree over leaf hashes (already hashed with ``standard_leaf_hash``), sorted as OZ sorts them."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        if not leaf_hashes:
            raise MerkleError("a Merkle tree needs at least one leaf")
        if any(len(h) != 32 for h in leaf_hashes):
            raise MerkleError("leaf hashes are 32 bytes")
        ordered = sorted(leaf_hashes)
        size = 2 * len(ordered) - 1
        tree: list[bytes] = [b""] * size
        for i, leaf in enumerate(ordered):
            tree[size - 1 - i] = leaf
        for i in range(size - 1 - len(ordered), -1, -1):
            tree[i] = hash_pair(tree[2 * i + 1], tree[2 * i + 2])
        self.tree = tree
        self._index = {h: size - 1 - i for i, h in enumerate(ordered)}

    @property
    def root(self) -> bytes:
        return self.tree[0]

    def tree_index(self, leaf_hash: bytes) -> int:
        try:
            return self._index[leaf_hash]
        except KeyError:
            raise MerkleError(f"0x{leaf_hash.hex()} is not a leaf of this tree") from None

    def proof(self, leaf_hash: bytes) -> list[bytes]:
        index, out = self.tree_index(leaf_hash), []
        while index > 0:
            out.append(self.tree[_sibling(index)])
            index = (index - 1) // 2
        return out

    def multiproof(self, leaf_hashes: Sequence[bytes]) -> MultiProof:
        indices = sorted({self.tree_index(h) for h in leaf_hashes}, reverse=True)
        if len(indices) != len(leaf_hashes):
            raise MerkleError("a multiproof cannot prove the same leaf twice")
        stack, proof, flags = list(indices), [], []
        while stack and stack[0] > 0:
            j = stack.pop(0)
            s, p = _sibling(j), (j - 1) // 2
            if stack and s == stack[0]:
                flags.append(True)
                stack.pop(0)
            else:
                flags.append(False)
                proof.append(self.tree[s])
            stack.append(p)
        if not indices:
            proof.append(self.tree[0])
        return MultiProof(tuple(self.tree[i] for i in indices), tuple(proof), tuple(flags))


def _sibling(index: int) -> int:
    return index + 1 if index % 2 else index - 1


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node


def process_multiproof(multi: MultiProof) -> bytes:
    """The root a multiproof leads to (OZ ``processMultiProof``).

    Raises:
        MerkleError: the proof's shape does not add up (too few or too many hashes).
    """
    if len(multi.leaves) + len(multi.proof) != len(multi.flags) + 1:
        raise MerkleError(
            f"multiproof shape: {len(multi.leaves)} leaves + {len(multi.proof)} proof hashes "
            f"!= {len(multi.flags)} flags + 1"
        )
    if any(len(h) != 32 for h in (*multi.leaves, *multi.proof)):
        raise MerkleError("multiproof hashes are 32 bytes")
    stack, proof = list(multi.leaves), list(multi.proof)
    for flag in multi.flags:
        if not stack:
            raise MerkleError("multiproof flags consume more leaves than given")
        a = stack.pop(0)
        if flag:
            if not stack:
                raise MerkleError("multiproof flags consume more leaves than given")
            b = stack.pop(0)
        else:
            if not proof:
                raise MerkleError("multiproof flags consume more proof hashes than given")
            b = proof.pop(0)
        stack.append(hash_pair(a, b))
    if stack:
        return stack.pop()
    return proof.pop(0)
