"""Connecting: clear errors for unreachable or unsupported endpoints."""

from __future__ import annotations

import pytest

from passport.exceptions import RpcUnreachable
from passport.sdk import Client
from passport.toolchain.anvil import free_port


def test_unreachable_endpoint() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RpcUnreachable, match=rf"cannot reach JSON-RPC endpoint {url}: "):
        Client.connect(url, timeout=2)


def test_unsupported_scheme() -> None:
    with pytest.raises(RpcUnreachable, match=r"only http:// and https:// URLs are supported"):
        Client.connect("ws://127.0.0.1:8546")
