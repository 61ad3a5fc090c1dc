"""What every JSON-RPC namespace shares: the method decorator (name, parameters, scope), the
backend protocol the node implements, and block resolution.

Every method goes the same way: :func:`passport.node.rpc.params.parse` validates and normalises
the params from the method's declaration, then the handler reads the chain, then a formatter
shapes the result. Handlers receive parsed values only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from eth.abc import BlockHeaderAPI, SignedTransactionAPI

from passport.exceptions import RpcError
from passport.node.chain import NodeChain
from passport.node.config import RpcConfig
from passport.node.rpc.codes import INTERNAL_ERROR, SERVER_ERROR
from passport.node.rpc.params import BlockRef, Param
from passport.node.workers import CallPool

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class MethodSpec:
    name: str
    params: tuple[Param, ...]
    scope: str


def method(name: str, *params: Param, scope: str = "read") -> Callable[[F], F]:
    """Declare a handler as the JSON-RPC method ``name`` with its parameters and token scope."""

    def mark(fn: F) -> F:
        fn.__rpc__ = MethodSpec(name, params, scope)  # type: ignore[attr-defined]
        return fn

    return mark


class Backend(Protocol):
    """What the methods need from the running node (``passport.node.service.Node``)."""

    chain: NodeChain
    calls: CallPool

    def submit(self, raw: bytes) -> bytes: ...
    def submissions_batched(self) -> AbstractContextManager[None]: ...
    def pending_nonce(self, sender: bytes, account_nonce: int) -> int: ...
    def pending_transaction(self, tx_hash: bytes) -> SignedTransactionAPI | None: ...
    def next_base_fee(self) -> int: ...
    def syncing(self) -> Any: ...
    def record_replica(self, replica: str, number: int) -> None: ...
    def replica_heads(self) -> dict[str, int]: ...
    def info(self) -> dict[str, Any]: ...
    def validators(self) -> list[dict[str, Any]]: ...
    def light_block(self, height: int | None) -> dict[str, Any] | None: ...


class Namespace:
    """Base of the namespace classes; :class:`passport.node.rpc.Methods` combines them."""

    SUGGESTED_TIP: ClassVar[int] = 10**9

    def __init__(self, node: Backend, config: RpcConfig) -> None:
        self.node = node
        self.chain = node.chain
        self.config = config

    def header(self, ref: BlockRef, missing_ok: bool = False) -> Any:
        """The header ``ref`` names; call with the chain lock held.

        Raises:
            RpcError: -32000 for a hash or number the chain does not have (unless ``missing_ok``,
                which returns None for a number beyond the head).
        """
        if ref.hash is not None:
            header = self.chain.header_by_hash(ref.hash)
            if header is None:
                raise RpcError(SERVER_ERROR, f"header for hash 0x{ref.hash.hex()} not found")
            return header
        if ref.tag is not None:
            return self.chain.header_by_number(0) if ref.tag == "earliest" else self.chain.head
        assert ref.number is not None
        header = self.chain.header_by_number(ref.number)
        if header is None and not missing_ok:
            raise RpcError(SERVER_ERROR, f"header not found: block {ref.number} is beyond the head")
        return header

    def at_transaction(self, tx_hash: bytes, answer: Callable[[BlockHeaderAPI, Any, Any, int], Any]) -> Any:
        """``answer(header, transactions, receipts, index)`` of a mined transaction, or None."""
        with self.chain.lock:
            found = self.located(tx_hash)
            if found is None:
                return None
            header, block, receipts, index = found
            return answer(header, block.transactions, receipts, index)

    def located(self, tx_hash: bytes) -> tuple[BlockHeaderAPI, Any, Any, int] | None:
        """(header, block, receipts, index) of a mined transaction, or None; call with the chain
        lock held."""
        location = self.chain.transaction_location(tx_hash)
        if location is None:
            return None
        header = self.require(self.chain.header_by_number(location[0]))
        block_, receipts = self.chain.block_and_receipts(header)
        return header, block_, receipts, location[1]

    @staticmethod
    def require(header: BlockHeaderAPI | None) -> BlockHeaderAPI:
        if header is None:
            raise RpcError(INTERNAL_ERROR, "internal error: a canonical header is missing from the store")
        return header


def handlers(obj: object) -> Iterator[tuple[MethodSpec, Callable[..., Any]]]:
    """Every declared method of ``obj``."""
    for attribute in dir(type(obj)):
        spec = getattr(getattr(type(obj), attribute), "__rpc__", None)
        if isinstance(spec, MethodSpec):
            yield spec, getattr(obj, attribute)
