"""CLI tests run against anvil (from node_modules), started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from passport.toolchain.anvil import Anvil


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    with Anvil() as node:
        yield node
