"""The passport as a UNTP Digital Product Passport: a W3C VC 2.0 credential, secured with VC-JOSE
(``vc+jwt``, ES256K) and signed by the exporting member's chain key.

- The issuer is the member's account as ``did:pkh:eip155:<chainId>:<address>`` (CAIP-10). The JWS
  carries the public key (``jwk``); its keccak must be the DID's address.
- The credential carries the proof-carrying passport it was made from (``evidence``). A verifier
  checks the passport offline against the trust anchor, checks the issuer is an active member at
  the passport's block (storage proof), and rebuilds the credential from the verified passport:
  any difference is a named failure. Policies are embedded, so a custom policy is re-run too.
- ``materialsProvenance`` splits the batch's contained tungsten by origin mine through the on-chain
  lineage (processing blends by the inputs' contained tungsten; a split child keeps its parent's
  composition).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785
from eth_keys.datatypes import PrivateKey, PublicKey
from eth_utils import to_checksum_address
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from passport.core.compare import Failure, diff
from passport.core.document import PassportDocument, version_hash
from passport.core.eip712 import attestation_typed_data, attestation_uid
from passport.core.policy import Policy, check
from passport.evidence.proven import ProvenChain, ProvenData, accreditation_window
from passport.evidence.trust import AnyTrustAnchor
from passport.evidence.verify import OfflineReport, active_member, verify_offline
from passport.exceptions import CredentialError, ProofError
from passport.formats.identifiers import Identifiers
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
ALG = "ES256K"
MEDIA_TYPE = "vc+jwt"
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


def did_pkh(chain_id: int, address: str) -> str:
    return f"did:pkh:eip155:{chain_id}:{to_checksum_address(address)}"


def issuer_id(chain_id: int, address: str, did_web: str | None) -> str:
    """``did:web:<domain>`` when the member has one, else ``did:pkh:eip155:<chainId>:<address>``."""
    return f"did:web:{did_web}" if did_web else did_pkh(chain_id, address)


def did_document(did_web: str, chain_id: int, address: str, key: PublicKey) -> dict[str, Any]:
    """The did.json to publish at the member's domain: its signing key, and its chain account."""
    did = f"did:web:{did_web}"
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
        "id": did,
        "alsoKnownAs": [did_pkh(chain_id, address)],
        "verificationMethod": [
            {
                "id": f"{did}#key-1",
                "type": "JsonWebKey2020",
                "controller": did,
                "publicKeyJwk": public_jwk(key),
            },
            {
                "id": f"{did}#blockchainAccountId",
                "type": "EcdsaSecp256k1RecoveryMethod2020",
                "controller": did,
                "blockchainAccountId": f"eip155:{chain_id}:{to_checksum_address(address)}",
            },
        ],
        "assertionMethod": [f"{did}#key-1", f"{did}#blockchainAccountId"],
    }


def web_issuer(document: PassportDocument, did: str) -> str:
    """The member whose profile, disclosed in ``document`` (and so proven against its on-chain
    profile root), names ``did``'s domain: how a did:web issuer is tied to an account without DNS.

    Raises:
        CredentialError: no disclosed member profile names that domain.
    """
    domain = did.removeprefix("did:web:")
    for d in document.disclosures:
        field = d.revealed.get("didWeb")
        if d.kind == "member" and field is not None and field.value == domain:
            return to_checksum_address(d.subject)
    raise CredentialError(f"issuer {did}: no member profile disclosed in the passport names that domain")


def parse_did_pkh(did: str) -> tuple[int, str]:
    parts = did.split(":")
    if len(parts) != 5 or parts[:3] != ["did", "pkh", "eip155"] or not parts[3].isdigit():
        raise CredentialError(f"issuer {did!r} is not a did:pkh:eip155 DID")
    try:
        return int(parts[3]), to_checksum_address(parts[4])
    except ValueError:
        raise CredentialError(f"issuer {did!r}: not an address") from None


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
    document: PassportDocument, issuer: str, policies: Sequence[Policy], did_web: str | None = None
) -> dict[str, Any]:
    """The UNTP DPP credential of ``document`` (which carries its evidence), issued by the member
    ``issuer``. Deterministic: the same passport, issuer and policies give the same credential."""
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
    return {
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
    document: PassportDocument, attestation: OnChainAttestation, window: tuple[int, int]
) -> dict[str, Any]:
    """An on-chain attestation of ``document``'s lineage as a UNTP Digital Conformity Credential,
    issued by its certifier: the assessment, its conformance at the passport's block, the assessed
    facility or product, and the certifier's accreditation window as ``authorisation``."""
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


