"""The telemetry gateway end to end on the dev node: HTTP and MQTT (a real Mosquitto) ingestion,
every rejection reason, anchoring with proofs checked by the CLI, kill -9 under load, and store
and forward while the node is down."""

from __future__ import annotations

import http.client
import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from passport._utils.serving import ServerLimits
from passport.core.document import Weighing
from passport.core.events import topic
from passport.core.types import FacilityKind, Stage
from passport.gateway.ingest import as_json
from passport.gateway.service import Gateway
from passport.gateway.store import Store
from passport.node.process import NodeProcess, passport_executable
from passport.sdk.accounts import dev_accounts
from passport.sdk.telemetry import Reading, sign_reading
from tests import serving
from tests.gateway.conftest import SEED, GatewayProcess, Site, make_site, operator_role

pytestmark = pytest.mark.slow
SEQ = [int(time.time() * 1000)]


def reading(site: Site, key: LocalAccount, **changes: Any) -> dict[str, Any]:
    SEQ[0] += 1
    fields: dict[str, Any] = {
        "seq": SEQ[0],
        "time": int(time.time()),
        "kind": "net-mass",
        "value": 12_000_000,
    }
    fields.update(changes)
    r = Reading(
        key.address, site.facility, fields["time"], fields["kind"], fields["value"], "g", fields["seq"]
    )
    return as_json(sign_reading(key, r))


def post(url: str, body: Any) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url + "/readings", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return str(response.read().decode())


def wait_for(condition: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def all_anchored(store: Store) -> bool:
    return store.unwindowed() == 0 and not store.pending() and store.count() > 0


def drained(url: str) -> bool:
    """No reading waits for a window and no window waits for the chain."""
    metrics = get(url + "/metrics")
    return (
        "passport_gateway_queue_readings 0.0" in metrics and "passport_gateway_pending_windows 0.0" in metrics
    )


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*passport_executable(), *args], capture_output=True, text=True, check=False, timeout=120
    )


@pytest.fixture
def gateway(site: Site, tmp_path: Path) -> Iterator[tuple[Gateway, str]]:
    """The gateway in process, HTTP on a free port, windows of 0.3 s or 20 readings."""
    store = Store(tmp_path / "gw")
    service = Gateway(site.facility, store, site.sdk, site.operator, window_seconds=0.3, window_readings=20)
    try:
        with service.running() as url:
            yield service, url
    finally:
        store.close()


@pytest.fixture
def limited_gateway(site: Site, tmp_path: Path) -> Iterator[str]:
    """The gateway with the serving limits the shared checks expect (tests/serving.py)."""
    store = Store(tmp_path / "gw")
    limits = ServerLimits(idle_timeout=serving.IDLE_TIMEOUT, request_deadline=serving.REQUEST_DEADLINE)
    service = Gateway(site.facility, store, site.sdk, site.operator, limits=limits)
    try:
        with service.running() as url:
            yield url
    finally:
        store.close()


LIVENESS = b"GET /liveness HTTP/1.1\r\nHost: gateway\r\n\r\n"


def test_200_idle_connections_are_closed_while_requests_are_answered(limited_gateway: str) -> None:
    serving.idle_connections_are_closed(limited_gateway, LIVENESS)


def test_a_client_dripping_its_request_is_cut_off_at_the_deadline(limited_gateway: str) -> None:
    serving.slow_client_is_cut_off(limited_gateway, LIVENESS)


def test_a_keep_alive_request_is_no_slower_than_a_fresh_one(site: Site, limited_gateway: str) -> None:
    key = Account.create()
    body = json.dumps(reading(site, key)).encode()  # refused (unknown device): a full POST round trip
    post = (
        b"POST /readings HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        % (
            len(body),
            body,
        )
    )
    serving.keep_alive_is_not_slower(limited_gateway, post)
    serving.keep_alive_is_not_slower(limited_gateway, LIVENESS)


