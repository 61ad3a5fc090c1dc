"""The ABCI 2.0 socket transport: CometBFT connects (four connections: consensus, mempool,
query, snapshot) and sends varint-length-prefixed protobuf ``Request`` messages; the
application answers each, in order, with a ``Response``. Responses are buffered and flushed
on ``Flush``, as CometBFT's own socket server does (``abci/server/socket_server.go``).
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from collections.abc import Callable
from typing import Any, Protocol

from passport._proto.tendermint.abci import types_pb2 as abci

log = logging.getLogger("passport.node.abci")

MAX_MESSAGE_BYTES = 104_857_600  # CometBFT's maxMsgSize for ABCI messages (100 MB)


class Application(Protocol):
    """What the server dispatches to: one method per request kind, named as the oneof field."""

    def handle(self, kind: str, request: Any) -> Any: ...

    def fatal(self, message: str) -> None: ...


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_varint(stream: Any) -> int | None:
    """An unsigned varint from ``stream`` (``binary.ReadUvarint``); None at a clean EOF."""
    shift = result = 0
    for index in range(10):
        byte = stream.read(1)
        if not byte:
            if index == 0:
                return None
            raise EOFError("connection closed inside a length prefix")
        result |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return int(result)
        shift += 7
    raise ValueError("length prefix longer than 10 bytes")


def read_message(stream: Any) -> abci.Request | None:
    length = read_varint(stream)
    if length is None:
        return None
    if length > MAX_MESSAGE_BYTES:
        raise ValueError(f"message of {length} bytes exceeds {MAX_MESSAGE_BYTES}")
    body = stream.read(length)
    if len(body) != length:
        raise EOFError("connection closed inside a message")
    request = abci.Request()
    request.ParseFromString(body)
    return request


def frame(message: Any) -> bytes:
    body = bytes(message.SerializeToString())
    return encode_varint(len(body)) + body


class _Handler(socketserver.StreamRequestHandler):
    server: AbciServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        app = self.server.app
        pending: list[bytes] = []
        while True:
            try:
                request = read_message(self.rfile)
            except (OSError, EOFError, ValueError) as exc:
                log.debug("ABCI connection closed: %s", exc)
                return
            if request is None:
                return
            kind = request.WhichOneof("value")
            if kind == "flush":
                pending.append(frame(abci.Response(flush=abci.ResponseFlush())))
                try:
                    self.wfile.write(b"".join(pending))
                    self.wfile.flush()
                except OSError:
                    return
                pending.clear()
                continue
            if kind == "echo":
                response = abci.Response(echo=abci.ResponseEcho(message=request.echo.message))
            else:
                try:
                    answer = app.handle(str(kind), getattr(request, str(kind)))
                except Exception as exc:
                    log.exception("ABCI %s failed", kind)
                    response = abci.Response(exception=abci.ResponseException(error=f"{kind}: {exc}"))
                    pending.append(frame(response))
                    try:
                        self.wfile.write(b"".join(pending))
                        self.wfile.flush()
                    except OSError:
                        pass
                    app.fatal(f"ABCI {kind} failed: {exc}")
                    return
                response = abci.Response(**{str(kind): answer})
            pending.append(frame(response))


class AbciServer(socketserver.ThreadingTCPServer):
    """Serves one application on 127.0.0.1; each CometBFT connection gets a thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, app: Application) -> None:
        self.app = app
        super().__init__((host, port), _Handler)

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="passport-abci", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self.shutdown()
        self.server_close()


Handler = Callable[[Any], Any]
