"""``web3_*``, ``net_*`` and the ``eth_*`` methods that read state, execute calls and quote fees."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eth.abc import BlockHeaderAPI
from eth_typing import Address

from passport.exceptions import RpcError
from passport.node.calls import CallRequest, Outcome
from passport.node.rpc.base import Namespace, method
from passport.node.rpc.codes import LIMIT_EXCEEDED, SERVER_ERROR
from passport.node.rpc.formatting import base_fee, failure_error, hex_bytes, revert_error
from passport.node.rpc.params import (
    LATEST,
    BlockRef,
    CallArgs,
    Param,
    address,
    block,
    call_object,
    parse,
    percentiles,
    storage_slot,
    uint64,
)

FEE_HISTORY_MAX = 1024
ADDRESS = Param("address", address)
AT_BLOCK = Param("block", block, optional=True, default=LATEST)
CALL_PARAMS = (Param("call", call_object), AT_BLOCK)
_batched = threading.local()  # the outcomes of the eth_calls of the batch this thread serves


class StateMethods(Namespace):
    # ---------------------------------------------------------------- web3 / net

    @method("web3_clientVersion")
    def client_version(self) -> str:
        from passport import __version__

        return f"passport-node/v{__version__}/py-evm/python"

    @method("net_version")
    def net_version(self) -> str:
        return str(self.chain.chain_id)

    @method("net_listening")
    def net_listening(self) -> bool:
        return True

    @method("net_peerCount")
    def net_peer_count(self) -> str:
        return hex(len(self.node.replica_heads()))

    # ---------------------------------------------------------------- chain state

    @method("eth_chainId")
    def chain_id(self) -> str:
        return hex(self.chain.chain_id)

    @method("eth_syncing")
    def syncing(self) -> Any:
        return self.node.syncing()

    @method("eth_blockNumber")
    def block_number(self) -> str:
        return hex(self.chain.head.block_number)  # one attribute read: no lock needed

    @method("eth_accounts")
    def accounts(self) -> list[str]:
        return []

    @method("eth_gasPrice")
    def gas_price(self) -> str:
        with self.chain.lock:
            return hex(self.node.next_base_fee() + self.SUGGESTED_TIP)

    @method("eth_maxPriorityFeePerGas")
    def max_priority_fee(self) -> str:
        return hex(self.SUGGESTED_TIP)

    @method("eth_getBalance", ADDRESS, AT_BLOCK)
    def get_balance(self, account: Address, at: BlockRef) -> str:
        with self.chain.lock:
            return hex(self.chain.state_at(self.header(at)).get_balance(account))

    @method("eth_getTransactionCount", ADDRESS, AT_BLOCK)
    def get_transaction_count(self, account: Address, at: BlockRef) -> str:
        with self.chain.lock:
            nonce = self.chain.state_at(self.header(at)).get_nonce(account)
            if at.tag == "pending":
                nonce = self.node.pending_nonce(account, nonce)
            return hex(nonce)

    @method("eth_getCode", ADDRESS, AT_BLOCK)
    def get_code(self, account: Address, at: BlockRef) -> str:
        with self.chain.lock:
            return hex_bytes(self.chain.state_at(self.header(at)).get_code(account))

    @method("eth_getStorageAt", ADDRESS, Param("slot", storage_slot), AT_BLOCK)
    def get_storage_at(self, account: Address, slot: int, at: BlockRef) -> str:
        with self.chain.lock:
            value = self.chain.state_at(self.header(at)).get_storage(account, slot)
        return "0x" + value.to_bytes(32, "big").hex()

    # ---------------------------------------------------------------- execution

    def _request(
        self, args: CallArgs, at: BlockRef, estimate: bool, headers: dict[BlockRef, Any] | None = None
    ) -> CallRequest:
        """The call ``args`` at ``at`` as the workers take it; ``headers``: those already looked
        up for this JSON-RPC batch (by the block as named: one batch sees one head)."""
        header = headers.get(at) if headers is not None else None
        if header is None:
            with self.chain.lock:
                header = self.header(at)
            if headers is not None:
                headers[at] = header
        gas = min(args.gas if args.gas is not None else header.gas_limit, self.config.gas_cap)  # as geth
        return CallRequest(
            estimate=estimate, block_hash=bytes(header.hash), sender=bytes(args.sender),
            to=bytes(args.to), value=args.value, data=args.data, gas=gas,
            timeout=self.config.evm_timeout_seconds,
        )  # fmt: skip

    @contextmanager
    def calls_together(self, payload: list[Any]) -> Iterator[None]:
        """Around a JSON-RPC batch: its well-formed ``eth_call`` requests run first, together, in
        a few units of work for the call workers
        (:meth:`~passport.node.workers.CallPool.run_many`); each is then answered in its place
        from what it came to (:meth:`batched_call`, by its params object, parsed once). The rest
        is served as ever."""
        requests, keys = [], []
        headers: dict[BlockRef, Any] = {}
        for item in payload:
            if not isinstance(item, dict) or item.get("method") != "eth_call":
                continue
            params = item.get("params", [])
            try:
                args, at = parse(params, CALL_PARAMS)
                requests.append(self._request(args, at, estimate=False, headers=headers))
                keys.append(id(params))  # the batch holds the object: its id is its own until the end
            except (RpcError, TypeError, AttributeError):
                continue  # answered, with its error, when its turn comes
        _batched.outcomes = (
            dict(zip(keys, zip(requests, self.node.calls.run_many(requests), strict=True), strict=True))
            if len(requests) > 1
            else {}
        )
        try:
            yield
        finally:
            _batched.outcomes = {}

    def batched_call(self, params: Any) -> str | None:
        """The answer of an ``eth_call`` of the batch being served, run together with the others
        (:meth:`calls_together`); None when it was not (it is then run on its own).

        Raises:
            RpcError: as ``eth_call``'s own answer.
        """
        ran: dict[int, tuple[CallRequest, Outcome]] = getattr(_batched, "outcomes", {})
        found = ran.get(id(params))
        if found is None:
            return None
        request, outcome = found
        return hex_bytes(self._answer(request, outcome).value)

    def _run(self, args: CallArgs, at: BlockRef, estimate: bool) -> Outcome:
        """Run the call in a worker process (see :mod:`passport.node.calls`)."""
        request = self._request(args, at, estimate)
        return self._answer(request, self.node.calls.run(request))

    def _answer(self, request: CallRequest, outcome: Outcome) -> Outcome:
        """``outcome`` when the call ran to its end, else its error."""
        if outcome.kind == "ok":
            return outcome
        if outcome.kind == "timeout":
            raise RpcError(
                LIMIT_EXCEEDED,
                f"execution aborted (timeout = {self.config.evm_timeout_seconds:g}s, "
                "rpc.evm_timeout_seconds)",
            )
        if outcome.kind == "revert":
            raise revert_error(outcome.value)
        if outcome.kind == "failure":
            raise failure_error(outcome.value)
        if outcome.kind == "invalid":
            raise _cannot_start(outcome.value)
        if outcome.kind == "lost":
            raise RpcError(
                SERVER_ERROR, f"{outcome.value} before it answered; the next call starts a new one"
            )
        raise RpcError(SERVER_ERROR, f"header for hash 0x{request.block_hash.hex()} not found")

    @method("eth_call", *CALL_PARAMS)
    def execute_call(self, args: CallArgs, at: BlockRef) -> str:
        return hex_bytes(self._run(args, at, estimate=False).value)

    @method("eth_estimateGas", Param("call", call_object), AT_BLOCK)
    def estimate_gas(self, args: CallArgs, at: BlockRef) -> str:
        return hex(self._run(args, at, estimate=True).value)

    # ---------------------------------------------------------------- fees

    @method(
        "eth_feeHistory",
        Param("blockCount", uint64),
        Param("newestBlock", block),
        Param("rewardPercentiles", percentiles, optional=True),
    )
    def fee_history(self, count: int, newest: BlockRef, wanted: list[float] | None) -> Any:
        blocks = min(count, FEE_HISTORY_MAX)
        wanted = wanted or []
        with self.chain.lock:
            last = self.header(newest)
            first = max(0, last.block_number - blocks + 1) if blocks else last.block_number + 1
            base_fees, ratios, rewards = [], [], []
            for number in range(first, last.block_number + 1):
                header = self.require(self.chain.header_by_number(number))
                base_fees.append(hex(base_fee(header)))
                ratios.append(header.gas_used / header.gas_limit if header.gas_limit else 0.0)
                if wanted:
                    rewards.append([hex(r) for r in self._rewards(header, wanted)])
            base_fees.append(hex(base_fee(self.chain.vm_at(last).create_header_from_parent(last))))
        result: dict[str, Any] = {
            "oldestBlock": hex(first),
            "baseFeePerGas": base_fees,
            "gasUsedRatio": ratios,
            "baseFeePerBlobGas": ["0x1"] * len(base_fees),
            "blobGasUsedRatio": [0.0] * len(ratios),
        }
        if wanted:
            result["reward"] = rewards
        return result

    def _rewards(self, header: BlockHeaderAPI, wanted: list[float]) -> list[int]:
        block_, receipts = self.chain.block_and_receipts(header)
        if not block_.transactions:
            return [0] * len(wanted)
        previous = 0
        tips = []
        for tx, receipt in zip(block_.transactions, receipts, strict=True):
            used = receipt.gas_used - previous
            previous = receipt.gas_used
            tips.append((min(tx.max_priority_fee_per_gas, tx.max_fee_per_gas - base_fee(header)), used))
        tips.sort()
        total = sum(u for _, u in tips) or 1
        out = []
        for p in wanted:
            threshold, cumulative = total * p / 100, 0
            for tip, used in tips:
                cumulative += used
                if cumulative >= threshold:
                    out.append(tip)
                    break
            else:
                out.append(tips[-1][0])
        return out


def _cannot_start(message: str) -> RpcError:
    """A call py-evm refuses to start (as geth's wording where there is one)."""
    if "balance" in message or "afford" in message:
        return RpcError(SERVER_ERROR, f"insufficient funds for gas * price + value: {message}")
    if "intrinsic" in message.lower():
        return RpcError(SERVER_ERROR, f"intrinsic gas too low: {message}")
    return RpcError(SERVER_ERROR, f"invalid call: {message}")
