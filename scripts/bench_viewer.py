#!/usr/bin/env python3
"""The passport page on the 1,003-batch lineage of scripts/bench_passport.py: page size, and the
time the page takes to verify the bundle in headless Chromium (Debian's, via playwright-core),
against the Python offline verifier on the same file in the same session.

    scripts/bench_viewer.py            on a fresh passport dev node (sealed headers)
    scripts/bench_viewer.py --runs 5   page loads per figure (median)

Prints a table; target: verify in the page < 3 s on this machine.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_passport import build

from passport.evidence import verify_offline
from passport.node.service import Node
from passport.sdk import Client, PassportDocument
from passport.viewer import page_title, render_page

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    def say(message: str) -> None:
        print(message, file=sys.stderr)

    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        client = Client.connect(stack.enter_context(Node.dev()).url)
        sdk, wf6 = build(client, say)
        say("exporting with evidence")
        doc = sdk.export_with_evidence(wf6)
        trust = sdk.trust_anchor("bench consortium")
        passport_path = Path(tmp) / "passport.json"
        doc.save(passport_path)
        passport = json.loads(passport_path.read_text())
        page = render_page(passport, json.loads(trust.to_json()), page_title(passport))
        page_path = Path(tmp) / "page.html"
        page_path.write_text(page, encoding="utf-8")
        python = []
        for _ in range(args.runs):
            t0 = time.monotonic()
            report = verify_offline(PassportDocument.load(passport_path), trust)
            python.append(time.monotonic() - t0)
            assert report.ok, report.failures[:3]
        jobs = Path(tmp) / "jobs.json"
        jobs.write_text(json.dumps([{"url": page_path.as_uri()}] * args.runs))
        say(f"opening the page {args.runs} times in Chromium")
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
        in_page = statistics.median(s["verifyMs"] for s in shown) / 1000
        wall = statistics.median(s["wallMs"] for s in shown) / 1000
        py = statistics.median(python)
        raw = page.encode()
        rows = [
            ("lineage", f"{len(doc.lineage.nodes):,} batches"),
            ("page size", f"{len(raw) / 1e6:.2f} MB ({len(gzip.compress(raw, 9)) / 1e6:.2f} MB gzipped)"),
            ("the passport file (indented JSON)", f"{passport_path.stat().st_size / 1e6:.2f} MB"),
            ("verify in the page (Chromium)", f"{in_page:.2f} s (median of {args.runs})"),
            ("load, verify and draw (wall)", f"{wall:.2f} s"),
            ("Python offline verify, same file", f"{py:.2f} s (median of {args.runs})"),
            ("page / Python", f"{in_page / py:.2f}x"),
        ]
        width = max(len(r[0]) for r in rows)
        print("\n".join(f"{a.ljust(width)}  {b}" for a, b in rows))
        browser = subprocess.run(
            ["/usr/bin/chromium", "--version"], capture_output=True, text=True, check=False
        )
        print(f"target: verify in the page < 3 s. {browser.stdout.strip()}, passport dev node (sealed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
