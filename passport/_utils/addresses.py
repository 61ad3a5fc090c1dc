"""Cached EIP-55 checksumming: a passport names the same few members thousands of times."""

from __future__ import annotations

from functools import lru_cache

from eth_utils import to_checksum_address


@lru_cache(maxsize=4096)
def checksum(address: str | bytes) -> str:
    return str(to_checksum_address(address))
