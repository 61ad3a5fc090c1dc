"""SDK behaviour on the in-process chain: governance, verification guards, regulatory taint,
log chunking, refused signatures."""

from __future__ import annotations

import pytest

from passport.core.events import topic
from passport.core.types import FacilityKind, ProcessOutput, Role, Stage, SubjectKind
from passport.exceptions import ContractRevert, PassportFileInvalid
from passport.sdk import AttestationRequest, Client, Founder, Sdk
from passport.sdk import client as client_module
from passport.sdk.accounts import dev_accounts

ADMIN, ADMIN2, MINER, REFINER, CERTIFIER, REGULATOR = dev_accounts(6)


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
        proposal = sdk.consortium.propose_facility(ADMIN, operator.address, "VN", kind)
        sdk.consortium.approve(ADMIN2, proposal.proposal_id)
        sdk.consortium.execute(ADMIN2, proposal.proposal_id)
    return sdk


def test_two_of_two_governance(sdk: Sdk) -> None:
    newcomer = dev_accounts(8)[7].address
    result = sdk.consortium.propose_member(ADMIN, newcomer, Role.BUYER, "NL")
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
    lot = sdk.batches.mint(MINER, 1, Stage.CONCENTRATE, 1_000_000, 500_000)
    other = sdk.batches.mint(MINER, 1, Stage.CONCENTRATE, 1_000_000, 500_000)
    for batch_id in (lot, other):
        sdk.batches.offer(MINER, batch_id, REFINER.address)
        sdk.batches.accept(REFINER, batch_id, 1_000_000)
    sdk.batches.freeze(REGULATOR, lot)
    sdk.batches.unfreeze(REGULATOR, lot)
    sdk.batches.taint(REGULATOR, lot, b"\x07" * 32)
    (apt,) = sdk.batches.process(REFINER, [lot, other], 2, [ProcessOutput(Stage.APT, 1_000_000, 700_000)])
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
    lot = sdk.batches.mint(MINER, 1, Stage.ORE, 5_000, 9_000)
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


def test_long_topic_lists_are_chunked(sdk: Sdk, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [i.to_bytes(32, "big") for i in range(1, sdk.batches.count() + 1)]
    query = ([sdk.contracts.passport.address], [topic("BatchMinted"), ids])
    whole = sdk.client.get_logs(*query)
    monkeypatch.setattr(client_module, "LOG_CHUNK", 2)
    assert sdk.client.get_logs(*query) == whole
    assert len(whole) >= 3  # every minted lot (processed outputs are produced, not minted)


def test_submit_refuses_a_signature_for_another_registry(sdk: Sdk) -> None:
    schema = sdk.attestations.register_schema(ADMIN, "assay", False, SubjectKind.BATCH)
    signed = sdk.attestations.sign(CERTIFIER, AttestationRequest(schema, 1, b"\x01" * 32))
    moved = signed.model_copy(update={"registry": "0x" + "12" * 20})
    with pytest.raises(PassportFileInvalid, match=r"signed for chain \d+ registry 0x1212"):
        sdk.attestations.submit(MINER, moved)
    # Not accredited: the relayed signature is refused with the consortium's reason.
    with pytest.raises(ContractRevert, match=r"ConsortiumNotAccredited\(certifier=0x"):
        sdk.attestations.submit(MINER, signed)
