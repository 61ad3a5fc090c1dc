#!/usr/bin/env python3
"""Request latency of the three HTTP servers, on a fresh connection and kept alive.

    .venv/bin/python scripts/bench_serving.py [--requests 300]

In one process, on 127.0.0.1 ports of its own: the node's JSON-RPC server (``Node.dev()``,
POST ``eth_chainId``), the resolver (``passport serve``'s server, GET of an address it answers
404 without reading the chain) and the gateway (GET ``/liveness`` and POST ``/readings`` of a
malformed reading, answered 400 without the chain). Each request is timed from its first byte
sent to the last byte of its response, over ``--requests`` requests: p50 and p99 on a fresh
connection each time (the reference) and on one kept-alive connection, and their ratio. A
server that closes the connection after each response (HTTP/1.0) shows "closes" for keep-alive.

The light requests measure the servers, not the chain: what the serving base changed. Run it
on two checkouts (``PYTHONPATH=<checkout>``) to compare before and after a change.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# the raw-socket client the serving tests use, loaded by path: the passport package measured is
# whichever checkout PYTHONPATH names
_spec = importlib.util.spec_from_file_location("serving_client", ROOT / "tests" / "serving.py")
assert _spec is not None and _spec.loader is not None
_client = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_client)
Closed, read_response = _client.Closed, _client.read_response

TRUST = ROOT / "viewer" / "test" / "vectors" / "trust.json"


def _read_head(sock: socket.socket) -> bytes | None:
    """One response's head; None when the server closed the connection first."""
    try:
        response: bytes = read_response(sock)
    except Closed:
        return None
    return response.partition(b"\r\n\r\n")[0]


def _closes(head: bytes) -> bool:
    return head.startswith(b"HTTP/1.0") or b"\r\nconnection: close" in head.lower()


def measure(address: tuple[str, int], request: bytes, count: int) -> dict[str, Any]:
    fresh = []
    for _ in range(count):
        started = time.perf_counter()
        with socket.create_connection(address, timeout=10) as sock:
            sock.sendall(request)
            head = _read_head(sock)
        assert head is not None, "no response"
        fresh.append(time.perf_counter() - started)
    kept: list[float] = []
    closes = False
    with socket.create_connection(address, timeout=10) as sock:
        for _ in range(count):
            started = time.perf_counter()
            try:
                sock.sendall(request)
                head = _read_head(sock)
            except OSError:
                head = None
            if head is None or _closes(head):
                closes = True
                break
            kept.append(time.perf_counter() - started)
    return {"fresh": fresh, "kept": kept, "closes": closes}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@contextmanager
def node_server() -> Iterator[tuple[str, int]]:
    from passport.node.service import Node

    with Node.dev() as node:
        host, port = node.url.removeprefix("http://").split(":")
        yield host, int(port)


@contextmanager
def resolver_server() -> Iterator[tuple[str, int]]:
    import threading

    from passport.evidence.trust import TrustAnchor
    from passport.resolver import RateLimiter, Resolver, make_server

    trust = TrustAnchor.model_validate(json.loads(TRUST.read_text()))
    resolver = Resolver(None, trust, limiter=RateLimiter(rate=1e6, burst=10**6))  # type: ignore[arg-type]
    server = make_server(resolver, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield "127.0.0.1", server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def gateway_server() -> Iterator[tuple[str, int]]:
    from passport.gateway.service import Gateway
    from passport.gateway.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "gw")
        try:
            with Gateway(1, store, None, None).running() as url:
                host, port = url.removeprefix("http://").split(":")
                yield host, int(port)
        finally:
            store.close()


def _post(path: str, body: bytes) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
    return head.encode() + b"\r\n\r\n" + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the gateway logs each refused reading
    rpc = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    reading = b'{"device": "not an address"}'
    cases = [
        ("node", "POST eth_chainId", node_server, _post("/", rpc)),
        ("resolver", "GET (404)", resolver_server, b"GET /nothing HTTP/1.1\r\nHost: r\r\n\r\n"),
        ("gateway", "GET /liveness", gateway_server, b"GET /liveness HTTP/1.1\r\nHost: g\r\n\r\n"),
        ("gateway", "POST /readings (400)", gateway_server, _post("/readings", reading)),
    ]
    print(f"{args.requests} requests each, 127.0.0.1; ms from first byte sent to last byte received")
    columns = ("fresh p50", "fresh p99", "kept p50", "kept p99")
    print(
        f"{'server':<9} {'request':<22} " + " ".join(f"{c:>9}" for c in columns) + f" {'kept/fresh p50':>15}"
    )
    for server, what, start, request in cases:
        with start() as address:
            measure(address, request, 20)  # warm up
            result = measure(address, request, args.requests)
        fresh = result["fresh"]
        if result["closes"]:
            kept_cells = f"{'closes':>9} {'':>9} {'(no keep-alive)':>15}"
        else:
            kept = result["kept"]
            ratio = _pct(kept, 0.5) / _pct(fresh, 0.5)
            kept_cells = f"{_pct(kept, 0.5):>9.2f} {_pct(kept, 0.99):>9.2f} {ratio:>14.2f}x"
        print(f"{server:<9} {what:<22} {_pct(fresh, 0.5):>9.2f} {_pct(fresh, 0.99):>9.2f} {kept_cells}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
