#!/usr/bin/env python3
"""The 1,003-batch passport of scripts/bench_passport.py with its evidence, in one run on

- the single sealer (``passport node start --dev``: headers sealed by one validator), and
- 4 CometBFT validators (``passport net init --validators 4``): headers proven by commits, the
  trust anchor (v2) exported before the lineage is built, the passport exported with ``--trust``
  (the light-client path from the anchor's height);

and for each: the file's size, its parts, export time, offline verify in Python and in the page
(headless Chromium, Debian's, via playwright-core), medians of ``--runs``.

    scripts/bench_quorum.py [--runs 3] [--timeout-commit 300ms] [--json]

Targets (CometBFT column): file <= 2 MB as written, Python verify < 1 s, page verify < 3 s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_passport import build

from passport.core.document import PassportDocument
from passport.evidence import verify_offline
from passport.evidence.trust import AnyTrustAnchor, CometTrustAnchor
from passport.node.consensus.network import init_network
from passport.node.service import Node
from passport.sdk import Client
from passport.viewer import page_title, render_page

ROOT = Path(__file__).resolve().parent.parent


def measure(url: str, runs: int, tmp: Path, say: Callable[[str], None], anchor_first: bool) -> dict[str, Any]:
    client = Client.connect(url)
    early: AnyTrustAnchor | None = None
    started = time.monotonic()
    sdk, wf6 = build(client, say)
    if anchor_first:  # the buyer pinned the anchor before the lineage was made
        early = sdk.trust_anchor("bench consortium")
    say(f"lineage built in {time.monotonic() - started:.0f} s; exporting with evidence")
    trust = early if early is not None else sdk.trust_anchor("bench consortium")
    exports = []
    for _ in range(runs):
        t0 = time.monotonic()
        doc = sdk.export_with_evidence(wf6, trust=trust if isinstance(trust, CometTrustAnchor) else None)
        exports.append(time.monotonic() - t0)
    path = tmp / "passport.json"
    doc.save(path)
    python = []
    for _ in range(runs):
        t0 = time.monotonic()
        report = verify_offline(PassportDocument.load(path), trust)
        python.append(time.monotonic() - t0)
        assert report.ok, report.failures[:3]
    passport = json.loads(path.read_text())
    page_path = tmp / "page.html"
    page_path.write_text(render_page(passport, json.loads(trust.to_json()), page_title(passport)), "utf-8")
    jobs = tmp / "jobs.json"
    jobs.write_text(json.dumps([{"url": page_path.as_uri()}] * runs))
    say(f"opening the page {runs} times in Chromium")
    done = subprocess.run(
        ["node", str(ROOT / "viewer" / "test" / "browser.mjs"), str(jobs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    shown = json.loads(done.stdout)
    assert all(s["verdict"] == "verified" for s in shown), [s["failures"][:3] for s in shown]
    ev = doc.evidence
    assert ev is not None
    headers, seals, _nodes = ev.unpack()
    consensus = ev.consensus
    consensus_bytes = len(json.dumps(consensus.model_dump(mode="json"), indent=2)) if consensus else 0
    return {
        "batches": len(doc.lineage.nodes),
        "blocks": client.head()[0],
        "bytes": path.stat().st_size,
        "consensus_bytes": consensus_bytes,
        "headers": len(headers),
        "sealed": sum(1 for s in seals if s),
        "path": len(consensus.path) if consensus else 0,
        "commits": len(consensus.commits) if consensus else 0,
        "quorum": str(report.quorum) if report.quorum else None,
        "export_seconds": round(statistics.median(exports), 3),
        "python_seconds": round(statistics.median(python), 3),
        "page_seconds": round(statistics.median(s["verifyMs"] for s in shown) / 1000, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout-commit", default="300ms")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    def say(message: str) -> None:
        print(message, file=sys.stderr)

    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-quorum-") as tmp:
        say("single sealer")
        with contextlib.ExitStack() as stack:
            node = stack.enter_context(Node.dev())
            (Path(tmp) / "single").mkdir()
            rows["single sealer"] = measure(
                node.url, args.runs, Path(tmp) / "single", say, anchor_first=False
            )
        say("4 CometBFT validators")
        network = init_network(Path(tmp) / "net", validators=4, timeout_commit=args.timeout_commit)
        with network.running():
            (Path(tmp) / "comet").mkdir()
            rows["4 validators (CometBFT)"] = measure(
                network.node(0).rpc_url, args.runs, Path(tmp) / "comet", say, anchor_first=True
            )
    browser = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True, check=False)
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{browser.stdout.strip()}"
    )
    if args.json:
        print(json.dumps({"machine": machine, "timeoutCommit": args.timeout_commit, "rows": rows}, indent=2))
        return 0
    names = list(rows)
    lines = [
        ("lineage (batches)", "batches", "{:,}"),
        ("chain height at export", "blocks", "{:,}"),
        ("file as written (bytes)", "bytes", "{:,}"),
        ("of which consensus evidence (bytes)", "consensus_bytes", "{:,}"),
        ("EVM headers (sealed)", "headers", "{}"),
        ("light blocks: path + cited-block commits", "path", "{}"),
        ("export with evidence (s)", "export_seconds", "{:.3f}"),
        ("offline verify, Python (s)", "python_seconds", "{:.3f}"),
        ("offline verify, page in Chromium (s)", "page_seconds", "{:.3f}"),
    ]
    print(f"| 1,003-batch passport | {' | '.join(names)} |")
    print("|---|" + "---|" * len(names))
    for label, key, fmt in lines:
        cells = []
        for name in names:
            r = rows[name]
            cell = fmt.format(r[key])
            if key == "headers":
                cell = f"{r['headers']} ({r['sealed']})"
            if key == "path":
                cell = f"{r['path']} + {r['commits']}"
            cells.append(cell)
        print(f"| {label} | {' | '.join(cells)} |")
    print(f"\n{machine}; CometBFT timeout_commit {args.timeout_commit}; medians of {args.runs}.")
    quorum = rows["4 validators (CometBFT)"]["quorum"]
    print(f"CometBFT verdict: {quorum}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
