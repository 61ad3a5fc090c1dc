"""The call workers survive being killed: a worker killed while idle (out of memory, kill -9) is
started afresh on the next call, one killed during a call answers that call with an error saying
so, and the node still stops."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from passport.node.devchain import dev_setup
from passport.node.service import Node
from tests.node.test_rpc_server import ENDLESS_LOOP, NUMBER_INITCODE, call, post


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    genesis, config, validator = dev_setup(tmp_path, 0)
    config.rpc.call_workers = 2
    with Node(tmp_path, genesis, config, validator=validator) as n:
        yield n


def _number(node: Node) -> dict[str, Any]:
    return dict(post(node.url, call("eth_call", [{"data": NUMBER_INITCODE}, "latest"]))[1])


def _kill(pids: list[int]) -> None:
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)


def _gone(pid: int) -> bool:
    """Exited (a zombie until the pool reaps it)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _stops_within(node: Node, seconds: float) -> bool:
    stopper = threading.Thread(target=node.stop, daemon=True)
    stopper.start()
    stopper.join(seconds)
    return not stopper.is_alive()


def test_idle_workers_killed_are_started_afresh_and_the_node_stops(node: Node) -> None:
    for _ in range(4):  # round the workers: each has started and served
        assert _number(node)["result"] == "0x" + "0" * 64
    killed = node.calls.worker_pids
    assert len(killed) == 2
    _kill(killed)
    for _ in range(4):  # every worker again: each was started afresh
        assert _number(node)["result"] == "0x" + "0" * 64
    assert not set(node.calls.worker_pids) & set(killed)
    assert _stops_within(node, 20), "the node did not stop after its call workers were killed"


def test_a_worker_killed_during_a_call_fails_that_call_only(node: Node) -> None:
    node.config.rpc.evm_timeout_seconds = 30.0
    node.config.rpc.gas_cap = 10**12
    answers: list[dict[str, Any]] = []
    for _ in range(2):
        _number(node)
    before = {pid: _cpu_ticks(pid) for pid in node.calls.worker_pids}

    def heavy() -> None:
        answers.append(post(node.url, call("eth_call", [{"data": ENDLESS_LOOP, "gas": hex(10**11)}]))[1])

    thread = threading.Thread(target=heavy)
    started = time.monotonic()
    thread.start()
    busy: list[int] = []
    while not busy and time.monotonic() - started < 10:
        time.sleep(0.2)
        busy = [pid for pid, ticks in before.items() if _cpu_ticks(pid) - ticks > 10]
    assert busy, "no worker ran the heavy call"
    _kill(busy[:1])
    thread.join(20)
    assert not thread.is_alive()
    assert time.monotonic() - started < 15, "the call waited out its deadline"
    error = answers[0]["error"]
    assert error["code"] == -32000
    assert f"call worker {busy[0]} was killed by signal 9 before it answered" in error["message"]
    for _ in range(2):
        assert _number(node)["result"] == "0x" + "0" * 64
    assert _stops_within(node, 20)


def _cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def test_a_worker_killed_during_a_batch_fails_its_unit_and_the_rest_is_answered(node: Node) -> None:
    """A JSON-RPC batch's calls run as one unit per worker: killing one worker fails its unit's
    calls naming it, while the other unit runs to its own end (here, the time cap)."""
    node.config.rpc.evm_timeout_seconds = 4.0
    node.config.rpc.gas_cap = 10**12
    for _ in range(2):
        _number(node)
    workers = node.calls.worker_pids
    assert len(workers) == 2
    before = {pid: _cpu_ticks(pid) for pid in workers}
    heavy = call("eth_call", [{"data": ENDLESS_LOOP, "gas": hex(10**11)}])
    answers: list[Any] = []
    thread = threading.Thread(
        target=lambda: answers.append(post(node.url, [dict(heavy, id=1), dict(heavy, id=2)])[1])
    )
    thread.start()
    started = time.monotonic()
    while time.monotonic() - started < 10 and not all(_cpu_ticks(p) - before[p] > 10 for p in workers):
        time.sleep(0.1)
    _kill(workers[:1])
    thread.join(30)
    assert not thread.is_alive()
    errors = sorted((a["error"]["message"] for a in answers[0]), key=lambda m: "killed" not in m)
    assert f"call worker {workers[0]} was killed by signal 9 before it answered" in errors[0]
    assert "execution aborted (timeout = 4s" in errors[1]
    assert _number(node)["result"] == "0x" + "0" * 64
    assert _stops_within(node, 20)
