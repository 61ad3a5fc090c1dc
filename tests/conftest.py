"""Chains shared by every test directory, started once per session and always stopped:
anvil (from node_modules), ``passport node start --dev`` (a child process) and a network of four
validators agreeing through CometBFT (``passport net``, child processes)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from passport.node.process import NodeProcess
from passport.toolchain.anvil import Anvil


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    with Anvil() as node:
        yield node


@pytest.fixture(scope="session")
def dev_node() -> Iterator[NodeProcess]:
    with NodeProcess() as node:
        yield node


@pytest.fixture(scope="session")
def comet_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Four validators (CometBFT) on 127.0.0.1, as ``passport net init --validators 4`` makes them."""
    from passport.exceptions import NodeError
    from passport.node.consensus.comet import cometbft_binary
    from passport.node.consensus.network import init_network

    try:
        cometbft_binary()
    except NodeError as exc:  # make setup builds it: its absence is a failure, never a skip
        pytest.fail(f"cometbft not available: {exc}", pytrace=False)
    directory: Path = tmp_path_factory.mktemp("comet") / "net"
    with init_network(directory, validators=4, timeout_commit="300ms").running() as network:
        yield network
