"""Exporting a passport: the one place that turns (batch, format, tier, …) into a file's bytes.
``passport export``, the demo and the resolver all export through :func:`export_passport`
(assemble, prove, disclose at a tier) and :func:`render` (the passport in a format)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from passport.core.document import PassportDocument, Weighing
from passport.core.policy import Policy, builtin_policies, load_policy
from passport.evidence.facility import read_facility
from passport.evidence.trust import AnyTrustAnchor, CometTrustAnchor
from passport.exceptions import SdkError
from passport.formats import epcis, untp
from passport.records.disclosure import Disclosure, Tier, load_tier
from passport.records.vault import Vault
from passport.sdk.assembly import assemble
from passport.sdk.attestations import on_chain_attestation
from passport.sdk.evidence import export_with_evidence, facility_proof, trust_anchor
from passport.sdk.status import dcc_index, status_for
from passport.viewer import page_title, render_page

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from passport.sdk import Sdk

# format -> media type of its file
FORMATS = {
    "passport": "application/json",
    "untp-dpp": "application/vc+jwt",
    "untp-dte": "application/vc+jwt",
    "untp-dcc": "application/vc+jwt",
    "epcis": "application/ld+json",
    "page": "text/html; charset=utf-8",
}
SIGNED = ("untp-dpp", "untp-dte", "untp-dcc")


@dataclass(frozen=True)
class Export:
    """A passport in one format: the document it carries and the file's bytes."""

    document: PassportDocument
    format: str
    content: bytes
    issuer: str | None = None  # the credential's issuer (a did), for the signed formats

    @property
    def media_type(self) -> str:
        return FORMATS[self.format]


def export_passport(
    sdk: Sdk,
    batch_id: int,
    block: int | None = None,
    tier: str | Tier | None = None,
    vault: Path | Vault | None = None,
    evidence: bool = True,
    members: Sequence[str] = (),
    readings: Sequence[Weighing] = (),
    trust: CometTrustAnchor | None = None,
    allow_missing: bool = False,
) -> PassportDocument:
    """The passport of ``batch_id`` at ``block`` (the head when None), with the evidence that
    proves it offline, the profile proofs of ``members``, device ``readings`` and, at ``tier``,
    the disclosures ``vault`` holds for its lineage and every party it names.

    Without ``vault`` there is nothing to disclose and no tier is promised. Without the evidence
    the passport is re-derivable online only, and no tier can be promised.

    Raises:
        SdkError: a tier without the evidence; a vault that lacks records the tier reveals
            (unless ``allow_missing``: they are listed in ``tier_missing``); see
            :func:`passport.sdk.evidence.export_with_evidence`.
        RecordError: an unknown tier, or ``vault`` is not a vault.
    """
    if not evidence:
        if tier is not None:
            raise SdkError("a tier needs the evidence: the disclosures' roots are proven by it")
        return assemble(sdk.contracts, batch_id, block).versioned()
    at_tier = load_tier(tier) if isinstance(tier, str) else tier
    disclose: Callable[[PassportDocument], Sequence[Disclosure]] | tuple[()] = ()
    if at_tier is not None and vault is not None:
        held = vault if isinstance(vault, Vault) else Vault.existing(vault)
        rules = at_tier

        def disclose(document: PassportDocument) -> list[Disclosure]:
            return sdk.records.share(held, document, rules).disclosures

    return export_with_evidence(
        sdk.contracts,
        batch_id,
        block,
        disclose,
        at_tier if disclose else None,
        members,
        readings,
        trust,
        allow_missing,
    )


