"""The WF6 passport as a UNTP Digital Product Passport (vc+jwt, ES256K, did:pkh): it validates
against UNTP's own JSON Schema, verifies offline from the CLI, verifies with a second JOSE
library (jwcrypto), and fails on any changed claim, signature, key, issuer or non-member signer.
The version hash is stable across re-exports and changes with the passport."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from click.testing import CliRunner
from eth_account import Account
from jsonschema import Draft202012Validator
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

from passport.cli import cli
from passport.core.document import version_hash
from passport.core.policy import load_policy
from passport.exceptions import SdkError
from passport.formats import untp
from passport.formats.identifiers import Identifiers
from passport.sdk.accounts import DEV_ROLES, dev_accounts
from passport.toolchain.compiler import REPO_ROOT
from tests.evidence.conftest import Exported, chain_args
from tests.evidence.test_formats_fields import _leaves

pytestmark = pytest.mark.slow
STANDARDS = REPO_ROOT.parent / "shared" / "standards" / "untp"


def _account(name: str) -> Any:
    return dev_accounts()[DEV_ROLES.index(name)]


@pytest.fixture(scope="module")
def credential(node_export: Exported, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("untp") / "wf6.dpp.jwt"
    args = chain_args(node_export)
    block = str(node_export.wf6.chain.as_of_block)
    vault = str(node_export.out / "vaults" / "fab")
    result = CliRunner().invoke(
        cli,
        ["passport", "export", str(node_export.result.batches["wf6"]), "--format", "untp-dpp", "--tier", "buyer",
         "--vault", vault, "--block", block, "--dev-account", "fab", "--out", str(out), *args, "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["issuer"] == f"did:pkh:eip155:1337:{_account('fab').address}"
    assert data["versionHash"].startswith("sha256:")
    return out


def _payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def test_credential_validates_against_the_untp_schema(credential: Path) -> None:
    vc = _payload(credential.read_text())
    schema = json.loads((STANDARDS / "untp-dpp-schema.json").read_text())
    errors = sorted(Draft202012Validator(schema).iter_errors(vc), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    subject = vc["credentialSubject"]
    assert subject["product"]["batchNumber"] == "7"
    assert {c["conformance"] for c in subject["conformityClaim"]} == {False}  # tainted: both policies fail
    assert {c["referenceRegulation"]["id"] for c in subject["conformityClaim"]} == {
        untp.REGULATIONS["dfars-2027"]["id"],
        untp.REGULATIONS["eu-2017-821"]["id"],
    }
    assert vc["issuer"]["name"].startswith("Polder Semiconductor Manufacturing B.V.")


def test_mass_fractions_follow_the_on_chain_lineage(credential: Path, node_export: Exported) -> None:
    materials = _payload(credential.read_text())["credentialSubject"]["materialsProvenance"]
    fractions = {m["originCountry"] + m["name"].split(",")[0]: m["massFraction"] for m in materials}
    assert abs(sum(fractions.values()) - 1) < 1e-5
    # WF6 <- blended APT <- 7 t of lot 1 (split) + 8 t of lot 2, both at 51.56 % W
    assert [round(m["massFraction"], 6) for m in materials] == [round(7 / 15, 6), round(8 / 15, 6)]
    contained = node_export.wf6.product.contained_ug / 1e9
    assert abs(sum(m["mass"]["value"] for m in materials) - contained) < 0.01


def test_verifies_offline_from_the_cli_and_with_jwcrypto(credential: Path, node_export: Exported) -> None:
    trust = str(node_export.result.trust_anchor)
    result = CliRunner().invoke(cli, ["passport", "verify", str(credential), "--trust", trust, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ok"] is True
    token = credential.read_text().strip()
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["typ"] == "vc+jwt" and header["alg"] == "ES256K" and "d" not in header["jwk"]
    verifier = jwcrypto_jws.JWS()
    verifier.deserialize(token)
    verifier.verify(jwcrypto_jwk.JWK(**header["jwk"]), alg="ES256K")
    assert json.loads(verifier.payload) == _payload(token)
    refused = CliRunner().invoke(cli, ["passport", "verify", str(credential)])
    assert refused.exit_code == 2 and "give --trust" in refused.output


def _failures(token: str, node_export: Exported) -> list[str]:
    report = untp.verify_credential(token, node_export.trust)
    assert not report.ok
    return [str(f) for f in report.failures]


def test_changed_claims_signatures_keys_and_issuers_fail(credential: Path, node_export: Exported) -> None:
    token = credential.read_text().strip()
    vc = _payload(token)
    fab = _account("fab")

    changed = json.loads(json.dumps(vc))
    changed["credentialSubject"]["materialsProvenance"][0]["massFraction"] = 0.9
    failures = _failures(untp.sign(changed, fab.key), node_export)
    assert any("credentialSubject.materialsProvenance[0].massFraction" in f for f in failures), failures

    changed = json.loads(json.dumps(vc))
    changed["credentialSubject"]["conformityClaim"][0]["conformance"] = True
    assert any("conformance" in f for f in _failures(untp.sign(changed, fab.key), node_export))

    changed = json.loads(json.dumps(vc))
    changed["evidence"][0]["passport"]["product"]["mass_grams"] += 1
    failures = _failures(untp.sign(changed, fab.key), node_export)
    assert any("product.mass_grams" in f for f in failures), failures

    head, body, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[5] ^= 1
    forged = f"{head}.{body}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"
    assert any("signature does not verify" in f for f in _failures(forged, node_export))
    other_body = (
        base64.urlsafe_b64encode(rfc8785.dumps({**vc, "validFrom": "2030-01-01T00:00:00Z"}))
        .rstrip(b"=")
        .decode()
    )
    assert any(
        "signature does not verify" in f for f in _failures(f"{head}.{other_body}.{signature}", node_export)
    )

    stranger = Account.create()
    failures = _failures(untp.sign(vc, stranger.key), node_export)
    assert any(f"signed by the key of {stranger.address}" in f for f in failures), failures
    as_stranger = {**vc, "issuer": {**vc["issuer"], "id": untp.did_pkh(1337, stranger.address)}}
    failures = _failures(untp.sign(as_stranger, stranger.key), node_export)
    assert any(f"member {stranger.address}" in f for f in failures), failures


def test_a_member_sanctioned_before_the_block_cannot_issue(node_export: Exported) -> None:
    sdk, wf6 = node_export.sdk, node_export.result.batches["wf6"]
    block = node_export.wf6.chain.as_of_block
    mine_b = _account("mine-b")  # sanctioned at the end of the demo
    with pytest.raises(SdkError, match=f"member {mine_b.address}: under sanction at the passport's block"):
        sdk.export_with_evidence(wf6, block, members=[mine_b.address])
    proven = sdk.export_with_evidence(wf6, block, members=[_account("fab").address])
    signed = untp.sign(untp.dpp_credential(proven, mine_b.address, [load_policy("dfars-2027")]), mine_b.key)
    failures = _failures(signed, node_export)
    assert any("profile root" in f or f"member {mine_b.address}" in f for f in failures), failures


def test_version_hash_is_stable_and_changes_with_the_passport(node_export: Exported) -> None:
    sdk, wf6 = node_export.sdk, node_export.result.batches["wf6"]
    block = node_export.wf6.chain.as_of_block
    again = sdk.export_with_evidence(wf6, block)
    assert again.version is not None and node_export.wf6.version is not None
    assert again.version.hash == node_export.wf6.version.hash == version_hash(node_export.wf6)
    earlier = sdk.export_with_evidence(wf6, block - 1)
    assert earlier.version is not None and earlier.version.hash != again.version.hash
    tampered = again.model_copy(update={"product": again.product.model_copy(update={"mass_grams": 1})})
    assert version_hash(tampered) != again.version.hash
    from passport.evidence import verify_offline

    report = verify_offline(tampered, node_export.trust)
    assert any(f.where == "version.hash" for f in report.failures)


def test_traceability_events_credential(node_export: Exported, tmp_path: Path) -> None:
    out = tmp_path / "wf6.dte.jwt"
    args = chain_args(node_export)
    block = str(node_export.wf6.chain.as_of_block)
    result = CliRunner().invoke(
        cli,
        ["passport", "export", str(node_export.result.batches["wf6"]), "--format", "untp-dte", "--block", block,
         "--dev-account", "refinery", "--out", str(out), *args],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    token = out.read_text().strip()
    vc = _payload(token)
    schema = json.loads((STANDARDS / "untp-dte-schema.json").read_text())
    errors = list(Draft202012Validator(schema).iter_errors(vc))
    assert not errors, [f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:5]]
    kinds = [e["type"][0] for e in vc["credentialSubject"]]
    assert {"ObjectEvent", "TransactionEvent", "TransformationEvent"} <= set(kinds)
    received = [e for e in vc["credentialSubject"] if e["processType"] == "receiving"]
    assert {q["quantity"] for e in received for q in e["quantityList"]} >= {11_880.0}  # lot A, 1 % short
    assert untp.verify_credential(token, node_export.trust).ok
    changed = json.loads(json.dumps(vc))
    changed["credentialSubject"][0]["eventTime"] = "2020-01-01T00:00:00Z"
    failures = _failures(untp.sign(changed, _account("refinery").key), node_export)
    assert any("credentialSubject[0].eventTime" in f for f in failures), failures
    trust = str(node_export.result.trust_anchor)
    assert CliRunner().invoke(cli, ["passport", "verify", str(out), "--trust", trust]).exit_code == 0


def _dcc(node_export: Exported, tmp_path: Path, uid: str, who: str = "certifier") -> Any:
    out = tmp_path / f"{uid[:10]}.dcc.jwt"
    args = chain_args(node_export)
    block = str(node_export.wf6.chain.as_of_block)
    result = CliRunner().invoke(
        cli,
        ["passport", "export", str(node_export.result.batches["wf6"]), "--format", "untp-dcc", "--attestation", uid,
         "--block", block, "--dev-account", who, "--out", str(out), *args],
    )  # fmt: skip
    return result, out


def test_conformity_credentials_from_attestations(node_export: Exported, tmp_path: Path) -> None:
    attestations = {(a.schema_name, a.subject_kind): a for a in node_export.wf6.attestations}
    schema = json.loads((STANDARDS / "untp-dcc-schema.json").read_text())
    trust = str(node_export.result.trust_anchor)
    for key in (("due-diligence-audited", "FACILITY"), ("origin-verified", "BATCH")):  # attest, attestBySig
        entry = attestations[key]
        result, out = _dcc(node_export, tmp_path, entry.uid)
        assert result.exit_code == 0, result.output
        token = out.read_text().strip()
        vc = _payload(token)
        errors = list(Draft202012Validator(schema).iter_errors(vc))
        assert not errors, [f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:5]]
        subject = vc["credentialSubject"]
        assert subject["onChainAttestation"]["uid"] == entry.uid
        assert subject["assessment"][0]["conformance"] is True
        assert ("assessedFacility" if key[1] == "FACILITY" else "assessedProduct") in subject["assessment"][0]
        assert subject["authorisation"][0]["name"].startswith(f"accredited for '{key[0]}'")
        assert CliRunner().invoke(cli, ["passport", "verify", str(out), "--trust", trust]).exit_code == 0
        certifier = _account("certifier")
        wrong_salt = json.loads(json.dumps(vc))
        wrong_salt["credentialSubject"]["onChainAttestation"]["salt"] = "0x" + "11" * 32
        failures = _failures(untp.sign(wrong_salt, certifier.key), node_export)
        assert any("do not hash (EIP-712) to the attestation id" in f for f in failures), failures
    revoked = attestations[("labour-audit", "FACILITY")]
    result, out = _dcc(node_export, tmp_path, revoked.uid)
    assert result.exit_code == 0, result.output
    assert _payload(out.read_text())["credentialSubject"]["assessment"][0]["conformance"] is False
    refused, _ = _dcc(node_export, tmp_path, revoked.uid, who="fab")
    assert refused.exit_code == 1 and "sign with that key" in str(refused.exception)
    fab = _account("fab")
    as_fab = _payload(out.read_text())
    as_fab["issuer"]["id"] = untp.did_pkh(1337, fab.address)
    failures = _failures(untp.sign(as_fab, fab.key), node_export)
    assert any(f"the attestation's certifier is {revoked.certifier}" in f for f in failures), failures


def test_did_web_issuer_is_tied_to_the_account_by_the_disclosed_profile(
    node_export: Exported, tmp_path: Path
) -> None:
    out = tmp_path / "wf6.web.jwt"
    args = chain_args(node_export)
    block = str(node_export.wf6.chain.as_of_block)
    common = ["passport", "export", str(node_export.result.batches["wf6"]), "--format", "untp-dpp", "--block", block,
              "--dev-account", "fab", "--out", str(out), *args]  # fmt: skip
    vault = str(node_export.out / "vaults" / "fab")
    result = CliRunner().invoke(
        cli, [*common, "--tier", "public", "--vault", vault, "--did-web", "polder-semiconductor.example"]
    )
    assert result.exit_code == 0, result.output
    vc = _payload(out.read_text())
    assert vc["issuer"]["id"] == "did:web:polder-semiconductor.example"
    did = json.loads((tmp_path / "did.json").read_text())
    fab = _account("fab")
    assert did["verificationMethod"][1]["blockchainAccountId"] == f"eip155:1337:{fab.address}"
    assert did["alsoKnownAs"] == [untp.did_pkh(1337, fab.address)]
    assert untp.verify_credential(out.read_text(), node_export.trust).ok
    other = {**vc, "issuer": {**vc["issuer"], "id": "did:web:other.example"}}
    failures = _failures(untp.sign(other, fab.key), node_export)
    assert any("no member profile disclosed in the passport names that domain" in f for f in failures), (
        failures
    )
    stranger = Account.create()
    failures = _failures(untp.sign(vc, stranger.key), node_export)
    assert any(f"signed by the key of {stranger.address}, not of {fab.address}" in f for f in failures), (
        failures
    )
    refused = CliRunner().invoke(cli, [*common, "--did-web", "polder-semiconductor.example"])
    assert refused.exit_code == 2 and "names that domain" in refused.output


def test_a_facility_as_a_digital_facility_record(node_export: Exported, tmp_path: Path) -> None:
    refinery = 3  # the demo's facilities: mine A, mine B, the refinery, the WF6 plant
    vault = node_export.out / "vaults" / "refinery"
    out = tmp_path / "refinery.dfr.jwt"
    args = ["passport", "export", "--format", "untp-dfr", "--facility", str(refinery), "--out", str(out)]
    signer = ["--dev-account", "refinery", "--vault", str(vault), "--tier", "buyer", *chain_args(node_export)]
    result = CliRunner().invoke(cli, [*args, *signer, "--json"])
    assert result.exit_code == 0, result.output
    token = out.read_text().strip()
    vc = _payload(token)
    schema = json.loads((STANDARDS / "untp-dfr-schema.json").read_text())
    errors = list(Draft202012Validator(schema).iter_errors(vc))
    assert not errors, [f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:5]]
    site = vc["credentialSubject"]["facility"]
    assert site["name"] == "Hai Duong APT refinery" and site["countryOfOperation"] == "VN"
    # linked by id: the passports name the site as its DFR does (its GLN's Digital Link here)
    buyer = node_export.result.documents["wf6-buyer"]
    assert site["id"] == Identifiers(buyer).facility(refinery) and site["id"].startswith(
        "https://id.gs1.org/414/"
    )
    assert vc["issuer"]["id"] == untp.did_pkh(node_export.trust.chain_id, _account("refinery").address)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    verifier = jwcrypto_jws.JWS()
    verifier.deserialize(token)
    verifier.verify(jwcrypto_jwk.JWK(**header["jwk"]), alg="ES256K")
    trust = str(node_export.result.trust_anchor)
    checked = CliRunner().invoke(cli, ["passport", "verify", str(out), "--trust", trust, "--json"])
    assert checked.exit_code == 0 and json.loads(checked.output)["ok"] is True, checked.output
    # every field of the record, changed and signed again by the operator, fails naming it
    key = _account("refinery").key
    for path in _leaves({k: v for k, v in vc.items() if k != "evidence"}):
        changed = json.loads(json.dumps(vc))
        target = changed
        for step in path[:-1]:
            target = target[step]
        old = target[path[-1]]
        target[path[-1]] = (
            (not old) if isinstance(old, bool) else (old + 1 if isinstance(old, int | float) else f"{old}x")
        )
        failures = [f.where for f in untp.verify_dfr(untp.sign(changed, key), node_export.trust).failures]
        dotted = "credential." + ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(
            ".[", "["
        )
        assert any(w.startswith(dotted) or w == "credential.issuer.id" for w in failures), (path, failures)
    # the proofs it carries: a disclosed value, and the facility's slots, changed
    lied = json.loads(json.dumps(vc))
    lied["evidence"][0]["proof"]["disclosure"]["revealed"]["name"]["value"] = "Someone else's refinery"
    lied["credentialSubject"]["facility"]["name"] = "Someone else's refinery"
    failures = [str(f) for f in untp.verify_dfr(untp.sign(lied, key), node_export.trust).failures]
    assert any("field name" in f and "does not match" in f for f in failures), failures
    moved = json.loads(json.dumps(vc))
    moved["evidence"][0]["proof"]["facility_id"] = refinery + 1
    assert not untp.verify_dfr(untp.sign(moved, key), node_export.trust).ok
    fab = _account("fab")
    assert any(
        f.where == "credential.issuer.id"
        for f in untp.verify_dfr(untp.sign(vc, fab.key), node_export.trust).failures
    )
    refused = CliRunner().invoke(cli, [*args, "--dev-account", "fab", *chain_args(node_export)])
    assert refused.exit_code == 1 and "sign with that key" in str(refused.exception)