def test_http_readings_are_anchored_and_proven(
    site: Site, gateway: tuple[Gateway, str], tmp_path: Path
) -> None:
    service, url = gateway
    batch = [reading(site, site.devices[n % 2]) for n in range(45)]
    status, body = post(url, batch)
    assert status == 200 and all(r["accepted"] for r in body["results"])
    assert post(url, reading(site, site.devices[2]))[0] == 200
    wait_for(lambda: all_anchored(service.store), what="every window anchored")
    windows = service.store.windows()
    assert sum(w.count for w in windows) == 46 and len(windows) >= 3  # 20 + 20 + the rest
    assert [w.block for w in windows] == sorted(w.block for w in windows if w.block is not None)
    c = site.sdk.contracts.consortium.functions
    for w in windows:
        facility, count, *_ = c.telemetryAnchor(w.root).call()
        assert (facility, count) == (site.facility, w.count)
    first = batch[0]
    proof_file = tmp_path / "proof.json"
    proved = cli(
        "telemetry",
        "prove",
        "--reading",
        f"{first['device']}:{first['seq']}",
        "--data-dir",
        str(tmp_path / "gw"),
        "--out",
        str(proof_file),
    )
    assert proved.returncode == 0, proved.stderr
    data = json.loads(proof_file.read_text())
    assert json.loads(proved.stdout) == data  # piped: one JSON document, no line wrapped
    assert json.loads(get(f"{url}/readings/{first['device'].lower()}/{first['seq']}")) == data
    assert (
        json.loads(get(f"{url}/readings/{first['device'].upper().replace('0X', '0x')}/{first['seq']}"))
        == data
    )
    assert data["reading"] == first and data["anchor"]["block"] == windows[0].block
    checked = cli("telemetry", "verify", str(proof_file), *site.chain_args())
    assert checked.returncode == 0 and "verified" in checked.stdout, checked.stdout + checked.stderr
    tampered = dict(data, reading=dict(first, value=first["value"] + 1))
    (tmp_path / "bad.json").write_text(json.dumps(tampered))
    refused = cli("telemetry", "verify", str(tmp_path / "bad.json"), *site.chain_args())
    assert refused.returncode == 1 and "FAIL signature" in refused.stdout
    assert "passport_gateway_readings_accepted_total 46.0" in get(url + "/metrics")
    assert json.loads(get(url + "/readiness"))["ready"] is True
    missing = cli("telemetry", "prove", "--reading", "nonsense", "--data-dir", str(tmp_path / "gw"))
    assert missing.returncode != 0 and "DEVICE:SEQ" in missing.stderr and "Traceback" not in missing.stderr


def test_every_rejection_reason(site: Site, gateway: tuple[Gateway, str]) -> None:
    service, url = gateway
    key = site.devices[0]
    good = reading(site, key)
    stranger = Account.create()
    revoked = Account.create()
    site.sdk.consortium.register_device(site.operator, revoked.address, site.facility)
    site.sdk.consortium.revoke_device(site.operator, revoked.address)
    site.sdk.consortium.propose_facility(dev_accounts(1)[0], site.operator.address, "VN", FacilityKind.MINE)
    elsewhere = Account.create()  # bound to the operator's other mine
    site.sdk.consortium.register_device(
        site.operator, elsewhere.address, site.sdk.consortium.facility_count()
    )
    forged = dict(reading(site, key), signature=reading(site, stranger)["signature"])
    cases = [
        ("malformed", {k: v for k, v in good.items() if k != "seq"}, 400, "missing"),
        ("bad-signature", forged, 401, "not signed by"),
        ("unknown-device", reading(site, stranger), 403, "registered to no facility"),
        ("revoked-device", reading(site, revoked), 403, "revoked"),
        ("wrong-facility", dict(good, facility=site.facility + 7), 403, "the reading names facility"),
        ("wrong-facility", reading(site, elsewhere), 403, "is registered to facility"),  # another site's
        ("time-skew", reading(site, key, time=int(time.time()) - 3600), 422, "from the gateway's clock"),
    ]
    assert post(url, good)[0] == 200
    cases.append(("duplicate", good, 409, "already stored"))
    before = service.store.count()
    wait_for(lambda: service.devices.get(revoked.address) == (site.facility, False), what="revocation seen")
    wait_for(lambda: service.devices.get(elsewhere.address) is not None, what="the other mine's device seen")
    for reason, payload, status, detail in cases:
        got, body = post(url, payload)
        assert (got, body["reason"]) == (status, reason), (reason, body)
        assert detail in body["detail"], (reason, body)
    assert service.store.count() == before
    status, body = post(url, [good, reading(site, key), "not a reading"])
    assert status == 200 and [r.get("reason") for r in body["results"]] == ["duplicate", None, "malformed"]
    metrics = get(url + "/metrics")
    for reason, *_ in cases:
        assert f'passport_gateway_readings_rejected_total{{reason="{reason}"}}' in metrics
    assert post(url, "{")[0] == 400


