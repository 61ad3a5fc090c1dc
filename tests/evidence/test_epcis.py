"""The WF6 lineage as a GS1 EPCIS 2.0 document: it validates against GS1's JSON Schema, its
@context expands with JSON-LD against the shipped context with no network, every event has a
distinct CBV 2.0 event hash id, and it verifies offline; any changed event field or id fails."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft7Validator
from pyld import jsonld

from passport.cli import cli
from passport.formats import epcis
from passport.toolchain.compiler import REPO_ROOT
from tests.evidence.conftest import Exported, chain_args

pytestmark = pytest.mark.slow
STANDARDS = REPO_ROOT.parent / "shared" / "standards" / "epcis"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("network access")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield


@pytest.fixture(scope="module")
def document(node_export: Exported, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("epcis") / "wf6.epcis.json"
    args = chain_args(node_export)
    block = str(node_export.wf6.chain.as_of_block)
    result = CliRunner().invoke(
        cli,
        [
            "passport",
            "export",
            str(node_export.result.batches["wf6"]),
            "--format",
            "epcis",
            "--block",
            block,
            "--out",
            str(out),
            *args,
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_validates_against_gs1_schema_and_expands_offline(document: Path, no_network: None) -> None:
    doc = json.loads(document.read_text())
    schema = json.loads((STANDARDS / "EPCIS-JSON-Schema.json").read_text())
    errors = list(Draft7Validator(schema).iter_errors(doc))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    shipped = json.loads((STANDARDS / "epcis-context.jsonld").read_text())

    def loader(url: str, _options: Any = None) -> dict[str, Any]:
        assert url == epcis.CONTEXT_URL, url
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": shipped,
        }

    body = {k: v for k, v in doc.items() if k != "mp:passport"}
    expanded = jsonld.expand(body, {"documentLoader": loader})
    text = json.dumps(expanded)
    assert "https://ref.gs1.org/epcis/TransformationEvent" in text
    assert "https://ref.gs1.org/cbv/BizStep-commissioning" in text
    events = doc["epcisBody"]["eventList"]
    kinds = {(e["type"], e.get("bizStep")) for e in events}
    assert {("ObjectEvent", "commissioning"), ("ObjectEvent", "shipping"), ("ObjectEvent", "receiving"),
            ("ObjectEvent", "inspecting"), ("TransformationEvent", "transforming")} <= kinds  # fmt: skip
    ids = [e["eventID"] for e in events]
    assert len(set(ids)) == len(ids) and all(
        i.startswith("ni:///sha-256;") and i.endswith("?ver=CBV2.0") for i in ids
    )
    assert epcis.event_hash_ids(doc) == ids  # recomputed without network


def test_verifies_offline_and_fails_on_any_change(
    document: Path, node_export: Exported, tmp_path: Path
) -> None:
    trust = str(node_export.result.trust_anchor)
    ok = CliRunner().invoke(cli, ["passport", "verify", str(document), "--trust", trust])
    assert ok.exit_code == 0, ok.output
    doc = json.loads(document.read_text())
    events = doc["epcisBody"]["eventList"]
    changes = [
        ("eventID", lambda e: e.update(eventID=e["eventID"][:-12] + "0" * 12)),
        ("eventTime", lambda e: e.update(eventTime="2020-01-01T00:00:00.000Z")),
        ("quantity", lambda e: e.get("quantityList", e.get("inputQuantityList"))[0].update(quantity=1.0)),
        ("bizStep", lambda e: e.update(bizStep="destroying")),
    ]  # fmt: skip
    for n in (0, len(events) // 2, len(events) - 1):
        for name, change in changes:
            tampered = json.loads(json.dumps(doc))
            change(tampered["epcisBody"]["eventList"][n])
            path = tmp_path / f"t-{n}-{name}.json"
            path.write_text(json.dumps(tampered))
            result = CliRunner().invoke(cli, ["passport", "verify", str(path), "--trust", trust, "--json"])
            assert result.exit_code == 1, (n, name)
            wheres = [f["where"] for f in json.loads(result.output)["failures"]]
            assert any(w.startswith(f"epcis.epcisBody.eventList[{n}]") for w in wheres), (n, name, wheres)
    dropped = json.loads(json.dumps(doc))
    del dropped["epcisBody"]["eventList"][1]
    path = tmp_path / "dropped.json"
    path.write_text(json.dumps(dropped))
    assert CliRunner().invoke(cli, ["passport", "verify", str(path), "--trust", trust]).exit_code == 1


def test_gs1_digital_link_where_a_gtin_or_gln_is_disclosed(node_export: Exported) -> None:
    from passport.core.document import PassportDocument

    buyer = PassportDocument.load(node_export.result.passports["wf6-buyer"])
    public = PassportDocument.load(node_export.result.passports["wf6-public"])
    events = json.dumps(epcis.epcis_document(buyer)["epcisBody"])
    assert "https://id.gs1.org/414/9520999000016" in events  # the refinery's GLN (buyer tier)
    assert "https://id.gs1.org/01/09520999000108/10/1" in events  # lot 1's GTIN
    assert "https://id.gs1.org/01/09520999000108/10/3" in events  # its split child shares it
    withheld = json.dumps(epcis.epcis_document(public)["epcisBody"])
    assert "id.gs1.org" not in withheld and "urn:mineral-passport:facility:" in withheld
    assert epcis.verify_document(json.dumps(epcis.epcis_document(buyer)), node_export.trust).ok


def test_proven_weighings_are_sensor_elements_and_every_change_fails(node_export: Exported) -> None:
    buyer = node_export.result.documents["wf6-buyer"]
    assert buyer.readings  # the demo's lots were weighed by their mines' weighbridges
    doc = epcis.epcis_document(buyer)
    schema = json.loads((STANDARDS / "EPCIS-JSON-Schema.json").read_text())
    assert not list(Draft7Validator(schema).iter_errors(doc))
    events = doc["epcisBody"]["eventList"]
    sensed = {n: e for n, e in enumerate(events) if "sensorElementList" in e}
    lots = {w.batch_id: w.reading for w in buyer.readings}
    assert len(sensed) == len(lots)
    for event in sensed.values():
        assert event["bizStep"] == "commissioning"
        (element,) = event["sensorElementList"]
        reading = next(r for r in lots.values() if element["sensorMetadata"]["deviceID"].endswith(r.device))
        (report,) = element["sensorReport"]
        assert (report["type"], report["value"], report["uom"]) == ("Mass", reading.value / 1000, "KGM")
    trust = node_export.trust
    assert epcis.verify_document(json.dumps(doc), trust).ok
    changes: list[tuple[str, Any]] = [
        ("value", lambda el: el["sensorReport"][0].update(value=el["sensorReport"][0]["value"] + 1)),
        ("type", lambda el: el["sensorReport"][0].update(type="Temperature")),
        ("uom", lambda el: el["sensorReport"][0].update(uom="GRM")),
        ("report time", lambda el: el["sensorReport"][0].update(time="2020-01-01T00:00:00.000Z")),
        (
            "device",
            lambda el: el["sensorMetadata"].update(deviceID=el["sensorMetadata"]["deviceID"][:-4] + "0000"),
        ),
        ("metadata time", lambda el: el["sensorMetadata"].update(time="2020-01-01T00:00:00.000Z")),
    ]
    for n in sensed:
        for name, change in changes:
            tampered = json.loads(json.dumps(doc))
            change(tampered["epcisBody"]["eventList"][n]["sensorElementList"][0])
            report = epcis.verify_document(json.dumps(tampered), trust)
            named = [
                f
                for f in report.failures
                if f.where.startswith(f"epcis.epcisBody.eventList[{n}].sensorElementList")
            ]
            assert named and "commissioning event ni:///" in named[0].reason, (n, name, report.failures)
        dropped = json.loads(json.dumps(doc))
        del dropped["epcisBody"]["eventList"][n]["sensorElementList"]
        assert not epcis.verify_document(json.dumps(dropped), trust).ok
