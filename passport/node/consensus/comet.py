"""The ``cometbft`` process of a node and CometBFT's JSON-RPC: the pinned binary, what the node
reads from its home's ``config.toml``, the child process (its log, and the line that says this
node's app hash differs from the network's), and calls to its RPC.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import threading
import tomllib
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from passport.exceptions import NodeError, RpcError
from passport.node.consensus import cometbft_version
from passport.node.rpc.codes import INTERNAL_ERROR

log = logging.getLogger("passport.node.cometbft")

BROADCAST_TIMEOUT = 30.0
APP_HASH_MISMATCH = re.compile(
    r"wrong Block\.Header\.AppHash\.\s+Expected ([0-9A-Fa-f]+), got ([0-9A-Fa-f]+)"
)


def cometbft_binary() -> Path:
    """The ``cometbft`` to run: ``$PASSPORT_COMETBFT``, the repository's ``.bin/cometbft``
    (``make setup`` builds it), or one on ``PATH``; it must be the pinned version.

    Raises:
        NodeError: none found, or it is another version.
    """
    candidates = [os.environ.get("PASSPORT_COMETBFT")]
    candidates.append(str(Path(__file__).resolve().parents[3] / ".bin" / "cometbft"))
    candidates.append(shutil.which("cometbft"))
    wanted = cometbft_version().removeprefix("v")
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            found = _binary_version(candidate)
            if found != wanted:
                raise NodeError(
                    f"{candidate} is CometBFT {found}; this node needs {wanted} (run `make setup`)"
                )
            return Path(candidate)
    raise NodeError(
        f"cometbft {wanted} not found: run `make setup` (it builds .bin/cometbft with Go) "
        "or set $PASSPORT_COMETBFT"
    )


_versions: dict[str, str] = {}


def _binary_version(path: str) -> str:
    if path not in _versions:
        out = subprocess.run([path, "version"], capture_output=True, text=True, timeout=30, check=False)
        _versions[path] = out.stdout.strip()
    return _versions[path]


@dataclass(frozen=True)
class CometConfig:
    """What the application needs from the CometBFT home's ``config/config.toml``."""

    home: Path
    abci_host: str
    abci_port: int
    rpc_url: str
    chain_id: str
    max_batch: int = 10

    @classmethod
    def read(cls, home: Path) -> CometConfig:
        config_path = home / "config" / "config.toml"
        genesis_path = home / "config" / "genesis.json"
        try:
            config = tomllib.loads(config_path.read_text())
            genesis = json.loads(genesis_path.read_text())
        except OSError as exc:
            raise NodeError(
                f"{home} is not a CometBFT home ({exc.filename}: {exc.strerror}); "
                "create one with `passport net init`"
            ) from None
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise NodeError(f"{home}: cannot read the CometBFT config: {exc}") from None
        proxy = str(config.get("proxy_app", ""))
        rpc = str(config.get("rpc", {}).get("laddr", ""))
        if config.get("abci", "socket") != "socket":
            raise NodeError(f'{config_path}: abci must be "socket"')
        abci_host, abci_port = _tcp_address(proxy, f"{config_path}: proxy_app")
        rpc_host, rpc_port = _tcp_address(rpc, f"{config_path}: rpc.laddr")
        return cls(
            home=home,
            abci_host=abci_host,
            abci_port=abci_port,
            rpc_url=f"http://{rpc_host}:{rpc_port}",
            chain_id=str(genesis.get("chain_id", "")),
            max_batch=max(1, int(config.get("rpc", {}).get("max_request_batch_size", 10) or 10)),
        )


def _tcp_address(value: str, where: str) -> tuple[str, int]:
    match = re.fullmatch(r"tcp://([^:/]+):(\d+)", value)
    if not match:
        raise NodeError(f"{where} must be tcp://HOST:PORT, not {value!r}")
    return match.group(1), int(match.group(2))


def _post(url: str, payload: Any, timeout: float) -> Any:
    """POST a JSON-RPC payload to CometBFT and return the decoded answer.

    Raises:
        OSError: it did not answer (or not with JSON).
    """
    body = json.dumps(payload).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise OSError(f"CometBFT at {url} answered HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise OSError(f"CometBFT at {url} is unreachable: {exc.reason}") from None
    except (TimeoutError, json.JSONDecodeError) as exc:
        raise OSError(f"CometBFT at {url}: {exc}") from None


def _error_text(error: dict[str, Any]) -> str:
    return str(error.get("data") or error.get("message"))


def comet_rpc(url: str, method: str, params: dict[str, Any], timeout: float = BROADCAST_TIMEOUT) -> Any:
    """One call to CometBFT's JSON-RPC.

    Raises:
        RpcError: CometBFT answered an error (its data says why).
        OSError: it did not answer.
    """
    payload = _post(url, {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout)
    if "error" in payload:
        error = payload["error"]
        raise RpcError(int(error.get("code", INTERNAL_ERROR)), _error_text(error))
    return payload["result"]


def comet_rpc_batch(
    url: str, calls: Sequence[tuple[str, dict[str, Any]]], timeout: float = BROADCAST_TIMEOUT
) -> list[tuple[Any, str | None]]:
    """A JSON-RPC batch to CometBFT: (result, None) or (None, error text) per call, in order.

    Raises:
        OSError: it did not answer.
    """
    payload = _post(
        url,
        [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)],
        timeout,
    )
    if isinstance(payload, dict):  # one error for the whole batch
        text = _error_text(payload.get("error", {})) if "error" in payload else str(payload)
        return [(None, text) for _ in calls]
    by_id = {int(answer.get("id", -1)): answer for answer in payload}
    out: list[tuple[Any, str | None]] = []
    for index in range(len(calls)):
        answer = by_id.get(index, {"error": {"message": "no answer"}})
        if "error" in answer:
            out.append((None, _error_text(answer["error"])))
        else:
            out.append((answer.get("result"), None))
    return out


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the child gets SIGKILL when the node process dies (kill -9 takes both)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    os.setpgrp()


class CometProcess:
    """The ``cometbft start`` child of a node: its output goes to ``<home>/cometbft.log``, and
    a line saying this node's app hash differs from the network's stops the node."""

    def __init__(self, binary: Path, home: Path, on_divergence: Any) -> None:
        self.binary = binary
        self.home = home
        self.on_divergence = on_divergence
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        self._log = open(self.home / "cometbft.log", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [str(self.binary), "start", "--home", str(self.home)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads run in the child before exec
        )
        threading.Thread(target=self._pump, name="passport-cometbft-log", daemon=True).start()

    def _pump(self) -> None:
        assert self.process is not None and self.process.stdout is not None and self._log is not None
        for line in self.process.stdout:
            with contextlib.suppress(ValueError, OSError):
                self._log.write(line)
                self._log.flush()
            match = APP_HASH_MISMATCH.search(line.decode(errors="replace"))
            if match:
                self.on_divergence(match.group(1), match.group(2))

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        if self._log is not None:
            self._log.close()
