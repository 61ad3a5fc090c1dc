"""A facility as a UNTP Digital Facility Record (DFR): a W3C VC 2.0 credential (vc+jwt, ES256K)
issued by the facility's operator as ``did:pkh``. It carries what it is made from (``evidence``:
the facility's storage proofs at one block and a disclosure of its record, a
``facility-proof@1``); a verifier reads the facility from those proofs against the trust
anchor, checks the issuer is its operator and an active member then, and rebuilds the credential:
any difference is a named failure."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785

from passport.core.compare import Failure, diff
from passport.core.types import Facility
from passport.evidence.facility import FacilityProof, read_facility
from passport.evidence.trust import AnyTrustAnchor
from passport.evidence.verify import OfflineReport
from passport.exceptions import CredentialError
from passport.formats.identifiers import facility_uri
from passport.formats.untp.credentials import URN, _datetime
from passport.formats.untp.dids import did_pkh, parse_did_pkh
from passport.formats.untp.jose import address_of, read

DFR_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://test.uncefact.org/vocabulary/untp/dfr/working/",
]
DFR_TYPE = ["DigitalFacilityRecord", "VerifiableCredential"]


def dfr_credential(proof: FacilityProof, facility: Facility, block: int, time: int) -> dict[str, Any]:
    """The DFR of ``facility`` as ``proof`` shows it at ``block`` (its timestamp ``time``)."""
    chain_id, consortium = proof.chain.chain_id, proof.chain.consortium
    fields = proof.disclosure.values() if proof.disclosure is not None else {}
    fid = facility.facility_id
    site: dict[str, Any] = {
        "type": ["Facility"],
        # the id the passports' DPP (producedAtFacility), DCC and EPCIS name this facility by
        "id": facility_uri(chain_id, consortium, fid, str(fields["gln"]) if "gln" in fields else None),
        "name": str(fields.get("name", f"facility {fid}")),
        "countryOfOperation": facility.country,
        "processCategory": [
            {
                "type": ["Classification"],
                "id": f"{URN}:facility-kind:{facility.kind.name}",
                "code": facility.kind.name,
                "name": facility.kind.name.lower(),
                "schemeID": f"{URN}:facility-kind",
                "schemeName": "Mineral Passport facility kinds (IConsortium.FacilityKind)",
            }
        ],
        "operatedByParty": {
            "id": did_pkh(chain_id, facility.operator),
            "name": f"member {facility.operator}",
        },
    }
    if "licence.number" in fields:
        site["registeredId"] = str(fields["licence.number"])
        authority = str(fields.get("licence.authority", "licensing authority"))
        site["idScheme"] = {
            "type": ["IdentifierScheme"],
            "id": f"{URN}:licence:{hashlib.sha256(authority.encode()).hexdigest()[:16]}",
            "name": authority,
        }
    address = {
        key: str(fields[path])
        for key, path in (
            ("streetAddress", "address.street"),
            ("postalCode", "address.postalCode"),
            ("addressLocality", "address.city"),
            ("addressRegion", "address.region"),
            ("addressCountry", "address.country"),
        )
        if path in fields
    }
    if address:
        site["address"] = address
    if "coordinates.latitude" in fields and "coordinates.longitude" in fields:
        point = [float(fields["coordinates.longitude"]), float(fields["coordinates.latitude"])]
        site["locationInformation"] = {"geoLocation": {"type": "Point", "coordinates": point}}
    subject = {
        "type": ["FacilityRecord"],
        "id": f"{URN}:facility-record:{chain_id}:{consortium}:{fid}:{block}",
        "facility": site,
        "mp:recordRoot": facility.record_root,
        "mp:sanctioned": facility.sanctioned,
        "mp:operatorSanctioned": facility.operator_sanctioned,
        "mp:withheld": sorted(proof.disclosure.withheld) if proof.disclosure is not None else [],
    }
    bundle = proof.model_dump(mode="json")
    return {
        "type": DFR_TYPE,
        "@context": DFR_CONTEXT,
        "id": f"{URN}:dfr:{chain_id}:{consortium}:{fid}:{block}",
        "issuer": {
            "type": ["CredentialIssuer"],
            "id": did_pkh(chain_id, facility.operator),
            "name": f"operator of {site['name']}",
        },
        "validFrom": _datetime(time),
        "credentialSubject": subject,
        "evidence": [
            {
                "type": ["Evidence", "MineralPassportFacilityProof"],
                "id": f"{URN}:facility-proof:{hashlib.sha256(rfc8785.dumps(bundle)).hexdigest()}",
                "proof": bundle,
            }
        ],
    }


def verify_dfr(token: str, trust: AnyTrustAnchor) -> OfflineReport:
    """Verify a DFR offline: the signature; the facility read from the proofs it carries against
    ``trust`` (its operator an active member then, its record disclosure hanging from the root on
    chain); the issuer its operator; and every field against the DFR rebuilt from those proofs."""
    report = OfflineReport(0, 0, trust.name, len(trust.validators), trust.sealed)
    try:
        header, credential = read(token)
    except CredentialError as exc:
        report.failures.append(Failure("credential", str(exc)))
        return report
    try:
        proof = FacilityProof.model_validate(credential["evidence"][0]["proof"])
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        report.failures.append(Failure("credential.evidence", f"no facility proof ({exc})"))
        return report
    try:
        chain_id, issuer = parse_did_pkh(str((credential.get("issuer") or {}).get("id", "")))
    except (CredentialError, AttributeError) as exc:
        report.failures.append(Failure("credential.issuer.id", str(exc)))
        return report
    signer = address_of(header["jwk"])
    if signer != issuer:
        report.failures.append(
            Failure("credential.issuer.id", f"signed by the key of {signer}, not of {issuer}")
        )
    if chain_id != trust.chain_id:
        report.failures.append(
            Failure("credential.issuer.id", f"chain {chain_id}, the trust anchor's is {trust.chain_id}")
        )
    proven = read_facility(proof, trust)
    report.as_of_block = proven.block
    report.failures += proven.failures
    if proven.facility is None:
        return report
    if proven.facility.operator != issuer:
        report.failures.append(
            Failure("credential.issuer.id", f"{issuer} is not the operator of facility {proof.facility_id}")
        )
    expected = json.loads(rfc8785.dumps(dfr_credential(proof, proven.facility, proven.block, proven.time)))
    for m in diff(credential, expected):
        report.failures.append(
            Failure(
                f"credential.{m.path}", f"the credential has {m.in_file!r}, the proofs give {m.on_chain!r}"
            )
        )
    return report
