"""Verifying a UNTP credential offline: the signature, the issuer's key against its DID, the
issuer an active member at the passport's block, the embedded passport against the trust anchor,
and every field against the credential rebuilt from the verified passport."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import rfc8785

from passport.core.compare import Failure, diff
from passport.core.document import PassportDocument
from passport.core.eip712 import attestation_typed_data, attestation_uid
from passport.core.policy import Policy
from passport.evidence.proven import ProvenChain, ProvenData, accreditation_window
from passport.evidence.trust import AnyTrustAnchor
from passport.evidence.verify import OfflineReport, active_member, verify_offline
from passport.exceptions import CredentialError, ProofError
from passport.formats.untp.credentials import (
    DCC_TYPE,
    DTE_TYPE,
    TYPE,
    OnChainAttestation,
    dcc_credential,
    dpp_credential,
    dte_credential,
)
from passport.formats.untp.dfr import DFR_TYPE, verify_dfr
from passport.formats.untp.dids import parse_did_pkh, web_issuer
from passport.formats.untp.jose import address_of, read
from passport.formats.untp.status import StatusList, check_entries, check_status, entries_of


def verify_credential(
    token: str,
    trust: AnyTrustAnchor,
    status: Sequence[StatusList] = (),
    now: datetime | None = None,
) -> OfflineReport:
    """Verify a DPP, DTE or DCC credential offline: signature, issuer key = DID account, issuer an active
    member at the passport's block, the embedded passport against the trust anchor, and every
    credential field against the credential rebuilt from the verified passport; then, with the
    issuer's ``status`` lists, whether it is revoked or suspended (at ``now``, for freshness)."""
    if _is_dfr(token):
        report = verify_dfr(token, trust)
        if status:
            report.failures.append(Failure("credential.credentialStatus", "a DFR names no status list"))
        return report
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
    signer = address_of(header["jwk"])
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
    stated = credential.get("credentialStatus")
    kind = "dcc" if DCC_TYPE[0] in kinds else "dpp" if TYPE[0] in kinds else None
    if stated is not None and kind is None:
        report.failures.append(Failure("credential.credentialStatus", "only a DPP or a DCC carries one"))
    elif kind is not None:
        index = document.product.batch_id if kind == "dpp" else None
        report.failures += check_entries(credential, trust.chain_id, issuer, kind, index)
        _status(report, credential, signer, status, trust.chain_id, document.chain.as_of_block, now)
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
        built = dcc_credential(document, on_chain, window, stated)
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
        built = dpp_credential(document, issuer, policies, did_web, stated)
    # compared in the form that was signed (RFC 8785: 1.0 is written 1)
    expected = json.loads(rfc8785.dumps(built))
    for m in diff(credential, expected):
        report.failures.append(
            Failure(
                f"credential.{m.path}", f"the credential has {m.in_file!r}, the passport gives {m.on_chain!r}"
            )
        )
    return report


def _status(
    report: OfflineReport,
    credential: dict[str, Any],
    signer: str,
    lists: Sequence[StatusList],
    chain_id: int,
    block: int,
    now: datetime | None,
) -> None:
    """The status lists' verdicts on ``credential``, into ``report``: a set bit is a failure
    ("revoked at block N"), a clear one a note; an entry no list was given for, a note."""
    if not entries_of(credential):
        if lists:
            report.failures.append(
                Failure("credential.credentialStatus", "none: the credential names no status list")
            )
        return
    checked = check_status(credential, signer, lists, chain_id, block, now)
    report.failures += checked.failures
    report.notes += [f"status: {f}" for f in checked.findings if not f.set]
    report.notes += [f"status not checked: no list given for {url}" for url in checked.unchecked]


def _refused(where: str, reason: str, trust: AnyTrustAnchor) -> OfflineReport:
    report = OfflineReport(0, 0, trust.name, len(trust.validators), trust.sealed)
    report.failures.append(Failure(where, reason))
    return report


def _is_dfr(token: str) -> bool:
    """Whether ``token``'s payload says it is a Digital Facility Record (read unchecked: the DFR
    verifier checks the signature)."""
    try:
        payload = token.strip().split(".")[1]
        credential = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return DFR_TYPE[0] in (credential.get("type") or [])
    except (ValueError, IndexError, AttributeError, TypeError):
        return False
