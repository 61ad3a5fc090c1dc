"""Talking to another node: JSON-RPC calls and a replica's first genesis."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from passport.exceptions import NodeError, RpcError
from passport.node.config import CONFIG_FILE, GENESIS_FILE, Genesis, NodeConfig
from passport.node.rpc.codes import SERVER_ERROR


def call(url: str, method: str, params: list[Any], token: str | None = None, timeout: float = 30.0) -> Any:
    """One JSON-RPC call.

    Raises:
        RpcError: the node answered with an error (code, message and data relayed).
        OSError: it did not answer.
    """
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise RpcError(SERVER_ERROR, f"{url} answered HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise OSError(f"{url} is unreachable: {exc.reason}") from None
    except json.JSONDecodeError:
        raise RpcError(SERVER_ERROR, f"{url} did not answer JSON") from None
    if "error" in payload:
        error = payload["error"]
        raise RpcError(int(error.get("code", SERVER_ERROR)), str(error.get("message")), error.get("data"))
    return payload["result"]


def fetch_genesis(upstream: str, data_dir: Path) -> Genesis:
    """Copy the upstream's genesis into a new replica data dir (checked against its block 0
    when the store is created). Consortium members should compare the printed hash out of band."""
    try:
        answer = call(upstream, "passport_getGenesis", [])
    except OSError as exc:
        raise NodeError(f"cannot fetch the genesis: {exc}") from None
    except RpcError as exc:
        raise NodeError(f"cannot fetch the genesis from {upstream}: {exc.message}") from None
    genesis = Genesis.from_json(answer.get("genesis"), f"genesis from {upstream}")
    from passport.node.chain import genesis_hash

    if "0x" + genesis_hash(genesis).hex() != answer.get("hash"):
        raise NodeError(f"the genesis from {upstream} does not hash to its block 0; refusing it")
    genesis.write(data_dir / GENESIS_FILE)
    if not (data_dir / CONFIG_FILE).exists():
        NodeConfig().write(data_dir / CONFIG_FILE)
    return genesis
