"""``passport gateway``: the telemetry gateway at a facility, and a device simulator."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Any

import click
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from passport._utils.serving import ServerLimits
from passport.cli._common import (
    ChainArgs,
    SignerArgs,
    chain_options,
    emit,
    server_limit_options,
    signer_options,
)
from passport.gateway.ingest import as_json
from passport.gateway.service import DEFAULT_LIMITS, Gateway
from passport.gateway.store import Store
from passport.sdk.telemetry import Reading, sign_reading

# Simulated devices: (kind, unit, value range) per device type, cycling over the devices.
DEVICE_TYPES = (
    ("weighbridge", "net-mass", "g", (8_000_000, 14_000_000)),
    ("xrf", "wo3-grade", "milli-percent", (55_000, 72_000)),
    ("gps", "gps-lat-udeg", "micro-degree", (21_800_000, 21_900_000)),
)


@click.group("gateway")
def gateway() -> None:
    """The telemetry gateway: device readings in over MQTT and HTTP, anchored on-chain."""


@gateway.command("start")
@click.option(
    "--facility", type=click.IntRange(min=1), required=True, help="The facility this gateway serves."
)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--mqtt", "mqtt_url", default=None, help="Broker to subscribe to, e.g. mqtt://127.0.0.1:1883.")
@click.option("--http-host", default="127.0.0.1", show_default=True)
@click.option("--http-port", type=click.IntRange(0, 65535), default=8081, show_default=True, help="0: any.")
@click.option(
    "--window",
    "window_seconds",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds per anchored window.",
)
@click.option(
    "--window-readings",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="A window closes early at this many readings.",
)
@click.option(
    "--skew",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="Largest accepted gap (s) between a reading's time and the gateway's clock.",
)
@server_limit_options(DEFAULT_LIMITS)
@signer_options
@chain_options
def start(
    facility: int,
    data_dir: Path,
    mqtt_url: str | None,
    http_host: str,
    http_port: int,
    window_seconds: float,
    window_readings: int,
    skew: int,
    sender: SignerArgs,
    chain: ChainArgs,
    limits: ServerLimits,
) -> None:
    """Run the gateway for FACILITY until SIGTERM or Ctrl-C. It anchors with the --keystore key
    (the facility's operator, or a gateway key registered to it as a device). The chain may be
    unreachable: readings are still taken, and windows are anchored in order once it is back."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    account = sender.account()
    sdk = _sdk(chain)
    store = Store(data_dir)
    service = Gateway(facility, store, sdk, account, skew, window_seconds, window_readings, limits=limits)
    done = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        done.set()

    try:
        with contextlib.ExitStack() as stack:
            try:
                base = stack.enter_context(service.running(http_host, http_port))
            except OSError as exc:
                raise click.ClickException(
                    f"cannot listen on {http_host}:{http_port}: {exc.strerror or exc}"
                ) from exc
            if mqtt_url is not None:
                try:
                    stack.callback(service.mqtt(mqtt_url))
                except (OSError, ValueError) as exc:
                    raise click.ClickException(f"MQTT: {exc}") from exc
            click.echo(
                f"gateway for facility {facility}: {base}/readings"
                + (f", MQTT passport/{facility}/readings on {mqtt_url}" if mqtt_url else "")
                + f"; {store.count()} readings stored, {len(store.pending())} window(s) to anchor"
            )
            sys.stdout.flush()
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
            done.wait()
    finally:
        store.close()


def _sdk(chain: ChainArgs) -> Any:
    """The SDK, or None when the chain cannot be reached at start-up (store and forward)."""
    try:
        return chain.sdk()
    except Exception as exc:  # offline at the mine: the gateway still takes readings
        click.echo(f"chain unreachable at start-up ({exc}); readings are stored, anchoring waits", err=True)
        return None


def device_key(seed: str, n: int) -> LocalAccount:
    account: LocalAccount = Account.from_key(keccak(f"{seed}/{n}".encode()))
    return account


@gateway.command("simulate")
@click.option("--facility", type=click.IntRange(min=1), required=True)
@click.option(
    "--devices", "count_devices", type=click.IntRange(min=1, max=1000), default=3, show_default=True
)
@click.option(
    "--rate", type=click.FloatRange(min=0.1), default=10.0, show_default=True, help="Readings/s, all devices."
)
@click.option("--count", type=click.IntRange(min=1), default=30, show_default=True, help="Readings in all.")
@click.option("--url", default=None, help="The gateway's HTTP base URL, e.g. http://127.0.0.1:8081.")
@click.option("--mqtt", "mqtt_url", default=None, help="Or publish to this broker (QoS 1).")
@click.option("--seed", default="passport-simulator", show_default=True, help="Device keys derive from it.")
@click.option(
    "--register", is_flag=True, help="First register the devices (the signer operates the facility)."
)
@signer_options
@chain_options
def simulate(
    facility: int,
    count_devices: int,
    rate: float,
    count: int,
    url: str | None,
    mqtt_url: str | None,
    seed: str,
    register: bool,
    sender: SignerArgs,
    chain: ChainArgs,
) -> None:
    """Publish signed readings from simulated devices (weighbridges, XRF analysers, GPS trackers)."""
    if (url is None) == (mqtt_url is None):
        raise click.UsageError("give exactly one of --url and --mqtt")
    devices = [device_key(seed, n) for n in range(count_devices)]
    if register:
        sdk, operator = chain.sdk(), sender.account()
        for key in devices:
            if sdk.consortium.device(key.address)[0] == 0:
                sdk.consortium.register_device(operator, key.address, facility)
    seq0 = int(time.time() * 1000)
    results: dict[str, int] = {}
    publish = _mqtt_publisher(mqtt_url, facility) if mqtt_url else _http_publisher(str(url))
    started = time.monotonic()
    for n in range(count):
        d = n % count_devices
        _type, kind, unit, (low, high) = DEVICE_TYPES[d % len(DEVICE_TYPES)]
        reading = Reading(
            devices[d].address,
            facility,
            int(time.time()),
            kind,
            low + (n * 7919) % (high - low),
            unit,
            seq0 + n // count_devices,
        )
        outcome = publish(as_json(sign_reading(devices[d], reading)))
        results[outcome] = results.get(outcome, 0) + 1
        delay = started + (n + 1) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    publish(None)
    emit(
        chain.as_json,
        {"published": count, "results": results, "devices": [key.address for key in devices]},
        f"published {count} readings from {count_devices} device(s): {results}",
    )


def _http_publisher(base: str) -> Any:
    def publish(reading: dict[str, Any] | None) -> str:
        if reading is None:
            return ""
        request = urllib.request.Request(
            base.rstrip("/") + "/readings",
            data=json.dumps(reading).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return "accepted" if json.loads(response.read()).get("accepted") else "refused"
        except urllib.error.HTTPError as exc:
            return str(json.loads(exc.read()).get("reason", exc.code))
        except OSError as exc:
            raise click.ClickException(f"gateway at {base}: {exc}") from exc

    return publish


def _mqtt_publisher(url: str, facility: int) -> Any:
    from urllib.parse import urlsplit

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    parts = urlsplit(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    try:
        client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    except OSError as exc:
        raise click.ClickException(f"broker at {url}: {exc}") from exc
    client.loop_start()
    sent: list[Any] = []

    def publish(reading: dict[str, Any] | None) -> str:
        if reading is None:
            for info in sent:
                info.wait_for_publish(timeout=60)
            client.loop_stop()
            client.disconnect()
            return ""
        sent.append(client.publish(f"passport/{facility}/readings", json.dumps(reading), qos=1))
        return "published"

    return publish
