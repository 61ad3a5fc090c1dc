"""The UNTP credentials built from a verified passport: the Digital Product Passport (DPP), the
Digital Traceability Events (DTE) and the Digital Conformity Credential (DCC) of an attestation.
A verifier rebuilds each from the passport it carries and compares them field by field."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785

from passport.core.document import PassportDocument, version_hash
from passport.core.policy import Policy, check
from passport.exceptions import CredentialError
from passport.formats.identifiers import Identifiers
from passport.formats.untp.dids import did_pkh, issuer_id
from passport.records.names import Names

CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://test.uncefact.org/vocabulary/untp/dpp/working/"]
TYPE = ["DigitalProductPassport", "VerifiableCredential"]
DTE_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://test.uncefact.org/vocabulary/untp/dte/working/",
]
DTE_TYPE = ["DigitalTraceabilityEvent", "VerifiableCredential"]
DCC_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://test.uncefact.org/vocabulary/untp/dcc/working/",
]
DCC_TYPE = ["DigitalConformityCredential", "VerifiableCredential"]
CBV = "https://ref.gs1.org/cbv/"
URN = "urn:mineral-passport"
STEPS = {
    "mined": "mining",
    "refined": "refining",
    "converted": "conversion",
    "recycled": "recycling",
    "produced": "production",
}
REGULATIONS: dict[str, dict[str, Any]] = {
    "dfars-2027": {
        "type": ["Regulation"],
        "id": "https://www.acquisition.gov/dfars/225.7018-restriction-acquisition-certain-magnets-tantalum-and-tungsten.",
        "name": "DFARS 225.7018: restriction on acquisition of certain magnets, tantalum and tungsten",
        "jurisdictionCountry": "US",
        "administeredBy": {"id": "https://www.acq.osd.mil/dpap/", "name": "US Department of Defense (DPCAP)"},
        "effectiveDate": "2027-01-01",
    },
    "eu-2017-821": {
        "type": ["Regulation"],
        "id": "https://eur-lex.europa.eu/eli/reg/2017/821/oj",
        "name": "Regulation (EU) 2017/821 (conflict minerals: tin, tantalum, tungsten and gold)",
        "jurisdictionCountry": "EU",
        "administeredBy": {"id": "https://commission.europa.eu/", "name": "European Commission"},
        "effectiveDate": "2021-01-01",
    },
}


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")


def _datetime(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest(value: Any) -> str:
    return hashlib.sha256(rfc8785.dumps(value)).hexdigest()


def compositions(document: PassportDocument) -> dict[int, float]:
    """Origin batch id -> share of the product's contained tungsten, through the lineage."""
    nodes = {n.batch_id: n for n in document.lineage.nodes}
    parents: dict[int, list[tuple[int, str]]] = {}
    for e in document.lineage.edges:
        parents.setdefault(e.child, []).append((e.parent, e.via))
    memo: dict[int, dict[int, float]] = {}

    def of(batch_id: int) -> dict[int, float]:
        if batch_id in memo:
            return memo[batch_id]
        ins = parents.get(batch_id, [])
        if not ins:
            out = {batch_id: 1.0}
        elif ins[0][1] == "split":
            out = of(ins[0][0])
        else:
            weights = {p: nodes[p].mass_grams * nodes[p].grade_ppm for p, _ in ins}
            total = sum(weights.values()) or 1
            out = {}
            for p, w in weights.items():
                for origin, share in of(p).items():
                    out[origin] = out.get(origin, 0.0) + share * w / total
        memo[batch_id] = out
        return out

    return of(document.product.batch_id)


