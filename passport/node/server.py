"""HTTP transport for JSON-RPC 2.0: request and batch limits, bearer-token scopes, connection
limits and timeouts, and the operator endpoints (``/metrics``, ``/liveness``, ``/readiness``).

The server is the standard library's threading HTTP server with three limits added, which is
less code than adopting a server framework for one POST route: a socket timeout closes idle
keep-alive connections and stalled reads (``rpc.idle_timeout_seconds``), a cap on open
connections answers HTTP 503 beyond it (``rpc.max_connections``), so threads stay bounded, and
client disconnects are logged at debug level instead of as tracebacks.
"""

from __future__ import annotations

import hmac
import json
import logging
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from passport.exceptions import RpcError
from passport.node.config import SCOPES, RpcConfig, hash_token
from passport.node.metrics import CONTENT_TYPE, NodeMetrics
from passport.node.rpc import Methods
from passport.node.rpc.codes import INTERNAL_ERROR, INVALID_REQUEST, PARSE_ERROR, UNAUTHORISED

log = logging.getLogger("passport.node.rpc")
DISCONNECTS = (ConnectionError, TimeoutError, socket.timeout)


class Dispatcher:
    """Turns request bodies into response bodies; transport-independent."""

    def __init__(
        self, methods: Methods, config: RpcConfig, auth_required: bool, metrics: NodeMetrics
    ) -> None:
        self.methods = methods
        self.config = config
        self.auth_required = auth_required
        self.metrics = metrics
        self._tokens = [(t["sha256"], t["scope"]) for t in config.tokens]

    def scope_for(self, authorization: str | None) -> str | None:
        """The scope a request gets: admin without auth, the token's scope, or None (refused)."""
        if not self.auth_required:
            return "admin"
        if not authorization or not authorization.startswith("Bearer "):
            return None
        digest = hash_token(authorization.removeprefix("Bearer ").strip())
        for expected, scope in self._tokens:
            if hmac.compare_digest(digest, expected):
                return scope
        return None

    def handle(self, body: bytes, scope: str) -> Any:
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _error(None, PARSE_ERROR, f"parse error: {exc}")
        if isinstance(payload, list):
            if not payload:
                return _error(None, INVALID_REQUEST, "invalid request: empty batch")
            if len(payload) > self.config.max_batch_size:
                return _error(
                    None,
                    INVALID_REQUEST,
                    f"invalid request: batch of {len(payload)} exceeds the limit of "
                    f"{self.config.max_batch_size}",
                )
            with self.methods.batch():
                responses = [r for r in (self.one(item, scope) for item in payload) if r is not None]
            return responses or None
        return self.one(payload, scope)

    def one(self, request: Any, scope: str) -> dict[str, Any] | None:
        if not isinstance(request, dict):
            return _error(None, INVALID_REQUEST, "invalid request: expected a JSON object")
        request_id = request.get("id")
        if request_id is not None and (
            isinstance(request_id, bool) or not isinstance(request_id, str | int | float)
        ):
            return _error(None, INVALID_REQUEST, 'invalid request: "id" must be a string, number or null')
        if request.get("jsonrpc") != "2.0":
            return _error(request_id, INVALID_REQUEST, 'invalid request: "jsonrpc" must be "2.0"')
        method = request.get("method")
        if not isinstance(method, str):
            return _error(request_id, INVALID_REQUEST, 'invalid request: "method" must be a string')
        params = request.get("params", [])
        if not isinstance(params, list):
            return _error(request_id, INVALID_REQUEST, 'invalid request: "params" must be an array')
        notification = "id" not in request
        label = method if method in self.methods.table else "unknown"
        self.metrics.rpc_requests.labels(label).inc()
        needed = self.methods.scope(method)
        if method in self.methods.table and SCOPES.index(scope) < SCOPES.index(needed):
            response = _error(
                request_id, UNAUTHORISED, f"unauthorised: {method} needs a {needed}-scope token"
            )
        else:
            try:
                result = self.methods.dispatch(method, params)
                response = {"jsonrpc": "2.0", "id": request_id, "result": result}
            except RpcError as exc:
                response = _error(request_id, exc.code, exc.message, exc.data)
            except Exception:
                # A bug: logged once with its traceback (never the params: they may hold keys or
                # signed transactions); the client learns only that it was internal.
                log.exception("internal error in %s", method)
                response = _error(request_id, INTERNAL_ERROR, f"internal error while serving {label}")
        if "error" in response:
            self.metrics.rpc_errors.labels(label, str(response["error"]["code"])).inc()
        return None if notification else response


def _error(request_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


class RpcServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        host: str,
        port: int,
        dispatcher: Dispatcher,
        health: Callable[[], tuple[bool, bool, dict[str, Any]]],
    ) -> None:
        self.dispatcher = dispatcher
        self.health = health
        self.idle_timeout = dispatcher.config.idle_timeout_seconds
        self.max_connections = dispatcher.config.max_connections
        self._open = 0
        self._open_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            refused = self._open >= self.max_connections
            if not refused:
                self._open += 1
                self.dispatcher.metrics.open_connections.set(self._open)
        if refused:
            self.dispatcher.metrics.refused_connections.inc()
            _refuse(request, self.max_connections)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open -= 1
                self.dispatcher.metrics.open_connections.set(self._open)

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, DISCONNECTS):
            log.debug("client %s went away: %s", client_address, exc)
        else:
            log.exception("error serving %s", client_address)


def _refuse(request: socket.socket, limit: int) -> None:
    body = json.dumps(_error(None, -32005, f"too many connections (rpc.max_connections = {limit})")).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
    ).encode()
    try:
        request.settimeout(1.0)
        request.sendall(head + body)
    except OSError:
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out separately; Nagle would hold the body 40 ms
    server: RpcServer

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.idle_timeout)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except DISCONNECTS:
            self.close_connection = True  # idle or stalled past the timeout, or gone: close quietly

    def do_POST(self) -> None:
        dispatcher = self.server.dispatcher
        length_header = self.headers.get("Content-Length")
        if length_header is None or not length_header.isdigit():
            self._send(
                411, _error(None, INVALID_REQUEST, "invalid request: Content-Length is required"), close=True
            )
            return
        length = int(length_header)
        if length > dispatcher.config.max_request_bytes:
            limit = dispatcher.config.max_request_bytes
            message = f"invalid request: body of {length} bytes exceeds the limit of {limit}"
            self._send(413, _error(None, INVALID_REQUEST, message), close=True)
            return
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True  # the client hung up mid-body
            return
        scope = dispatcher.scope_for(self.headers.get("Authorization"))
        if scope is None:
            self._send(401, _error(None, UNAUTHORISED, "unauthorised: a valid bearer token is required"))
            return
        self._send(200, dispatcher.handle(body, scope))

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._send_raw(200, self.server.dispatcher.metrics.render(), CONTENT_TYPE)
        elif path in ("/liveness", "/readiness"):
            live, ready, detail = self.server.health()
            up = live if path == "/liveness" else ready
            self._send(200 if up else 503, {"status": "UP" if up else "DOWN", **detail})
        else:
            self._send(405, _error(None, INVALID_REQUEST, "invalid request: JSON-RPC requests are POSTed"))

    def _send(self, status: int, payload: Any, close: bool = False) -> None:
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        self._send_raw(
            status if payload is not None or status != 200 else 204, body, "application/json", close
        )

    def _send_raw(self, status: int, body: bytes, content_type: str, close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)
