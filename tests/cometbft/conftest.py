"""Helpers for the CometBFT network tests: transaction load with acknowledged hashes, heads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import pytest

from passport._utils.dev import dev_accounts
from passport.exceptions import NodeError, RpcError
from passport.node.consensus.comet import cometbft_binary
from passport.node.consensus.network import Network
from passport.node.replica import call

try:
    cometbft_binary()
except NodeError as exc:  # make setup builds it: its absence is a failure, never a skip
    pytest.fail(f"cometbft not available: {exc}", pytrace=False)

CHAIN_ID = 1337


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, RpcError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def heads(network: Network, indexes: list[int] | None = None) -> dict[int, int | None]:
    out: dict[int, int | None] = {}
    for index in range(len(network.nodes)) if indexes is None else indexes:
        try:
            out[index] = int(call(network.node(index).rpc_url, "eth_blockNumber", [], timeout=2), 16)
        except (OSError, RpcError):
            out[index] = None
    return out


class Load:
    """Value transfers from ``senders`` dev accounts, spread over the ``targets`` nodes, each
    signed locally with its own nonce; the hashes the nodes acknowledged are kept. A refused or
    unanswered submission is retried with the same nonce (never skipped), so nonces stay dense."""

    def __init__(self, network: Network, senders: int, targets: list[int]) -> None:
        self.network = network
        self.accounts = dev_accounts()[5 : 5 + senders]
        self.targets = targets
        self.acknowledged: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Load:
        for number, account in enumerate(self.accounts):
            thread = threading.Thread(target=self._run, args=(number, account), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=40)

    def _nonce(self, address: str) -> int:
        while not self._stop.is_set():
            for index in self.targets:
                try:
                    return int(
                        call(
                            self.network.node(index).rpc_url,
                            "eth_getTransactionCount",
                            [address, "pending"],
                            timeout=3,
                        ),
                        16,
                    )
                except (OSError, RpcError):
                    continue
            time.sleep(0.5)
        return 0

    def _run(self, number: int, account: Any) -> None:
        nonce = self._nonce(account.address)
        turn = number
        while not self._stop.is_set():
            tx = account.sign_transaction(
                {
                    "chainId": CHAIN_ID,
                    "nonce": nonce,
                    "to": dev_accounts()[9].address,
                    "value": 1,
                    "gas": 21_000,
                    "maxFeePerGas": 5 * 10**9,
                    "maxPriorityFeePerGas": 10**9,
                }
            )
            url = self.network.node(self.targets[turn % len(self.targets)]).rpc_url
            turn += 1
            try:
                tx_hash = call(url, "eth_sendRawTransaction", ["0x" + tx.raw_transaction.hex()], timeout=10)
            except RpcError as exc:
                if "already known" in exc.message:
                    tx_hash = "0x" + tx.hash.hex()
                    with self._lock:
                        self.acknowledged.append(tx_hash)
                    nonce += 1
                    continue
                if "nonce too low" in exc.message:
                    nonce = self._nonce(account.address)
                time.sleep(0.1)
                continue
            except OSError:
                time.sleep(0.2)
                continue
            with self._lock:
                self.acknowledged.append(tx_hash)
            nonce += 1
            time.sleep(0.05)

    def acknowledged_count(self) -> int:
        with self._lock:
            return len(self.acknowledged)

    def wait_acknowledged(self, count: int, timeout: float = 60) -> None:
        wait_for(lambda: self.acknowledged_count() >= count, timeout, f"{count} acknowledged transactions")

    def uncommitted(self, url: str, timeout: float) -> list[str]:
        """Acknowledged hashes without a receipt on ``url`` after waiting up to ``timeout``."""
        with self._lock:
            waiting = list(dict.fromkeys(self.acknowledged))
        deadline = time.monotonic() + timeout
        while waiting and time.monotonic() < deadline:
            still = []
            for tx_hash in waiting:
                try:
                    receipt = call(url, "eth_getTransactionReceipt", [tx_hash], timeout=5)
                except (OSError, RpcError):
                    receipt = None
                if receipt is None:
                    still.append(tx_hash)
            waiting = still
            if waiting:
                time.sleep(0.5)
        return waiting