def test_mqtt_readings_are_acknowledged_after_commit_and_anchored(
    site: Site, broker: str, tmp_path: Path
) -> None:
    gw = GatewayProcess(site, tmp_path / "gw", "--mqtt", broker, "--window", "0.5", "--window-readings", "25")
    gw.start()
    try:
        wait_for(lambda: "MQTT connected" in gw.logged(), 30, "the gateway's subscription")
        done = cli(
            "gateway",
            "simulate",
            "--facility",
            str(site.facility),
            "--devices",
            "4",
            "--rate",
            "200",
            "--count",
            "60",
            "--mqtt",
            broker,
            "--seed",
            SEED,
            *site.chain_args(),
        )
        assert done.returncode == 0, done.stderr
        wait_for(
            lambda: "passport_gateway_readings_accepted_total 60.0" in get(gw.url + "/metrics"),
            60,
            "60 readings",
        )
        wait_for(lambda: drained(gw.url), 60, "anchoring")
    finally:
        gw.stop()
    store = Store(tmp_path / "gw")
    try:
        assert store.count() == 60 and all_anchored(store)
        assert sum(w.count for w in store.windows()) == 60
    finally:
        store.close()
    assert len(gw.anchored_lines()) == len(Store(tmp_path / "gw").windows())  # one log line per window


