"""Passport files and policy checks, without a chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from passport.core.document import KIND, KIND_V1, PassportDocument, json_schema, version_hash
from passport.core.policy import builtin_policies, check, load_policy
from passport.core.types import FacilityKind, Stage
from passport.exceptions import PassportFileInvalid, PolicyError
from passport.toolchain.compiler import REPO_ROOT

ADDRESS = "0x" + "11" * 20
HASH = "0x" + "22" * 32


def make_doc(**overrides: Any) -> PassportDocument:
    base: dict[str, Any] = {
        "chain": {
            "chain_id": 1,
            "consortium": ADDRESS,
            "passport": ADDRESS,
            "registry": ADDRESS,
            "as_of_block": 9,
            "as_of_block_hash": HASH,
            "as_of_time": 100,
        },
        "product": {
            "batch_id": 3,
            "token_uri": "",
            "stage": "APT",
            "mass_grams": 10,
            "grade_ppm": 700000,
            "contained_tungsten_ug": 7_000_000,
            "owner": ADDRESS,
            "custodian": ADDRESS,
            "facility_id": 2,
            "country": "VN",
            "content_hash": HASH,
            "flags": [],
        },
        "origins": [
            {
                "batch_id": 1,
                "facility_id": 1,
                "facility_kind": "MINE",
                "operator": ADDRESS,
                "country": "VN",
                "stage": "CONCENTRATE",
                "mass_grams": 20,
            }
        ],
        "stage_countries": {"mined": ["VN"], "refined": ["VN"], "produced": ["VN"]},
        "lineage": {"nodes": [], "edges": []},
        "custody": [],
        "transformations": [],
        "attestations": [],
        "facilities": [],
        "taint": {"tainted": False, "sources": []},
        "regulatory": [],
        "telemetry_roots": {},
    }
    base.update(overrides)
    return PassportDocument.model_validate(base)


def attestation(status: str, subject: int = 1, kind: str = "FACILITY") -> dict[str, Any]:
    return {
        "uid": HASH,
        "schema_id": 2,
        "schema_name": "due-diligence-audited",
        "subject_kind": kind,
        "subject": subject,
        "certifier": ADDRESS,
        "data_hash": HASH,
        "issued_at": 1,
        "expires_at": 0,
        "status": status,
        "block": 1,
        "tx": HASH,
    }


def test_committed_json_schema_is_current() -> None:
    assert (REPO_ROOT / "schemas" / "passport.schema.json").read_text() == json_schema()


def test_save_and_load(tmp_path: Path) -> None:
    doc = make_doc()
    doc.save(tmp_path / "p.json")
    assert PassportDocument.load(tmp_path / "p.json") == doc


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such file"),
        ("{", "not JSON"),
        (json.dumps({"kind": "mineral-passport/passport@1"}), r"chain: Field required"),
    ],
)
def test_malformed_passport_files(tmp_path: Path, content: str | None, reason: str) -> None:
    path = tmp_path / "p.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(PassportFileInvalid, match=reason):
        PassportDocument.load(path)


def test_stages_and_facility_kinds_are_enums_named_in_json(tmp_path: Path) -> None:
    doc = make_doc()
    assert doc.product.stage is Stage.APT and doc.origins[0].facility_kind is FacilityKind.MINE
    data = json.loads(doc.to_json())
    assert (data["product"]["stage"], data["origins"][0]["facility_kind"]) == ("APT", "MINE")
    data["product"]["stage"] = "Powder"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    with pytest.raises(PassportFileInvalid, match=r"product.stage: .*'Powder' is not a stage: one of ORE, "):
        PassportDocument.load(path)


def test_contained_tungsten_is_exact_micrograms_and_passport_at_1_files_still_read(tmp_path: Path) -> None:
    doc = make_doc()
    assert doc.kind == KIND and doc.product.contained_tungsten_ug == 7_000_000 == doc.product.contained_ug
    assert "contained_tungsten_grams" not in doc.claims()["product"]
    # as written before passport@2: the float in grams, and no micrograms field
    v1_data = json.loads(doc.to_json())
    v1_data["kind"] = KIND_V1
    del v1_data["product"]["contained_tungsten_ug"]
    v1_data["product"]["contained_tungsten_grams"] = 7.0
    v1 = PassportDocument.model_validate(v1_data)
    assert v1.product.contained_ug == 7_000_000
    assert v1.claims()["product"]["contained_tungsten_grams"] == 7.0
    assert "contained_tungsten_ug" not in v1.claims()["product"]
    # a re-derived (current) document, written as the old file was: equal claims, equal hash
    assert doc.in_format_of(v1).claims() == v1.claims()
    assert version_hash(doc.in_format_of(v1)) == version_hash(v1) != version_hash(doc)
    for kind, field, value in [
        (KIND, "contained_tungsten_grams", 7.0),
        (KIND_V1, "contained_tungsten_ug", 7),
    ]:
        data = json.loads(doc.to_json())
        data["kind"] = kind
        data["product"].pop("contained_tungsten_ug")
        data["product"][field] = value
        path = tmp_path / "mixed.json"
        path.write_text(json.dumps(data))
        with pytest.raises(PassportFileInvalid, match=f"a {kind} file states product.contained_tungsten_"):
            PassportDocument.load(path)


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    data = json.loads(make_doc().to_json())
    data["product"]["conflict_free"] = True
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    with pytest.raises(PassportFileInvalid, match=r"product.conflict_free: Extra inputs are not permitted"):
        PassportDocument.load(path)


def test_builtin_policies() -> None:
    assert builtin_policies() == ["dfars-2027", "eu-2017-821"]
    assert check(make_doc(), load_policy("dfars-2027")).ok


def test_dfars_names_each_forbidden_step() -> None:
    doc = make_doc(
        stage_countries={"mined": ["CN", "VN"], "refined": ["VN"], "converted": ["RU"], "produced": ["DE"]}
    )
    result = check(doc, load_policy("dfars-2027"))
    assert not result.ok
    assert result.reasons == [
        "mined in CN (forbidden by CN, IR, KP, RU)",
        "converted in RU (forbidden by CN, IR, KP, RU)",
    ]


def test_eu_needs_a_valid_due_diligence_attestation_per_origin_mine() -> None:
    policy = load_policy("eu-2017-821")
    reason = "origin batch 1: no valid 'due-diligence-audited' attestation on facility 1 (VN)"
    assert check(make_doc(), policy).reasons == [reason]
    assert check(make_doc(attestations=[attestation("revoked")]), policy).reasons == [reason]
    assert check(make_doc(attestations=[attestation("valid", kind="BATCH")]), policy).reasons == [reason]
    assert check(make_doc(attestations=[attestation("valid")]), policy).ok


def test_taint_fails_both_policies() -> None:
    taint = {"tainted": True, "sources": [{"batch_id": 1, "reason": "regulator"}]}
    doc = make_doc(taint=taint, attestations=[attestation("valid")])
    for name in ("dfars-2027", "eu-2017-821"):
        assert check(doc, load_policy(name)).reasons == ["tainted: batch 1 was flagged by a regulator"]


def test_user_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "no-vn.json"
    path.write_text(
        json.dumps(
            {
                "name": "no-vn",
                "rules": [{"type": "forbidden-countries", "countries": ["VN"], "steps": ["mined"]}],
            }
        )
    )
    assert check(make_doc(), load_policy(str(path))).reasons == ["mined in VN (forbidden by VN)"]
    path.write_text(json.dumps({"name": "bad", "rules": [{"type": "moon-phase"}]}))
    with pytest.raises(PolicyError, match=r"policy '.*bad.*|rules"):
        load_policy(str(path))
    with pytest.raises(PolicyError, match=r"no such policy; shipped policies: dfars-2027, eu-2017-821"):
        load_policy("ofac-2030")
