"""JSON-RPC 2.0 methods of the node: the standard ``eth_*``/``net_*``/``web3_*`` set, Besu's
``perm_*`` allowlist methods and ``passport_*`` (seals, receipt proofs, raw blocks for replicas, status).

One module per namespace (``state``, ``blocks``, ``logs``, ``proofs``, ``admin``), one validation layer in
front of all of them (``params``), one table of error codes (``codes``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from passport.exceptions import RpcError
from passport.node.config import RpcConfig
from passport.node.rpc.admin import AdminMethods
from passport.node.rpc.base import Backend, MethodSpec, handlers
from passport.node.rpc.blocks import BlockMethods
from passport.node.rpc.codes import METHOD_NOT_FOUND
from passport.node.rpc.logs import LogMethods
from passport.node.rpc.params import parse
from passport.node.rpc.proofs import ProofMethods
from passport.node.rpc.state import StateMethods

__all__ = ["Backend", "Methods"]


class Methods(StateMethods, BlockMethods, LogMethods, ProofMethods, AdminMethods):
    """The method table: name -> (declaration, handler)."""

    def __init__(self, node: Backend, config: RpcConfig) -> None:
        super().__init__(node, config)
        self.table: dict[str, tuple[MethodSpec, Callable[..., Any]]] = {
            spec.name: (spec, handler) for spec, handler in handlers(self)
        }

    def scope(self, name: str) -> str:
        entry = self.table.get(name)
        return "read" if entry is None else entry[0].scope

    def dispatch(self, name: str, params: list[Any]) -> Any:
        """Validate ``params`` against the method's declaration, then run it.

        Raises:
            RpcError: -32601 for an unknown method, -32602 for bad params, or the method's own.
        """
        entry = self.table.get(name)
        if entry is None:
            raise RpcError(METHOD_NOT_FOUND, f"the method {name} does not exist/is not available")
        if name == "eth_call":
            answered = self.batched_call(params)  # run with the rest of its batch
            if answered is not None:
                return answered
        spec, handler = entry
        return handler(*parse(params, spec.params))

    def batch(self) -> AbstractContextManager[None]:
        """Around a JSON-RPC batch: its transactions reach the sealer together."""
        return self.node.submissions_batched()