def test_kill_9_under_load_loses_no_acknowledged_reading(site: Site, tmp_path: Path) -> None:
    gw = GatewayProcess(site, tmp_path / "gw", "--window", "0.3", "--window-readings", "15")
    acked: list[tuple[str, int]] = []
    key = site.devices[3]
    for _round in range(3):
        gw.start()
        stop = threading.Event()

        def load(stop: threading.Event = stop) -> None:
            while not stop.is_set():
                r = reading(site, key)
                try:
                    status, _ = post(gw.url, r)
                except (OSError, http.client.HTTPException):
                    return  # the gateway died mid-request: not acknowledged
                if status == 200:
                    acked.append((r["device"], r["seq"]))

        threads = [threading.Thread(target=load) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        gw.kill()
        stop.set()
        for t in threads:
            t.join()
    gw.start()
    try:
        wait_for(lambda: drained(gw.url), 60, "anchoring after the restarts")
    finally:
        gw.stop()
    assert len(acked) > 20
    store = Store(tmp_path / "gw")
    try:
        assert all(store.has(d, s) for d, s in acked), "an acknowledged reading was lost"
        assert all_anchored(store)
        windows = store.windows()
        assert sum(w.count for w in windows) == store.count()  # each reading in exactly one window
        c = site.sdk.contracts.consortium
        for w in windows:
            assert c.functions.telemetryAnchor(w.root).call()[1] == w.count
        logs = site.sdk.client.get_logs(
            [c.address], [topic("TelemetryAnchored"), None, [w.root for w in windows]]
        )
        assert len(logs) == len(windows)  # nothing anchored twice
    finally:
        store.close()


def test_kill_9_under_mqtt_load_loses_no_reading_the_broker_took(
    site: Site, broker: str, tmp_path: Path
) -> None:
    """The broker keeps the gateway's session: readings it took while the gateway was dead, or
    delivered without a PUBACK, reach the store after the restart, once each."""
    gw = GatewayProcess(site, tmp_path / "gw", "--mqtt", broker, "--window", "0.3", "--window-readings", "50")
    gw.start()
    wait_for(lambda: "MQTT connected" in gw.logged(), 30, "the gateway's subscription")
    with subprocess.Popen(
        [
            *passport_executable(),
            "gateway",
            "simulate",
            "--facility",
            str(site.facility),
            "--devices",
            "4",
            "--rate",
            "150",
            "--count",
            "600",
            "--mqtt",
            broker,
            "--seed",
            SEED,
            *site.chain_args(),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as publisher:
        for _ in range(2):
            time.sleep(1.2)
            gw.kill()
            time.sleep(0.5)  # readings keep arriving at the broker meanwhile
            gw.start()
        _out, err = publisher.communicate(timeout=120)
    assert publisher.returncode == 0, err
    try:
        wait_for(
            lambda: "passport_gateway_readings_accepted_total" in get(gw.url + "/metrics"), 10, "metrics"
        )
        store_dir = tmp_path / "gw"

        def stored() -> int:
            s = Store(store_dir)
            try:
                return s.count()
            finally:
                s.close()

        wait_for(lambda: stored() == 600, 120, "all 600 readings in the store")
        wait_for(lambda: drained(gw.url), 60, "anchoring")
    finally:
        gw.stop()
    store = Store(tmp_path / "gw")
    try:
        assert store.count() == 600 and all_anchored(store)
        assert sum(w.count for w in store.windows()) == 600
    finally:
        store.close()


def test_store_and_forward_while_the_node_is_down(tmp_path: Path) -> None:
    node = NodeProcess(data_dir=tmp_path / "node")
    node.start()
    site = make_site(node.url, tmp_path / "deployments", devices=1)
    store = Store(tmp_path / "gw")
    service = Gateway(site.facility, store, site.sdk, site.operator, window_seconds=0.3, window_readings=1000)
    try:
        with service.running() as url:
            assert post(url, [reading(site, site.devices[0]) for _ in range(5)])[0] == 200
            wait_for(lambda: all_anchored(store), what="the first window")
            node.stop()
            for _ in range(3):  # three windows while the chain is away
                status, body = post(url, [reading(site, site.devices[0]) for _ in range(4)])
                assert status == 200 and all(r["accepted"] for r in body["results"])
                wait_for(lambda: store.unwindowed() == 0, what="a window cut")
            time.sleep(1.0)
            assert len(store.pending()) == 3 and not service.anchorer.chain_ok
            assert json.loads(get(url + "/readiness"))["pendingWindows"] == 3
            node = NodeProcess(data_dir=tmp_path / "node", port=node.port)
            node.start()
            wait_for(lambda: not store.pending(), 60, "the queued windows")
        windows = store.windows()
        assert len(windows) == 4 and [w.count for w in windows] == [5, 4, 4, 4]
        blocks = [w.block for w in windows]
        assert blocks == sorted(blocks) and len(set(blocks)) == 4  # in order, one per window
    finally:
        store.close()
        node.stop()


def test_a_device_is_bound_and_revoked_from_the_cli(site: Site) -> None:
    key = Account.create()
    signer = ["--dev-account", operator_role(), *site.chain_args()]
    bound = cli("facility", "device", str(site.facility), key.address, *signer)  # the form before `add`
    assert bound.returncode == 0, bound.stderr
    assert site.sdk.consortium.device(key.address) == (site.facility, True)
    revoked = cli("facility", "device", "revoke", key.address.lower(), *signer, "--json")
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["revoked"] is True
    assert site.sdk.consortium.device(key.address) == (site.facility, False)
    again = cli("facility", "device", "revoke", key.address, *signer)
    assert again.returncode == 2 and "already revoked" in again.stderr and "Traceback" not in again.stderr
    unknown = cli("facility", "device", "revoke", Account.create().address, *signer)
    assert unknown.returncode == 2 and "bound to no facility" in unknown.stderr
    added = cli("facility", "device", "add", str(site.facility), Account.create().address, *signer)
    assert added.returncode == 0, added.stderr


def test_a_reading_proven_offline_with_its_evidence(
    site: Site, gateway: tuple[Gateway, str], tmp_path: Path
) -> None:
    service, url = gateway
    sent = reading(site, site.devices[1])
    assert post(url, sent)[0] == 200
    wait_for(lambda: all_anchored(service.store), what="the window anchored")
    trust = tmp_path / "trust.json"
    site.sdk.trust_anchor("site").save(trust)
    proof = tmp_path / "proof.json"
    ref = f"{sent['device']}:{sent['seq']}"
    made = cli(
        "telemetry", "prove", "--reading", ref, "--data-dir", str(tmp_path / "gw"), "--evidence",
        "--out", str(proof), *site.chain_args(),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    data = json.loads(proof.read_text())
    assert data["kind"] == "mineral-passport/telemetry-proof@2" and data["reading"] == sent
    checked = cli("telemetry", "verify", str(proof), "--trust", str(trust), "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["anchoredAtBlock"] == data["anchor"]["block"]

    def tampered(name: str, change: Callable[[dict[str, Any]], None]) -> list[str]:
        bad = json.loads(json.dumps(data))
        change(bad)
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(bad))
        result = cli("telemetry", "verify", str(path), "--trust", str(trust), "--json")
        assert result.returncode == 1, (name, result.stdout, result.stderr)
        return [f["where"] for f in json.loads(result.stdout)["failures"]]

    other = Account.create().address
    assert "reading.signature" in tampered(
        "value", lambda d: d["reading"].update(value=d["reading"]["value"] + 1)
    )
    assert "reading.signature" in tampered("device", lambda d: d["reading"].update(device=other))
    assert "window_proof" in tampered("facility", lambda d: d["reading"].update(facility=site.facility + 1))
    assert "window" in tampered("count", lambda d: d["window"].update(count=d["window"]["count"] + 1))
    assert "window_proof" in tampered("root", lambda d: d["window"].update(root="0x" + "11" * 32))
    assert "window_proof" in tampered("proof", lambda d: d["window_proof"].append("0x" + "22" * 32))
    assert "anchor.tx" in tampered("tx", lambda d: d["anchor"].update(tx="0x" + "33" * 32))
    assert "anchor.block" in tampered("block", lambda d: d["anchor"].update(block=d["anchor"]["block"] - 1))
    wheres = tampered("chain", lambda d: d["chain"].update(consortium=other))
    assert "chain.consortium" in wheres
    flipped = tampered("receipts", lambda d: d["evidence"].update(receipts=[]))
    assert "anchor.tx" in flipped
    stranger = tmp_path / "stranger.json"
    anchor = json.loads(trust.read_text())
    stranger.write_text(json.dumps({**anchor, "validators": [Account.create().address]}))
    refused = cli("telemetry", "verify", str(proof), "--trust", str(stranger), "--json")
    assert refused.returncode == 1 and "evidence header" in refused.stdout
    plain = tmp_path / "plain.json"
    cli("telemetry", "prove", "--reading", ref, "--data-dir", str(tmp_path / "gw"), "--out", str(plain))
    no_evidence = cli("telemetry", "verify", str(plain), "--trust", str(trust))
    assert no_evidence.returncode == 1 and "prove --evidence" in no_evidence.stderr
    assert "Traceback" not in no_evidence.stderr


def test_a_weighing_is_attached_to_a_passport_from_the_cli(
    site: Site, gateway: tuple[Gateway, str], tmp_path: Path
) -> None:
    service, url = gateway
    sent = [reading(site, site.devices[2]), reading(site, site.devices[2], kind="moisture", value=800)]
    assert post(url, sent)[0] == 200
    wait_for(lambda: all_anchored(service.store), what="the window anchored")
    lot_file = tmp_path / "lot.json"  # the lot's readings, as `telemetry anchor` takes them
    rows = [{**{k: v for k, v in r.items() if k != "facility"}, "facility_id": r["facility"]} for r in sent]
    lot_file.write_text(json.dumps(rows))
    rooted = cli("telemetry", "anchor", str(lot_file), "--json")
    assert rooted.returncode == 0, rooted.stderr
    root = bytes.fromhex(json.loads(rooted.stdout)["root"][2:])
    lot = site.sdk.batches.mint(
        site.operator, site.facility, Stage.CONCENTRATE, 12_000_000, 650_000, root
    ).value
    proof = tmp_path / "proof.json"
    ref = f"{sent[0]['device']}:{sent[0]['seq']}"
    assert (
        cli(
            "telemetry", "prove", "--reading", ref, "--data-dir", str(tmp_path / "gw"), "--out", str(proof)
        ).returncode
        == 0
    )
    entry = tmp_path / "weighing.json"
    made = cli(
        "telemetry",
        "weighing",
        str(lot_file),
        "0",
        "--lot",
        str(lot),
        "--proof",
        str(proof),
        "--out",
        str(entry),
    )
    assert made.returncode == 0, made.stderr
    wrong = cli(
        "telemetry",
        "weighing",
        str(lot_file),
        "1",
        "--lot",
        str(lot),
        "--proof",
        str(proof),
        "--out",
        str(tmp_path / "w2.json"),
    )
    assert wrong.returncode == 2 and "proves" in wrong.stderr
    passport = tmp_path / "passport.json"
    exported = cli("export", str(lot), "--readings", str(entry), "--out", str(passport), *site.chain_args())
    assert exported.returncode == 0, exported.stderr
    assert len(json.loads(passport.read_text())["readings"]) == 1
    trust = tmp_path / "trust.json"
    site.sdk.trust_anchor("site").save(trust)
    verified = cli("verify", str(passport), "--trust", str(trust), "--json")
    assert verified.returncode in (0, 3) and json.loads(verified.stdout)["authentic"] is True, verified.stdout
    other = Weighing.model_validate_json(entry.read_text()).model_copy(update={"batch_id": lot + 1000})
    bad = tmp_path / "bad.json"
    bad.write_text(other.model_dump_json())
    refused = cli(
        "export", str(lot), "--readings", str(bad), "--out", str(tmp_path / "p2.json"), *site.chain_args()
    )
    assert refused.returncode == 1 and "reading" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "p2.json").exists()
