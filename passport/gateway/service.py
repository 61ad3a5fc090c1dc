"""The gateway service: HTTP and MQTT ingestion, the anchoring loop (store and forward), and
proofs of stored readings."""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from eth_account.signers.local import LocalAccount
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from passport._utils.serving import LimitedHandler, LimitedServer, ServerLimits
from passport.core.events import topic
from passport.exceptions import ContractRevert
from passport.gateway.ingest import ADDRESS, Devices, Ingest, Metrics, Result, as_json, checksum_device
from passport.gateway.store import Store, Window
from passport.sdk import Sdk
from passport.sdk.telemetry import MerkleTree

log = logging.getLogger("passport.gateway")
# HTTP: a body of at most 4 MiB (10,000 readings of about 400 bytes), other limits as every server's
DEFAULT_LIMITS = ServerLimits(max_body_bytes=4 * 1024 * 1024)
MAX_READINGS = 10_000
STATUS = {
    "malformed": 400,
    "bad-signature": 401,
    "unknown-device": 403,
    "revoked-device": 403,
    "wrong-facility": 403,
    "duplicate": 409,
    "time-skew": 422,
}


class Anchorer:
    """Cuts windows (every ``window_seconds``, or at ``window_readings``) and anchors them in
    order; while the chain is unreachable, windows queue in the store and go out later."""

    def __init__(
        self,
        sdk: Sdk | None,
        account: LocalAccount | None,
        facility: int,
        store: Store,
        devices: Devices,
        metrics: Metrics,
        window_seconds: float = 60.0,
        window_readings: int = 1000,
    ) -> None:
        self.sdk, self.account, self.facility = sdk, account, facility
        self.store, self.devices, self.metrics = store, devices, metrics
        self.window_seconds, self.window_readings = window_seconds, window_readings
        self.chain_ok = False
        self._last_cut = time.monotonic()
        self._device_block = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="anchorer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("anchoring loop")
            self._stop.wait(0.2)

    def tick(self) -> None:
        waiting = self.store.unwindowed()
        due = time.monotonic() - self._last_cut >= self.window_seconds
        while waiting and (waiting >= self.window_readings or due):
            self.store.cut_window(self.window_readings)
            self._last_cut = time.monotonic()
            waiting = self.store.unwindowed()
            due = False
        if not waiting:
            self._last_cut = time.monotonic()
        pending = self.store.pending()
        if self.sdk is not None:
            self._refresh_devices()
            for window in pending:
                if not self.anchor(window):
                    break
            pending = self.store.pending()
        self.metrics.queue.set(waiting)
        self.metrics.pending.set(len(pending))
        oldest = min((w.from_time for w in pending), default=None)
        self.metrics.lag.set(max(0.0, time.time() - oldest) if oldest is not None else 0.0)

    def anchor(self, window: Window) -> bool:
        """Anchor one window; False when the chain could not take it now."""
        assert self.sdk is not None and self.account is not None
        consortium = self.sdk.contracts.consortium
        fn = consortium.functions.anchorTelemetry(
            self.facility, window.root, window.count, window.from_time, window.to_time
        )
        try:
            receipt = self.sdk.client.transact(self.account, fn)
            tx, block = "0x" + bytes(receipt["transactionHash"]).hex(), int(receipt["blockNumber"])
        except ContractRevert as exc:
            if exc.name != "ConsortiumTelemetryAnchored":
                self._down(f"window {window.id} refused: {exc}")
                return False
            found = self._find(window.root)  # sent before a crash: record where it landed
            if found is None:
                self._down(f"window {window.id}: anchored, but its event is not found yet")
                return False
            tx, block = found
        except Exception as exc:
            self._down(
                f"chain unreachable ({type(exc).__name__}); {len(self.store.pending())} window(s) queued"
            )
            return False
        self.store.anchored(window.id, tx, block)
        self.chain_ok = True
        self.metrics.last_block.set(block)
        log.info(
            "anchored window %d: %d readings, root 0x%s, block %d, tx %s",
            window.id,
            window.count,
            window.root.hex(),
            block,
            tx,
        )
        return True

    def _down(self, why: str) -> None:
        if self.chain_ok:
            log.warning(why)
        self.chain_ok = False

    def _find(self, root: bytes) -> tuple[str, int] | None:
        assert self.sdk is not None
        c = self.sdk.contracts.consortium
        logs = self.sdk.client.get_logs([c.address], [topic("TelemetryAnchored"), None, root])
        if not logs:
            return None
        return str(logs[0]["transactionHash"]), int(logs[0]["blockNumber"], 16)

    def _refresh_devices(self) -> None:
        """Device registrations and revocations of this facility since the last look."""
        assert self.sdk is not None
        c = self.sdk.contracts.consortium
        try:
            head = self.sdk.client.w3.eth.block_number
            if head < self._device_block:
                return
            changes = []
            for event, active in ((c.events.DeviceRegistered, True), (c.events.DeviceRevoked, False)):
                for e in event().get_logs(
                    from_block=self._device_block,
                    to_block=head,
                    argument_filters={"facilityId": self.facility},
                ):
                    changes.append((e["blockNumber"], e["logIndex"], e["args"]["device"], active))
            self.devices.update([(d, self.facility, a) for _, _, d, a in sorted(changes)])
            self._device_block = head + 1
        except Exception as exc:
            self._down(f"device refresh failed ({type(exc).__name__})")


