"""The consensus seam: how blocks reach the node's chain.

Three engines implement :class:`Consensus`, modelled on geth's ``consensus.Engine`` and py-evm's
``ConsensusAPI`` but shaped by what the node's lifecycle needs:

- :class:`~passport.node.consensus.sealer.SingleSealer`: one validator key builds and seals
  blocks from the node's own pool (``--dev``, the embedded chain of ``make demo``);
- :class:`~passport.node.consensus.follower.Follower`: a replica pulls sealed blocks from
  another node, checks the seal, re-executes and compares every root;
- :class:`~passport.node.consensus.cometbft.CometConsensus`: the node is the ABCI 2.0
  application of a CometBFT validator (or full node); CometBFT orders the transactions.

The node (``passport.node.service.Node``) owns the store, the chain, the JSON-RPC server and the
call workers; the engine owns the threads that produce blocks and what ``eth_sendRawTransaction``
does with a transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from importlib.resources import files
from typing import Any, Protocol

from eth.abc import SignedTransactionAPI


def start_thread(target: Callable[[], None], name: str) -> list[threading.Thread]:
    """An engine's one background loop, started as a daemon thread (what ``start`` returns)."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return [thread]


def cometbft_version() -> str:
    """The pinned CometBFT version (``make setup`` builds exactly this one)."""
    return files("passport.node.consensus").joinpath("COMETBFT_VERSION").read_text().strip()


class Consensus(Protocol):
    """One way blocks are produced and transactions submitted; see the module docstring."""

    role: str

    def start(self) -> list[threading.Thread]:
        """Start the engine's threads and processes; return the threads the node's liveness
        watches."""
        ...

    def stop(self) -> None:
        """Stop producing blocks (finish the one being committed)."""
        ...

    def submit(self, raw: bytes) -> bytes:
        """Take a signed raw transaction (``eth_sendRawTransaction``); return its hash once it
        is durable: an acknowledged transaction is committed or refused, never lost."""
        ...

    def submissions_batched(self) -> AbstractContextManager[None]:
        """Around a JSON-RPC batch of submissions."""
        ...

    def pending_nonce(self, sender: bytes, account_nonce: int) -> int: ...

    def pending_transaction(self, tx_hash: bytes) -> SignedTransactionAPI | None: ...

    def pending_count(self) -> int: ...

    def health(self) -> tuple[bool, dict[str, Any]]:
        """(ready, detail) beyond the node's own liveness."""
        ...

    def info(self) -> dict[str, Any]:
        """The engine's part of ``passport_nodeInfo``."""
        ...
