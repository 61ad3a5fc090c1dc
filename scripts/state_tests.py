#!/usr/bin/env python3
"""Run the Ethereum state tests (Cancun post-states) on the node's VM and on stock py-evm.

Usage: scripts/state_tests.py [--root DIR] [--filter TEXT] [--jobs N] [--json]

Every case runs on stock ``CancunVM`` and on the node's ``PassportVM``, each over a database of
its own; the node's state is then read back from its database node by node and compared with
stock py-evm's (see ``passport.node.statetests``). Prints the counts, every case stock py-evm
fails (listed, not hidden) and every case where the node's VM fails and stock py-evm passes.
Exits 1 if there is any of the latter.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import passport  # noqa: F401  (selects the C Keccak backend before py-evm loads)
from passport.node.statetests import cases, compare

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "ethereum-tests" / "GeneralStateTests"


def _run_file(path: str) -> list[tuple[str, str | None, str | None, float]]:
    out = []
    for case in cases(Path(path)):
        result = compare(case)
        out.append((case.id, result.stock, result.node, result.seconds))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--filter", default="", help="only fixture files whose path contains this")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not args.root.is_dir():
        print(f"error: no state tests at {args.root}", file=sys.stderr)
        return 2
    files = [str(p) for p in sorted(args.root.rglob("*.json")) if args.filter in str(p)]
    started = time.perf_counter()
    results: list[tuple[str, str | None, str | None, float]] = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for done, batch in enumerate(pool.map(_run_file, files, chunksize=4), start=1):
            results.extend(batch)
            if not args.json and done % 200 == 0:
                print(f"  {done}/{len(files)} files, {len(results)} cases", file=sys.stderr)
    seconds = time.perf_counter() - started
    stock_failures = sorted((case, stock) for case, stock, _node, _s in results if stock is not None)
    regressions = sorted(
        (case, node) for case, stock, node, _s in results if stock is None and node is not None
    )
    node_only_passes = sorted(case for case, stock, node, _s in results if stock is not None and node is None)
    summary = {
        "files": len(files),
        "cases": len(results),
        "stock_pass": sum(1 for _c, stock, _n, _s in results if stock is None),
        "node_pass": sum(1 for _c, _st, node, _s in results if node is None),
        "node_fails_where_stock_passes": len(regressions),
        "seconds": round(seconds, 1),
        "stock_failures": [{"case": case, "reason": reason} for case, reason in stock_failures],
        "regressions": [{"case": case, "reason": reason} for case, reason in regressions],
        "node_passes_where_stock_fails": node_only_passes,
    }
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(
            f"{summary['cases']} Cancun cases in {summary['files']} files ({seconds:.0f} s): "
            f"stock py-evm passes {summary['stock_pass']}, the node's VM passes {summary['node_pass']} "
            f"(database read-back included); node fails where stock passes: {len(regressions)}"
        )
        if stock_failures:
            print(f"\nstock py-evm fails {len(stock_failures)}:")
            for case, reason in stock_failures:
                print(f"  {case}: {reason[:200]}")
        if regressions:
            print(f"\nthe node's VM fails where stock passes ({len(regressions)}):")
            for case, reason in regressions:
                print(f"  {case}: {reason[:300]}")
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
