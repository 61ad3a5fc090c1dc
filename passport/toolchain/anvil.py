"""Start and stop the pinned anvil (node_modules/@foundry-rs) on a free loopback port."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from passport.exceptions import ToolchainError
from passport.sdk.accounts import DEV_MNEMONIC
from passport.toolchain.compiler import REPO_ROOT


def foundry_binary(tool: str, root: Path = REPO_ROOT) -> Path:
    """Path of a Foundry binary installed by ``npm ci`` (the platform package ships it).

    Raises:
        ToolchainError: the binary is not installed.
    """
    matches = sorted((root / "node_modules" / "@foundry-rs").glob(f"{tool}-*/bin/{tool}"))
    if not matches:
        raise ToolchainError(f"{tool} is not installed; run `npm ci` at the repository root")
    return matches[0]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Anvil:
    """An anvil process bound to 127.0.0.1; use as a context manager so it always stops.

    Example:
        >>> with Anvil() as node:
        ...     web3 = Web3(Web3.HTTPProvider(node.url))
    """

    def __init__(self, chain_id: int = 31337, extra_args: tuple[str, ...] = ()) -> None:
        self.chain_id = chain_id
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._args = extra_args
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> Anvil:
        """Start anvil and wait until it answers JSON-RPC.

        Raises:
            ToolchainError: anvil is missing, exited, or did not answer in time.
        """
        command = [
            str(foundry_binary("anvil")),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--mnemonic", DEV_MNEMONIC,
            "--hardfork", "cancun",
            "--silent",
            *self._args,
        ]  # fmt: skip
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise ToolchainError(f"anvil exited with code {self._process.returncode}: {err.strip()}")
            if self._answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise ToolchainError(f"anvil did not answer on {self.url} within {timeout:.0f} s")

    def _answers(self) -> bool:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        """Stop anvil (SIGTERM, then SIGKILL after 5 s)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
