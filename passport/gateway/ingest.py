"""Checking readings as they arrive: shape, device signature, the device's binding to this
facility (not revoked, at the chain's head as the device cache last saw it), the time window, and
(device, seq) seen once. Every rejection has a reason, counted in the metrics."""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from passport.core.telemetry import leaf_signer, leaf_signer_bytes
from passport.exceptions import ReadingRejected
from passport.gateway.store import Store
from passport.sdk.telemetry import Reading, SignedReading

log = logging.getLogger("passport.gateway")
REASONS = (
    "malformed",
    "bad-signature",
    "unknown-device",
    "revoked-device",
    "wrong-facility",
    "time-skew",
    "duplicate",
)
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
FIELDS = {"device", "facility", "seq", "time", "kind", "value", "unit", "signature"}


@dataclass(frozen=True, slots=True)
class Result:
    accepted: bool
    reason: str | None = None
    detail: str = ""
    device: str | None = None
    seq: int | None = None

    def as_json(self) -> dict[str, Any]:
        if self.accepted:
            return {"accepted": True, "device": self.device, "seq": self.seq}
        return {"accepted": False, "reason": self.reason, "detail": self.detail}


def parse(payload: Any) -> SignedReading:
    """A reading from its JSON form (an object, or its bytes).

    Raises:
        ReadingRejected: ``malformed``, naming what is wrong.
    """
    if isinstance(payload, bytes | str):
        try:
            payload = json.loads(payload)
        except ValueError as exc:
            raise ReadingRejected("malformed", f"not JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise ReadingRejected("malformed", "a reading is a JSON object")
    missing, extra = FIELDS - set(payload), set(payload) - FIELDS
    if missing or extra:
        raise ReadingRejected("malformed", f"missing {sorted(missing)}, unknown {sorted(extra)}")
    p = payload
    if not isinstance(p["device"], str) or not ADDRESS.match(p["device"]):
        raise ReadingRejected("malformed", "device: not a 0x-prefixed 20-byte hex address")
    for name, bits in (("facility", 32), ("seq", 64), ("time", 64)):
        v = p[name]
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < 2**bits:
            raise ReadingRejected("malformed", f"{name}: not a uint{bits}")
    v = p["value"]
    if not isinstance(v, int) or isinstance(v, bool) or not -(2**255) <= v < 2**255:
        raise ReadingRejected("malformed", "value: not an int256")
    for name in ("kind", "unit"):
        if not isinstance(p[name], str) or not 0 < len(p[name]) <= 64:
            raise ReadingRejected("malformed", f"{name}: a string of 1 to 64 characters")
    sig = p["signature"]
    if not isinstance(sig, str) or not sig.startswith("0x") or len(sig) != 132:
        raise ReadingRejected("malformed", "signature: 65 bytes as 0x-hex")
    try:
        signature = bytes.fromhex(sig[2:])
    except ValueError:
        raise ReadingRejected("malformed", "signature: not hex") from None
    reading = Reading(
        checksum_device(p["device"]), p["facility"], p["time"], p["kind"], v, p["unit"], p["seq"]
    )
    return SignedReading(reading, signature)


@functools.lru_cache(maxsize=4096)  # a site has few devices; checksumming each reading is slow
def checksum_device(address: str) -> str:
    """A device's address as readings are stored under it (EIP-55), however it was written."""
    return str(to_checksum_address(address))


def as_json(signed: SignedReading) -> dict[str, Any]:
    r = signed.reading
    return {
        "device": r.device,
        "facility": r.facility_id,
        "seq": r.seq,
        "time": r.time,
        "kind": r.kind,
        "value": r.value,
        "unit": r.unit,
        "signature": "0x" + signed.signature.hex(),
    }


def signer(signed: SignedReading) -> str | None:
    """The address that signed the reading (EIP-191 over its leaf), or None."""
    return leaf_signer(signed.reading.leaf(), signed.signature)


class Devices:
    """Device bindings as the chain has them: kept in the store (so an offline restart still
    knows them), refreshed from the Consortium's device events, and looked up on first sight."""

    def __init__(self, store: Store, lookup: Callable[[str], tuple[int, bool]] | None) -> None:
        self.store = store
        self.lookup = lookup
        self._known = store.devices()
        self._lock = threading.Lock()

    def get(self, device: str) -> tuple[int, bool] | None:
        with self._lock:
            known = self._known.get(device)
        if known is not None or self.lookup is None:
            return known
        try:
            facility, active = self.lookup(device)
        except Exception as exc:  # the chain is unreachable: the device stays unknown for now
            log.warning("cannot look up device %s: %s", device, exc)
            return None
        if facility == 0:
            return None
        self.update([(device, facility, active)])
        return facility, active

    def update(self, changes: Sequence[tuple[str, int, bool]]) -> None:
        if not changes:
            return
        self.store.set_devices(changes)
        with self._lock:
            for device, facility, active in changes:
                self._known[device] = (facility, active)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.accepted = Counter(
            "passport_gateway_readings_accepted", "Readings stored", registry=self.registry
        )
        self.rejected = Counter(
            "passport_gateway_readings_rejected",
            "Readings refused, by reason",
            ["reason"],
            registry=self.registry,
        )
        for reason in REASONS:
            self.rejected.labels(reason)
        self.ack = Histogram(
            "passport_gateway_ack_seconds",
            "From a reading's arrival to its acknowledgement (stored, or refused)",
            ["transport"],
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0),
            registry=self.registry,
        )
        self.queue = Gauge(
            "passport_gateway_queue_readings", "Readings not in a window yet", registry=self.registry
        )
        self.pending = Gauge(
            "passport_gateway_pending_windows", "Windows not anchored yet", registry=self.registry
        )
        self.last_block = Gauge(
            "passport_gateway_last_anchor_block", "Block of the last anchored window", registry=self.registry
        )
        self.lag = Gauge(
            "passport_gateway_anchor_lag_seconds",
            "Age of the oldest reading not anchored yet",
            registry=self.registry,
        )


