"""A slice of the Ethereum state tests on the node's VM and on stock py-evm.

The slice covers storage (SSTORE gas and refunds, 0 -> X -> 0 within a transaction), reverts,
CREATE2 and self-destruct (the storage-trie reset and its rollback), calls, transient storage,
MCOPY and blob transactions. ``scripts/state_tests.py`` runs every case; the README has its
counts. Each case must pass on the node's VM wherever stock py-evm passes it, with the node's
whole state read back from its database.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from passport.node import blocks
from passport.node.statetests import cases, compare
from passport.toolchain.compiler import REPO_ROOT

ROOT = REPO_ROOT.parent / "shared" / "ethereum-tests" / "GeneralStateTests"
SLICE = (
    "stSStoreTest",
    "stRefundTest",
    "stRevertTest",
    "stCreate2",
    "stSelfBalance",
    "stSLoadTest",
    "stCallCodes",
    "stInitCodeTest",
    "stTransactionTest",
    "stExample",
    "stLogTests",
    "stChainId",
    "stZeroCallsRevert",
    "Cancun/stEIP1153-transientStorage",
    "Cancun/stEIP5656-MCOPY",
)

# minutes on stock py-evm alone; scripts/state_tests.py runs them
TOO_SLOW_FOR_CI = {"stCreate2/Create2Recursive.json"}

pytestmark = pytest.mark.skipif(not ROOT.is_dir(), reason=f"no state tests at {ROOT}")


def fixture_files() -> list[Path]:
    if not ROOT.is_dir():
        return []
    files: list[Path] = []
    for part in SLICE:
        path = ROOT / part
        files.extend(sorted(path.rglob("*.json")) if path.is_dir() else [path])
    return [f for f in files if str(f.relative_to(ROOT)) not in TOO_SLOW_FOR_CI]


@pytest.mark.parametrize("mode", ["loop", "blocks"])
@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_node_vm_passes_wherever_stock_py_evm_passes(
    path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By the node VM's opcode loop alone, and with every code compiled into blocks
    (:mod:`passport.node.blocks`) from its first run."""
    monkeypatch.setattr(blocks, "COMPILE_AFTER_RUNS", 0 if mode == "blocks" else 10**9)
    regressions = []
    for case in cases(path):
        result = compare(case)
        if result.regression:
            regressions.append(f"{case.id}: {result.node}")
    assert not regressions, "\n".join(regressions)


def test_the_slice_is_not_empty() -> None:
    assert sum(1 for path in fixture_files() for _case in cases(path)) > 1_500


def test_a_lost_trie_node_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner catches the defect it exists for: with py-trie's pruning back on the batched
    storage trie, the nodes a batched write made are dropped and the cases fail."""
    from passport.node import storage

    path = ROOT / "stSStoreTest" / "sstore_0to0toX.json"
    original = storage.HexaryTrie
    monkeypatch.setattr(storage, "HexaryTrie", lambda db, root_hash: original(db, root_hash, prune=True))
    failures = [compare(case).node for case in cases(path)]
    assert any(f is not None and "trie node" in f for f in failures), failures
