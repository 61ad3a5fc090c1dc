"""HTTP transport for JSON-RPC 2.0: request and batch limits, bearer-token scopes, connection
limits and timeouts, and the operator endpoints (``/metrics``, ``/liveness``, ``/readiness``).

The server is the project's one serving base (``passport._utils.serving``), with the limits
from ``[rpc]``: ``idle_timeout_seconds``, ``request_deadline_seconds``, ``max_connections``
(HTTP 503 and JSON-RPC error -32005 beyond it), ``max_request_bytes`` and ``listen_backlog``.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from passport._utils.serving import LimitedHandler, LimitedServer, ServerLimits
from passport.exceptions import RpcError
from passport.node.config import SCOPES, RpcConfig, hash_token
from passport.node.metrics import CONTENT_TYPE, NodeMetrics
from passport.node.rpc import Methods
from passport.node.rpc.codes import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    LIMIT_EXCEEDED,
    PARSE_ERROR,
    UNAUTHORISED,
)

log = logging.getLogger("passport.node.rpc")


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
            with self.methods.batch(), self.methods.calls_together(payload):
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


class RpcServer(LimitedServer):
    def __init__(
        self,
        host: str,
        port: int,
        dispatcher: Dispatcher,
        health: Callable[[], tuple[bool, bool, dict[str, Any]]],
    ) -> None:
        self.dispatcher = dispatcher
        self.health = health
        metrics = dispatcher.metrics
        super().__init__(
            (host, port), _Handler, self.limits, metrics.open_connections.set, metrics.refused_connections.inc
        )

    @property
    def limits(self) -> ServerLimits:
        """From ``[rpc]``, read as it is now (a change applies to the next connection)."""
        config = self.dispatcher.config
        return ServerLimits(
            idle_timeout=config.idle_timeout_seconds,
            request_deadline=config.request_deadline_seconds,
            max_connections=config.max_connections,
            max_body_bytes=config.max_request_bytes,
            backlog=config.listen_backlog,
        )


class _Handler(LimitedHandler):
    server: RpcServer

    @classmethod
    def refusal(cls, limit: int) -> tuple[str, bytes]:
        message = f"too many connections (rpc.max_connections = {limit})"
        return "application/json", json.dumps(_error(None, LIMIT_EXCEEDED, message)).encode()

    def do_POST(self) -> None:  # noqa: N802
        dispatcher = self.server.dispatcher
        body = self.read_body(
            lambda status, why: self._send(status, _error(None, INVALID_REQUEST, f"invalid request: {why}"))
        )
        if body is None:
            return
        scope = dispatcher.scope_for(self.headers.get("Authorization"))
        if scope is None:
            self._send(401, _error(None, UNAUTHORISED, "unauthorised: a valid bearer token is required"))
            return
        self._send(200, dispatcher.handle(body, scope))

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self.respond(200, self.server.dispatcher.metrics.render(), CONTENT_TYPE)
        elif path in ("/liveness", "/readiness"):
            live, ready, detail = self.server.health()
            up = live if path == "/liveness" else ready
            self._send(200 if up else 503, {"status": "UP" if up else "DOWN", **detail})
        else:
            self._send(405, _error(None, INVALID_REQUEST, "invalid request: JSON-RPC requests are POSTed"))

    def _send(self, status: int, payload: Any) -> None:
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        self.respond(status if payload is not None or status != 200 else 204, body, "application/json")
