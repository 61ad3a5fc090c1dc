"""Offline verification of a passport file against the consortium's trust anchor.

Seals -> headers -> accounts (code hashes) -> storage and receipts -> decode -> re-derive every
claim (``passport.core.derive``, as the SDK does online) -> compare field by field -> completeness
-> policies. No network: the file and the anchor are all it reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from passport._utils.seals import seal_signer
from passport.core.compare import Failure, diff
from passport.core.derive import derive, history_counts, process_ids
from passport.core.document import ChainRef, Evidence, PassportDocument, version_hash
from passport.core.policy import PolicyResult, check, load_policy
from passport.evidence import layout
from passport.evidence.disclosed import check_disclosures, check_tier
from passport.evidence.proven import ProvenChain, ProvenData, read_chain_data
from passport.evidence.quorum import Quorum
from passport.evidence.quorum import check as check_quorum
from passport.evidence.trust import AnyTrustAnchor, CometTrustAnchor, TrustAnchor
from passport.evidence.weighed import check_readings
from passport.exceptions import ProofError

DEFAULT_POLICIES = ("dfars-2027", "eu-2017-821")
UNSEALED_NOTE = "headers not sealed: trusted as exported"
ATTESTATIONS_NOT_COMPLETE = (
    "not proven complete: the registry keeps no per-subject index; each listed attestation is "
    "proven included, and its record and validity are proven at the anchor block"
)


@dataclass
class OfflineReport:
    batch_id: int
    as_of_block: int
    consortium: str
    validators: int
    sealed: bool
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    completeness: dict[str, str] = field(default_factory=dict)
    policies: list[PolicyResult] = field(default_factory=list)
    quorum: Quorum | None = None  # a CometBFT network's: who committed the anchor block
    tier: str | None = None  # the disclosure tier the passport names, checked
    tier_fingerprint: str | None = None  # sha256 of its rules (RFC 8785)
    tier_complete: bool = True  # False when the exporter marked records of the tier missing

    @property
    def ok(self) -> bool:
        return not self.failures


def completeness(proven: ProvenData, batch_id: int) -> tuple[dict[str, str], list[Failure]]:
    """What the evidence proves complete, and how; and each list where events are missing.

    Custody and regulatory lists (and splits) are counted per batch by MineralPassport's history
    counter, read from the batch's Record slot; the lineage and its processing steps are read
    from storage. The registry keeps no per-subject index, so attestations are not provable
    complete.
    """
    data = proven.data
    failures: list[Failure] = []
    saturated: list[int] = []
    counts = history_counts(data.events)
    for i in sorted(data.batches):
        counted, listed = proven.history[i], counts.get(i, 0)
        if counted >= layout.HISTORY_MAX:
            saturated.append(i)
            if listed < counted:
                failures.append(
                    Failure(
                        f"history of batch {i}",
                        f"{listed} events proven, the chain counts at least {counted}",
                    )
                )
        elif listed != counted:
            failures.append(
                Failure(
                    f"history of batch {i}",
                    f"{listed} events proven, the chain counts {counted}"
                    + (" (events omitted)" if listed < counted else ""),
                )
            )
    found = {int(e.args["processId"]) for e in data.events if e.name == "BatchesProcessed"}
    for p in sorted(set(process_ids(data.batches)) - found):
        failures.append(Failure(f"transformations: process {p}", "its BatchesProcessed event is not proven"))
    history = (
        "complete: each batch's history events (mint, offers, cancellations, acceptances, "
        "discrepancies, title transfers, split, freezes, unfreezes, taints) are counted by its "
        "Record.history slot, proven at the anchor block"
    )
    if saturated:
        history = (
            f"not proven complete for batch(es) {', '.join(map(str, saturated))}: their history counter "
            f"is saturated at {layout.HISTORY_MAX}; " + history.removeprefix("complete: ") + " for the others"
        )
    statements = {
        "custody": history,
        "regulatory": history,
        "lineage": "complete: each batch's parents are read from storage (parentRef, processInputs)",
        "transformations": (
            "complete: each split is counted in its parent's history; each processing step of the "
            "lineage is proven by its BatchesProcessed event"
        ),
        "attestations": ATTESTATIONS_NOT_COMPLETE,
    }
    return statements, failures


def chain_ref(trust: AnyTrustAnchor, anchor_number: int, anchor_hash: bytes, anchor_time: int) -> ChainRef:
    return ChainRef(
        chain_id=trust.chain_id,
        consortium=trust.contracts["consortium"].address,
        passport=trust.contracts["passport"].address,
        registry=trust.contracts["registry"].address,
        as_of_block=anchor_number,
        as_of_block_hash="0x" + anchor_hash.hex(),
        as_of_time=anchor_time,
    )


class ContractsRef(Protocol):
    """The chain and the three contracts a file says it was read from."""

    @property
    def chain_id(self) -> int: ...
    @property
    def consortium(self) -> str: ...
    @property
    def passport(self) -> str: ...
    @property
    def registry(self) -> str: ...


def proven_chain(
    ref: ContractsRef, evidence: Evidence, trust: AnyTrustAnchor, report: OfflineReport
) -> ProvenChain | None:
    """The chain as ``evidence`` proves it, once the file's chain and contracts are the trust
    anchor's, every header is sealed by its validators (or committed by its CometBFT quorum) and
    the three contracts' code is the anchor's; each failure goes into ``report`` (None when the
    proofs cannot be read at all)."""
    fail = report.failures.append
    if ref.chain_id != trust.chain_id:
        fail(Failure("chain.chain_id", f"file has {ref.chain_id}, the trust anchor {trust.chain_id}"))
    for name in ("consortium", "passport", "registry"):
        if getattr(ref, name) != trust.contracts[name].address:
            fail(
                Failure(
                    f"chain.{name}",
                    f"file has {getattr(ref, name)}, the trust anchor {trust.contracts[name].address}",
                )
            )
    if report.failures:
        return None
    try:
        chain = ProvenChain(evidence)
    except ProofError as exc:
        fail(Failure(exc.what, exc.reason))
        return None
    if isinstance(trust, CometTrustAnchor):
        report.quorum, refused = check_quorum(evidence.consensus, trust, chain)
        report.failures += [Failure(where, why) for where, why in refused]
    else:
        if evidence.consensus is not None:
            fail(Failure("evidence.consensus", "CometBFT commits, but the trust anchor is a single sealer's"))
        _check_headers(chain, trust, report)
    for name, anchor in trust.contracts.items():
        try:
            code_hash = chain.account(anchor.address)[3]
        except ProofError as exc:
            fail(Failure(exc.what, exc.reason))
            continue
        if "0x" + code_hash.hex() != anchor.code_hash:
            fail(
                Failure(f"{name} contract {anchor.address}", "its code hash differs from the trust anchor's")
            )
    return chain


def verify_offline(
    document: PassportDocument,
    trust: AnyTrustAnchor,
    policies: tuple[str, ...] = DEFAULT_POLICIES,
    also: Callable[[ProvenChain, ProvenData], list[Failure]] | None = None,
) -> OfflineReport:
    """Check every claim of ``document`` against its evidence and ``trust``; never raises for a
    bad document, bundle or proof (each becomes a named failure). ``also`` checks more against
    the same proofs (a credential's issuer, say) before unused proof nodes are counted."""
    report = OfflineReport(
        batch_id=document.product.batch_id,
        as_of_block=document.chain.as_of_block,
        consortium=trust.name,
        validators=len(trust.validators),
        sealed=trust.sealed,
    )
    fail = report.failures.append
    evidence = document.evidence
    if evidence is None:
        fail(Failure("evidence", "the file carries no evidence (export it with evidence to verify offline)"))
        return report
    chain = proven_chain(document.chain, evidence, trust, report)
    if chain is None or report.failures:
        return report
    a = chain.anchor
    derived_ref = chain_ref(trust, a.number, a.hash, a.timestamp)
    try:
        proven = read_chain_data(chain, derived_ref, document.product.batch_id)
    except ProofError as exc:
        fail(Failure(exc.what, exc.reason))
        return report
    derived = derive(proven.data, document.product.batch_id).in_format_of(document)
    for m in diff(document.claims(), derived.claims()):
        fail(Failure(m.path, f"file has {m.in_file!r}, the proofs give {m.on_chain!r}"))
    statements, missing = completeness(proven, document.product.batch_id)
    report.completeness = statements
    report.failures += missing
    for name, statement in statements.items():
        if evidence.completeness.get(name) != statement:
            fail(
                Failure(
                    f"evidence.completeness.{name}", f"the file states {evidence.completeness.get(name)!r}"
                )
            )
    for name in sorted(set(evidence.completeness) - set(statements)):
        fail(Failure(f"evidence.completeness.{name}", "the file states a list the evidence does not cover"))
    for where, why in check_disclosures(chain, derived, document.disclosures):
        fail(Failure(where, why))
    refused_tier, incomplete, rules = check_tier(chain, derived, document)
    report.failures += [Failure(where, why) for where, why in refused_tier]
    report.notes += incomplete
    if rules is not None:
        report.tier, report.tier_fingerprint = rules.tier, rules.fingerprint()
        report.tier_complete = not incomplete
    for where, why in check_readings(chain, derived, document.readings):
        fail(Failure(where, why))
    if document.version is not None and document.version.hash != version_hash(document):
        fail(
            Failure(
                "version.hash",
                f"the file states {document.version.hash}, the claims hash to {version_hash(document)}",
            )
        )
    if also is not None:
        report.failures += also(chain, proven)
    cited = {bytes.fromhex(r.block[2:]) for r in evidence.receipts} | {chain.anchor.hash}
    if evidence.consensus is not None:  # a header between two cited ones links them by parentHash
        cited |= {h.parent_hash for h in chain.headers.values()}
    for n, h in enumerate(chain.headers.values()):
        if h.hash not in cited:
            fail(Failure(f"evidence header {n} (block {h.number})", "cited by no receipt"))
    unread = chain.unread_nodes()
    if unread:
        fail(Failure("evidence.proofs", f"{unread} trie node(s) are part of no proof the claims need"))
    if not trust.sealed:
        report.notes.append(UNSEALED_NOTE)
    if report.ok:
        report.policies = [check(document, load_policy(p)) for p in policies]
    return report


def _check_headers(chain: ProvenChain, trust: TrustAnchor, report: OfflineReport) -> None:
    """Each header's seal recovers to a validator of the anchor (on a sealed chain)."""
    a = chain.anchor
    for n, h in enumerate(chain.headers.values()):
        what = f"evidence header {n} (block {h.number})"
        if not trust.sealed:
            continue
        if h.seal is None:
            report.failures.append(Failure(what, "no seal"))
            continue
        signer = seal_signer(trust.chain_id, h.hash, h.seal)
        if signer is None:
            report.failures.append(Failure(what, "the seal is not a valid signature"))
        elif signer not in trust.validators:
            report.failures.append(Failure(what, f"sealed by {signer}: a validator not in the anchor's set"))
    if a.number == 0 and "0x" + a.hash.hex() != trust.genesis_hash:
        report.failures.append(Failure("evidence.anchor", "block 0 is not the trust anchor's genesis"))


def active_member(address: str, consortium: str) -> Callable[[ProvenChain, ProvenData], list[Failure]]:
    """A check for ``verify_offline``: ``address`` is an active, unsanctioned member of the
    consortium at the anchor block, by the storage proof of its member slot."""

    def check_member(chain: ProvenChain, _proven: ProvenData) -> list[Failure]:
        what = f"member {address}"
        try:
            word = chain.storage(consortium, layout.member_record_slot(address), f"{what} record")
        except ProofError as exc:
            return [Failure(exc.what, exc.reason)]
        if layout.field(word, "Member", "joinedAt") == 0:
            return [Failure(what, "not a member of the consortium at the passport's block")]
        if not layout.field(word, "Member", "active"):
            return [Failure(what, "not an active member at the passport's block")]
        if layout.field(word, "Member", "sanctioned"):
            return [Failure(what, "under sanction at the passport's block")]
        return []

    return check_member