def proof_of(store: Store, device: str, seq: int) -> dict[str, Any] | None:
    """A stored reading with its signature, Merkle proof and anchor (None if not stored)."""
    found = store.reading(device, seq)
    if found is None:
        return None
    signed, window_id = found
    out: dict[str, Any] = {"kind": "mineral-passport/telemetry-proof@1", "reading": as_json(signed)}
    out["leaf"] = "0x" + signed.reading.leaf().hex()
    window = store.window(window_id) if window_id is not None else None
    if window is None:
        out.update(window=None, proof=None, anchor=None)
        return out
    leaves = store.leaves(window.id)
    tree = MerkleTree([leaf for _, _, leaf in leaves])
    index = next(n for n, (d, s, _) in enumerate(leaves) if (d, s) == (signed.reading.device, seq))
    out["proof"] = ["0x" + p.hex() for p in tree.proof(index)]
    out["window"] = {
        "id": window.id,
        "root": "0x" + window.root.hex(),
        "count": window.count,
        "fromTime": window.from_time,
        "toTime": window.to_time,
    }
    out["anchor"] = None if window.tx is None else {"tx": window.tx, "block": window.block}
    return out


class Gateway:
    """The whole service for one facility."""

    def __init__(
        self,
        facility: int,
        store: Store,
        sdk: Sdk | None,
        account: LocalAccount | None,
        skew: int = 300,
        window_seconds: float = 60.0,
        window_readings: int = 1000,
        clock: Callable[[], float] = time.time,
        limits: ServerLimits = DEFAULT_LIMITS,
    ) -> None:
        self.facility, self.store = facility, store
        self.limits = limits
        self.metrics = Metrics()
        lookup = sdk.consortium.device if sdk is not None else None
        self.devices = Devices(store, lookup)
        self.ingest = Ingest(facility, store, self.devices, self.metrics, skew, clock)
        self.anchorer = Anchorer(
            sdk, account, facility, store, self.devices, self.metrics, window_seconds, window_readings
        )
        self.metrics.queue.set(store.unwindowed())
        self._closers: list[Callable[[], None]] = []

    @contextlib.contextmanager
    def running(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """HTTP on ``host:port`` and the anchoring loop, both stopped on exit; yields the base URL.

        Raises:
            OSError: the port cannot be bound.
        """
        http = self.http_server(host, port)
        threading.Thread(target=http.serve_forever, name="http", daemon=True).start()
        self.anchorer.start()
        try:
            yield f"http://{host}:{http.server_address[1]}"
        finally:
            http.shutdown()
            http.server_close()
            self.anchorer.stop()

    # ------------------------------------------------------------------ HTTP

    def http_server(self, host: str, port: int) -> LimitedServer:
        gateway = self

        class Handler(LimitedHandler):
            server_version = "passport-gateway"

            def _json(self, status: int, data: Any) -> None:
                self.respond(status, json.dumps(data).encode(), "application/json")

            def do_GET(self) -> None:  # noqa: N802
                path = urlsplit(self.path).path
                if path == "/metrics":
                    self.respond(200, generate_latest(gateway.metrics.registry), CONTENT_TYPE_LATEST)
                elif path == "/liveness":
                    self._json(200, {"live": True})
                elif path == "/readiness":
                    ready = gateway.anchorer.alive
                    self._json(
                        200 if ready else 503,
                        {
                            "ready": ready,
                            "chain": gateway.anchorer.chain_ok,
                            "pendingWindows": len(gateway.store.pending()),
                        },
                    )
                elif path.startswith("/readings/"):
                    parts = path.split("/")
                    try:
                        device, seq = parts[2], int(parts[3])
                    except (IndexError, ValueError):
                        self._json(400, {"error": "GET /readings/<device>/<seq>"})
                        return
                    if not ADDRESS.match(device):
                        self._json(400, {"error": f"{device!r} is not a 0x-prefixed 20-byte hex address"})
                        return
                    proof = proof_of(gateway.store, checksum_device(device), seq)
                    self._json(200 if proof else 404, proof or {"error": "no such reading"})
                else:
                    self._json(404, {"error": "POST /readings; GET /metrics, /liveness, /readiness"})

            def do_POST(self) -> None:  # noqa: N802
                started = time.monotonic()
                try:
                    self._post()
                finally:
                    gateway.metrics.ack.labels("http").observe(time.monotonic() - started)

            def _post(self) -> None:
                if urlsplit(self.path).path != "/readings":
                    self.close_connection = True  # its body is not read
                    self._json(404, {"error": "POST /readings"})
                    return
                raw = self.read_body(lambda status, why: self._json(status, {"error": why}))
                if raw is None:
                    return
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    gateway.metrics.rejected.labels("malformed").inc()
                    self._json(400, {"accepted": False, "reason": "malformed", "detail": f"not JSON ({exc})"})
                    return
                if isinstance(body, list):
                    if len(body) > MAX_READINGS:
                        self._json(413, {"error": f"at most {MAX_READINGS} readings per request"})
                        return
                    results = gateway.ingest.submit(body)
                    self._json(200, {"results": [r.as_json() for r in results]})
                    return
                result: Result = gateway.ingest.submit([body])[0]
                self._json(200 if result.accepted else STATUS[result.reason or "malformed"], result.as_json())

        return LimitedServer((host, port), Handler, self.limits)

    # ------------------------------------------------------------------ MQTT

    def mqtt(self, url: str) -> Callable[[], None]:
        """Subscribe to ``passport/<facility>/readings`` (QoS 1). Each PUBACK is sent only after
        the reading is committed (or refused, with the reason published on
        ``passport/<facility>/rejected``). Returns a function that disconnects."""
        import paho.mqtt.client as mqtt

        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise ValueError(f"--mqtt {url!r}: expected mqtt://HOST[:PORT]")
        inbox: queue.Queue[Any] = queue.Queue()
        from paho.mqtt.enums import CallbackAPIVersion

        # A persistent session (clean_session=False, a fixed client id): while the gateway is down
        # the broker keeps its QoS 1 messages, and redelivers those it sent but saw no PUBACK for.
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"passport-gateway-{self.facility}",
            clean_session=False,
            manual_ack=True,
        )
        topic = f"passport/{self.facility}/readings"
        stop = threading.Event()

        def on_connect(c: Any, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
            c.subscribe(topic, qos=1)  # again on each connect: harmless on a kept session
            log.info("MQTT connected to %s (%s); subscribed to %s", url, reason, topic)

        def on_message(_c: Any, _userdata: Any, message: Any) -> None:
            inbox.put((time.monotonic(), message))

        def writer() -> None:
            while not stop.is_set():
                try:
                    first = inbox.get(timeout=0.2)
                except queue.Empty:
                    continue
                batch = [first]
                while len(batch) < 2000:
                    try:
                        batch.append(inbox.get_nowait())
                    except queue.Empty:
                        break
                try:
                    results = self.ingest.submit([m.payload for _, m in batch])
                except Exception:
                    log.exception("storing MQTT readings: not acknowledged, the broker will resend")
                    continue
                acked = self.metrics.ack.labels("mqtt")
                for (arrived, message), result in zip(batch, results, strict=True):
                    if not result.accepted:
                        client.publish(
                            f"passport/{self.facility}/rejected", json.dumps(result.as_json()), qos=0
                        )
                    if message.qos > 0:
                        client.ack(message.mid, message.qos)
                    acked.observe(time.monotonic() - arrived)

        client.on_connect = on_connect
        client.on_message = on_message
        client.connect(parts.hostname, parts.port or 1883, keepalive=30)
        thread = threading.Thread(target=writer, name="mqtt-writer", daemon=True)
        thread.start()
        client.loop_start()

        def close() -> None:
            stop.set()
            client.loop_stop()
            client.disconnect()
            thread.join(timeout=5)

        return close
