"""The passport's traceability events as a GS1 EPCIS 2.0 JSON-LD ``EPCISDocument``.

- mint -> ObjectEvent ADD, ``commissioning``, ``active``;
- custody offer -> ObjectEvent OBSERVE, ``shipping``, ``in_transit``, the recorded mass (source
  and destination owning parties); acceptance -> ``receiving``, ``in_progress``, with the
  measured mass; a weight discrepancy -> ``inspecting`` with the measured mass;
- split and processing -> TransformationEvent, ``transforming``, input and output quantity lists
  in KGM (processing steps carry their transformation id);
- each device reading the passport proves (``readings``: signed by a device of the lot's
  facility, in the lot's document root, in a window anchored before the mint) -> a
  ``sensorElementList`` entry on the lot's commissioning event: the device as
  ``sensorMetadata.deviceID`` (``urn:mineral-passport:device:<chainId>:<address>``), the reading's
  time, and a ``sensorReport`` of CBV 2.0 measurement type (``Mass`` in KGM for grams,
  ``Dimensionless`` in percent for milli-percent, else the reading's own kind), its value and unit.

Batches and sites are identified by GS1 Digital Link URIs where a GTIN or GLN was disclosed, and by
URNs of ours otherwise (``passport.formats.identifiers``); members by
``urn:mineral-passport:member:<chainId>:<address>``, processing steps by
``…:process:<chainId>:<passport>:<processId>``. Each event's
``eventID`` is its CBV 2.0 EPCIS Event Hash ID, computed by GS1's reference implementation
(``epcis-event-hash-generator``), and carries the transaction and block it was read from. The
document carries the proof-carrying passport it was made from (``mp:passport``), so it verifies
offline the way the UNTP credential does: the passport against the trust anchor, then every
event against the events rebuilt from it.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from typing import Any

from passport.core.compare import Failure, diff
from passport.core.document import DeviceReading, PassportDocument
from passport.evidence.trust import AnyTrustAnchor
from passport.evidence.verify import OfflineReport, verify_offline
from passport.formats.identifiers import Identifiers

CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
NAMESPACE = "https://mineral-passport.example/ns/epcis#"
CONTEXT: list[Any] = [CONTEXT_URL, {"mp": NAMESPACE}]
URN = "urn:mineral-passport"


def _time(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _kg(grams: int) -> float:
    return grams / 1000


# reading unit -> (CBV 2.0 measurement type, UN/CEFACT unit, divisor)
MEASURES = {"g": ("Mass", "KGM", 1000), "milli-percent": ("Dimensionless", "P1", 1000)}


def sensor_element(chain_id: int, reading: DeviceReading) -> dict[str, Any]:
    """One proven device reading as an EPCIS 2.0 sensor element."""
    report: dict[str, Any]
    measure = MEASURES.get(reading.unit)
    if measure is None:
        report = {"type": f"{NAMESPACE}{reading.kind}", "value": reading.value, "mp:unit": reading.unit}
    else:
        kind, uom, divisor = measure
        report = {"type": kind, "value": reading.value / divisor, "uom": uom}
    report["mp:kind"] = reading.kind
    return {
        "sensorMetadata": {
            "time": _time(reading.time),
            "deviceID": f"{URN}:device:{chain_id}:{reading.device}",
        },
        "sensorReport": [{**report, "time": _time(reading.time)}],
    }


def epcis_document(document: PassportDocument) -> dict[str, Any]:
    """The EPCIS 2.0 document of ``document``'s lineage events, with event hash ids."""
    ref = document.chain
    ids = Identifiers(document)
    member = f"{URN}:member:{ref.chain_id}"
    nodes = {n.batch_id: n for n in document.lineage.nodes}
    events: list[tuple[int, int, dict[str, Any]]] = []

    def common(kind: str, time: int, tx: str, block: int) -> dict[str, Any]:
        return {
            "type": kind,
            "eventTime": _time(time),
            "eventTimeZoneOffset": "+00:00",
            "mp:transaction": tx,
            "mp:block": block,
        }

    for n, c in enumerate(document.custody):
        node = nodes[c.batch_id]
        where = {"id": ids.facility(node.facility_id)}
        event = common("ObjectEvent", c.time, c.tx, c.block)
        if c.type == "minted":
            event.update(
                action="ADD",
                bizStep="commissioning",
                disposition="active",
                readPoint=where,
                bizLocation=where,
            )
            event["quantityList"] = [
                {"epcClass": ids.batch(c.batch_id), "quantity": _kg(node.mass_grams), "uom": "KGM"}
            ]
            sensed = [
                sensor_element(ref.chain_id, w.reading) for w in document.readings if w.batch_id == c.batch_id
            ]
            if sensed:
                event["sensorElementList"] = sensed
        elif c.type == "offered":
            event.update(action="OBSERVE", bizStep="shipping", disposition="in_transit")
            # the batch's recorded mass: what the seller ships (the buyer's measurement follows)
            event["quantityList"] = [
                {"epcClass": ids.batch(c.batch_id), "quantity": _kg(node.mass_grams), "uom": "KGM"}
            ]
            event["sourceList"] = [{"type": "owning_party", "source": f"{member}:{c.sender}"}]
            event["destinationList"] = [{"type": "owning_party", "destination": f"{member}:{c.receiver}"}]
        elif c.type in ("accepted", "discrepancy"):
            step = "receiving" if c.type == "accepted" else "inspecting"
            event.update(action="OBSERVE", bizStep=step, disposition="in_progress")
            quantity: dict[str, Any] = {"epcClass": ids.batch(c.batch_id)}
            if c.measured_grams is not None:
                quantity.update(quantity=_kg(c.measured_grams), uom="KGM")
            event["quantityList"] = [quantity]
            if c.recorded_grams is not None:
                event["mp:recordedKilograms"] = _kg(c.recorded_grams)
        else:
            continue  # cancelled offers and title transfers are not physical events
        events.append((c.block, n, event))
    for n, t in enumerate(document.transformations):
        event = common("TransformationEvent", t.event_time, t.tx, t.block)
        event.update(
            bizStep="transforming",
            disposition="in_progress",
            readPoint={"id": ids.facility(t.biz_location)},
            bizLocation={"id": ids.facility(t.biz_location)},
            inputQuantityList=[
                {"epcClass": ids.batch(q.batch_id), "quantity": _kg(q.quantity_grams), "uom": "KGM"}
                for q in t.input_quantity_list
            ],
            outputQuantityList=[
                {"epcClass": ids.batch(q.batch_id), "quantity": _kg(q.quantity_grams), "uom": "KGM"}
                for q in t.output_quantity_list
            ],
        )
        if t.process_id is not None:
            event["transformationID"] = f"{URN}:process:{ref.chain_id}:{ref.passport}:{t.process_id}"
        events.append((t.block, 100_000 + n, event))
    ordered = [e for _, _, e in sorted(events, key=lambda x: (x[0], x[1]))]
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _time(ref.as_of_time),
        "epcisBody": {"eventList": ordered},
    }
    for event, hash_id in zip(ordered, event_hash_ids(doc), strict=True):
        event["eventID"] = hash_id
    doc["mp:passport"] = document.model_dump(mode="json")
    return doc


