"""The storage layout the verifier reads agrees with the compiler's; trust export, export with
evidence and offline verify work from the CLI on the passport node and on anvil; a chain without
eth_getProof is refused with a clear error."""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from passport.cli import cli
from passport.core.types import Role
from passport.evidence import layout
from passport.exceptions import SdkError
from passport.sdk import Client, Founder, Sdk
from passport.sdk.accounts import dev_accounts
from passport.toolchain.compiler import REPO_ROOT
from tests.evidence.conftest import Exported

pytestmark = pytest.mark.slow


@functools.cache
def _forge_layout(contract: str) -> dict[str, object]:
    out = subprocess.run(
        [str(REPO_ROOT / "node_modules" / ".bin" / "forge"), "inspect", contract, "storageLayout", "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return dict(json.loads(out.stdout))


@pytest.mark.parametrize("contract", sorted(layout.VARIABLES))
def test_layout_matches_forge_inspect(contract: str) -> None:
    data = _forge_layout(contract)
    storage = {s["label"]: s for s in data["storage"]}  # type: ignore[attr-defined]
    types = data["types"]
    for label, slot in layout.VARIABLES[contract].items():
        assert int(storage[label]["slot"]) == slot, label
        assert int(storage[label]["offset"]) == 0, label
    structs = {
        t["label"].removeprefix("struct ").split(".")[-1]: t  # type: ignore[index]
        for t in types.values()  # type: ignore[attr-defined]
        if str(t.get("label", "")).startswith("struct ")
    }
    for name, members in layout.STRUCTS.items():
        if name not in structs:
            continue
        declared = {m["label"]: m for m in structs[name]["members"]}
        for m in members:
            got = declared[m.label]
            size = int(types[got["type"]]["numberOfBytes"])  # type: ignore[index]
            assert (int(got["slot"]), int(got["offset"]), size) == (m.slot, m.offset, m.size), (name, m.label)


def test_every_struct_is_checked() -> None:
    seen: set[str] = set()
    for contract in layout.VARIABLES:
        data = _forge_layout(contract)
        seen |= {
            str(t["label"]).removeprefix("struct ").split(".")[-1]
            for t in data["types"].values()  # type: ignore[attr-defined]
            if str(t.get("label", "")).startswith("struct ")
        }
    assert set(layout.STRUCTS) <= seen


@pytest.mark.parametrize("which", ["node_export", "anvil_export"])
def test_cli_trust_export_export_verify(which: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    exported: Exported = request.getfixturevalue(which)
    url = exported.sdk.client.url
    common = ["--rpc-url", url, "--network", "demo", "--deployments", str(exported.out / "deployments")]
    runner = CliRunner()
    trust, passport = tmp_path / "consortium.trust.json", tmp_path / "wf6.json"
    result = runner.invoke(
        cli, ["trust", "export", "--out", str(trust), "--name", "Test consortium", *common]
    )
    assert result.exit_code == 0, result.output
    anchor = json.loads(trust.read_text())
    assert anchor["sealed"] is (which == "node_export")
    batch = exported.result.batches["wf6"]
    result = runner.invoke(cli, ["passport", "export", str(batch), "--out", str(passport), "--json", *common])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["evidence"]["receipts"] > 0
    result = runner.invoke(cli, ["passport", "verify", str(passport), "--trust", str(trust)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "AUTHENTIC every claim and proof holds, offline, against Test consortium" in said
    if which == "anvil_export":
        assert "headers not sealed: trusted as exported" in said
    # Without --trust the file still verifies online, evidence and all.
    result = runner.invoke(cli, ["passport", "verify", str(passport), *common])
    assert result.exit_code == 0, result.output


def test_bad_trust_file_is_a_clear_error(node_export: Exported, tmp_path: Path) -> None:
    bad = tmp_path / "trust.json"
    bad.write_text('{"kind": "mineral-passport/trust-anchor@1", "chain_id": 0}')
    path = node_export.result.passports["wf6-with-evidence"]
    result = CliRunner().invoke(cli, ["passport", "verify", str(path), "--trust", str(bad)])
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_chain_without_get_proof_is_refused() -> None:
    client = Client.embedded(fund=[a.address for a in dev_accounts(2)])
    admin = dev_accounts(1)[0]
    sdk = Sdk.deploy(client, admin, [Founder(admin.address, Role.ADMIN, "VN")])
    with pytest.raises(SdkError, match="eth_getProof"):
        sdk.export_with_evidence(1)


def test_verify_answers_authentic_and_compliant_with_exit_codes(
    node_export: Exported, tmp_path: Path
) -> None:
    """0: authentic (policies reported); 3: authentic but a --policy fails, naming why; 1: not
    authentic, whatever the policies."""
    buyer = node_export.result.passports["wf6-buyer"]
    trust = str(node_export.result.trust_anchor)
    reported = CliRunner().invoke(cli, ["verify", str(buyer), "--trust", trust])
    assert reported.exit_code == 0, reported.output
    said = " ".join(reported.output.split())
    assert "AUTHENTIC" in said and "NOT COMPLIANT dfars-2027: FAIL" in said
    assert "--policy NAME makes a failure exit 3" in said and "fingerprint sha256:" in said

    judged = CliRunner().invoke(cli, ["verify", str(buyer), "--trust", trust, "--policy", "dfars-2027"])
    assert judged.exit_code == 3, judged.output
    said = " ".join(judged.output.split())
    assert "sanctioned Mine B" in said and "eu-2017-821" not in said
    as_json = CliRunner().invoke(
        cli, ["verify", str(buyer), "--trust", trust, "--policy", "dfars-2027", "--json"]
    )
    answer = json.loads(as_json.stdout)
    assert (answer["exitCode"], answer["authentic"], answer["compliant"]) == (3, True, False)
    assert answer["anchor"]["fingerprint"].startswith("sha256:")

    data = json.loads(buyer.read_text())
    data["product"]["mass_grams"] += 1
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(data))
    refused = CliRunner().invoke(cli, ["verify", str(tampered), "--trust", trust, "--policy", "dfars-2027"])
    assert refused.exit_code == 1, refused.output
    assert "NOT AUTHENTIC" in " ".join(refused.output.split())
