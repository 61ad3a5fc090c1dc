"""SDK behaviour on the in-process chain: governance, verification guards, regulatory taint,
log chunking, refused signatures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from passport.core.compare import Checked, Failure
from passport.core.document import PassportDocument
from passport.core.events import topic
from passport.core.types import FacilityKind, ProcessOutput, Role, Stage, SubjectKind
from passport.evidence import TrustAnchor, verify_offline
from passport.exceptions import ContractRevert, PassportFileInvalid
from passport.sdk import AttestationRequest, Client, Founder, Sdk
from passport.sdk import client as client_module
from passport.sdk.accounts import dev_accounts

ADMIN, ADMIN2, MINER, REFINER, CERTIFIER, REGULATOR = dev_accounts(6)
VECTORS = Path(__file__).resolve().parents[3] / "viewer" / "test" / "vectors"


@pytest.fixture(scope="module")
def sdk() -> Sdk:
    client = Client.embedded(fund=[a.address for a in dev_accounts(6)])
    founders = [
        Founder(ADMIN.address, Role.ADMIN, "VN"),
        Founder(ADMIN2.address, Role.ADMIN, "DE"),
        Founder(MINER.address, Role.MINER, "VN"),
        Founder(REFINER.address, Role.PROCESSOR, "VN"),
        Founder(CERTIFIER.address, Role.CERTIFIER, "CH"),
        Founder(REGULATOR.address, Role.REGULATOR, "VN"),
    ]
    sdk = Sdk.deploy(client, ADMIN, founders, threshold=2)
    for operator, kind in ((MINER, FacilityKind.MINE), (REFINER, FacilityKind.REFINERY)):
        proposal = sdk.consortium.propose_facility(ADMIN, operator.address, "VN", kind).value
        sdk.consortium.approve(ADMIN2, proposal.proposal_id)
        sdk.consortium.execute(ADMIN2, proposal.proposal_id)
    return sdk


def test_two_of_two_governance(sdk: Sdk) -> None:
    newcomer = dev_accounts(8)[7].address
    result = sdk.consortium.propose_member(ADMIN, newcomer, Role.BUYER, "NL").value
    assert not result.executed  # threshold 2: the proposer's approval alone is not enough
    with pytest.raises(
        ContractRevert, match=r"ConsortiumNotEnoughApprovals\(proposalId=\d+, approvals=1, threshold=2\)"
    ):
        sdk.consortium.execute(ADMIN, result.proposal_id)
    sdk.consortium.approve(ADMIN2, result.proposal_id)
    sdk.consortium.execute(ADMIN, result.proposal_id)
    assert sdk.consortium.member(newcomer).active
    assert sdk.consortium.transaction_allowed(newcomer)


def test_regulatory_taint_is_in_the_passport(sdk: Sdk) -> None:
    lot = sdk.batches.mint(MINER, 1, Stage.CONCENTRATE, 1_000_000, 500_000).value
    other = sdk.batches.mint(MINER, 1, Stage.CONCENTRATE, 1_000_000, 500_000).value
    for batch_id in (lot, other):
        sdk.batches.offer(MINER, batch_id, REFINER.address)
        sdk.batches.accept(REFINER, batch_id, 1_000_000)
    sdk.batches.freeze(REGULATOR, lot)
    sdk.batches.unfreeze(REGULATOR, lot)
    sdk.batches.taint(REGULATOR, lot, b"\x07" * 32)
    (apt,) = sdk.batches.process(
        REFINER, [lot, other], 2, [ProcessOutput(Stage.APT, 1_000_000, 700_000)]
    ).value
    doc = sdk.passport_for(apt)
    assert [(e.batch_id, e.type) for e in doc.regulatory] == [
        (lot, "frozen"),
        (lot, "unfrozen"),
        (lot, "tainted"),
    ]
    assert doc.regulatory[-1].reason == "0x" + "07" * 32
    assert [(s.batch_id, s.reason) for s in doc.taint.sources] == [(lot, "regulator"), (apt, "inherited")]
    assert doc.product.flags == ["TAINTED", "FROM_PROCESS"]
    assert sdk.check(doc, "dfars-2027").reasons == [f"tainted: batch {lot} was flagged by a regulator"]


def test_verify_guards(sdk: Sdk) -> None:
    lot = sdk.batches.mint(MINER, 1, Stage.ORE, 5_000, 9_000).value
    doc = sdk.passport_for(lot)
    assert sdk.verify(doc).ok
    other_chain = doc.model_copy(update={"chain": doc.chain.model_copy(update={"chain_id": 1})})
    assert [m.path for m in sdk.verify(other_chain).mismatches] == ["chain.chain_id"]
    future = doc.model_copy(update={"chain": doc.chain.model_copy(update={"as_of_block": 10**9})})
    assert [m.path for m in sdk.verify(future).mismatches] == ["chain.as_of_block"]
    forked = doc.model_copy(
        update={"chain": doc.chain.model_copy(update={"as_of_block_hash": "0x" + "00" * 32})}
    )
    assert [m.path for m in sdk.verify(forked).mismatches] == ["chain.as_of_block_hash"]
    with pytest.raises(ContractRevert, match=r"BatchNotFound\(batchId=4242\)"):
        sdk.passport_for(4242)


def test_every_write_returns_what_it_made_and_its_transaction(sdk: Sdk) -> None:
    minted = sdk.batches.mint(MINER, 1, Stage.ORE, 5_000, 9_000)
    receipt = sdk.client.w3.eth.get_transaction_receipt(minted.tx_hash)
    assert (minted.block, minted.gas_used) == (
        receipt["blockNumber"],
        receipt["gasUsed"],
    ) and minted.gas_used > 0
    assert sdk.batches.get(minted.value).mass_grams == 5_000
    offered = sdk.batches.offer(MINER, minted.value, REFINER.address)
    assert offered.value is None and offered.block == minted.block + 1
    accepted = sdk.batches.accept(REFINER, minted.value, 4_000)  # 20 % short: recorded
    assert accepted.value is True and accepted.tx_hash != offered.tx_hash
    split = sdk.batches.split(REFINER, minted.value, [1_000, 4_000])
    assert [sdk.batches.get(i).mass_grams for i in split.value] == [1_000, 4_000]
    proposal = sdk.consortium.propose_facility(ADMIN, REFINER.address, "VN", FacilityKind.CONVERTER)
    assert not proposal.value.executed and proposal.value.facility_id is None  # threshold 2
    assert {type(r).__name__ for r in (minted, offered, accepted, split, proposal)} == {"Sent"}


def test_every_check_reports_ok_and_failures_the_same_way(sdk: Sdk) -> None:
    lot = sdk.batches.mint(MINER, 1, Stage.ORE, 5_000, 9_000).value
    doc = sdk.passport_for(lot)
    bad = doc.model_copy(update={"product": doc.product.model_copy(update={"mass_grams": 6_000})})
    sdk.batches.taint(REGULATOR, lot)
    tainted = sdk.passport_for(lot)
    vector = json.loads((VECTORS / "claim-product-mass.json").read_text())  # the embedded chain has no proofs
    trust = TrustAnchor.model_validate_json((VECTORS / vector["trust"]).read_text())
    forged = PassportDocument.model_validate(vector["passport"])
    results: list[Checked] = [
        sdk.verify(bad),
        sdk.check(tainted, "dfars-2027"),
        verify_offline(forged, trust),
    ]
    for result in results:
        assert not result.ok
        assert result.failures and all(
            isinstance(f, Failure) and f.where and f.reason for f in result.failures
        )
    assert str(results[0].failures[0]) == "product.mass_grams: file has 6000, chain has 5000"
    assert results[1].failures[0].where == "policy dfars-2027"
    assert results[2].failures[0].where == "product.mass_grams"
    good: list[Checked] = [sdk.verify(doc), sdk.check(doc, "eu-2017-821")]
    assert [(r.ok, r.failures) for r in good[:1]] == [(True, [])]
    assert all(r.ok == (not r.failures) for r in good)


def test_long_topic_lists_are_chunked(sdk: Sdk, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [i.to_bytes(32, "big") for i in range(1, sdk.batches.count() + 1)]
    query = ([sdk.contracts.passport.address], [topic("BatchMinted"), ids])
    whole = sdk.client.get_logs(*query)
    monkeypatch.setattr(client_module, "LOG_CHUNK", 2)
    assert sdk.client.get_logs(*query) == whole
    assert len(whole) >= 3  # every minted lot (processed outputs are produced, not minted)


def test_submit_refuses_a_signature_for_another_registry(sdk: Sdk) -> None:
    schema = sdk.attestations.register_schema(ADMIN, "assay", False, SubjectKind.BATCH).value
    signed = sdk.attestations.sign(CERTIFIER, AttestationRequest(schema, 1, b"\x01" * 32))
    moved = signed.model_copy(update={"registry": "0x" + "12" * 20})
    with pytest.raises(PassportFileInvalid, match=r"signed for chain \d+ registry 0x1212"):
        sdk.attestations.submit(MINER, moved)
    # Not accredited: the relayed signature is refused with the consortium's reason.
    with pytest.raises(ContractRevert, match=r"ConsortiumNotAccredited\(certifier=0x"):
        sdk.attestations.submit(MINER, signed)


def test_assembled_taint_is_the_contracts_is_tainted(sdk: Sdk) -> None:
    """The assembly derives taint from the records and facilities rather than calling
    ``isTainted`` per batch: for a lineage with a tainted lot and a lot of a sanctioned facility,
    each batch's derived taint is what the contract answers, before and after the sanction."""
    from passport.sdk.assembly import gather

    proposal = sdk.consortium.propose_facility(ADMIN, MINER.address, "VN", FacilityKind.MINE).value
    sdk.consortium.approve(ADMIN2, proposal.proposal_id)
    sdk.consortium.execute(ADMIN2, proposal.proposal_id)
    sanctioned_mine = sdk.consortium.facility_count()
    lots = [
        sdk.batches.mint(MINER, facility, Stage.CONCENTRATE, 1_000_000, 500_000).value
        for facility in (1, 1, sanctioned_mine)
    ]
    for lot in lots:
        sdk.batches.offer(MINER, lot, REFINER.address)
        sdk.batches.accept(REFINER, lot, 1_000_000)
    sdk.batches.taint(REGULATOR, lots[0], b"\x01" * 32)
    (apt,) = sdk.batches.process(REFINER, lots[1:], 2, [ProcessOutput(Stage.APT, 1_400_000, 700_000)]).value
    clean = gather(sdk.contracts, apt).tainted
    assert clean == {i: sdk.batches.is_tainted(i) for i in clean} == dict.fromkeys(clean, False)
    proposal = sdk.consortium.propose_facility_sanction(ADMIN, sanctioned_mine).value
    sdk.consortium.approve(ADMIN2, proposal.proposal_id)
    sdk.consortium.execute(ADMIN2, proposal.proposal_id)
    for product in (apt, lots[0]):
        derived = gather(sdk.contracts, product).tainted
        assert derived == {i: sdk.batches.is_tainted(i) for i in derived}
    assert gather(sdk.contracts, apt).tainted == {lots[1]: False, lots[2]: True, apt: False}
    assert gather(sdk.contracts, lots[0]).tainted == {lots[0]: True}
