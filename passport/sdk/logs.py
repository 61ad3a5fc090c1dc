"""Events of a transaction receipt (web3's receipt objects), decoded by the contracts' ABIs."""

from __future__ import annotations

from typing import Any

from passport.core.events import decode


def receipt_events(receipt: Any, name: str) -> list[dict[str, Any]]:
    """Arguments of every ``name`` event in a transaction receipt, in log order."""
    found = []
    for log in receipt["logs"]:
        raw = {
            "address": str(log["address"]),
            "topics": ["0x" + bytes(t).hex() for t in log["topics"]],
            "data": "0x" + bytes(log["data"]).hex(),
            "blockNumber": hex(int(log["blockNumber"])),
            "logIndex": hex(int(log["logIndex"])),
            "transactionHash": "0x" + bytes(log["transactionHash"]).hex(),
        }
        event = decode(raw)
        if event is not None and event.name == name:
            found.append(event.args)
    return found
