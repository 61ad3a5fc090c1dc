#!/usr/bin/env python3
"""Run slither over contracts/ (through forge and the solc shim) and hold its findings to the
committed triage.

Usage: scripts/slither.py [--slither PATH]

High and medium impact findings must each be fixed or listed in ``slither.triage.json`` with a
reason; one that is neither fails the run, and so does a triage entry that matches no finding
(it would hide a future one). Low, informational and optimisation findings are not checked.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRIAGE = ROOT / "slither.triage.json"
CHECKED = ("High", "Medium")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slither", default=str(ROOT / ".venv-slither" / "bin" / "slither"))
    args = parser.parse_args()
    env = {**os.environ, "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "slither.json"
        proc = subprocess.run(
            [
                args.slither, ".",
                "--compile-force-framework", "foundry",
                "--foundry-out-directory", "build/forge/out",
                "--filter-paths", "node_modules|tests/contracts|scripts",
                "--json", str(report),
            ],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if not report.exists():
            print(proc.stdout[-4000:], proc.stderr[-4000:], sep="\n", file=sys.stderr)
            print("slither did not produce a report", file=sys.stderr)
            return 2
        data = json.loads(report.read_text())
    if not data.get("success"):
        print(f"slither failed: {data.get('error')}", file=sys.stderr)
        return 2
    findings = [d for d in data.get("results", {}).get("detectors", []) if d.get("impact") in CHECKED]
    triage = json.loads(TRIAGE.read_text())["findings"]
    used = [False] * len(triage)
    untriaged = []
    for finding in findings:
        matches = [
            i for i, entry in enumerate(triage)
            if entry["check"] == finding["check"] and entry["where"] in finding["description"]
        ]  # fmt: skip
        for i in matches:
            used[i] = True
        if not matches:
            untriaged.append(finding)
    for finding in untriaged:
        print(f"[{finding['impact']}] {finding['check']}: {finding['description'].strip()}", file=sys.stderr)
    stale = [entry for entry, hit in zip(triage, used, strict=True) if not hit]
    for entry in stale:
        print(
            f"stale triage entry (no such finding now): {entry['check']} at {entry['where']}", file=sys.stderr
        )
    print(
        f"slither: {len(findings)} high/medium findings, {len(findings) - len(untriaged)} triaged "
        f"in {TRIAGE.name}, {len(untriaged)} untriaged, {len(stale)} stale entries"
    )
    return 1 if untriaged or stale else 0


if __name__ == "__main__":
    sys.exit(main())
