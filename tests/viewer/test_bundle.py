"""The committed page script (passport/viewer/viewer.js) is what esbuild builds from viewer/, and the JS
verifier's own tests (units, and the shared vectors) pass under Node."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.viewer.conftest import ROOT, node


def test_committed_bundle_is_fresh(tmp_path: Path) -> None:
    subprocess.run([node(), "viewer/build.mjs", "--out", str(tmp_path)], cwd=ROOT, check=True, timeout=120)
    fresh = (tmp_path / "viewer.js").read_bytes()
    committed = (ROOT / "passport" / "viewer" / "viewer.js").read_bytes()
    assert fresh == committed, "passport/viewer/viewer.js is stale: run node viewer/build.mjs"


def test_js_unit_and_vector_tests_pass(tmp_path: Path) -> None:
    subprocess.run(
        [node(), "viewer/build.mjs", "--test", "--out", str(tmp_path)], cwd=ROOT, check=True, timeout=120
    )
    done = subprocess.run(
        [node(), "--test", *sorted(str(p) for p in (ROOT / "viewer" / "test").glob("*.test.mjs"))],
        cwd=ROOT,
        capture_output=True,
        check=False,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout
