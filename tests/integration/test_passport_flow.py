"""The whole flow on the embedded chain and on anvil: the demo scenario, its passports,
verification (and its failure after any single-field change), policies, typed errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from passport.core.document import PassportDocument
from passport.core.policy import check, load_policy
from passport.core.types import FacilityKind, ProcessOutput, Stage
from passport.exceptions import ContractRevert
from passport.sdk.accounts import dev_accounts
from passport.sdk.attestations import SignedAttestation
from tests.integration.conftest import DemoRun

pytestmark = pytest.mark.slow


def test_policies_fail_for_the_product_of_the_sanctioned_mine(demo_run: DemoRun) -> None:
    results = {(r.batch_id, r.policy): r for r in demo_run.result.policy_results}
    wf6, apt = demo_run.result.batches["wf6"], demo_run.result.batches["apt-mine-a"]
    # Where the chain answers proofs, the demo checks the buyer-tier passport, which names the
    # site and its operator; on the embedded chain (no eth_getProof) the passport without tiers.
    tiered = "wf6-buyer" in demo_run.result.documents
    site = "Mine B — Song Cau Minerals (Dai Tu, VN)" if tiered else "facility 2"
    for policy in ("dfars-2027", "eu-2017-821"):
        assert not results[(wf6, policy)].ok
        assert results[(wf6, policy)].reasons == [f"tainted: batch 2 comes from sanctioned {site}"]
        assert results[(wf6, policy)].tier == ("buyer" if tiered else None)
        assert results[(apt, policy)].ok
        assert results[(apt, policy)].reasons == []
    plain = PassportDocument.load(demo_run.result.passports["wf6"])
    assert check(plain, load_policy("dfars-2027")).reasons == [
        "tainted: batch 2 comes from sanctioned facility 2"
    ]


def test_wf6_passport_content(demo_run: DemoRun) -> None:
    doc = PassportDocument.load(demo_run.result.passports["wf6"])
    assert doc.product.stage is Stage.WF6
    assert doc.product.owner == dev_accounts()[6].address  # the fab
    assert [(o.batch_id, o.country, o.facility_kind) for o in doc.origins] == [
        (1, "VN", FacilityKind.MINE),
        (2, "VN", FacilityKind.MINE),
    ]
    assert doc.stage_countries == {
        "mined": ["VN"],
        "refined": ["VN"],
        "converted": ["KR"],
        "produced": ["KR"],
    }
    assert {(e.parent, e.child, e.via) for e in doc.lineage.edges} == {
        (1, 3, "split"),
        (3, 5, "process"),
        (2, 5, "process"),
        (5, 7, "process"),
    }
    assert [c.type for c in doc.custody].count("discrepancy") == 1
    discrepancy = next(c for c in doc.custody if c.type == "discrepancy")
    assert (discrepancy.recorded_grams, discrepancy.measured_grams) == (12_000_000, 11_880_000)
    assert [t.biz_step for t in doc.transformations] == ["splitting", "transforming", "transforming"]
    statuses = {(a.schema_name, a.subject): a.status for a in doc.attestations}
    assert statuses == {
        ("due-diligence-audited", 1): "valid",
        ("due-diligence-audited", 2): "valid",
        ("labour-audit", 2): "revoked",
        ("origin-verified", 1): "valid",
        ("assay", 5): "valid",
    }
    assert doc.taint.tainted
    # The WF6 batch itself was made before the sanction: only the lineage walk sees the taint.
    assert not next(n for n in doc.lineage.nodes if n.batch_id == 7).tainted
    assert doc.telemetry_roots["1"] == doc.lineage.nodes[0].content_hash


def test_exported_passport_verifies(demo_run: DemoRun) -> None:
    report = demo_run.sdk.verify(PassportDocument.load(demo_run.result.passports["wf6"]))
    assert report.ok, report.mismatches
    assert demo_run.result.verified


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every scalar: dict keys are str, list indices int."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path]


def _show(path: tuple[Any, ...]) -> str:
    """The path as verify reports it: a.b[0].c"""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text


def _alter(doc: dict[str, Any], path: tuple[Any, ...]) -> None:
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    old = target[path[-1]]
    if isinstance(old, bool):
        new: Any = not old
    elif isinstance(old, int | float):
        new = old + 1
    elif old is None:
        new = 1
    elif isinstance(old, str) and old.startswith("0x"):
        new = old[:-1] + ("0" if old[-1] != "0" else "1")
    else:
        new = old + "X"
    target[path[-1]] = new


def test_any_single_altered_field_fails_verification(demo_run: DemoRun) -> None:
    original = json.loads(demo_run.result.passports["wf6"].read_text())
    paths = _leaves(original)
    assert len(paths) > 300
    for path in paths:
        tampered = json.loads(json.dumps(original))
        _alter(tampered, path)
        try:
            doc = PassportDocument.model_validate(tampered)
        except ValidationError:
            continue  # the schema already refuses it (e.g. an unknown kind)
        report = demo_run.sdk.verify(doc)
        shown = _show(path)
        assert not report.ok, f"altering {shown} went unnoticed"
        assert any(m.path == shown or m.path.startswith("chain.") for m in report.mismatches), (
            shown,
            report.mismatches,
        )


def test_offline_signed_attestation_file_was_relayed(demo_run: DemoRun) -> None:
    assert demo_run.result.signed_attestation is not None
    signed = SignedAttestation.load(demo_run.result.signed_attestation)
    assert demo_run.sdk.attestations.is_valid(signed.uid)
    assert demo_run.sdk.attestations.get(signed.uid).certifier == signed.certifier
    with pytest.raises(ContractRevert, match=r"AttestationExists\(uid=0x"):
        demo_run.sdk.attestations.submit(dev_accounts()[9], signed)


def test_reverts_arrive_as_typed_errors(demo_run: DemoRun) -> None:
    sdk, accounts = demo_run.sdk, dev_accounts()
    with pytest.raises(
        ContractRevert, match=r"MineralPassport reverted: BatchNotFound\(batchId=999\)"
    ) as info:
        sdk.batches.get(999)
    assert info.value.name == "BatchNotFound"
    assert info.value.error_args == {"batchId": 999}
    # A batch can't go to a non-member: the consortium's error bubbles up through the passport.
    outsider = "0x000000000000000000000000000000000000dEaD"
    with pytest.raises(
        ContractRevert, match=r"Consortium reverted: ConsortiumNotMember\(account=0x0{36}dEaD\)"
    ):
        sdk.batches.transfer(accounts[6], demo_run.result.batches["wf6"], outsider)
    # Consumed batches never move again.
    with pytest.raises(ContractRevert, match=r"BatchIsConsumed\(batchId=1\)"):
        sdk.batches.offer(accounts[4], 1, accounts[6].address)
    # A miner cannot mint refined products.
    with pytest.raises(ContractRevert, match=r"BatchMintNotAllowed\(stage=2, facilityKind=0\)"):
        sdk.batches.mint(accounts[1], 1, Stage.APT, 1, 1)
    # Processing may not create tungsten.
    apt = demo_run.result.batches["apt-mine-a"]  # 3.5 t at 70 % W, still at the refinery
    with pytest.raises(ContractRevert, match=r"BatchMassBalanceExceeded\(inputContained=2450000000000, "):
        sdk.batches.process(accounts[4], [apt], 3, [ProcessOutput(Stage.OXIDE, 3_500_000, 800_000)])