def event_hash_ids(doc: dict[str, Any]) -> list[str]:
    """CBV 2.0 EPCIS Event Hash IDs (``ni:///sha-256;…?ver=CBV2.0``) of the document's events,
    by GS1's reference implementation (contexts from its package, no network)."""
    from epcis_event_hash_generator import hash_generator
    from epcis_event_hash_generator.json_to_py import event_list_from_epcis_document_json
    from pyld import jsonld

    body = copy.deepcopy({k: v for k, v in doc.items() if k != "mp:passport"})
    for event in body["epcisBody"]["eventList"]:
        event.pop("eventID", None)
    previous = jsonld.get_document_loader()
    jsonld.set_document_loader(_offline_loader)
    try:
        events = event_list_from_epcis_document_json(body)
        return [str(h) for h in hash_generator.epcis_hashes_from_events(events)]
    finally:
        jsonld.set_document_loader(previous)


# The EPCIS 2.0.0 context as GS1's hash generator ships it (by the SHA-256 of its content).
_SHIPPED_CONTEXTS = {CONTEXT_URL: "e532647e8eb371379b8b0e8602d8981c8566bc60f7351f22c76a5bc865962008.jsonld"}


def _offline_loader(url: str, _options: Any = None) -> dict[str, Any]:
    """JSON-LD contexts from the installed package only: never the network."""
    from importlib import resources

    from pyld.jsonld import JsonLdError

    name = _SHIPPED_CONTEXTS.get(url)
    if name is None:
        raise JsonLdError(f"{url}: not a shipped context (no network)", "jsonld.LoadDocumentError")
    text = resources.files("epcis_event_hash_generator").joinpath(name).read_text()
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads(text),
    }


def verify_document(text: str, trust: AnyTrustAnchor) -> OfflineReport:
    """Verify an EPCIS document offline: its embedded passport against the trust anchor, then
    every event (and hash id) against the document rebuilt from the verified passport."""
    try:
        doc = json.loads(text)
        document = PassportDocument.model_validate(doc["mp:passport"])
    except (ValueError, KeyError, TypeError) as exc:
        report = OfflineReport(0, 0, trust.name, len(trust.validators), trust.sealed)
        report.failures.append(Failure("mp:passport", f"no embedded passport ({exc})"))
        return report
    report = verify_offline(document, trust)
    expected = epcis_document(document)
    rebuilt = expected["epcisBody"]["eventList"]
    for m in diff(
        {k: v for k, v in doc.items() if k != "mp:passport"},
        {k: v for k, v in expected.items() if k != "mp:passport"},
    ):
        reason = f"the document has {m.in_file!r}, the passport gives {m.on_chain!r}"
        at = re.match(r"epcisBody\.eventList\[(\d+)\]", m.path)
        if at is not None and int(at.group(1)) < len(rebuilt):
            event = rebuilt[int(at.group(1))]
            reason += f" (the {event.get('bizStep', event['type'])} event {event['eventID']})"
        report.failures.append(Failure(f"epcis.{m.path}", reason))
    return report
