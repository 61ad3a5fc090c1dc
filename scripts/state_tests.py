#!/usr/bin/env python3
"""Run the Ethereum state tests (Cancun post-states) on the node's VM and on stock py-evm.

Usage: scripts/state_tests.py [--root DIR] [--filter TEXT] [--jobs N] [--case-seconds S]
                              [--results FILE.jsonl] [--json]

Every case runs on stock ``CancunVM`` and on the node's ``PassportVM``, each over a database of
its own; the node's state is then read back from its database node by node and compared with
stock py-evm's (see ``passport.node.statetests``). Prints the counts, every case stock py-evm
fails (listed, not hidden), every case a VM did not finish within ``--case-seconds``, and every
case where the node's VM fails and stock py-evm passes. Exits 1 if there is any of the latter.
Each case's outcome is appended to ``--results`` as it finishes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import passport  # noqa: F401  (selects the C Keccak backend before py-evm loads)
from passport.node.statetests import cases, compare

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "ethereum-tests" / "GeneralStateTests"
Row = tuple[str, str | None, str | None, float, bool]


def _run_file(path: str, seconds: float) -> list[Row]:
    out = []
    for case in cases(Path(path)):
        result = compare(case, seconds)
        out.append((case.id, result.stock, result.node, round(result.seconds, 2), result.timed_out))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--filter", default="", help="only fixture files whose path contains this")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--case-seconds", type=float, default=120.0, help="per case and VM; 0: no limit")
    parser.add_argument("--results", type=Path, help="append one JSON line per case")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not args.root.is_dir():
        print(f"error: no state tests at {args.root}", file=sys.stderr)
        return 2
    # largest files first, so the long ones do not start last
    paths = sorted(
        (p for p in args.root.rglob("*.json") if args.filter in str(p)), key=lambda p: -p.stat().st_size
    )
    started = time.perf_counter()
    results: list[Row] = []
    sink = args.results.open("a") if args.results else None
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        work = partial(_run_file, seconds=args.case_seconds)
        for done, batch in enumerate(pool.map(work, [str(p) for p in paths]), start=1):
            results.extend(batch)
            if sink:
                for row in batch:
                    sink.write(
                        json.dumps(
                            dict(zip(("case", "stock", "node", "seconds", "timed_out"), row, strict=True))
                        )
                        + "\n"
                    )
                sink.flush()
            if not args.json and done % 100 == 0:
                print(f"  {done}/{len(paths)} files, {len(results)} cases", file=sys.stderr)
    if sink:
        sink.close()
    seconds = time.perf_counter() - started
    finished = [r for r in results if not r[4]]
    timed_out = sorted((case, stock or node) for case, stock, node, _s, late in results if late)
    stock_failures = sorted((case, stock) for case, stock, _n, _s, _late in finished if stock is not None)
    regressions = sorted(
        (c, node) for c, stock, node, _s, _late in finished if stock is None and node is not None
    )
    summary = {
        "files": len(paths),
        "cases": len(results),
        "timed_out": len(timed_out),
        "stock_pass": sum(1 for r in finished if r[1] is None),
        "node_pass": sum(1 for r in finished if r[2] is None),
        "node_fails_where_stock_passes": len(regressions),
        "seconds": round(seconds, 1),
        "stock_failures": [{"case": c, "reason": r} for c, r in stock_failures],
        "timed_out_cases": [{"case": c, "reason": r} for c, r in timed_out],
        "regressions": [{"case": c, "reason": r} for c, r in regressions],
    }
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(
            f"{summary['cases']} Cancun cases in {summary['files']} files "
            f"({seconds:.0f} s, {args.jobs} jobs): "
            f"stock py-evm passes {summary['stock_pass']}, the node's VM passes {summary['node_pass']} "
            f"(database read-back included); node fails where stock passes: {len(regressions)}; "
            f"not finished within {args.case_seconds:g} s: {len(timed_out)}"
        )
        for title, rows in (
            ("stock py-evm fails", stock_failures),
            (f"not finished within {args.case_seconds:g} s (by either VM)", timed_out),
            ("the node's VM fails where stock passes", regressions),
        ):
            if rows:
                print(f"\n{title} ({len(rows)}):")
                for case, reason in rows:
                    print(f"  {case}: {(reason or '')[:300]}")
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
