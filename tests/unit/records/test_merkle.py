"""passport._utils.merkle against @openzeppelin/merkle-tree (the npm reference) on random trees:
the same root, the same single proofs and the same multiproofs, and every multiproof processes
back to the root."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from passport._utils.merkle import (
    MerkleError,
    MultiProof,
    StandardTree,
    process_multiproof,
    process_proof,
)
from passport.records.fields import LEAF_TYPES, canonical, leaf_hash
from passport.toolchain.compiler import REPO_ROOT

SCRIPT = Path(__file__).with_name("oz_tree.cjs")


def _cases(rng: random.Random, count: int) -> list[dict[str, object]]:
    cases = []
    for n in range(count):
        size = [1, 2, 3, 4, 5, 7, 8, 9, 16, 33][n % 10]
        values = [
            [
                f"field.{i}",
                canonical({"v": rng.randrange(10**9), "s": "x" * rng.randrange(5)}),
                "0x" + rng.randbytes(32).hex(),
            ]
            for i in range(size)
        ]
        pick = sorted(rng.sample(range(size), rng.randrange(0, size + 1)))
        cases.append({"values": values, "pick": pick})
    return cases


@pytest.mark.skipif(shutil.which("node") is None, reason="node is part of the toolchain (make setup)")
def test_same_roots_proofs_and_multiproofs_as_openzeppelin() -> None:
    cases = _cases(random.Random(1155), 40)
    out = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    reference = json.loads(out.stdout)
    for case, ref in zip(cases, reference, strict=True):
        values = case["values"]
        assert isinstance(values, list)
        leaves = [leaf_hash(p, json.loads(v), bytes.fromhex(s[2:])) for p, v, s in values]
        tree = StandardTree(leaves)
        assert "0x" + tree.root.hex() == ref["root"]
        for leaf, proof in zip(leaves, ref["proofs"], strict=True):
            assert ["0x" + h.hex() for h in tree.proof(leaf)] == proof
            assert process_proof(leaf, tree.proof(leaf)) == tree.root
        picked = [leaves[i] for i in case["pick"]]  # type: ignore[attr-defined]
        multi = tree.multiproof(picked)
        assert ["0x" + h.hex() for h in multi.leaves] == ref["multi"]["leaves"]
        assert ["0x" + h.hex() for h in multi.proof] == ref["multi"]["proof"]
        assert list(multi.flags) == ref["multi"]["flags"]
        assert process_multiproof(multi) == tree.root
        # the verifier's ordering (ascending leaf hash) is the library's
        assert list(multi.leaves) == sorted(picked)


def test_leaf_types_are_the_documented_encoding() -> None:
    assert LEAF_TYPES == ("string", "string", "bytes32")
    assert canonical({"b": 1, "a": [1.0, "é"]}) == '{"a":[1,"é"],"b":1}'


def test_malformed_multiproofs_are_refused() -> None:
    leaves = [bytes([i]) * 32 for i in range(1, 6)]
    tree = StandardTree(leaves)
    multi = tree.multiproof(leaves[:2])
    with pytest.raises(MerkleError, match="shape"):
        process_multiproof(MultiProof(multi.leaves, multi.proof[:-1], multi.flags))
    with pytest.raises(MerkleError, match="shape"):
        process_multiproof(MultiProof(multi.leaves, (*multi.proof, b"\x00" * 32), multi.flags))
    flipped = MultiProof(multi.leaves, multi.proof, tuple(not f for f in multi.flags))
    with pytest.raises(MerkleError):
        assert process_multiproof(flipped) != tree.root
    with pytest.raises(MerkleError, match="at least one leaf"):
        StandardTree([])
    with pytest.raises(MerkleError, match="same leaf twice"):
        tree.multiproof([leaves[0], leaves[0]])
    with pytest.raises(MerkleError, match="not a leaf"):
        tree.proof(b"\x09" * 32)
