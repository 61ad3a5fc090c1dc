"""A typed JSON-RPC client over web3.py: local signing, decoded reverts, batched reads.

The client speaks only standard JSON-RPC, so it works unchanged against the embedded chain
(eth-tester on py-evm, in process), anvil, the project's node, or Besu (whose QBFT headers carry
more than 32 bytes of extraData: the POA middleware is always installed).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

import requests
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import (
    function_signature_to_4byte_selector,
    get_abi_input_types,
    get_abi_output_types,
    to_checksum_address,
)
from web3 import Web3
from web3.contract import Contract
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import RPCEndpoint, RPCResponse, TxReceipt

from passport.exceptions import RpcUnreachable, SdkError, TransactionFailed
from passport.sdk.errors import as_sdk_error, decode_revert

DEFAULT_TIMEOUT = 30.0
LOG_CHUNK = 200  # topic values per eth_getLogs filter
ZERO_ADDRESS = "0x" + "00" * 20


# Requests per JSON-RPC batch: the limit of geth and of the passport node.
MAX_BATCH = 1000


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sent(Generic[T]):
    """What every write of the SDK returns: ``value``, what the write made (a batch id, a list of
    ids, an attestation uid, a proposal, whether a discrepancy was recorded; ``None`` when it
    makes nothing), and the transaction that made it."""

    value: T
    tx_hash: str
    block: int
    gas_used: int
    receipt: TxReceipt = field(repr=False, compare=False)

    @staticmethod
    def of(receipt: TxReceipt, value: T) -> Sent[T]:
        return Sent(
            value,
            "0x" + bytes(receipt["transactionHash"]).hex(),
            int(receipt["blockNumber"]),
            int(receipt["gasUsed"]),
            receipt,
        )


@dataclass(frozen=True, slots=True)
class Call:
    """A read of one contract function, for batching."""

    contract: Contract
    function: str
    args: tuple[Any, ...] = ()


class Client:
    """Connection to one chain, with the counters a benchmark needs.

    Use :meth:`connect` for a JSON-RPC URL and :meth:`embedded` for the in-process chain.
    """

    def __init__(self, w3: Web3, url: str) -> None:
        self.w3 = w3
        self.url = url
        self.rpc_round_trips = 0
        self.sent: list[TxReceipt] = []  # receipts of the transactions this client sent, in order
        self._nonces: dict[str, int] = {}
        self.w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        provider = self.w3.provider
        make_request = provider.make_request

        def counted(method: RPCEndpoint, params: Any) -> RPCResponse:
            self.rpc_round_trips += 1
            return make_request(method, params)

        provider.make_request = counted  # type: ignore[method-assign]
        self._batching = hasattr(provider, "make_batch_request") and self.url != "embedded"
        self.call_from = ZERO_ADDRESS
        try:
            self.chain_id = int(self.w3.eth.chain_id)
        except (requests.exceptions.RequestException, OSError) as exc:
            raise RpcUnreachable(url, _reason(exc)) from exc

    # ------------------------------------------------------------ construction

    @classmethod
    def connect(cls, url: str, timeout: float = DEFAULT_TIMEOUT) -> Client:
        """Connect to a JSON-RPC HTTP endpoint.

        Raises:
            RpcUnreachable: the endpoint does not answer ``eth_chainId``.
        """
        if not url.startswith(("http://", "https://")):
            raise RpcUnreachable(url, "only http:// and https:// URLs are supported")
        return cls(Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout})), url)

    @classmethod
    def embedded(cls, fund: Sequence[str] = (), amount_wei: int = 10**21) -> Client:
        """Start the in-process chain (eth-tester on py-evm) and fund ``fund`` from its faucet."""
        from eth_tester import EthereumTester, PyEVMBackend
        from web3 import EthereumTesterProvider

        tester = EthereumTester(PyEVMBackend())
        client = cls(Web3(EthereumTesterProvider(tester)), "embedded")
        faucet = tester.get_accounts()[0]
        client.call_from = faucet  # eth-tester wants a funded sender even for eth_call
        for address in fund:
            tester.send_transaction({"from": faucet, "to": address, "value": amount_wei, "gas": 21_000})
        return client

    # ------------------------------------------------------------ contracts

    def contract(self, address: str, abi: list[dict[str, Any]]) -> Contract:
        return self.w3.eth.contract(address=to_checksum_address(address), abi=abi)

    # ------------------------------------------------------------ transactions

    def transact(self, account: LocalAccount, call: Any, gas: int | None = None) -> TxReceipt:
        """Sign ``call`` (a contract function or constructor) with ``account``, send it and wait.

        Raises:
            ContractRevert: the transaction would revert, or did; decoded from the ABIs.
            TransactionFailed: it failed without revert data.
        """
        sender = account.address
        params: dict[str, Any] = {"from": sender, "chainId": self.chain_id, "nonce": self._next_nonce(sender)}
        try:
            params["gas"] = gas or int(call.estimate_gas({"from": sender}) * 1.2) + 10_000
            tx = call.build_transaction(params)
        except Exception as exc:  # web3 and eth-tester raise many types for a revert
            self._nonces.pop(sender, None)
            raise self._typed(exc) from exc
        try:
            try:
                tx_hash = self.w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
            except Exception as exc:
                if "nonce too low" not in str(exc):
                    raise
                # this account also sent through another client or process since the nonce was
                # read: read it again and send once more
                self._nonces.pop(sender, None)
                tx["nonce"] = self._next_nonce(sender)
                tx_hash = self.w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
            self._nonces[sender] = int(tx["nonce"]) + 1
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        except Exception as exc:
            self._nonces.pop(sender, None)
            raise self._typed(exc) from exc
        if receipt["status"] != 1:
            raise self._explain_failure(tx, receipt)
        self.sent.append(receipt)
        return receipt

    def send(self, account: LocalAccount, call: Any) -> Sent[None]:
        """:meth:`transact`, for a write that makes nothing but the transaction."""
        return Sent.of(self.transact(account, call), None)

    def _next_nonce(self, address: str) -> int:
        if address not in self._nonces:
            self._nonces[address] = int(
                self.w3.eth.get_transaction_count(cast(ChecksumAddress, address), "pending")
            )
        return self._nonces[address]

    def _explain_failure(self, tx: dict[str, Any], receipt: TxReceipt) -> SdkError:
        replay = {k: tx[k] for k in ("from", "to", "data", "value") if k in tx}
        try:
            self.w3.eth.call(replay, receipt["blockNumber"] - 1)  # type: ignore[arg-type]
        except Exception as exc:
            typed = as_sdk_error(exc)
            if typed is not None:
                return typed
        return TransactionFailed(
            "0x" + bytes(receipt["transactionHash"]).hex(), "reverted without revert data"
        )

    def _typed(self, exc: Exception) -> Exception:
        if isinstance(exc, SdkError):
            return exc
        typed = as_sdk_error(exc)
        if typed is not None:
            return typed
        if isinstance(exc, requests.exceptions.RequestException | OSError):
            return RpcUnreachable(self.url, _reason(exc))
        return SdkError(f"transaction rejected: {exc}")

    # ------------------------------------------------------------ reads

    def call(self, call: Call, block: int | str = "latest") -> Any:
        """One eth_call, decoded; a revert raises ContractRevert."""
        return self.batch([call], block)[0]

    def batch(self, calls: Sequence[Call], block: int | str = "latest") -> list[Any]:
        """Many eth_calls in one JSON-RPC batch (one round trip), decoded in order.

        Raises:
            ContractRevert: one of the calls reverted.
        """
        if not calls:
            return []
        block_id = hex(block) if isinstance(block, int) else block
        signatures = [_signature(c.contract, c.function) for c in calls]
        requests_ = []
        for c, (selector, inputs, _outputs) in zip(calls, signatures, strict=True):
            data = "0x" + (selector + abi_encode(inputs, list(c.args))).hex()
            requests_.append(
                ("eth_call", [{"from": self.call_from, "to": c.contract.address, "data": data}, block_id])
            )
        results = self.raw_batch(requests_)
        decoded = []
        for (_selector, _inputs, outputs), raw in zip(signatures, results, strict=True):
            values = abi_decode(outputs, bytes.fromhex(raw[2:]))
            decoded.append(values[0] if len(values) == 1 else values)
        return decoded

    @property
    def batches_requests(self) -> bool:
        """Whether the provider sends JSON-RPC batches (HTTP does; the embedded chain does not)."""
        return self._batching

    def raw_batch(self, requests_: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Send JSON-RPC requests as one batch when the provider can (else one by one).

        Raises:
            ContractRevert: an eth_call reverted.
            SdkError: the node answered with another error.
        """
        provider = self.w3.provider
        if self._batching and len(requests_) > MAX_BATCH:  # nodes cap batches (geth, Besu: 1,000)
            out: list[Any] = []
            for n in range(0, len(requests_), MAX_BATCH):
                out += self.raw_batch(requests_[n : n + MAX_BATCH])
            return out
        if self._batching and len(requests_) > 1:
            self.rpc_round_trips += 1
            try:
                responses = provider.make_batch_request(  # type: ignore[attr-defined]
                    [(RPCEndpoint(m), p) for m, p in requests_]
                )
            except (requests.exceptions.RequestException, OSError) as exc:
                raise RpcUnreachable(self.url, _reason(exc)) from exc
            if isinstance(responses, dict):  # the whole batch was refused
                raise SdkError(f"JSON-RPC batch refused: {responses.get('error')}")
            return [self._result(r) for r in responses]  # web3 returns them in request (id) order
        return [self._single(m, p) for m, p in requests_]

    def _single(self, method: str, params: list[Any]) -> Any:
        """One request through web3's formatters, normalised to the JSON a node returns."""
        eth = self.w3.eth
        try:
            if method == "eth_call":
                return "0x" + bytes(eth.call(params[0], _block_id(params[1]))).hex()
            if method == "eth_getLogs":
                query = dict(params[0])
                query["fromBlock"] = _block_id(query["fromBlock"])
                query["toBlock"] = _block_id(query["toBlock"])
                return [_json_log(log) for log in eth.get_logs(query)]  # type: ignore[arg-type]
            if method == "eth_getBlockByNumber":
                block = eth.get_block(_block_id(params[0]))
                return {
                    "number": hex(block["number"]),
                    "timestamp": hex(block["timestamp"]),
                    "hash": "0x" + bytes(block["hash"]).hex(),
                }
            return self._result(self.w3.provider.make_request(RPCEndpoint(method), params))
        except (requests.exceptions.RequestException, OSError) as exc:
            raise RpcUnreachable(self.url, _reason(exc)) from exc
        except SdkError:
            raise
        except Exception as exc:
            raise self._typed(exc) from exc

    def _result(self, response: RPCResponse) -> Any:
        if response.get("error"):
            error = response["error"]
            data = error.get("data") if isinstance(error, dict) else None
            if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
                raise decode_revert(bytes.fromhex(data[2:]))
            message = error.get("message") if isinstance(error, dict) else error
            raise SdkError(f"JSON-RPC error: {message}")
        return response["result"]

    # ------------------------------------------------------------ logs and blocks

    def get_logs(
        self,
        addresses: Sequence[str],
        topics: Sequence[Sequence[bytes] | bytes | None],
        to_block: int | str = "latest",
    ) -> list[dict[str, Any]]:
        """Logs of ``addresses`` matching ``topics`` (a list per position is an OR), in chain order.

        A long OR list is split into chunks of ``LOG_CHUNK`` values, sent as one JSON-RPC batch.
        """
        positions = [list(t) if isinstance(t, list | tuple) else t for t in topics]
        wide = next((i for i, t in enumerate(positions) if isinstance(t, list) and len(t) > LOG_CHUNK), None)
        chunks: Iterable[list[Any]]
        if wide is None:
            chunks = [positions]
        else:
            values = cast(list[bytes], positions[wide])
            chunks = [
                [*positions[:wide], values[i : i + LOG_CHUNK], *positions[wide + 1 :]]
                for i in range(0, len(values), LOG_CHUNK)
            ]
        to_id = hex(to_block) if isinstance(to_block, int) else to_block
        requests_ = [
            (
                "eth_getLogs",
                [
                    {
                        "address": list(addresses),
                        "fromBlock": "0x0",
                        "toBlock": to_id,
                        "topics": [_topic(t) for t in chunk],
                    }
                ],
            )
            for chunk in chunks
        ]
        logs = list(itertools.chain.from_iterable(self.raw_batch(requests_)))
        unique = {(log["transactionHash"], log["logIndex"]): log for log in logs}
        return sorted(
            unique.values(), key=lambda log: (int(log["blockNumber"], 16), int(log["logIndex"], 16))
        )

    def block_timestamps(self, numbers: Iterable[int]) -> dict[int, int]:
        """Timestamps of blocks, fetched in one batch."""
        wanted = sorted(set(numbers))
        blocks = self.raw_batch([("eth_getBlockByNumber", [hex(n), False]) for n in wanted])
        return {
            n: int(b["timestamp"], 16) if isinstance(b["timestamp"], str) else int(b["timestamp"])
            for n, b in zip(wanted, blocks, strict=True)
        }

    def head(self) -> tuple[int, str, int]:
        """Latest block: number, hash and timestamp."""
        block = self.w3.eth.get_block("latest")
        return int(block["number"]), "0x" + bytes(block["hash"]).hex(), int(block["timestamp"])

    def block_hash(self, number: int) -> str:
        return "0x" + bytes(self.w3.eth.get_block(number)["hash"]).hex()


