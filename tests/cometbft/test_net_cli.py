"""``passport net init|start|status|stop`` as a user runs them: four nodes that commit blocks,
any one of them killed (kill -9) leaving the other three committing, and all four on the same
block (and so the same app hash) at every height."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from passport.node.process import passport_executable
from tests.cometbft.conftest import wait_for

pytestmark = pytest.mark.slow


def passport(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*passport_executable(), *args], capture_output=True, text=True, timeout=180, check=False
    )


def status(directory: Path) -> list[dict[str, Any]]:
    done = passport("net", "status", "--dir", str(directory), "--json")
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def heads(directory: Path, indexes: list[int]) -> dict[int, int]:
    rows = status(directory)
    return {i: int(rows[i]["head"] or 0) for i in indexes}


def advanced(directory: Path, start: dict[int, int], by: int) -> bool:
    now = heads(directory, list(start))
    return all(now[i] >= start[i] + by for i in start)


@pytest.fixture
def net_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "net"
    done = passport(
        "net", "init", "--validators", "4", "--dir", str(directory), "--timeout-commit", "300ms", "--json"
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["nodes"]) == 4
    try:
        yield directory
    finally:
        passport("net", "stop", "--dir", str(directory))


def test_four_nodes_commit_and_survive_any_one_killed(net_dir: Path) -> None:
    done = passport("net", "start", "--dir", str(net_dir))
    assert done.returncode == 0, done.stderr
    wait_for(lambda: all(int(r["head"] or 0) >= 3 for r in status(net_dir)), 60, "four nodes committing")
    for victim in range(4):
        pid = int(status(net_dir)[victim]["pid"])
        os.kill(pid, signal.SIGKILL)
        others = [i for i in range(4) if i != victim]
        start = heads(net_dir, others)
        wait_for(lambda s=start: advanced(net_dir, s, 3), 30, f"three nodes committing without node{victim}")
        assert status(net_dir)[victim]["head"] is None
        done = passport("net", "start", "--dir", str(net_dir), "--node", str(victim))
        assert done.returncode == 0, done.stderr
    top = min(int(r["head"]) for r in status(net_dir))
    wait_for(lambda: min(int(r["head"] or 0) for r in status(net_dir)) >= top, 60, "all four caught up")
    from passport.node.consensus.network import Network
    from tests.cometbft.test_faults import assert_same_chain

    assert_same_chain(Network.load(net_dir), [0, 1, 2, 3], top)
    done = passport("net", "stop", "--dir", str(net_dir))
    assert done.returncode == 0 and "node0" in done.stdout
    assert all(r["pid"] is None for r in status(net_dir))


def test_net_errors_are_one_line(tmp_path: Path) -> None:
    done = passport("net", "start", "--dir", str(tmp_path / "nothing"))
    assert done.returncode == 1
    assert "run `passport net init` first" in done.stderr and "Traceback" not in done.stderr
    directory = tmp_path / "net"
    assert passport("net", "init", "--validators", "1", "--dir", str(directory)).returncode == 0
    again = passport("net", "init", "--validators", "1", "--dir", str(directory))
    assert again.returncode == 1 and "refusing to overwrite" in again.stderr
