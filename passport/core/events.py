"""Decoding logs of the three contracts by their ABIs (raw JSON-RPC logs, or logs read from a
proven receipt)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import event_abi_to_log_topic

from passport._utils.addresses import checksum
from passport.toolchain import load_artifact


@dataclass(frozen=True, slots=True)
class Event:
    """A decoded log."""

    name: str
    args: dict[str, Any]
    block: int
    log_index: int
    tx_hash: str
    address: str


def abi_type(item: dict[str, Any]) -> str:
    """The canonical ABI type of an ABI input (tuples spelled out)."""
    if item["type"].startswith("tuple"):
        inner = ",".join(abi_type(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return str(item["type"])


@cache
def topic_table() -> dict[bytes, dict[str, Any]]:
    table: dict[bytes, dict[str, Any]] = {}
    for contract in ("Consortium", "MineralPassport", "AttestationRegistry"):
        for item in load_artifact(contract).abi:
            if item.get("type") == "event":
                table.setdefault(event_abi_to_log_topic(item), item)  # type: ignore[arg-type]
    return table


def topic(name: str) -> bytes:
    """topic0 of an event of the three contracts, by name."""
    for t, item in topic_table().items():
        if item["name"] == name:
            return t
    raise KeyError(name)


def _value(kind: str, value: Any) -> Any:
    if kind == "address":
        return checksum(value)
    if kind.startswith("bytes") and isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple | list):
        return [_value(kind.rstrip("[]"), v) for v in value]
    return value


@cache
def _layout(topic0: bytes) -> tuple[str, list[str], list[str], list[str], list[str], list[tuple[str, str]]]:
    """An event's name, indexed names and types, data names and types, and (name, type) in order."""
    item = topic_table()[topic0]
    indexed = [i for i in item["inputs"] if i["indexed"]]
    plain = [i for i in item["inputs"] if not i["indexed"]]
    return (
        item["name"],
        [i["name"] for i in indexed],
        [abi_type(i) for i in indexed],
        [i["name"] for i in plain],
        [abi_type(i) for i in plain],
        [(i["name"], i["type"]) for i in item["inputs"]],
    )


def decode(log: dict[str, Any]) -> Event | None:
    """Decode a raw log (hex strings, as JSON-RPC returns them); None for unknown events."""
    return decode_parts(
        bytes.fromhex(log["address"][2:]),
        [bytes.fromhex(t[2:]) for t in log["topics"]],
        bytes.fromhex(log["data"][2:]),
        int(log["blockNumber"], 16),
        int(log["logIndex"], 16),
        log["transactionHash"],
    )


def decode_parts(
    address: bytes, topics: list[bytes], data: bytes, block: int, log_index: int, tx_hash: str
) -> Event | None:
    """Decode a log given as bytes (as a proven receipt holds it); None for unknown events."""
    if not topics or topics[0] not in topic_table():
        return None
    name, indexed_names, indexed_types, plain_names, plain_types, inputs = _layout(topics[0])
    if len(topics) - 1 != len(indexed_types):
        return None  # same signature, other indexing: not one of ours
    # Indexed arguments of these events are all static (one word each): decode them as a tuple.
    values = abi_decode(indexed_types, b"".join(topics[1:])) if indexed_types else ()
    args: dict[str, Any] = dict(zip(indexed_names, values, strict=True))
    args.update(zip(plain_names, abi_decode(plain_types, data), strict=True))
    return Event(
        name=name,
        args={n: _value(t, args[n]) for n, t in inputs},
        block=block,
        log_index=log_index,
        tx_hash=tx_hash,
        address=checksum(address),
    )
