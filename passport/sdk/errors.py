"""Decoding contract reverts into ContractRevert, whatever client raised them."""

from __future__ import annotations

import ast
import re
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from passport.core.events import abi_type
from passport.exceptions import ContractRevert, SdkError
from passport.toolchain import artifact_names, load_artifact

PANIC_SELECTOR = bytes.fromhex("4e487b71")
ERROR_SELECTOR = bytes.fromhex("08c379a0")
PANIC_CODES = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division by zero",
    0x21: "invalid enum value",
    0x32: "array index out of bounds",
    0x41: "out of memory",
}


@cache
def error_table() -> dict[bytes, tuple[str, str, list[dict[str, Any]]]]:
    """Selector -> (contract, error name, inputs), over every compiled contract."""
    table: dict[bytes, tuple[str, str, list[dict[str, Any]]]] = {}
    for contract in artifact_names():
        for item in load_artifact(contract).abi:
            if item.get("type") != "error":
                continue
            signature = f"{item['name']}({','.join(abi_type(i) for i in item['inputs'])})"
            table.setdefault(
                function_signature_to_4byte_selector(signature), (contract, item["name"], item["inputs"])
            )
    return table


def _plain(value: Any, kind: str) -> Any:
    if kind == "address":
        return to_checksum_address(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def decode_revert(data: bytes) -> ContractRevert:
    """Decode revert bytes into a ContractRevert (custom error, Error(string) or Panic(uint256))."""
    selector, body = data[:4], data[4:]
    if selector == ERROR_SELECTOR:
        (message,) = abi_decode(["string"], body)
        return ContractRevert("Error", {"message": message})
    if selector == PANIC_SELECTOR:
        (code,) = abi_decode(["uint256"], body)
        return ContractRevert("Panic", {"code": code, "meaning": PANIC_CODES.get(code, "unknown")})
    known = error_table().get(selector)
    if known is None:
        return ContractRevert("UnknownError", {"data": data})
    contract, name, inputs = known
    values = abi_decode([abi_type(i) for i in inputs], body) if inputs else ()
    args = {
        i["name"] or f"arg{n}": _plain(v, i["type"])
        for n, (i, v) in enumerate(zip(inputs, values, strict=True))
    }
    return ContractRevert(name, args, contract)


_HEX = re.compile(r"0x[0-9a-fA-F]*")


def revert_data(exc: BaseException) -> bytes | None:
    """Find revert bytes in an exception from web3.py (JSON-RPC) or eth-tester (embedded)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _revert_data_of(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


_BYTES_REPR = re.compile(r"execution reverted: (b(?P<q>['\"]).*(?P=q))$", re.DOTALL)


def _revert_data_of(exc: BaseException) -> bytes | None:
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    if isinstance(data, bytes):
        return data
    if isinstance(data, dict):
        inner = data.get("data")
        if isinstance(inner, str) and inner.startswith("0x"):
            return bytes.fromhex(inner[2:])
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, bytes) and arg:
            return arg
        if isinstance(arg, str):
            literal = _BYTES_REPR.search(arg)
            if literal:  # eth-tester puts the bytes' repr in its message
                value = ast.literal_eval(literal.group(1))
                if isinstance(value, bytes):
                    return value
            match = _HEX.search(arg)
            if match and len(match.group()) >= 10:
                return bytes.fromhex(match.group()[2:])
    return None


def as_sdk_error(exc: BaseException) -> SdkError | None:
    """The typed error for a failed call, or None when the exception carries no revert."""
    data = revert_data(exc)
    if data is None or len(data) < 4:
        return None
    return decode_revert(data)