class Ingest:
    """Checks and stores readings for one facility."""

    def __init__(
        self,
        facility: int,
        store: Store,
        devices: Devices,
        metrics: Metrics,
        skew: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.facility, self.store, self.devices, self.metrics = facility, store, devices, metrics
        self.skew, self.clock = skew, clock
        self._logged: set[tuple[str, str]] = set()

    def check(self, signed: SignedReading, leaf: bytes) -> None:
        """Raises: ReadingRejected, with its reason."""
        r = signed.reading
        if r.facility_id != self.facility:
            raise ReadingRejected(
                "wrong-facility", f"the reading names facility {r.facility_id}, this is {self.facility}"
            )
        now = self.clock()
        if abs(r.time - now) > self.skew:
            raise ReadingRejected(
                "time-skew", f"time {r.time} is {r.time - now:+.0f} s from the gateway's clock"
            )
        if leaf_signer_bytes(leaf, signed.signature) != bytes.fromhex(r.device[2:]):
            raise ReadingRejected("bad-signature", f"not signed by {r.device}")
        bound = self.devices.get(r.device)
        if bound is None:
            raise ReadingRejected("unknown-device", f"{r.device} is registered to no facility")
        if bound[0] != self.facility:
            raise ReadingRejected(
                "wrong-facility", f"{r.device} is registered to facility {bound[0]}, not {self.facility}"
            )
        if not bound[1]:
            raise ReadingRejected("revoked-device", f"{r.device} was revoked")

    def submit(self, payloads: Sequence[Any]) -> list[Result]:
        """Check each payload and store the good ones in one commit; a result per payload, in order."""
        results: list[Result | None] = [None] * len(payloads)
        good: list[tuple[int, SignedReading]] = []
        leaves: list[bytes] = []
        seen: set[tuple[str, int]] = set()
        for n, payload in enumerate(payloads):
            try:
                signed = parse(payload)
                leaf = signed.reading.leaf()
                self.check(signed, leaf)
                key = (signed.reading.device, signed.reading.seq)
                if key in seen:
                    raise ReadingRejected("duplicate", f"{key[0]} seq {key[1]} twice in one submission")
                seen.add(key)
                good.append((n, signed))
                leaves.append(leaf)
            except ReadingRejected as exc:
                results[n] = self._reject(exc)
        stored = self.store.add([s for _, s in good], leaves) if good else []
        for (n, s), fresh in zip(good, stored, strict=True):
            r = s.reading
            if fresh:
                results[n] = Result(True, device=r.device, seq=r.seq)
            else:
                results[n] = self._reject(
                    ReadingRejected("duplicate", f"{r.device} seq {r.seq} is already stored")
                )
        accepted = sum(1 for x in results if x is not None and x.accepted)
        self.metrics.accepted.inc(accepted)
        self.metrics.queue.inc(accepted)
        return [x for x in results if x is not None]

    def _reject(self, exc: ReadingRejected) -> Result:
        self.metrics.rejected.labels(exc.reason).inc()
        if (exc.reason, exc.detail) not in self._logged and len(self._logged) < 10_000:
            self._logged.add((exc.reason, exc.detail))
            log.warning("rejected (%s): %s", exc.reason, exc.detail)
        return Result(False, exc.reason, exc.detail)