# ------------------------------------------------------------------ JOSE


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(key: PublicKey) -> dict[str, str]:
    raw = key.to_bytes()
    return {"kty": "EC", "crv": "secp256k1", "x": _b64(raw[:32]), "y": _b64(raw[32:])}


def sign(credential: dict[str, Any], private_key: bytes) -> str:
    """The credential as a compact JWS (``typ: vc+jwt``, ``alg: ES256K``), key in the header."""
    secret = PrivateKey(private_key)
    jwk = public_jwk(secret.public_key)
    key = ECKey.import_key({**jwk, "d": _b64(private_key)})
    header = {
        "alg": ALG,
        "typ": MEDIA_TYPE,
        "cty": "vc",
        "kid": credential["issuer"]["id"] + "#blockchainAccountId",
        "jwk": jwk,
    }
    return str(jws.serialize_compact(header, rfc8785.dumps(credential), key, algorithms=[ALG]))


def _address_of(jwk: dict[str, Any]) -> str:
    def raw(v: str) -> bytes:
        return base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))

    return PublicKey(raw(jwk["x"]) + raw(jwk["y"])).to_checksum_address()


def read(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(protected header, credential), the signature checked with the header's key.

    Raises:
        CredentialError: not a compact JWS, a header that is not ES256K vc+jwt with a secp256k1
            public key, a signature that does not verify, or a payload that is not JSON.
    """
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise CredentialError("not a compact JWS (three base64url parts)")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except ValueError as exc:
        raise CredentialError(f"the JWS header is not JSON ({exc})") from exc
    if not isinstance(header, dict) or header.get("alg") != ALG or header.get("typ") != MEDIA_TYPE:
        raise CredentialError(f"the JWS header must say alg {ALG} and typ {MEDIA_TYPE}")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or jwk.get("crv") != "secp256k1" or "d" in jwk or not {"x", "y"} <= set(jwk):
        raise CredentialError("the JWS header carries no secp256k1 public key (jwk)")
    try:
        public: dict[str, str | list[str]] = {k: str(jwk[k]) for k in ("kty", "crv", "x", "y")}
        obj = jws.deserialize_compact(token.strip(), ECKey.import_key(public), algorithms=[ALG])
    except (JoseError, ValueError, KeyError) as exc:
        raise CredentialError(f"the JWS signature does not verify ({exc})") from exc
    try:
        credential = json.loads(obj.payload)
    except ValueError as exc:
        raise CredentialError(f"the payload is not JSON ({exc})") from exc
    if not isinstance(credential, dict):
        raise CredentialError("the payload is not a credential object")
    return header, credential


def verify_credential(token: str, trust: AnyTrustAnchor) -> OfflineReport:
    """Verify a DPP, DTE or DCC credential offline: signature, issuer key = DID account, issuer an active
    member at the passport's block, the embedded passport against the trust anchor, and every
    credential field against the credential rebuilt from the verified passport."""
    try:
        header, credential = read(token)
        issuer_did = str(credential.get("issuer", {}).get("id", ""))
        document = PassportDocument.model_validate(credential["evidence"][0]["passport"])
        did_web = issuer_did.removeprefix("did:web:") if issuer_did.startswith("did:web:") else None
        if did_web is not None:
            chain_id, issuer = trust.chain_id, web_issuer(document, issuer_did)
        else:
            chain_id, issuer = parse_did_pkh(issuer_did)
    except CredentialError as exc:
        return _refused("credential", str(exc), trust)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        return _refused("credential.evidence", f"no embedded passport ({exc})", trust)
    failures: list[Failure] = []
    signer = _address_of(header["jwk"])
    if signer != issuer:
        failures.append(Failure("credential.issuer.id", f"signed by the key of {signer}, not of {issuer}"))
    if chain_id != trust.chain_id:
        failures.append(
            Failure("credential.issuer.id", f"chain {chain_id}, the trust anchor's is {trust.chain_id}")
        )
    consortium = trust.contracts["consortium"].address
    kinds = credential.get("type") or []
    windows: list[tuple[int, int] | None] = []
    on_chain: OnChainAttestation | None = None
    entry = None
    if DCC_TYPE[0] in kinds:
        try:
            claimed = credential["credentialSubject"]["onChainAttestation"]
            on_chain = OnChainAttestation(str(claimed["uid"]), str(claimed["salt"]), int(claimed["deadline"]))
        except (KeyError, TypeError, ValueError) as exc:
            return _refused("credential.credentialSubject.onChainAttestation", f"unreadable ({exc})", trust)
        entry = next((a for a in document.attestations if a.uid == on_chain.uid), None)

    def checks(chain: ProvenChain, proven: ProvenData) -> list[Failure]:
        out = active_member(issuer, consortium)(chain, proven)
        if entry is not None:
            try:
                windows.append(
                    accreditation_window(chain, consortium, entry.certifier, entry.schema_id, entry.issued_at)
                )
            except ProofError as exc:
                out.append(Failure(exc.what, exc.reason))
        return out

    report = verify_offline(document, trust, also=checks)
    report.failures = failures + report.failures
    if on_chain is not None:
        if entry is None:
            report.failures.append(
                Failure(
                    "credential.credentialSubject.onChainAttestation.uid",
                    f"{on_chain.uid} is not an attestation of the embedded passport",
                )
            )
            return report
        if entry.certifier != issuer:
            report.failures.append(
                Failure(
                    "credential.issuer.id", f"the attestation's certifier is {entry.certifier}, not {issuer}"
                )
            )
        try:
            typed = attestation_typed_data(
                trust.chain_id,
                trust.contracts["registry"].address,
                entry.certifier,
                entry.schema_id,
                entry.subject,
                bytes.fromhex(entry.data_hash[2:]),
                entry.expires_at,
                on_chain.deadline,
                bytes.fromhex(on_chain.salt[2:]),
            )
            if attestation_uid(typed) != entry.uid:
                report.failures.append(
                    Failure(
                        "credential.credentialSubject.onChainAttestation",
                        "its fields do not hash (EIP-712) to the attestation id",
                    )
                )
        except ValueError as exc:
            report.failures.append(
                Failure("credential.credentialSubject.onChainAttestation", f"unreadable ({exc})")
            )
        window = windows[0] if windows else None
        if window is None:
            report.failures.append(
                Failure(
                    "credential.credentialSubject.authorisation",
                    "the certifier was not accredited when it attested",
                )
            )
            return report
        built = dcc_credential(document, on_chain, window)
    elif DTE_TYPE[0] in kinds:
        built = dte_credential(document, issuer, did_web)
    elif TYPE[0] not in kinds:
        report.failures.append(Failure("credential.type", f"{kinds!r} names no DPP, DTE or DCC credential"))
        return report
    else:
        try:
            claims = credential["credentialSubject"]["conformityClaim"]
            policies = [Policy.model_validate(c["policy"]) for c in claims]
        except (KeyError, TypeError, ValueError) as exc:
            report.failures.append(
                Failure("credential.credentialSubject.conformityClaim", f"unreadable policies ({exc})")
            )
            return report
        built = dpp_credential(document, issuer, policies, did_web)
    # compared in the form that was signed (RFC 8785: 1.0 is written 1)
    expected = json.loads(rfc8785.dumps(built))
    for m in diff(credential, expected):
        report.failures.append(
            Failure(
                f"credential.{m.path}", f"the credential has {m.in_file!r}, the passport gives {m.on_chain!r}"
            )
        )
    return report


def _refused(where: str, reason: str, trust: AnyTrustAnchor) -> OfflineReport:
    report = OfflineReport(0, 0, trust.name, len(trust.validators), trust.sealed)
    report.failures.append(Failure(where, reason))
    return report


def embedded_passport(token: str) -> PassportDocument | None:
    """The passport a credential carries, read without checking anything (for display)."""
    try:
        payload = token.strip().split(".")[1]
        credential = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return PassportDocument.model_validate(credential["evidence"][0]["passport"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None