def render(
    document: PassportDocument,
    fmt: str,
    sdk: Sdk | None = None,
    signer: LocalAccount | None = None,
    policies: Sequence[str | Policy] = (),
    attestation: str | None = None,
    did_web: str | None = None,
    anchor: AnyTrustAnchor | None = None,
    status_url: str | None = None,
) -> Export:
    """``document`` in format ``fmt`` (:data:`FORMATS`): the passport JSON; a UNTP credential
    (DPP with ``policies``' verdicts, DTE, or the DCC of ``attestation``) signed by ``signer``
    as ``did:pkh`` or ``did:web:<did_web>``; GS1 EPCIS 2.0; or the page that verifies it in a
    browser against ``anchor``. A DPP or DCC names its bit in the signer's status lists published
    under ``status_url`` (``passport status publish``), when given.

    Raises:
        SdkError: an unknown format, a signed format without a signer, a page without an
            anchor, an attestation that is not the signer's in this passport, or a status URL
            without the chain or for a DTE.
    """
    if fmt not in FORMATS:
        raise SdkError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "passport":
        return Export(document, fmt, document.to_json().encode())
    if document.evidence is None:
        raise SdkError(f"{fmt} embeds the passport's evidence: export it with evidence")
    if fmt == "epcis":
        events = epcis.epcis_document(document)
        return Export(document, fmt, (json.dumps(events, indent=2, ensure_ascii=False) + "\n").encode())
    if fmt == "page":
        if anchor is None:
            raise SdkError("the page needs the trust anchor it verifies against")
        passport = json.loads(document.to_json())
        html = render_page(passport, json.loads(anchor.to_json()), page_title(passport))
        return Export(document, fmt, html.encode())
    if signer is None:
        raise SdkError(f"{fmt} is a signed credential: give the issuer's key")
    if status_url is not None and (sdk is None or fmt == "untp-dte"):
        raise SdkError("a status URL goes with a DPP or a DCC, and needs the chain (its lists' bits)")
    if fmt == "untp-dpp":
        chosen = [load_policy(p) if isinstance(p, str) else p for p in (policies or builtin_policies())]
        status = (
            status_for(sdk.contracts, status_url, "dpp", signer.address, document.product.batch_id)
            if sdk is not None
            else None
        )
        credential = untp.dpp_credential(document, signer.address, chosen, did_web, status)
    elif fmt == "untp-dte":
        credential = untp.dte_credential(document, signer.address, did_web)
    else:
        if attestation is None or sdk is None:
            raise SdkError("untp-dcc needs the attestation's uid (and the chain, for its accreditation)")
        credential = _dcc(sdk, document, attestation.lower(), signer.address, status_url)
    token = untp.sign(credential, signer.key)
    issuer = untp.issuer_id(document.chain.chain_id, signer.address, did_web)
    return Export(document, fmt, (token + "\n").encode(), issuer)


def _dcc(
    sdk: Sdk, document: PassportDocument, uid: str, signer: str, status_url: str | None
) -> dict[str, Any]:
    """The DCC of attestation ``uid`` in ``document``, which ``signer`` must have certified, with
    its bit in ``signer``'s DCC status lists under ``status_url``."""
    entry = next((a for a in document.attestations if a.uid == uid), None)
    if entry is None:
        raise SdkError(f"attestation {uid} is not in batch {document.product.batch_id}'s passport")
    if entry.certifier != signer:
        raise SdkError(f"attestation {uid} was certified by {entry.certifier}; sign with that key")
    windows = sdk.consortium.accreditation_history(entry.certifier, entry.schema_id)
    window = next(((a, b) for a, b in reversed(windows) if a <= entry.issued_at < b), None)
    if window is None:
        raise SdkError(f"{entry.certifier} was not accredited for schema {entry.schema_id} when it attested")
    block = document.chain.as_of_block
    on_chain = on_chain_attestation(sdk.contracts, uid, block)
    status = None
    if status_url is not None:
        index = dcc_index(sdk.contracts, uid, signer, block)
        status = status_for(sdk.contracts, status_url, "dcc", signer, index)
    return untp.dcc_credential(document, on_chain, window, status)


@dataclass(frozen=True)
class FacilityExport:
    """A facility's Digital Facility Record (vc+jwt): the file's bytes and its issuer's DID."""

    facility_id: int
    content: bytes
    issuer: str
    media_type: str = "application/vc+jwt"


def facility_record(
    sdk: Sdk,
    facility_id: int,
    signer: LocalAccount,
    vault: Path | Vault | None = None,
    tier: str | Tier = "public",
    block: int | None = None,
    trust: CometTrustAnchor | None = None,
) -> FacilityExport:
    """Facility ``facility_id`` as a UNTP Digital Facility Record (``untp-dfr``), issued by its
    operator ``signer``: the facility's storage proofs at ``block`` (the head when None) and, from
    ``vault`` (the operator's), its record disclosed at ``tier``.

    Raises:
        SdkError: no such facility, a signer that is not its operator, a vault without the
            facility's record as it is on chain, or proofs that do not verify.
    """
    if block is None:
        block = sdk.client.head()[0]
    disclosure = None
    if vault is not None:
        held = vault if isinstance(vault, Vault) else Vault.existing(vault)
        rules = load_tier(tier) if isinstance(tier, str) else tier
        found = sdk.records.own_disclosures(held, [("facility", str(facility_id))], rules, block)
        if not found:
            raise SdkError(
                f"the vault holds no record of facility {facility_id} as it is on chain at block {block}"
            )
        disclosure = found[0]
    proof = facility_proof(sdk.contracts, facility_id, disclosure, block, trust)
    proven = read_facility(
        proof, trust if trust is not None else trust_anchor(sdk.contracts, "the chain itself")
    )
    facility = proven.facility
    assert facility is not None  # facility_proof checked it
    if facility.operator != signer.address:
        raise SdkError(
            f"a DFR is issued by the facility's operator, {facility.operator}; sign with that key, "
            f"not {signer.address}"
        )
    token = untp.sign(untp.dfr_credential(proof, facility, proven.block, proven.time), signer.key)
    issuer = untp.did_pkh(proof.chain.chain_id, signer.address)
    return FacilityExport(facility_id, (token + "\n").encode(), issuer)
