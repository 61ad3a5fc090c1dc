"""Chains shared by every test directory, started once per session and always stopped:
anvil (from node_modules) and ``passport node start --dev`` (a child process)."""

from __future__ import annotations

from collections.abc import Iterator

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