def dpp_credential(
    document: PassportDocument,
    issuer: str,
    policies: Sequence[Policy],
    did_web: str | None = None,
    status: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The UNTP DPP credential of ``document`` (which carries its evidence), issued by the member
    ``issuer``, with its ``credentialStatus`` entries ``status`` (see
    :mod:`passport.formats.untp.status`). Deterministic: the same passport, issuer, policies and
    status give the same credential."""
    ref, p = document.chain, document.product
    names = Names(document)
    version = version_hash(document)
    issuer_did = issuer_id(ref.chain_id, issuer, did_web)
    issuer_name = names.member(issuer)
    ids = Identifiers(document)
    batch_urn = ids.batch(p.batch_id)
    created = next(
        (
            t.event_time
            for t in document.transformations
            if any(q.batch_id == p.batch_id for q in t.output_quantity_list)
        ),
        next(
            (c.time for c in document.custody if c.batch_id == p.batch_id and c.type == "minted"),
            ref.as_of_time,
        ),
    )
    facility = {f.facility_id: f for f in document.facilities}[p.facility_id]
    site = names.facility(facility.facility_id, facility.country)
    shares = compositions(document)
    origins = {o.batch_id: o for o in document.origins}
    materials = [
        {
            "type": ["Material"],
            "name": f"tungsten from {origins[b].stage.name.lower()} batch {b}, "
            + names.facility(origins[b].facility_id, origins[b].country),
            "originCountry": origins[b].country,
            "massFraction": round(share, 6),
            "mass": {"value": round(p.contained_ug * share / 1e9, 3), "unit": "KGM"},
            "hazardous": False,
        }
        for b, share in sorted(shares.items())
    ]
    kinds = {f.facility_id: f.kind.name for f in document.facilities}
    step_of = {
        "MINE": "mining",
        "CONCENTRATOR": "concentration",
        "REFINERY": "refining",
        "CONVERTER": "conversion",
        "RECYCLER": "recycling",
    }
    steps: dict[str, list[dict[str, Any]]] = {}
    for c in document.custody:
        if c.type == "minted":
            origin = (
                next(o for o in document.origins if o.batch_id == c.batch_id)
                if c.batch_id in origins
                else None
            )
            step = step_of.get(origin.facility_kind.name, "production") if origin else "production"
            steps.setdefault(step, []).append(
                _link(
                    ref.chain_id,
                    c.tx,
                    f"batch {c.batch_id} minted, block {c.block}",
                    c.model_dump(mode="json"),
                )
            )
    for t in document.transformations:
        step = (
            step_of.get(kinds.get(t.biz_location, ""), "production")
            if t.biz_step == "transforming"
            else "splitting"
        )
        what = f"{t.biz_step} at {names.facility(t.biz_location, t.country)}, block {t.block}"
        steps.setdefault(step, []).append(_link(ref.chain_id, t.tx, what, t.model_dump(mode="json")))
    traceability = [
        {
            "type": ["TraceabilityPerformance"],
            "valueChainProcess": step,
            "verifiedRatio": 1.0,
            "traceabilityEvent": links,
        }
        for step, links in steps.items()
    ]
    claims = []
    for policy in policies:
        result = check(document, policy)
        claim: dict[str, Any] = {
            "type": ["Claim", "Declaration"],
            "id": f"{URN}:claim:{ref.chain_id}:{p.batch_id}:{policy.name}",
            "description": policy.description or policy.name,
            "conformityTopic": "governance.compliance",
            "assessmentDate": _date(ref.as_of_time),
            "conformance": result.ok,
            "reasons": result.reasons,
            "policy": policy.model_dump(mode="json", by_alias=True),
        }
        if policy.name in REGULATIONS:
            claim["referenceRegulation"] = REGULATIONS[policy.name]
        claims.append(claim)
    valid = sum(1 for a in document.attestations if a.status == "valid")
    credential: dict[str, Any] = {
        "@context": CONTEXT,
        "type": TYPE,
        "id": f"{URN}:dpp:{ref.chain_id}:{p.batch_id}:{version.removeprefix('sha256:')}",
        "issuer": {"type": ["CredentialIssuer"], "id": issuer_did, "name": issuer_name},
        "validFrom": _datetime(ref.as_of_time),
        "credentialSubject": {
            "type": ["ProductPassport"],
            "id": batch_urn,
            "granularityLevel": "batch",
            "product": {
                "type": ["Product"],
                "id": batch_urn,
                "name": f"{p.stage.name} batch {p.batch_id}",
                "batchNumber": str(p.batch_id),
                "productCategory": [
                    {
                        "type": ["Classification"],
                        "id": f"{URN}:stage:{p.stage.name}",
                        "code": p.stage.name,
                        "name": p.stage.name,
                        "schemeID": f"{URN}:stage",
                        "schemeName": "Mineral Passport processing stage",
                    }
                ],
                "producedAtFacility": {
                    "id": ids.facility(p.facility_id),
                    "name": site,
                },
                "productionDate": _date(created),
                "countryOfProduction": p.country,
                "dimensions": {
                    "type": ["Dimension"],
                    "weight": {"value": p.mass_grams / 1000, "unit": "KGM"},
                },
                "containedTungsten": {"value": round(p.contained_ug / 1e9, 3), "unit": "KGM"},
            },
            "materialsProvenance": materials,
            "traceabilityInformation": traceability,
            "conformityClaim": claims,
            "dueDiligenceDeclaration": {
                "linkURL": f"{URN}:attestations:{ref.chain_id}:{p.batch_id}:{ref.as_of_block}",
                "linkName": f"{len(document.attestations)} attestations on the lineage, {valid} valid",
                "linkType": "https://test.uncefact.org/vocabulary/linkTypes/dcc",
            },
            "attestations": [
                {
                    "id": f"{URN}:attestation:{ref.chain_id}:{a.uid}",
                    "schema": a.schema_name,
                    "subject": f"{a.subject_kind.lower()} {a.subject}",
                    "status": a.status,
                }
                for a in document.attestations
            ],
        },
        "evidence": _evidence(document),
    }
    if status:
        credential["credentialStatus"] = status
    return credential


def dte_credential(document: PassportDocument, issuer: str, did_web: str | None = None) -> dict[str, Any]:
    """The lineage's events as one UNTP Digital Traceability Event credential, made from the same
    events as the EPCIS document (so the two cannot drift): commissioning (ObjectEvent), hand-overs
    (TransactionEvent: shipping, receiving with the measured mass), weight inspections
    (ObjectEvent) and splits and processing (TransformationEvent, quantities in KGM). Each event's
    id is its CBV 2.0 EPCIS event hash id."""
    from passport.formats.epcis import epcis_document

    ref = document.chain
    names = Names(document)
    owners = {}
    for c in document.custody:
        if c.type in ("offered", "accepted") and c.sender and c.receiver:
            owners[c.tx] = (c.sender, c.receiver)

    def quantities(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for q in items:
            element: dict[str, Any] = {"type": ["QuantityElement"], "productId": q["epcClass"],
                                       "productName": "batch " + q["epcClass"].rsplit(":", 1)[1]}  # fmt: skip
            if "quantity" in q:
                element.update(quantity=q["quantity"], uom=q["uom"])
            out.append(element)
        return out

    events = []
    for e in epcis_document(document)["epcisBody"]["eventList"]:
        step = e["bizStep"]
        event: dict[str, Any] = {
            "id": e["eventID"],
            "processType": step,
            "eventTime": e["eventTime"].replace(".000Z", "Z"),
            "disposition": CBV + "Disp-" + e["disposition"],
            "bizStep": CBV + "BizStep-" + step,
        }
        if "bizLocation" in e:
            event["bizLocation"] = e["bizLocation"]["id"]
        if e["type"] == "TransformationEvent":
            event["type"] = ["TransformationEvent", "Event"]
            event["inputQuantityList"] = quantities(e["inputQuantityList"])
            event["outputQuantityList"] = quantities(e["outputQuantityList"])
        elif step in ("shipping", "receiving"):
            sender, receiver = owners[e["mp:transaction"]]
            event.update(type=["TransactionEvent", "Event"], action=e["action"].lower())
            event["sourceParty"] = f"{URN}:member:{ref.chain_id}:{sender}"
            event["destinationParty"] = f"{URN}:member:{ref.chain_id}:{receiver}"
            event["quantityList"] = quantities(e["quantityList"])
        else:
            event.update(type=["ObjectEvent", "Event"], action=e["action"].lower())
            event["quantityList"] = quantities(e["quantityList"])
        event["transaction"] = f"{URN}:tx:{ref.chain_id}:{e['mp:transaction']}"
        events.append(event)
    version = version_hash(document)
    return {
        "@context": DTE_CONTEXT,
        "type": DTE_TYPE,
        "id": f"{URN}:dte:{ref.chain_id}:{document.product.batch_id}:{version.removeprefix('sha256:')}",
        "issuer": {
            "type": ["CredentialIssuer"],
            "id": issuer_id(ref.chain_id, issuer, did_web),
            "name": names.member(issuer),
        },
        "validFrom": _datetime(ref.as_of_time),
        "credentialSubject": events,
        "evidence": _evidence(document),
    }


@dataclass(frozen=True, slots=True)
class OnChainAttestation:
    """What the registry hashed into an attestation's id (EIP-712), beyond what the passport lists:
    its salt, and the signature deadline (0 for a direct ``attest``)."""

    uid: str
    salt: str
    deadline: int


def dcc_credential(
    document: PassportDocument,
    attestation: OnChainAttestation,
    window: tuple[int, int],
    status: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An on-chain attestation of ``document``'s lineage as a UNTP Digital Conformity Credential,
    issued by its certifier: the assessment, its conformance at the passport's block, the assessed
    facility or product, the certifier's accreditation window as ``authorisation``, and its
    ``credentialStatus`` entries ``status``."""
    ref = document.chain
    names = Names(document)
    entry = next((a for a in document.attestations if a.uid == attestation.uid), None)
    if entry is None:
        raise CredentialError(
            f"attestation {attestation.uid} is not in the passport of batch {document.product.batch_id}"
        )
    facilities = {f.facility_id: f for f in document.facilities}
    nodes = {n.batch_id: n for n in document.lineage.nodes}
    assessment: dict[str, Any] = {
        "type": ["ConformityAssessment", "Declaration"],
        "id": f"{URN}:assessment:{ref.chain_id}:{entry.uid}",
        "name": entry.schema_name,
        "assessmentDate": _date(entry.issued_at),
        "conformityTopic": "governance.compliance",
        "conformance": entry.status == "valid",
        "status": entry.status,
    }
    if entry.subject_kind == "FACILITY":
        f = facilities[entry.subject]
        holder = f.operator
        site = {
            "id": Identifiers(document).facility(f.facility_id),
            "name": names.facility(f.facility_id, f.country),
        }
        assessment["assessedFacility"] = [{"type": ["FacilityVerification"], "facility": site}]
    else:
        n = nodes[entry.subject]
        holder = facilities[n.facility_id].operator
        product = {
            "id": Identifiers(document).batch(n.batch_id),
            "name": f"{n.stage.name} batch {n.batch_id}",
        }
        assessment["assessedProduct"] = [{"type": ["ProductVerification"], "product": product}]
    valid_from, valid_until = window
    credential: dict[str, Any] = {
        "@context": DCC_CONTEXT,
        "type": DCC_TYPE,
        "id": f"{URN}:dcc:{ref.chain_id}:{entry.uid}",
        "issuer": {
            "type": ["CredentialIssuer"],
            "id": did_pkh(ref.chain_id, entry.certifier),
            "name": names.member(entry.certifier),
        },
        "validFrom": _datetime(entry.issued_at),
        "credentialSubject": {
            "type": ["ConformityAttestation", "Attestation"],
            "id": f"{URN}:attestation:{ref.chain_id}:{entry.uid}",
            "name": entry.schema_name,
            "assessorLevel": "3rdParty",
            "assessmentLevel": "Accredited",
            "attestationType": "certification",
            "issuedToParty": {"id": f"{URN}:member:{ref.chain_id}:{holder}", "name": names.member(holder)},
            "authorisation": [
                {
                    "type": ["Endorsement"],
                    "id": f"{URN}:accreditation:{ref.chain_id}:{ref.consortium}:{entry.certifier}:"
                    f"{entry.schema_id}:{valid_from}",
                    "name": f"accredited for {entry.schema_name!r} "
                    f"from {_date(valid_from)} until {_date(valid_until)}",
                    "issuingAuthority": {
                        "id": f"{URN}:consortium:{ref.chain_id}:{ref.consortium}",
                        "name": "the consortium",
                    },
                    "validFrom": _datetime(valid_from),
                    "validUntil": _datetime(valid_until),
                }
            ],
            "assessment": [assessment],
            "onChainAttestation": {
                "uid": entry.uid,
                "registry": ref.registry,
                "schemaId": entry.schema_id,
                "subject": entry.subject,
                "dataHash": entry.data_hash,
                "expiresAt": entry.expires_at,
                "deadline": attestation.deadline,
                "salt": attestation.salt,
                "block": entry.block,
                "transaction": entry.tx,
            },
        },
        "evidence": _evidence(document),
    }
    if entry.expires_at:
        credential["validUntil"] = _datetime(entry.expires_at)
    if status:
        credential["credentialStatus"] = status
    return credential


def _evidence(document: PassportDocument) -> list[dict[str, Any]]:
    """The proof-carrying passport a credential was made from, which its verifier checks."""
    return [
        {
            "type": ["Evidence", "MineralPassportProofBundle"],
            "id": f"{URN}:passport:{version_hash(document)}",
            "passport": document.model_dump(mode="json"),
        }
    ]


def _link(chain_id: int, tx: str, name: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "linkURL": f"{URN}:tx:{chain_id}:{tx}",
        "linkName": name,
        "linkType": "https://test.uncefact.org/vocabulary/linkTypes/dte",
        "hashDigest": _digest(entry),
        "hashMethod": "SHA-256",
    }
