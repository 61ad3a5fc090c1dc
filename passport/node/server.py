"""HTTP transport for JSON-RPC 2.0: request and batch limits, bearer-token scopes."""

from __future__ import annotations

import hmac
import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from passport.exceptions import RpcError
from passport.node.config import SCOPES, RpcConfig, hash_token
from passport.node.rpc import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    UNAUTHORISED,
    Methods,
)

log = logging.getLogger("passport.node.rpc")


class Dispatcher:
    """Turns request bodies into response bodies; transport-independent."""

    def __init__(self, methods: Methods, config: RpcConfig, auth_required: bool) -> None:
        self.methods = methods
        self.config = config
        self.auth_required = auth_required
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
        if request.get("jsonrpc") != "2.0":
            return _error(request_id, INVALID_REQUEST, 'invalid request: "jsonrpc" must be "2.0"')
        method = request.get("method")
        if not isinstance(method, str):
            return _error(request_id, INVALID_REQUEST, 'invalid request: "method" must be a string')
        if request_id is not None and not isinstance(request_id, str | int | float):
            return _error(None, INVALID_REQUEST, 'invalid request: "id" must be a string, number or null')
        params = request.get("params", [])
        if not isinstance(params, list):
            return _error(request_id, INVALID_REQUEST, 'invalid request: "params" must be an array')
        notification = "id" not in request
        handler = self.methods.table.get(method)
        if handler is None:
            response = _error(
                request_id, METHOD_NOT_FOUND, f"the method {method} does not exist/is not available"
            )
        elif SCOPES.index(scope) < SCOPES.index(self.methods.scope(method)):
            needed = self.methods.scope(method)
            response = _error(
                request_id, UNAUTHORISED, f"unauthorised: {method} needs a {needed}-scope token"
            )
        else:
            try:
                response = {"jsonrpc": "2.0", "id": request_id, "result": handler(params)}
            except RpcError as exc:
                response = _error(request_id, exc.code, exc.message, exc.data)
            except Exception as exc:
                log.exception("internal error in %s", method)
                response = _error(request_id, INTERNAL_ERROR, f"internal error: {type(exc).__name__}: {exc}")
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

    def __init__(self, host: str, port: int, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        super().__init__((host, port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out separately; Nagle would hold the body 40 ms
    server: RpcServer

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
        scope = dispatcher.scope_for(self.headers.get("Authorization"))
        if scope is None:
            self._send(401, _error(None, UNAUTHORISED, "unauthorised: a valid bearer token is required"))
            return
        self._send(200, dispatcher.handle(body, scope))

    def do_GET(self) -> None:
        self._send(405, _error(None, INVALID_REQUEST, "invalid request: JSON-RPC requests are POSTed"))

    def _send(self, status: int, payload: Any, close: bool = False) -> None:
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(status if payload is not None or status != 200 else 204)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)