_SIGNATURES: dict[tuple[int, str], tuple[bytes, list[str], list[str]]] = {}


def _signature(contract: Contract, function: str) -> tuple[bytes, list[str], list[str]]:
    """Selector and ABI types of a function, computed once per ABI (web3's encode_abi
    re-validates the whole ABI on every call, which dominated passport assembly)."""
    key = (id(contract.abi), function)
    if key not in _SIGNATURES:
        abi = contract.get_function_by_name(function).abi
        inputs = get_abi_input_types(abi)
        _SIGNATURES[key] = (
            function_signature_to_4byte_selector(f"{function}({','.join(inputs)})"),
            inputs,
            get_abi_output_types(abi),
        )
    return _SIGNATURES[key]


def _block_id(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("0x"):
        return int(value, 16)
    return value


def _hex(value: Any) -> str:
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return str(value)


def _json_log(log: Any) -> dict[str, Any]:
    return {
        "address": str(log["address"]),
        "topics": [_hex(t) for t in log["topics"]],
        "data": _hex(log["data"]),
        "blockNumber": _hex(log["blockNumber"]),
        "blockHash": _hex(log["blockHash"]),
        "transactionHash": _hex(log["transactionHash"]),
        "logIndex": _hex(log["logIndex"]),
    }


def _topic(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return ["0x" + v.hex() for v in value]
    return "0x" + value.hex()


def _reason(exc: BaseException) -> str:
    """The cause in a few words: the innermost OS error (connection refused, name unknown) when
    there is one, not the HTTP library's retry summary around it."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror[0].lower() + cause.strerror[1:]
        cause = cause.__cause__ or cause.__context__
    for arg in getattr(exc, "args", ()):
        reason = getattr(arg, "reason", None)  # urllib3's MaxRetryError(pool, url, reason)
        if isinstance(reason, BaseException) and reason is not exc:
            return _reason(reason)
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
