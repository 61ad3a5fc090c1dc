"""``passport node start`` as a child process (tests, benchmarks, tools)."""

from __future__ import annotations

import sys
from pathlib import Path

from passport.toolchain.anvil import RpcProcess


def passport_executable() -> list[str]:
    """The ``passport`` entry point of the running interpreter's environment."""
    script = Path(sys.executable).with_name("passport")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from passport.cli import main; main()"]


class NodeProcess(RpcProcess):
    """``passport node start`` on a free 127.0.0.1 port; ``--dev`` unless ``args`` say otherwise.

    Example:
        >>> with NodeProcess(data_dir=tmp) as node:
        ...     web3 = Web3(Web3.HTTPProvider(node.url))
    """

    name = "passport node"

    def __init__(
        self, data_dir: Path | None = None, args: tuple[str, ...] = ("--dev",), port: int | None = None
    ) -> None:
        super().__init__(port)
        self.data_dir = data_dir
        self._args = args

    def command(self) -> list[str]:
        command = [*passport_executable(), "node", "start", *self._args, "--port", str(self.port)]
        if self.data_dir is not None:
            command += ["--data-dir", str(self.data_dir)]
        return command
