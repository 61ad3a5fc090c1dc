"""Passports proven by the consortium's quorum, on a real 4-validator CometBFT network: the demo's
WF6 passport verifies offline in Python and in the page's verifier, naming who committed it; after
governance adds a validator and removes another, a passport exported then still verifies against
the trust anchor exported before; CometBFT's own light client accepts the same headers; a file
whose commits are tampered with fails, each with its reason."""

from __future__ import annotations

import base64
import copy
import json
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from passport import demo
from passport.core.document import PassportDocument
from passport.evidence import verify_offline
from passport.evidence.trust import CometTrustAnchor
from passport.node.consensus.comet import comet_rpc, cometbft_binary
from passport.node.consensus.network import Network, free_ports, init_network
from passport.sdk import Client, Sdk
from passport.sdk.accounts import dev_accounts
from tests.cometbft.conftest import wait_for

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Demo:
    network: Network
    sdk: Sdk
    result: demo.DemoResult
    anchor: CometTrustAnchor
    anchor_file: Path
    out: Path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    base = tmp_path_factory.mktemp("quorum")
    network = init_network(base / "net", validators=4, timeout_commit="300ms", full_nodes=1)
    with network.running():
        client = Client.connect(network.node(1).rpc_url)
        out = base / "demo"
        result = demo.run(client, out)
        assert result.trust_anchor is not None
        anchor = CometTrustAnchor.load(result.trust_anchor)
        yield Demo(
            network, Sdk.attach(client, out / "deployments", "demo"), result, anchor, result.trust_anchor, out
        )


def powers(network: Network) -> dict[str, int]:
    answer = comet_rpc(network.node(1).comet_rpc, "validators", {"per_page": "100"})
    return {v["address"]: int(v["voting_power"]) for v in answer["validators"]}


def js_verify(passport: Path, anchor: Path, tmp: Path) -> dict[str, Any]:
    """The page's verifier (the test bundle of viewer/src) on the files, in Node."""
    node = shutil.which("node")
    assert node is not None
    subprocess.run([node, "viewer/build.mjs", "--test", "--out", str(tmp)], cwd=ROOT, check=True, timeout=120)
    script = tmp / "check.mjs"
    script.write_text(
        "import { readFileSync } from 'node:fs';\n"
        f"import {{ verifyOffline, describeQuorum }} from '{ROOT / 'build/viewer/verify.mjs'}';\n"
        f"const doc = JSON.parse(readFileSync('{passport}', 'utf8'));\n"
        f"const trust = JSON.parse(readFileSync('{anchor}', 'utf8'));\n"
        "const r = await verifyOffline(doc, trust);\n"
        "console.log(JSON.stringify({ ok: r.ok, failures: r.failures,"
        " quorum: r.quorum && describeQuorum(r.quorum) }));\n"
    )
    done = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=120, check=True)
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_the_wf6_passport_verifies_offline_naming_the_quorum(run: Demo, tmp_path: Path) -> None:
    path = run.result.passports["wf6-with-evidence"]
    doc = PassportDocument.load(path)
    assert doc.evidence is not None and doc.evidence.consensus is not None
    report = verify_offline(doc, run.anchor)
    assert report.ok, report.failures
    assert report.quorum is not None
    assert report.quorum.signed >= 3 and report.quorum.validators == 4
    assert (
        "Tungsten Consortium Secretariat" in report.quorum.signers
        or "Lang Son Tungsten" in report.quorum.signers
    )
    page = js_verify(path, run.anchor_file, tmp_path)
    assert page["ok"], page["failures"]
    assert page["quorum"] == str(report.quorum)


def test_tampered_commits_fail_with_their_reason(run: Demo) -> None:
    doc = PassportDocument.load(run.result.passports["wf6-with-evidence"])
    assert doc.evidence is not None and doc.evidence.consensus is not None
    data = json.loads(doc.to_json())

    def refused(change: Any) -> list[str]:
        copied = copy.deepcopy(data)
        change(copied["evidence"]["consensus"])
        report = verify_offline(PassportDocument.model_validate(copied), run.anchor)
        assert not report.ok
        return [str(f) for f in report.failures]

    def last(c: dict[str, Any]) -> dict[str, Any]:
        block: dict[str, Any] = c["path"][-1]
        return block

    def app_hash(c: dict[str, Any]) -> None:
        last(c)["header"]["app_hash"] = "00" * 32

    assert any("the commit is for" in f for f in refused(app_hash))

    def signature(c: dict[str, Any]) -> None:
        sig = next(s for s in last(c)["commit"]["signatures"] if s["signature"])
        raw = bytearray(base64.b64decode(sig["signature"]))
        raw[0] ^= 1
        sig["signature"] = base64.b64encode(bytes(raw)).decode()

    assert any("wrong signature" in f for f in refused(signature))

    def validator_set(c: dict[str, Any]) -> None:
        for validators in c["validator_sets"].values():
            validators[0]["voting_power"] = "1000"

    assert any("the header's validators_hash is" in f for f in refused(validator_set))

    no_consensus = json.loads(doc.to_json())
    del no_consensus["evidence"]["consensus"]
    report = verify_offline(PassportDocument.model_validate(no_consensus), run.anchor)
    assert any("no CometBFT commits" in str(f) for f in report.failures)


