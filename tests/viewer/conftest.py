"""Node and Chromium for the viewer's tests: the JS toolchain is installed by ``make setup``
(npm ci), Chromium by apt (Debian's ``chromium``) when the set-up runs as root."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VECTORS = ROOT / "viewer" / "test" / "vectors"
SHOTS = ROOT / "build" / "viewer" / "screenshots"


def needs_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: make setup installs Debian's chromium as root")
        pytest.skip(f"{CHROMIUM} is missing (make setup installs it as root)")


def node() -> str:
    found = shutil.which("node")
    assert found, "node is required (Node 20)"
    return found


def open_pages(jobs: list[dict[str, Any]], tmp: Path) -> list[dict[str, Any]]:
    """Each job's page in Chromium, network blocked (viewer/test/browser.mjs)."""
    needs_chromium()
    spec = tmp / "jobs.json"
    spec.write_text(json.dumps(jobs))
    done = subprocess.run(
        [node(), str(ROOT / "viewer" / "test" / "browser.mjs"), str(spec)],
        cwd=ROOT,
        capture_output=True,
        check=False,
        text=True,
        timeout=600,
        env={**os.environ, "CHROMIUM": CHROMIUM},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def vector(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return data
