"""Start and stop the pinned anvil (node_modules/@foundry-rs) on a free loopback port."""

from __future__ import annotations

import json
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from passport._utils.dev import DEV_MNEMONIC
from passport.exceptions import ToolchainError
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


def wait_port(port: int, timeout: float = 30.0) -> None:
    """Wait until something listens on 127.0.0.1:``port``.

    Raises:
        TimeoutError: nothing did within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


class RpcProcess:
    """A JSON-RPC server process bound to 127.0.0.1 on a free port; a context manager, so it
    always stops. Subclasses say which command to run."""

    name = "node"

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        # stderr goes to a file, never a pipe nobody drains: a process that logs (the node logs
        # a line per block) would block once a pipe's buffer filled
        self._log: IO[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self, timeout: float = 30.0) -> Self:
        """Start the process and wait until it answers JSON-RPC.

        Raises:
            ToolchainError: the program is missing, exited, or did not answer in time.
        """
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the process; closed in stop)
        self._process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=self._log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = self._process.returncode
                err = self.log_text()
                self._close_log()
                raise ToolchainError(f"{self.name} exited with code {code}: {err.strip()}")
            if self._answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise ToolchainError(f"{self.name} did not answer on {self.url} within {timeout:.0f} s")

    def log_text(self) -> str:
        """What the process has written to stderr so far."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def _close_log(self) -> None:
        log, self._log = self._log, None
        if log is not None:
            log.close()

    def _answers(self) -> bool:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the process (SIGTERM, then SIGKILL after ``timeout``); returns its exit code."""
        process, self._process = self._process, None
        if process is None:
            return None
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._close_log()
        return process.returncode

    def kill(self) -> None:
        """SIGKILL, no clean-up: what a crash looks like."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()
        self._close_log()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class Anvil(RpcProcess):
    """The pinned anvil, Cancun rules, the standard test mnemonic.

    Example:
        >>> with Anvil() as node:
        ...     web3 = Web3(Web3.HTTPProvider(node.url))
    """

    name = "anvil"

    def __init__(self, chain_id: int = 31337, extra_args: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.chain_id = chain_id
        self._args = extra_args

    def command(self) -> list[str]:
        return [
            str(foundry_binary("anvil")),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--mnemonic", DEV_MNEMONIC,
            "--hardfork", "cancun",
            "--silent",
            *self._args,
        ]  # fmt: skip