def test_cli_export_with_trust_then_verify_with_the_network_blocked(
    run: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from click.testing import CliRunner

    from passport.cli import cli

    out = tmp_path / "wf6.json"
    chain = [
        "--rpc-url",
        run.network.node(2).rpc_url,
        "--network",
        "demo",
        "--deployments",
        str(run.out / "deployments"),
    ]
    wf6 = str(run.result.batches["wf6"])
    exported = CliRunner().invoke(
        cli, ["passport", "export", wf6, "--out", str(out), "--trust", str(run.anchor_file), *chain, "--json"]
    )
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout)["evidence"]["commits"] >= 1

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("network access during offline verification")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    checked = CliRunner().invoke(
        cli, ["passport", "verify", str(out), "--trust", str(run.anchor_file), "--json"]
    )
    answer = json.loads(checked.stdout)
    assert answer["failures"] == [] and answer["ok"], answer["failures"]
    quorum = answer["quorum"]
    assert quorum["signed"] * 3 > quorum["validators"] * 2 or quorum["percent"] > 66.7
    assert any(name in quorum["signers"] for name in ("Lang Son Tungsten", "Bac Bo Logistics"))


def test_an_anchor_from_before_a_set_change_still_verifies(run: Demo, tmp_path: Path) -> None:
    network, sdk = run.network, run.sdk
    admin = dev_accounts()[0]
    fifth, first = network.node(4), network.node(0)
    sdk.consortium.propose_validator(admin, base64.b64decode(fifth.pub_key), fifth.account, 10)
    wait_for(lambda: powers(network).get(fifth.validator_address) == 10, 60, "the fifth validator")
    sdk.consortium.propose_validator(admin, base64.b64decode(first.pub_key), first.account, 0)
    wait_for(lambda: first.validator_address not in powers(network), 60, "node0 to leave the set")
    # A change returned at height H takes effect at H + 2: a block read right away may still be
    # committed by the old set. Two blocks later, the anchor's commit is the new set's.
    changed = sdk.client.head()[0]
    wait_for(lambda: sdk.client.head()[0] >= changed + 2, 60, "two blocks under the new set")
    head = sdk.client.head()[0]
    doc = sdk.export_with_evidence(run.result.batches["wf6"], head, trust=run.anchor)
    assert doc.evidence is not None and doc.evidence.consensus is not None
    last = doc.evidence.consensus.path[-1]
    assert (
        fifth.validator_address
        in {s["validator_address"] for s in last["commit"]["signatures"] if s["block_id_flag"] == 2}
        or len(powers(network)) == 4
    )
    report = verify_offline(doc, run.anchor)
    assert report.ok, report.failures
    # the set now: the fifth in, node0 out, and Mine B's validator powerless (the demo sanctions it)
    assert report.quorum is not None and report.quorum.validators == len(powers(network)) == 3
    assert any(s.startswith("validator ") for s in report.quorum.signers)  # the fifth: not in the anchor
    path = tmp_path / "after.json"
    doc.save(path)
    page = js_verify(path, run.anchor_file, tmp_path / "js")
    assert page["ok"], page["failures"]

    # CometBFT's own light client, trusting the anchor's header, accepts the header our
    # verifier accepted (it verifies every /commit it serves through its proxy)
    port = free_ports(1)[0]
    trusted = run.anchor.cometbft
    from passport.evidence.cometbft import read_header

    trusted_hash = read_header(trusted.header, "anchor").hash().hex().upper()
    light = subprocess.Popen(
        [
            str(cometbft_binary()), "light", trusted.chain_id,
            "--primary", network.node(1).comet_rpc, "--witnesses", network.node(2).comet_rpc,
            "--height", str(trusted.height), "--hash", trusted_hash,
            "--home-dir", str(tmp_path / "light"), "--laddr", f"tcp://127.0.0.1:{port}",
            "--trusting-period", "8760h", "--log_level", "error",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        height = int(last["header"]["height"])
        answers: list[Any] = []

        def served() -> bool:
            answers.append(comet_rpc(f"http://127.0.0.1:{port}", "commit", {"height": str(height)}))
            return True

        wait_for(served, 60, "CometBFT's light client to verify the commit")
        signed = answers[-1]["signed_header"]
        assert signed["commit"]["block_id"]["hash"] == last["commit"]["block_id"]["hash"]
        assert signed["header"] == last["header"]
    finally:
        light.send_signal(signal.SIGTERM)
        try:
            light.wait(timeout=15)
        except subprocess.TimeoutExpired:
            light.kill()
            light.wait(timeout=15)


def test_the_page_in_chromium_names_the_quorum(run: Demo, tmp_path: Path) -> None:
    """The WF6 passport exported with the anchor from before the set changed (the test above),
    as its page (``passport passport view``) in Chromium with every request blocked."""
    from click.testing import CliRunner

    from passport.cli import cli
    from tests.viewer.conftest import SHOTS, open_pages

    passport = tmp_path / "wf6.json"
    run.sdk.export_with_evidence(run.result.batches["wf6"], trust=run.anchor).save(passport)
    page = tmp_path / "wf6.html"
    result = CliRunner().invoke(
        cli, ["passport", "view", str(passport), "--trust", str(run.anchor_file), "--out", str(page)]
    )
    assert result.exit_code == 0, result.output
    SHOTS.mkdir(parents=True, exist_ok=True)
    shown = open_pages([{"url": page.as_uri(), "screenshot": str(SHOTS / "wf6-cometbft.png")}], tmp_path)[0]
    assert shown["verdict"] == "verified", shown["failures"]
    assert shown["blocked"] == []
    assert "committed by the consortium's validators: signed by" in shown["banner"]
    assert "Lang Son Tungsten" in shown["banner"]
