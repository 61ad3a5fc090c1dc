"""The README's SDK section runs as it stands, on anvil and on the project's dev node."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from passport.toolchain.anvil import RpcProcess

ROOT = Path(__file__).resolve().parents[2]


def sdk_example() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("\n## SDK\n") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "the README's SDK section has no Python example"
    return match.group(1)


@pytest.mark.parametrize("chain", ["anvil", "dev_node"])
def test_the_readme_sdk_example_runs(chain: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    process: RpcProcess = request.getfixturevalue(chain)
    done = subprocess.run(
        [sys.executable, "-c", sdk_example()],
        cwd=tmp_path,
        env={**os.environ, "PASSPORT_RPC_URL": process.url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    written, verdict = done.stdout.strip().splitlines()
    assert re.fullmatch(r"batch 1: tx 0x[0-9a-f]{64}, block \d+, gas [\d,]+", written), written
    assert verdict == "True"  # the lot is Vietnamese and untainted: DFARS passes
    assert (tmp_path / "lot.json").is_file() and (tmp_path / "consortium.trust.json").is_file()
    assert (tmp_path / "deployments" / "local").is_dir()
