"""The CLI end to end on anvil, and its errors: one line on stderr, exit code 1, no traceback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from passport.cli import cli
from passport.sdk.accounts import dev_accounts
from passport.toolchain.anvil import Anvil, free_port
from tests.viewer.conftest import CHROMIUM, open_pages

pytestmark = pytest.mark.slow
PASSPORT = Path(sys.executable).with_name("passport")
OUTSIDER = "0x000000000000000000000000000000000000dEaD"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PASSPORT, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
    )


def one_line_error(proc: subprocess.CompletedProcess[str], expected: str) -> None:
    assert proc.returncode == 1, proc
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert expected in lines[0], lines[0]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def demo_dir(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli-demo")
    result = invoke("demo", "--rpc-url", anvil.url, "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["wf6PassportVerified"] is True
    return out


def chain_args(anvil: Anvil, demo_dir: Path) -> list[str]:
    return ["--rpc-url", anvil.url, "--network", "demo", "--deployments", str(demo_dir / "deployments")]


def test_passport_show_export_verify_check(anvil: Anvil, demo_dir: Path, tmp_path: Path) -> None:
    args = chain_args(anvil, demo_dir)
    shown = invoke("passport", "show", "7", *args)
    assert shown.exit_code == 0
    assert "Passport of batch 7" in shown.stdout and "split from #1" in shown.stdout
    as_json = json.loads(invoke("passport", "show", "7", *args, "--json").stdout)
    assert as_json["product"]["stage"] == "WF6"
    out = tmp_path / "wf6.json"
    assert invoke("passport", "export", "7", "--out", str(out), *args).exit_code == 0
    verified = invoke("passport", "verify", str(out), *args, "--json")
    assert verified.exit_code == 0 and json.loads(verified.stdout)["ok"] is True
    data = json.loads(out.read_text())
    data["origins"][0]["country"] = "LA"
    out.write_text(json.dumps(data))
    tampered = invoke("passport", "verify", str(out), *args)
    assert tampered.exit_code == 1
    assert "origins[0].country: file has 'LA', chain has 'VN'" in tampered.stdout
    failed = invoke("passport", "check", "7", *args, "--json")
    assert failed.exit_code == 1
    assert {r["policy"]: r["passed"] for r in json.loads(failed.stdout)} == {
        "dfars-2027": False,
        "eu-2017-821": False,
    }
    assert invoke("passport", "check", "6", *args).exit_code == 0


def test_batch_and_attestation_commands(anvil: Anvil, demo_dir: Path, tmp_path: Path) -> None:
    args = chain_args(anvil, demo_dir)
    minted = invoke(
        "batch",
        "mint",
        "--facility",
        "1",
        "--stage",
        "ore",
        "--mass-g",
        "5000",
        "--grade-ppm",
        "8000",
        "--dev-account",
        "mine-a",
        *args,
        "--json",
    )
    assert minted.exit_code == 0, minted.output
    batch_id = json.loads(minted.stdout)["batchId"]
    assert (
        invoke(
            "batch",
            "offer",
            str(batch_id),
            dev_accounts()[3].address,
            "--custody-only",
            "--dev-account",
            "mine-a",
            *args,
        ).exit_code
        == 0
    )
    accepted = invoke(
        "batch",
        "accept",
        str(batch_id),
        "--measured-g",
        "4000",
        "--yes",
        "--dev-account",
        "carrier",
        *args,
        "--json",
    )
    answer = json.loads(accepted.stdout)
    assert len(answer.pop("transactions")) == 1
    assert answer == {
        "batchId": batch_id, "discrepancy": True, "measuredGrams": 4000, "recordedGrams": 5000
    }  # fmt: skip
    shown = json.loads(invoke("batch", "show", str(batch_id), *args, "--json").stdout)
    assert shown["custodian"] == dev_accounts()[3].address and "DISCREPANCY" in shown["flags"]
    signed_file = tmp_path / "signed.json"
    signed = invoke(
        "attest",
        "sign",
        "--schema-id",
        "1",
        "--subject",
        str(batch_id),
        "--data-hash",
        "0x" + "ab" * 32,
        "--out",
        str(signed_file),
        "--dev-account",
        "certifier",
        "--network",
        "demo",
        "--deployments",
        str(demo_dir / "deployments"),
    )
    assert signed.exit_code == 0, signed.output
    submitted = invoke("attest", "submit", str(signed_file), "--dev-account", "fab", *args, "--json")
    uid = json.loads(submitted.stdout)["uid"]
    assert json.loads(invoke("attest", "verify", uid, *args, "--json").stdout)["valid"] is True
    assert invoke("attest", "revoke", uid, "--dev-account", "certifier", *args).exit_code == 0
    assert json.loads(invoke("attest", "verify", uid, *args, "--json").stdout)["valid"] is False


def test_errors_are_one_line(anvil: Anvil, demo_dir: Path, tmp_path: Path) -> None:
    args = chain_args(anvil, demo_dir)
    one_line_error(
        run("batch", "show", "999", *args), "error: MineralPassport reverted: BatchNotFound(batchId=999)"
    )
    one_line_error(
        run(
            "batch",
            "mint",
            "--facility",
            "1",
            "--stage",
            "ORE",
            "--mass-g",
            "1",
            "--grade-ppm",
            "1",
            "--dev-account",
            "auditor",
            *args,
        ),
        "ConsortiumMissingRole(account=",
    )
    # An offer to a non-member is refused before it is sent (it could never be accepted).
    one_line_error(
        run("batch", "offer", "6", OUTSIDER, "--dev-account", "refinery", *args),
        "is not an active member of the consortium",
    )
    one_line_error(
        run(
            "batch",
            "accept",
            "6",
            "--measured-g",
            "3500000",
            "--keystore",
            str(tmp_path / "none.json"),
            *args,
            env={"PASSPORT_PASSWORD": "x"},
        ),
        "keystore",
    )
    one_line_error(
        run("batch", "split", "6", "--masses", "1,2", "--dev-account", "refinery", *args),
        "BatchSplitMassMismatch(batchId=6, parentGrams=3500000, childrenGrams=3)",
    )
    one_line_error(
        run(
            "batch",
            "show",
            "1",
            "--rpc-url",
            f"http://127.0.0.1:{free_port()}",
            "--network",
            "demo",
            "--deployments",
            str(demo_dir / "deployments"),
        ),
        "error: cannot reach JSON-RPC endpoint",
    )
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "something else"}')
    one_line_error(
        run("passport", "verify", str(bad), *args), f"error: {bad} is not a valid passport file: kind:"
    )
    keystore = tmp_path / "k.json"
    made = run("account", "new", str(keystore), env={"PASSPORT_PASSWORD": "right"})
    assert made.returncode == 0, made.stderr
    one_line_error(
        run("account", "show", str(keystore), env={"PASSPORT_PASSWORD": "wrong"}),
        "wrong password (MAC mismatch)",
    )
    keystore.write_text("garbage")
    one_line_error(
        run("batch", "freeze", "1", "--keystore", str(keystore), *args, env={"PASSPORT_PASSWORD": "x"}),
        "not a readable JSON keystore",
    )
    one_line_error(
        run(
            "batch",
            "show",
            "1",
            "--network",
            "nowhere",
            "--rpc-url",
            anvil.url,
            "--deployments",
            str(tmp_path),
        ),
        "no deployment of Consortium on network 'nowhere'",
    )
    missing_signer = run("batch", "freeze", "1", *args)
    assert (
        missing_signer.returncode == 2
        and "give exactly one of --keystore PATH and --dev-account NAME" in missing_signer.stderr
    )


def test_account_dev_lists_no_keys() -> None:
    result = invoke("account", "dev", "--json")
    rows = json.loads(result.stdout)
    assert rows[0] == {"name": "admin", "index": 0, "address": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"}
    assert "key" not in result.stdout.lower()


def test_demo_as_a_real_process(tmp_path: Path) -> None:
    proc = subprocess.run(
        [PASSPORT, "demo", "--out", str(tmp_path)], capture_output=True, text=True, check=False, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "Passport of batch 7" in proc.stdout
    assert "WF6 passport re-verified against the chain: yes" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert "verified offline from its evidence" in " ".join(proc.stdout.split())
    assert sorted(p.name for p in tmp_path.glob("*.json")) == [
        "attestation-origin-batch-1.json",
        "consortium.trust.json",
        "fab-disclosure.policy.json",
        "passport-apt-mine-a-batch-6.json",
        "passport-wf6-batch-7.buyer.json",
        "passport-wf6-batch-7.epcis.json",
        "passport-wf6-batch-7.evidence.json",
        "passport-wf6-batch-7.json",
        "passport-wf6-batch-7.public.json",
        "telemetry-mine-a.json",
        "telemetry-mine-b.json",
    ]
    assert (tmp_path / "passport-wf6-batch-7.dpp.jwt").read_text().startswith("eyJ")
    assert 'id="passport-data"' in (tmp_path / "passport-wf6.html").read_text()
    if Path(CHROMIUM).exists() or os.environ.get("CI"):  # the page, opened with no network, verifies
        shown = open_pages([{"url": (tmp_path / "passport-wf6.html").as_uri()}], tmp_path)[0]
        assert shown["verdict"] == "verified" and shown["blocked"] == [], shown["failures"]
    assert (tmp_path / "label-wf6.svg").read_text().startswith("<svg")
    assert "WF6 passport version (SHA-256 of RFC 8785 claims): sha256:" in " ".join(proc.stdout.split())


def test_deploy_records_and_refuses_to_overwrite(anvil: Anvil, tmp_path: Path) -> None:
    args = ["--rpc-url", anvil.url, "--network", "cli", "--deployments", str(tmp_path)]
    deployed = invoke("deploy", "--dev", "--dev-account", "admin", *args, "--json")
    assert deployed.exit_code == 0, deployed.output
    summary = json.loads(deployed.stdout)
    assert sorted(summary["contracts"]) == ["AttestationRegistry", "Consortium", "MineralPassport"]
    record = json.loads((tmp_path / "cli" / "Consortium.json").read_text())
    assert record["address"] == summary["contracts"]["Consortium"] and record["chainId"] == 31337
    one_line_error(run("deploy", "--dev", "--dev-account", "admin", *args), "already has a deployment")
    assert invoke("deploy", "--dev", "--dev-account", "admin", "--force", *args).exit_code == 0
    added = invoke(
        "member",
        "add",
        dev_accounts()[1].address,
        "--roles",
        "miner,trader",
        "--jurisdiction",
        "VN",
        "--dev-account",
        "admin",
        *args,
        "--json",
    )
    answer = json.loads(added.stdout)
    assert (answer["proposalId"], answer["executed"]) == (1, True)
    assert answer["txHash"].startswith("0x") and answer["block"] > 0 and answer["gasUsed"] > 21_000
    shown = invoke("member", "show", dev_accounts()[1].address, *args)
    assert "MINER,TRADER" in shown.stdout and "VN" in shown.stdout and "active" in shown.stdout
    bad_role = run(
        "member", "add", OUTSIDER, "--roles", "pilot", "--jurisdiction", "VN", "--dev-account", "admin", *args
    )
    assert bad_role.returncode == 2 and "unknown role 'PILOT'" in bad_role.stderr
    # a country code in lower case is read as the code (the contract takes upper case only)
    lower = run(
        "member", "add", OUTSIDER, "--roles", "buyer", "--jurisdiction", "vn", "--dev-account", "admin", *args
    )
    assert lower.returncode == 0, lower.stderr
    assert "VN" in run("member", "show", OUTSIDER, *args).stdout


def test_telemetry_anchor_and_prove(anvil: Anvil, demo_dir: Path, tmp_path: Path) -> None:
    readings = demo_dir / "telemetry-mine-a.json"
    root = json.loads(invoke("telemetry", "anchor", str(readings), "--json").stdout)["root"]
    passport = json.loads(invoke("passport", "show", "1", *chain_args(anvil, demo_dir), "--json").stdout)
    assert passport["product"]["content_hash"] == root  # the lot was minted with this root
    proof = json.loads(invoke("telemetry", "prove", str(readings), "2", "--json").stdout)
    assert (
        proof["root"] == root and len(proof["proof"]) == 1
    )  # leaf 2 of 3 is unpaired: it moves up unchanged
    rows = json.loads(readings.read_text())
    rows[0]["value"] += 1  # a forged weight no longer matches the device's signature
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(rows))
    one_line_error(run("telemetry", "anchor", str(forged)), "readings [0] are not signed by their device key")


def test_governance_commands(anvil: Anvil, tmp_path: Path) -> None:
    args = ["--rpc-url", anvil.url, "--network", "gov", "--deployments", str(tmp_path)]
    assert invoke("deploy", "--dev", "--dev-account", "admin", *args).exit_code == 0
    certifier = dev_accounts()[7].address
    assert (
        invoke(
            "member",
            "add",
            certifier,
            "--roles",
            "certifier",
            "--jurisdiction",
            "CH",
            "--dev-account",
            "admin",
            *args,
        ).exit_code
        == 0
    )
    schema = json.loads(
        invoke(
            "attest", "schema", "assay", "--subject", "batch", "--dev-account", "admin", *args, "--json"
        ).stdout
    )
    assert [tx["block"] > 0 for tx in schema.pop("transactions")] == [True]
    assert schema == {"schemaId": 1, "name": "assay"}
    accredited = invoke(
        "member", "accredit", certifier, "--schema-id", "1", "--days", "30", "--dev-account", "admin", *args
    )
    assert accredited.exit_code == 0 and "executed" in accredited.stdout
    assert (
        invoke(
            "member", "roles", certifier, "--roles", "certifier,buyer", "--dev-account", "admin", *args
        ).exit_code
        == 0
    )
    assert "CERTIFIER,BUYER" in invoke("member", "show", certifier, *args).stdout
    ended = invoke(
        "member", "accredit", certifier, "--schema-id", "1", "--revoke", "--dev-account", "admin", *args
    )
    assert ended.exit_code == 0
    one_line_error(
        run("member", "accredit", certifier, "--schema-id", "1", "--revoke", "--dev-account", "admin", *args),
        "ConsortiumNotAccredited(certifier=",
    )


def test_offers_refused_before_sending_cancelled_and_accepted_with_units(
    anvil: Anvil, demo_dir: Path
) -> None:
    args = chain_args(anvil, demo_dir)
    minted = invoke(
        "batch", "mint", "--facility", "1", "--stage", "ore", "--mass-g", "5000000", "--grade-ppm", "8000",
        "--dev-account", "mine-a", *args, "--json",
    )  # fmt: skip
    batch_id = str(json.loads(minted.stdout)["batchId"])
    mine_a = ["--dev-account", "mine-a", *args]

    outsider = run("batch", "offer", batch_id, OUTSIDER, *mine_a)
    one_line_error(outsider, "is not an active member of the consortium: it could never accept batch")
    nobody = run("batch", "offer", batch_id, "nobody", *mine_a)
    assert nobody.returncode == 2 and "Traceback" not in nobody.stderr
    assert "'nobody' is neither an address (0x and 40 hex digits) nor an account name" in nobody.stderr
    typo = run(
        "batch",
        "offer",
        batch_id,
        dev_accounts()[4].address.replace("F", "f", 1).replace("a", "A", 1),
        *mine_a,
    )
    assert typo.returncode == 2 and "checksum does not match" in typo.stderr

    assert run("batch", "offer", batch_id, "refinery", *mine_a).returncode == 0  # an account name
    shown = json.loads(invoke("batch", "show", batch_id, *args, "--json").stdout)
    assert shown["pendingOffer"]["to"] == dev_accounts()[4].address
    said = " ".join(invoke("batch", "show", batch_id, *args).stdout.split())
    assert "offered to " + dev_accounts()[4].address in said
    again = run("batch", "offer", batch_id, "fab", *mine_a)
    one_line_error(again, f"batch {batch_id} is already offered to {dev_accounts()[4].address}")
    cancelled = invoke("batch", "cancel", batch_id, *mine_a, "--json")
    assert json.loads(cancelled.stdout)["cancelledTo"] == dev_accounts()[4].address
    one_line_error(run("batch", "cancel", batch_id, *mine_a), "has no pending offer")

    assert run("batch", "offer", batch_id, "refinery", *mine_a).returncode == 0
    refinery = ["--dev-account", "refinery", *args]
    grams = run("batch", "accept", batch_id, "--measured", "5000g", *refinery)  # meant kg
    one_line_error(
        grams, "recorded 5,000,000 g, measured 5,000 g (-99.90 %), beyond the 0.5 % hand-over tolerance"
    )
    zero = run("batch", "accept", batch_id, "--measured-g", "0", *refinery)
    assert zero.returncode == 2 and "Traceback" not in zero.stderr
    unit = run("batch", "accept", batch_id, "--measured", "5000 lb", *refinery)
    assert unit.returncode == 2 and "is not a mass with its unit" in unit.stderr
    done = invoke("batch", "accept", batch_id, "--measured", "4,990kg", *refinery, "--json")
    answer = json.loads(done.stdout)
    [tx] = answer.pop("transactions")  # every write says what it sent
    assert (
        tx["hash"].startswith("0x") and len(tx["hash"]) == 66 and tx["block"] > 0 and tx["gasUsed"] > 21_000
    )
    assert answer == {
        "batchId": int(batch_id), "discrepancy": False, "measuredGrams": 4_990_000, "recordedGrams": 5_000_000
    }  # fmt: skip
    said = invoke("batch", "offer", batch_id, "fab", "--dev-account", "refinery", *args).stdout
    assert re.search(r"tx 0x[0-9a-f]{64} in block \d+, gas [\d,]+", said), said
    env = {"PASSPORT_DEPLOYMENTS": str(demo_dir / "deployments"), "PASSPORT_NETWORK": "demo"}
    by_env = run("batch", "show", batch_id, "--rpc-url", anvil.url, "--json", env=env)
    assert (
        by_env.returncode == 0
        and json.loads(by_env.stdout)["pendingOffer"]["to"] == dev_accounts()[6].address
    )


def test_member_and_facility_arguments_are_checked_before_sending(anvil: Anvil, demo_dir: Path) -> None:
    args = [*chain_args(anvil, demo_dir), "--dev-account", "admin"]
    country = run("member", "add", "auditor", "--roles", "BUYER", "--jurisdiction", "Vietnam", *args)
    assert country.returncode == 2 and "Traceback" not in country.stderr
    assert "'Vietnam' is not an ISO 3166-1 alpha-2 country code" in country.stderr
    name = run("facility", "add", "--operator", "mine-c", "--country", "VN", "--kind", "MINE", *args)
    assert name.returncode == 2 and "'mine-c' is neither an address" in name.stderr
    added = invoke(
        "facility", "add", "--operator", "mine-a", "--country", "vn", "--kind", "MINE", *args, "--json"
    )
    answer = json.loads(added.stdout)
    assert answer["executed"] and answer["facilityId"] >= 1 and answer["txHash"].startswith("0x")
    said = " ".join(
        invoke(
            "facility", "add", "--operator", "mine-a", "--country", "VN", "--kind", "MINE", *args
        ).stdout.split()
    )
    assert f"(facility {answer['facilityId'] + 1})" in said and "gas " in said


def test_verify_without_a_node_says_to_give_the_trust_anchor(demo_dir: Path) -> None:
    passport = next(demo_dir.glob("passport-wf6-batch-*.evidence.json"))
    refused = run("verify", str(passport), "--rpc-url", f"http://127.0.0.1:{free_port()}")
    one_line_error(refused, "give --trust ANCHOR (the consortium's trust anchor) to verify it offline")
