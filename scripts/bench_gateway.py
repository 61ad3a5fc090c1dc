#!/usr/bin/env python3
"""Telemetry gateway throughput: readings per second ingested end to end (parsed, signature and
device checked, committed to SQLite with synchronous=FULL, acknowledged) over MQTT and over HTTP,
the p99 time from a reading's arrival to its acknowledgement, and the gas per anchored window.

    scripts/bench_gateway.py [--readings 20000] [--devices 10]

Runs a fresh passport dev node, Mosquitto (Debian's) and `passport gateway start` as separate
processes on loopback. The reference, run in the same session: the broker alone taking the same
QoS 1 messages with no gateway subscribed. Both are published by `mosquitto_pub -l` (Debian's
mosquitto-clients, native) when installed, else by a paho client.
Prints a table; target: >= 5,000 readings/s over MQTT.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import paho.mqtt.client as mqtt
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from paho.mqtt.enums import CallbackAPIVersion

from passport.core.events import topic
from passport.core.types import FacilityKind, Role
from passport.gateway.ingest import as_json
from passport.node.process import NodeProcess, passport_executable
from passport.sdk import Client, Founder, Sdk
from passport.sdk.accounts import DEV_ROLES, dev_accounts
from passport.sdk.telemetry import Reading, sign_reading
from passport.toolchain.anvil import free_port, wait_port
from passport.toolchain.mosquitto import Mosquitto


def metrics(url: str) -> str:
    with urllib.request.urlopen(url + "/metrics", timeout=30) as r:
        return str(r.read().decode())


def counter(text: str, name: str) -> float:
    found = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def p99_from_histogram(text: str, transport: str) -> float:
    """The upper bound of the bucket holding the 99th percentile."""
    buckets = [
        (float(le) if le != "+Inf" else float("inf"), float(n))
        for le, n in re.findall(
            rf'^passport_gateway_ack_seconds_bucket{{le="([^"]+)",transport="{transport}"}} ([0-9.e+]+)$',
            text,
            re.M,
        )
    ]
    if not buckets:
        return float("nan")
    total = buckets[-1][1]
    return next(le for le, n in buckets if n >= 0.99 * total)


def signed_readings(devices: list[LocalAccount], facility: int, count: int, seq0: int) -> list[bytes]:
    now = int(time.time())
    out = []
    for n in range(count):
        d = devices[n % len(devices)]
        r = Reading(d.address, facility, now, "net-mass", 10_000_000 + n, "g", seq0 + n)
        out.append(json.dumps(as_json(sign_reading(d, r))).encode())
    return out


def publish_all(broker_port: int, topic_name: str, payloads: list[bytes]) -> float:
    """Publish every payload at QoS 1; seconds until the broker acknowledged them all. The
    publisher is Mosquitto's own native client (``mosquitto_pub -l``, Debian's mosquitto-clients)
    when installed, so the reference is the broker in its best mode; paho otherwise."""
    native = shutil.which("mosquitto_pub")
    if native is not None:
        started = time.monotonic()
        subprocess.run(
            [native, "-h", "127.0.0.1", "-p", str(broker_port), "-t", topic_name, "-q", "1", "-l"],
            input=b"\n".join(payloads) + b"\n",
            check=True,
            timeout=600,
        )
        return time.monotonic() - started
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", broker_port)
    client.loop_start()
    started = time.monotonic()
    infos = [client.publish(topic_name, p, qos=1) for p in payloads]
    for info in infos:
        info.wait_for_publish(timeout=300)
    elapsed = time.monotonic() - started
    client.loop_stop()
    client.disconnect()
    return elapsed


PUBLISHER = "mosquitto_pub" if shutil.which("mosquitto_pub") else "paho"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--readings", type=int, default=20_000)
    parser.add_argument("--devices", type=int, default=10)
    args = parser.parse_args()

    def say(message: str) -> None:
        print(message, file=sys.stderr)

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        node = stack.enter_context(NodeProcess())
        admin, miner = dev_accounts(2)
        sdk = Sdk.deploy(
            Client.connect(node.url),
            admin,
            [Founder(admin.address, Role.ADMIN, "VN"), Founder(miner.address, Role.MINER, "VN")],
            network="bench",
            directory=tmp / "deployments",
        )
        sdk.consortium.propose_facility(admin, miner.address, "VN", FacilityKind.MINE)
        facility = sdk.consortium.facility_count()
        devices: list[LocalAccount] = [
            Account.from_key(keccak(f"bench/{n}".encode())) for n in range(args.devices)
        ]
        for d in devices:
            sdk.consortium.register_device(miner, d.address, facility)
        say(f"signing {3 * args.readings:,} readings")
        seq0 = int(time.time() * 1000)
        reference = signed_readings(devices, facility, args.readings, seq0)
        over_mqtt = signed_readings(devices, facility, args.readings, seq0 + args.readings)
        over_http = signed_readings(devices, facility, args.readings, seq0 + 2 * args.readings)
        running = stack.enter_context(Mosquitto())
        broker, broker_port = running.url, running.port
        say("reference: the broker alone")
        ref_seconds = publish_all(broker_port, "bench/nobody", reference)
        http_port = free_port()
        url = f"http://127.0.0.1:{http_port}"
        log = (tmp / "gateway.log").open("w")
        gateway = subprocess.Popen(
            [
                *passport_executable(),
                "gateway",
                "start",
                "--facility",
                str(facility),
                "--data-dir",
                str(tmp / "gw"),
                "--mqtt",
                broker,
                "--http-port",
                str(http_port),
                "--window",
                "2",
                "--window-readings",
                "5000",
                "--dev-account",
                DEV_ROLES[1],
                "--rpc-url",
                node.url,
                "--network",
                "bench",
                "--deployments",
                str(tmp / "deployments"),
            ],
            stdout=log,
            stderr=log,
        )
        stack.callback(gateway.wait)
        stack.callback(gateway.terminate)
        wait_port(http_port)
        deadline = time.monotonic() + 30
        while "MQTT connected" not in (tmp / "gateway.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.05)

        say(f"MQTT: {args.readings:,} readings")
        started = time.monotonic()
        threading.Thread(
            target=publish_all, args=(broker_port, f"passport/{facility}/readings", over_mqtt)
        ).start()
        deadline = time.monotonic() + 600
        while counter(metrics(url), "passport_gateway_readings_accepted_total") < args.readings:
            if time.monotonic() > deadline:
                raise SystemExit(f"the gateway did not take the MQTT readings; see {tmp / 'gateway.log'}")
            time.sleep(0.02)
        mqtt_seconds = time.monotonic() - started
        mqtt_p99 = p99_from_histogram(metrics(url), "mqtt")

        say(f"HTTP: {args.readings:,} readings, 100 per request, 4 clients")
        batches = [over_http[i : i + 100] for i in range(0, len(over_http), 100)]
        latencies: list[float] = []
        lock = threading.Lock()

        def client(part: list[list[bytes]]) -> None:
            for batch in part:
                body = b"[" + b",".join(batch) + b"]"
                t0 = time.monotonic()
                request = urllib.request.Request(
                    url + "/readings", data=body, headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(request, timeout=60) as r:
                    results = json.loads(r.read())["results"]
                assert all(x["accepted"] for x in results), results[:2]
                with lock:
                    latencies.append(time.monotonic() - t0)

        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(batches[k::4],)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        http_seconds = time.monotonic() - started
        http_p99 = sorted(latencies)[int(0.99 * (len(latencies) - 1))]

        say("waiting for every window to be anchored")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            text = metrics(url)
            if (
                counter(text, "passport_gateway_queue_readings") == 0
                and counter(text, "passport_gateway_pending_windows") == 0
            ):
                break
            time.sleep(0.2)
        c = sdk.contracts.consortium
        logs = sdk.client.get_logs([c.address], [topic("TelemetryAnchored")])
        gas = [
            int(sdk.client.w3.eth.get_transaction_receipt(entry["transactionHash"])["gasUsed"])
            for entry in logs
        ]

    mqtt_rate = args.readings / mqtt_seconds
    rows = [
        ("transport", "readings/s", "p99 arrival → ack", "vs broker alone"),
        (
            f"broker alone (reference, QoS 1 PUBACK, {PUBLISHER})",
            f"{args.readings / ref_seconds:,.0f}",
            "",
            "1.00x",
        ),
        (
            "MQTT → gateway (stored, PUBACK)",
            f"{mqtt_rate:,.0f}",
            f"<= {mqtt_p99 * 1000:g} ms",
            f"{mqtt_rate * ref_seconds / args.readings:.2f}x",
        ),
        (
            "HTTP, 100 per request, 4 clients",
            f"{args.readings / http_seconds:,.0f}",
            f"{http_p99 * 1000:.0f} ms per request",
            "",
        ),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    mean = statistics.mean(gas)
    print(f"anchoring: {len(gas)} windows, gas per window {mean:,.0f} (min {min(gas):,}, max {max(gas):,})")
    print(
        f"{args.readings:,} readings per transport, {args.devices} devices; target >= 5,000 readings/s (MQTT)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
