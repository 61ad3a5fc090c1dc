"""The serving limits every HTTP server of the project must keep (passport._utils.serving), as
checks the node's, the resolver's and the gateway's tests each run against their own server."""

from __future__ import annotations

import socket
import statistics
import time
from urllib.parse import urlsplit

IDLE_TIMEOUT = 2.0
REQUEST_DEADLINE = 3.0


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


class Closed(AssertionError):
    """The server closed the connection before a whole response."""


def read_response(sock: socket.socket) -> bytes:
    """One HTTP response (a Content-Length body, or none).

    Raises:
        Closed: the connection closed first.
    """
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise Closed(f"connection closed before a response: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise Closed("connection closed mid-body")
        body += chunk
    return head + b"\r\n\r\n" + body


def _closed_by(sock: socket.socket, deadline: float) -> float | None:
    """When the server closed ``sock`` (EOF or reset), or None if it was still open at ``deadline``."""
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            if not sock.recv(4096):
                return time.monotonic()
        except TimeoutError:
            return None
        except ConnectionError:
            return time.monotonic()
    return None


def idle_connections_are_closed(url: str, request: bytes, count: int = 200) -> None:
    """``count`` connections that send nothing are all closed within the idle timeout (plus 1.5 s
    of slack), while a normal request on another connection is still answered."""
    address = _address(url)
    idle = [socket.create_connection(address, timeout=10) for _ in range(count)]
    opened = time.monotonic()  # the last of them
    try:
        with socket.create_connection(address, timeout=10) as normal:
            normal.sendall(request)
            assert read_response(normal).startswith(b"HTTP/1.1 200"), "a normal request was not answered"
        deadline = opened + IDLE_TIMEOUT + 1.5
        still_open = [n for n, sock in enumerate(idle) if _closed_by(sock, deadline) is None]
        assert not still_open, f"{len(still_open)} of {count} idle connections still open after the timeout"
    finally:
        for sock in idle:
            sock.close()


def slow_client_is_cut_off(url: str, request: bytes, gap: float = 0.5) -> None:
    """A client that sends its request a byte every ``gap`` seconds (never idle for the idle
    timeout) is cut off at the request deadline, unanswered."""
    assert gap < IDLE_TIMEOUT and len(request) * gap > REQUEST_DEADLINE + 2
    with socket.create_connection(_address(url), timeout=10) as sock:
        started = time.monotonic()
        closed_at = None
        for byte in request:
            try:
                sock.sendall(bytes([byte]))
            except ConnectionError:
                closed_at = time.monotonic()
                break
            if (closed_at := _closed_by(sock, time.monotonic() + gap)) is not None:
                break
        assert closed_at is not None, "the server waited for the whole dripped request"
        took = closed_at - started
        assert REQUEST_DEADLINE - 0.5 <= took <= REQUEST_DEADLINE + 1.5, f"cut off after {took:.1f} s"


def keep_alive_is_not_slower(url: str, request: bytes, rounds: int = 30) -> tuple[float, float]:
    """Median seconds of a request on a kept-alive connection and on a fresh one; the kept-alive
    one is no slower (Nagle's 40 ms on a two-write response would show as a gap of 40 ms)."""
    address = _address(url)
    fresh = []
    for _ in range(rounds):
        started = time.perf_counter()
        with socket.create_connection(address, timeout=10) as sock:
            sock.sendall(request)
            read_response(sock)
        fresh.append(time.perf_counter() - started)
    kept = []
    with socket.create_connection(address, timeout=10) as sock:
        for _ in range(rounds):
            started = time.perf_counter()
            sock.sendall(request)
            assert read_response(sock).startswith(b"HTTP/1.1 ")
            kept.append(time.perf_counter() - started)
    kept_median, fresh_median = statistics.median(kept), statistics.median(fresh)
    assert kept_median <= fresh_median + 0.015, (
        f"keep-alive {kept_median * 1000:.1f} ms against {fresh_median * 1000:.1f} ms fresh"
    )
    return kept_median, fresh_median
