"""Verifying a passport file: re-derive every field from the chain and report each mismatch."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field

from passport.core.compare import Failure, Mismatch, diff
from passport.core.document import PassportDocument, version_hash
from passport.exceptions import ContractRevert
from passport.sdk.assembly import assemble
from passport.sdk.contracts import Contracts


@dataclass(frozen=True, slots=True)
class VerificationReport:
    batch_id: int
    as_of_block: int
    ok: bool
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def failures(self) -> list[Failure]:
        """Each mismatch as a :class:`Failure` (the shape every check of the SDK reports)."""
        return [m.failure() for m in self.mismatches]


def verify(
    contracts: Contracts,
    document: PassportDocument,
    derived_cache: MutableMapping[tuple[int, int, str], PassportDocument] | None = None,
) -> VerificationReport:
    """Re-assemble the passport at the document's block and compare every field.

    Contract addresses, chain id and the block hash are compared first: a passport of another
    chain, or of a block the chain no longer has, fails without further reads. Chain state at a
    given block hash never changes, so ``derived_cache`` may keep re-derived documents keyed by
    (batch id, block, block hash).
    """
    ref = document.chain
    expected = {
        "chain.chain_id": (ref.chain_id, contracts.client.chain_id),
        "chain.passport": (ref.passport, contracts.passport.address),
        "chain.consortium": (ref.consortium, contracts.consortium.address),
        "chain.registry": (ref.registry, contracts.registry.address),
    }
    mismatches = [Mismatch(k, a, b) for k, (a, b) in expected.items() if a != b]
    head = contracts.client.w3.eth.block_number
    if ref.as_of_block > head:
        mismatches.append(Mismatch("chain.as_of_block", ref.as_of_block, f"head is {head}"))
    elif not mismatches:
        actual_hash = contracts.client.block_hash(ref.as_of_block)
        if actual_hash != ref.as_of_block_hash:
            mismatches.append(Mismatch("chain.as_of_block_hash", ref.as_of_block_hash, actual_hash))
    if mismatches:
        return VerificationReport(document.product.batch_id, ref.as_of_block, False, mismatches)
    key = (document.product.batch_id, ref.as_of_block, ref.as_of_block_hash)
    try:
        derived = derived_cache.get(key) if derived_cache is not None else None
        if derived is None:
            derived = assemble(contracts, document.product.batch_id, ref.as_of_block)
            if derived_cache is not None:
                derived_cache[key] = derived
    except ContractRevert as exc:
        mismatch = Mismatch("product.batch_id", document.product.batch_id, exc.name)
        return VerificationReport(document.product.batch_id, ref.as_of_block, False, [mismatch])
    derived = derived.in_format_of(document)
    mismatches = list(diff(document.claims(), derived.claims()))
    if document.version is not None and document.version.hash != version_hash(derived):
        mismatches.append(Mismatch("version.hash", document.version.hash, version_hash(derived)))
    return VerificationReport(document.product.batch_id, ref.as_of_block, not mismatches, mismatches)
