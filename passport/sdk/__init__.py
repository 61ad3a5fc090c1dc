"""The SDK: deploy and attach the contracts, run the consortium's work, assemble and verify passports."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from passport.core.document import PassportDocument, Weighing
from passport.core.policy import Policy, PolicyResult, check, load_policy
from passport.evidence.trust import AnyTrustAnchor, CometTrustAnchor
from passport.records.disclosure import Tier
from passport.records.vault import Vault
from passport.sdk.assembly import assemble
from passport.sdk.attestations import AttestationRequest, AttestationsApi, SignedAttestation, sign_attestation
from passport.sdk.batches import BatchesApi
from passport.sdk.client import Call, Client, Sent
from passport.sdk.consortium import ConsortiumApi, Proposal
from passport.sdk.contracts import Contracts, Founder, attach, attach_records, deploy
from passport.sdk.evidence import export_with_evidence, trust_anchor
from passport.sdk.exporting import SIGNED, Export, export_passport, render
from passport.sdk.records import RecordsApi
from passport.sdk.status import DEFAULT_TTL, StatusListExport, publish_status
from passport.sdk.verify import VerificationReport, verify

DERIVED_CACHE_SIZE = 32


class Sdk:
    """Everything an integrator needs, bound to one deployment.

    Example:
        >>> sdk = Sdk.attach(Client.connect("http://127.0.0.1:8545"), Path("deployments"), "local")
        >>> doc = sdk.passport_for(42)
    """

    def __init__(self, contracts: Contracts) -> None:
        self.contracts = contracts
        self.client = contracts.client
        self.consortium = ConsortiumApi(contracts)
        self.batches = BatchesApi(contracts)
        self.attestations = AttestationsApi(contracts)
        self.records = RecordsApi(contracts)
        self._derived: OrderedDict[tuple[int, int, str], PassportDocument] = OrderedDict()

    @classmethod
    def deploy(cls, client: Client, deployer: LocalAccount, founders: list[Founder], **kwargs: Any) -> Sdk:
        """Deploy and bootstrap the contracts (see :func:`passport.sdk.contracts.deploy`)."""
        return cls(deploy(client, deployer, founders, **kwargs))

    @classmethod
    def attach(cls, client: Client, directory: Path, network: str) -> Sdk:
        """Use the contracts recorded in ``directory/<network>/``."""
        return cls(attach_records(client, directory, network))

    def passport_for(self, batch_id: int, block: int | None = None) -> PassportDocument:
        return assemble(self.contracts, batch_id, block)

    def export_with_evidence(
        self,
        batch_id: int,
        block: int | None = None,
        members: Sequence[str] = (),
        readings: Sequence[Weighing] = (),
        trust: CometTrustAnchor | None = None,
    ) -> PassportDocument:
        """The passport with the proofs that let a buyer verify it offline (and the profile
        proofs of ``members``, and device ``readings``), without disclosures: :meth:`export`
        discloses a vault's records at a tier. See :func:`passport.sdk.evidence.export_with_evidence`."""
        return export_with_evidence(self.contracts, batch_id, block, (), None, members, readings, trust)

    def export(
        self,
        batch_id: int,
        fmt: str = "passport",
        tier: str | Tier | None = None,
        *,
        block: int | None = None,
        vault: Path | Vault | None = None,
        evidence: bool = True,
        signer: LocalAccount | None = None,
        policies: Sequence[str | Policy] = (),
        attestation: str | None = None,
        did_web: str | None = None,
        trust: CometTrustAnchor | None = None,
        anchor: AnyTrustAnchor | None = None,
        allow_missing: bool = False,
        readings: Sequence[Weighing] = (),
        status_url: str | None = None,
    ) -> Export:
        """Batch ``batch_id``'s passport in format ``fmt`` (``passport``, ``untp-dpp``,
        ``untp-dte``, ``untp-dcc``, ``epcis``, ``page``), disclosed at ``tier`` from ``vault``:
        what ``passport export``, the demo and the resolver write. A signed format proves the
        signer's profile too; a DPP or DCC names its bit in the signer's status lists under
        ``status_url``. See :func:`passport.sdk.exporting.export_passport` and
        :func:`passport.sdk.exporting.render`."""
        members = [signer.address] if signer is not None and fmt in SIGNED else []
        document = export_passport(
            self, batch_id, block, tier, vault, evidence, members, readings, trust, allow_missing
        )
        return render(document, fmt, self, signer, policies, attestation, did_web, anchor, status_url)

    def trust_anchor(
        self, name: str, labels: dict[str, str] | None = None, trusting_period: int | None = None
    ) -> AnyTrustAnchor:
        """The consortium's trust anchor for offline verification (chain, validators, contracts);
        see :func:`passport.sdk.evidence.trust_anchor`."""
        if trusting_period is None:
            return trust_anchor(self.contracts, name, labels)
        return trust_anchor(self.contracts, name, labels, trusting_period)

    def publish_status(
        self,
        signer: LocalAccount,
        base_url: str,
        ttl: timedelta = DEFAULT_TTL,
        did_web: str | None = None,
        block: int | None = None,
    ) -> list[StatusListExport]:
        """``signer``'s status lists (DPP and DCC; revocation and suspension) derived from the
        chain, signed; see :func:`passport.sdk.status.publish_status`."""
        return publish_status(self.contracts, signer, base_url, ttl, did_web, block)

    def verify(self, document: PassportDocument) -> VerificationReport:
        """Re-derive every field from the chain; see :func:`passport.sdk.verify.verify`."""
        report = verify(self.contracts, document, self._derived)
        while len(self._derived) > DERIVED_CACHE_SIZE:
            self._derived.popitem(last=False)
        return report

    def check(self, batch_or_document: int | PassportDocument, policy: str | Policy) -> PolicyResult:
        document = (
            batch_or_document
            if isinstance(batch_or_document, PassportDocument)
            else self.passport_for(batch_or_document)
        )
        return check(document, load_policy(policy) if isinstance(policy, str) else policy)


__all__ = [
    "AttestationRequest",
    "Call",
    "Client",
    "Founder",
    "PassportDocument",
    "Policy",
    "PolicyResult",
    "Proposal",
    "Sdk",
    "Sent",
    "SignedAttestation",
    "VerificationReport",
    "attach",
    "sign_attestation",
]
