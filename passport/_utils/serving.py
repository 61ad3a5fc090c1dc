"""The one HTTP serving base of the node's JSON-RPC, the resolver and the gateway.

It is the standard library's threading HTTP server with the limits a server facing other
machines needs, each configurable (:class:`ServerLimits`):

- **idle timeout**: a keep-alive connection with no request, or a read or write that stalls,
  is closed after ``idle_timeout`` seconds;
- **request deadline**: a request (its line, headers and body) must arrive whole within
  ``request_deadline`` seconds of its first byte, so a client that drips a byte at a time is cut
  off instead of holding a thread;
- **connection cap**: beyond ``max_connections`` open connections a new one is answered
  HTTP 503 with ``Retry-After`` and closed, so threads stay bounded;
- **body limit**: ``max_body_bytes`` (HTTP 413 beyond it), and a Content-Length is required
  (HTTP 411);
- **listen backlog** of ``backlog`` pending connections, for bursts (the standard library's 5
  overflows at a few dozen simultaneous connects);
- **TCP_NODELAY**, and each response written in one piece, so a keep-alive request costs no
  more than a fresh one (Nagle would hold the body of a two-write response for 40 ms).

Client disconnects and timeouts are logged at debug level, not as tracebacks. A server library
(uvicorn, hypercorn, gunicorn) would bring an event loop or worker processes for three small
servers whose handlers are blocking calls into the chain; the standard library server with
these limits is less code than adapting them, and has no dependency.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger("passport.serving")
DISCONNECTS = (ConnectionError, TimeoutError, socket.timeout)


@dataclass(frozen=True, slots=True)
class ServerLimits:
    idle_timeout: float = 30.0
    request_deadline: float = 30.0
    max_connections: int = 256
    max_body_bytes: int = 1024 * 1024
    backlog: int = 1024

    def __post_init__(self) -> None:
        for name in ("idle_timeout", "request_deadline"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be more than 0 seconds, not {getattr(self, name)}")
        for name in ("max_connections", "max_body_bytes", "backlog"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")


class _DeadlineReader(io.RawIOBase):
    """The connection's reads: the idle timeout while no request is under way, then whatever
    is left of the request's deadline, counted from its first byte."""

    def __init__(self, handler: LimitedHandler) -> None:
        self._handler = handler
        self._sock: socket.socket = handler.connection

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        handler = self._handler
        limits = handler.limits
        if handler.deadline is None:
            self._sock.settimeout(limits.idle_timeout)
        else:
            remaining = handler.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"request not received whole within {limits.request_deadline:g} s")
            self._sock.settimeout(min(limits.idle_timeout, remaining))
        n = self._sock.recv_into(buffer)
        if n and handler.deadline is None:
            handler.deadline = time.monotonic() + limits.request_deadline
        return n


class LimitedServer(ThreadingHTTPServer):
    """A threading HTTP server with :class:`ServerLimits`; ``on_connections`` hears the number
    of open connections as it changes, ``on_refused`` each refusal (for metrics)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[LimitedHandler],
        limits: ServerLimits,
        on_connections: Callable[[int], None] | None = None,
        on_refused: Callable[[], None] | None = None,
    ) -> None:
        self._limits = limits
        self.request_queue_size = limits.backlog
        self._on_connections = on_connections
        self._on_refused = on_refused
        self._open = 0
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    @property
    def limits(self) -> ServerLimits:
        return self._limits

    @property
    def open_connections(self) -> int:
        return self._open

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            refused = self._open >= self.limits.max_connections
            if not refused:
                self._open += 1
                if self._on_connections:
                    self._on_connections(self._open)
        if refused:
            if self._on_refused:
                self._on_refused()
            self._refuse(request)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def _refuse(self, request: socket.socket) -> None:
        handler: type[LimitedHandler] = self.RequestHandlerClass  # type: ignore[assignment]
        content_type, body = handler.refusal(self.limits.max_connections)
        head = (
            "HTTP/1.1 503 Service Unavailable\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\nRetry-After: 1\r\n\r\n"
        ).encode()
        try:
            request.settimeout(1.0)
            request.sendall(head + body)
        except OSError:
            pass

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open -= 1
                if self._on_connections:
                    self._on_connections(self._open)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, DISCONNECTS):
            log.debug("client %s went away: %s", client_address, exc)
        else:
            log.exception("error serving %s", client_address)


class LimitedHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive with the server's limits. Subclasses answer with :meth:`respond` and
    read bodies with :meth:`read_body`."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: LimitedServer
    limits: ServerLimits  # the server's, as they were when this connection opened
    deadline: float | None = None

    @classmethod
    def refusal(cls, limit: int) -> tuple[str, bytes]:
        """(content type, body) of the HTTP 503 beyond the connection cap."""
        message = f"too many connections (at most {limit} open at once); retry shortly"
        return "application/json", json.dumps({"error": message}).encode()

    def setup(self) -> None:
        super().setup()
        self.limits = self.server.limits
        self.deadline = None
        self.connection.settimeout(self.limits.idle_timeout)
        self.rfile = io.BufferedReader(_DeadlineReader(self), self.rbufsize if self.rbufsize > 0 else 65536)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except DISCONNECTS as exc:
            log.debug("closing %s: %s", self.client_address[0], exc)
            self.close_connection = True  # idle, stalled or past the deadline, or gone: close quietly
        finally:
            self.deadline = None  # the next request's deadline starts with its first byte

    def read_body(self, error: Callable[[int, str], None]) -> bytes | None:
        """The request's body, or None after answering with ``error(status, message)``: no or a
        bad Content-Length (411), a body beyond the limit (413), or a client that hung up."""
        header = self.headers.get("Content-Length")
        if header is None or not header.strip().isdigit():
            self.close_connection = True
            error(411, "Content-Length is required")
            return None
        length, limit = int(header), self.limits.max_body_bytes
        if length > limit:
            self.close_connection = True
            error(413, f"body of {length} bytes exceeds the limit of {limit}")
            return None
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True  # the client hung up mid-body
            return None
        self.deadline = None  # received whole: handling it is not the client's time
        return body

    def respond(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        head_only: bool = False,
    ) -> None:
        """Status line, headers and body in one write."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        pending: list[bytes] = self._headers_buffer  # type: ignore[attr-defined]
        pending.append(b"\r\n" + (b"" if head_only else body))
        self.flush_headers()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)
