"""The validation layer in front of every JSON-RPC method.

Each method declares its parameters as a list of :class:`Param` (a name, a parser, optional or
not). :func:`parse` checks the count and runs each parser before the method touches the chain;
every problem is -32602 with a message that names the parameter and says what is wrong. Parsers
return plain Python values (ints in range, bytes of the right length, :class:`BlockRef`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_typing import Address
from eth_utils import is_checksum_address, is_hex_address, to_canonical_address

from passport.exceptions import RpcError
from passport.node.rpc.codes import INVALID_PARAMS

UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1
BLOCK_TAGS = ("latest", "pending", "safe", "finalized", "earliest")
MAX_LIST = 1_000  # addresses, topics or percentiles in one parameter
MAX_PERCENTILES = 100

Parser = Callable[[Any, str], Any]


class InvalidParams(RpcError):
    """A parameter failed validation (-32602)."""

    def __init__(self, name: str, problem: str) -> None:
        self.param = name
        super().__init__(INVALID_PARAMS, f"invalid params: {name}: {problem}")


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    parser: Parser
    optional: bool = False
    default: Any = None  # what a missing optional parameter becomes


@dataclass(frozen=True, slots=True)
class BlockRef:
    """A block as a request names it: a tag, a number, or a hash (EIP-1898)."""

    tag: str | None = None
    number: int | None = None
    hash: bytes | None = None


LATEST = BlockRef(tag="latest")


def parse(params: Sequence[Any], spec: Sequence[Param]) -> list[Any]:
    """Validate ``params`` against ``spec``; a missing optional parameter is None."""
    required = sum(1 for p in spec if not p.optional)
    if not required <= len(params) <= len(spec):
        expected = f"{required}" if required == len(spec) else f"{required} to {len(spec)}"
        raise RpcError(INVALID_PARAMS, f"invalid params: expected {expected} parameters, got {len(params)}")
    out: list[Any] = []
    for index, param in enumerate(spec):
        value = params[index] if index < len(params) else None
        out.append(param.default if value is None and param.optional else param.parser(value, param.name))
    return out


def _show(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


# -------------------------------------------------------------------- scalars


_HEX = re.compile("[0-9a-fA-F]*")


def _hex_digits(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise InvalidParams(name, f"expected a 0x-prefixed hex string, got {_show(value)}")
    if not value.startswith(("0x", "0X")):
        raise InvalidParams(name, f"missing the 0x prefix: {_show(value)}")
    digits = value[2:]
    if not _HEX.fullmatch(digits):
        raise InvalidParams(name, f"not hex: {_show(value)}")
    return digits


def quantity(bits: int) -> Parser:
    """A hex quantity of at most ``bits`` bits (a non-negative JSON integer is accepted too)."""
    limit = 2**bits - 1

    def parser(value: Any, name: str) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            digits = _hex_digits(value, name)
            if not digits:
                raise InvalidParams(name, "empty hex quantity (zero is 0x0)")
            if len(digits) > bits // 4 + 64:  # refuse absurd strings before converting them
                raise InvalidParams(name, f"exceeds uint{bits}")
            number = int(digits, 16)
        if number < 0:
            raise InvalidParams(name, f"must not be negative, got {number}")
        if number > limit:
            raise InvalidParams(name, f"exceeds uint{bits} (at most {hex(limit)})")
        return number

    return parser


uint64 = quantity(64)
uint256 = quantity(256)


def data(length: int | None = None, max_length: int | None = None) -> Parser:
    """0x-prefixed hex bytes (an even number of digits), of exactly ``length`` bytes if given."""

    def parser(value: Any, name: str) -> bytes:
        digits = _hex_digits(value, name)
        if len(digits) % 2:
            raise InvalidParams(name, f"odd number of hex digits: {_show(value)}")
        raw = bytes.fromhex(digits)
        if length is not None and len(raw) != length:
            raise InvalidParams(name, f"expected {length} bytes, got {len(raw)}")
        if max_length is not None and len(raw) > max_length:
            raise InvalidParams(name, f"at most {max_length} bytes, got {len(raw)}")
        return raw

    return parser


hash32 = data(32)
any_data = data()


def storage_slot(value: Any, name: str) -> int:
    """A storage key: a quantity or 32-byte word (leading zeros allowed), below 2**256."""
    digits = _hex_digits(value, name)
    if not digits:
        raise InvalidParams(name, "empty storage key")
    if len(digits.lstrip("0")) > 64:
        raise InvalidParams(name, f"exceeds 32 bytes (uint256): {_show(value)}")
    return int(digits, 16)


def address(value: Any, name: str) -> Address:
    known = _ADDRESSES.get(value) if isinstance(value, str) else None
    if known is not None:
        return known
    if not isinstance(value, str) or not is_hex_address(value):
        raise InvalidParams(name, f"not a 20-byte hex address: {_show(value)}")
    if value[2:] != value[2:].lower() and value[2:] != value[2:].upper() and not is_checksum_address(value):
        raise InvalidParams(name, f"bad EIP-55 checksum: {value}")
    parsed = Address(to_canonical_address(value))
    if len(_ADDRESSES) >= MAX_KNOWN_ADDRESSES:
        _ADDRESSES.clear()
    _ADDRESSES[value] = parsed
    return parsed


# addresses already checked, by their text: a client names the same few contracts in every call,
# and an EIP-55 checksum costs a keccak (valid ones only; a bad one is checked, and refused, again)
MAX_KNOWN_ADDRESSES = 4096
_ADDRESSES: dict[str, Address] = {}


def boolean(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidParams(name, f"expected true or false, got {_show(value)}")
    return value


def text(max_length: int) -> Parser:
    def parser(value: Any, name: str) -> str:
        if not isinstance(value, str) or not 0 < len(value) <= max_length:
            raise InvalidParams(name, f"expected a string of 1-{max_length} characters, got {_show(value)}")
        return value

    return parser


def list_of(item: Parser, *, min_items: int = 0, max_items: int = MAX_LIST) -> Parser:
    def parser(value: Any, name: str) -> list[Any]:
        if not isinstance(value, list):
            raise InvalidParams(name, f"expected a list, got {_show(value)}")
        if not min_items <= len(value) <= max_items:
            raise InvalidParams(name, f"expected {min_items} to {max_items} entries, got {len(value)}")
        return [item(v, f"{name}[{i}]") for i, v in enumerate(value)]

    return parser


# -------------------------------------------------------------------- blocks


def block(value: Any, name: str) -> BlockRef:
    """A block tag, a uint64 number, or an EIP-1898 object (``blockHash`` or ``blockNumber``)."""
    if isinstance(value, str) and value in BLOCK_TAGS:
        return BlockRef(tag=value)
    if isinstance(value, dict):
        unknown = set(value) - {"blockHash", "blockNumber", "requireCanonical"}
        if unknown:
            raise InvalidParams(name, f"unknown block fields {sorted(unknown)}")
        if ("blockHash" in value) == ("blockNumber" in value):
            raise InvalidParams(name, "a block object needs exactly one of blockHash and blockNumber")
        if "requireCanonical" in value:
            boolean(value["requireCanonical"], f"{name}.requireCanonical")
        if "blockHash" in value:
            return BlockRef(hash=hash32(value["blockHash"], f"{name}.blockHash"))
        return block(value["blockNumber"], f"{name}.blockNumber")
    if isinstance(value, str) and not value.startswith(("0x", "0X")):
        raise InvalidParams(
            name, f"unknown block tag {_show(value)} (expected one of {', '.join(BLOCK_TAGS)})"
        )
    return BlockRef(number=uint64(value, name))


def block_or_hash(value: Any, name: str) -> BlockRef:
    """A block number or tag, or a 32-byte block hash (``passport_getBlockSeal``)."""
    if isinstance(value, str) and len(value) == 66:
        return BlockRef(hash=hash32(value, name))
    return block(value, name)


# -------------------------------------------------------------------- objects


@dataclass(frozen=True, slots=True)
class CallArgs:
    sender: bytes
    to: bytes
    value: int
    data: bytes
    gas: int | None


CALL_FIELDS = {
    "from", "to", "gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "value", "data", "input",
    "nonce", "type", "chainId", "accessList", "maxFeePerBlobGas", "blobVersionedHashes",
}  # fmt: skip


def call_object(value: Any, name: str) -> CallArgs:
    """A transaction call object (``eth_call``, ``eth_estimateGas``)."""
    if not isinstance(value, dict):
        raise InvalidParams(name, f"expected a call object, got {_show(value)}")
    unknown = set(value) - CALL_FIELDS
    if unknown:
        raise InvalidParams(name, f"unknown call fields {sorted(unknown)}")

    def field(key: str, parser: Parser) -> Any:
        raw = value.get(key)
        return None if raw is None else parser(raw, f"{name}.{key}")

    for key in ("gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "maxFeePerBlobGas"):
        field(key, uint256)
    for key in ("nonce", "type", "chainId"):
        field(key, uint64)
    field("accessList", list_of(_access_entry))
    data_ = field("data", any_data)
    input_ = field("input", any_data)
    if data_ is not None and input_ is not None and data_ != input_:
        raise InvalidParams(name, "both data and input given, and they differ")
    return CallArgs(
        sender=field("from", address) or b"\0" * 20,
        to=field("to", address) or b"",
        value=field("value", uint256) or 0,
        data=input_ if input_ is not None else (data_ or b""),
        gas=field("gas", uint64),
    )


def _access_entry(value: Any, name: str) -> Any:
    if not isinstance(value, dict) or set(value) - {"address", "storageKeys"}:
        raise InvalidParams(name, "expected {address, storageKeys}")
    address(value.get("address"), f"{name}.address")
    list_of(hash32)(value.get("storageKeys", []), f"{name}.storageKeys")
    return value


@dataclass(frozen=True, slots=True)
class LogFilter:
    from_block: BlockRef | None
    to_block: BlockRef | None
    block_hash: bytes | None
    addresses: list[bytes]
    topics: list[set[int] | None]


def _topic(value: Any, name: str) -> set[int] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return {int.from_bytes(hash32(value, name), "big")}
    if isinstance(value, list):
        hashes = list_of(hash32)(value, name)
        return {int.from_bytes(h, "big") for h in hashes} if hashes else None
    raise InvalidParams(name, f"each topic is null, a 32-byte hash or a list of them, got {_show(value)}")


def log_filter(value: Any, name: str) -> LogFilter:
    """An ``eth_getLogs`` / ``eth_newFilter`` filter object."""
    if not isinstance(value, dict):
        raise InvalidParams(name, f"expected a filter object, got {_show(value)}")
    unknown = set(value) - {"fromBlock", "toBlock", "address", "topics", "blockHash"}
    if unknown:
        raise InvalidParams(name, f"unknown filter fields {sorted(unknown)}")
    block_hash = None if value.get("blockHash") is None else hash32(value["blockHash"], f"{name}.blockHash")
    from_block = None if value.get("fromBlock") is None else block(value["fromBlock"], f"{name}.fromBlock")
    to_block = None if value.get("toBlock") is None else block(value["toBlock"], f"{name}.toBlock")
    if block_hash is not None and (from_block is not None or to_block is not None):
        raise InvalidParams(name, "blockHash excludes fromBlock and toBlock")
    raw_address = value.get("address")
    if raw_address is None:
        addresses: list[bytes] = []
    elif isinstance(raw_address, str):
        addresses = [address(raw_address, f"{name}.address")]
    else:
        addresses = list_of(address)(raw_address, f"{name}.address")
    raw_topics = value.get("topics") or []
    if not isinstance(raw_topics, list) or len(raw_topics) > 4:
        raise InvalidParams(f"{name}.topics", "expected a list of at most 4 entries")
    topics = [_topic(t, f"{name}.topics[{i}]") for i, t in enumerate(raw_topics)]
    return LogFilter(from_block, to_block, block_hash, addresses, topics)


def percentiles(value: Any, name: str) -> list[float]:
    """Ascending reward percentiles in [0, 100] (``eth_feeHistory``)."""
    if not isinstance(value, list) or len(value) > MAX_PERCENTILES:
        raise InvalidParams(name, f"expected a list of at most {MAX_PERCENTILES} numbers")
    out: list[float] = []
    for i, p in enumerate(value):
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 100:
            raise InvalidParams(f"{name}[{i}]", f"expected a number in [0, 100], got {_show(p)}")
        out.append(float(p))
    if out != sorted(out):
        raise InvalidParams(name, "percentiles must be in ascending order")
    return out


def filter_id(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) > 66:
        raise InvalidParams(name, f"expected a filter id (hex string), got {_show(value)}")
    return value
