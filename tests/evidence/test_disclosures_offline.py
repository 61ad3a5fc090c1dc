"""Passports exported at a tier: both of the demo's tiers verify offline; the public one carries
no names; every field of every disclosure, and every proof node only the disclosures need,
tampered, fails with the disclosure (and the field) named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from passport._utils.addresses import checksum
from passport.cli import cli
from passport.cli.render import lineage_tree, policy_table
from passport.core.document import PassportDocument
from passport.core.policy import check, load_policy
from passport.evidence import verify_offline
from passport.exceptions import PassportError
from passport.records.disclosure import Disclosure, load_tier
from tests.evidence.conftest import Exported, chain_args
from tests.evidence.test_offline import _fails, _mutate, _repacked, _tampered

pytestmark = pytest.mark.slow


def _doc(node_export: Exported, tier: str) -> PassportDocument:
    return PassportDocument.load(node_export.result.passports[f"wf6-{tier}"])


def _text(renderable: Any) -> str:
    console = Console(width=200, record=True)
    console.print(renderable)
    return console.export_text()


def test_both_tiers_verify_offline_and_show_names_or_withheld(node_export: Exported, tmp_path: Path) -> None:
    public, buyer = _doc(node_export, "public"), _doc(node_export, "buyer")
    for doc in (public, buyer):
        report = verify_offline(doc, node_export.trust)
        assert report.ok, report.failures
        assert doc.claims() == node_export.wf6.claims()  # disclosures add to the claims, never change them
        kinds = sorted({d.kind for d in doc.disclosures})
        assert kinds == ["batch", "facility", "member"]
    assert public.tier == "public" and buyer.tier == "buyer"
    revealed_public = {p for d in public.disclosures for p in d.revealed}
    assert revealed_public <= {"address.country", "kind", "didWeb"}
    names = {
        str(d.revealed[p].value)
        for d in buyer.disclosures
        for p in ("name", "tradingName")
        if p in d.revealed
    }
    assert {"Mine A", "Mine B", "Lang Son Tungsten", "Song Cau Minerals", "Hai Duong APT refinery"} <= names
    assert all(not (set(d.revealed) & {"coordinates.latitude", "address.street"}) for d in buyer.disclosures)

    buyer_tree, public_tree = _text(lineage_tree(buyer)), _text(lineage_tree(public))
    assert "Mine A — Lang Son Tungsten (Lang Son, VN)" in buyer_tree
    assert "Lang Son" not in public_tree and "Mine A" not in public_tree
    assert "facility 1 (VN; name and operator withheld)" in public_tree
    fab_policy = load_policy(str(node_export.out / "fab-disclosure.policy.json"))
    assert check(buyer, fab_policy).ok
    failed = check(public, fab_policy)
    assert (
        not failed.ok
        and "facility 3 (VN; name and operator withheld): rmiSmelterId withheld" in failed.reasons
    )
    table = _text(policy_table([check(buyer, load_policy("dfars-2027"))]))
    assert "Mine B — Song Cau Minerals" in table and "buyer tier" in table

    runner = CliRunner()
    for doc_path in (node_export.result.passports["wf6-public"], node_export.result.passports["wf6-buyer"]):
        result = runner.invoke(
            cli, ["passport", "verify", str(doc_path), "--trust", str(node_export.result.trust_anchor)]
        )
        assert result.exit_code == 0, result.output
        assert "disclosed" in result.output


def _keys(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every leaf's path as a tuple of keys (field paths contain dots, so no dotted strings)."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _keys(v, (*path, k))]
    if isinstance(value, list):
        return [p for n, v in enumerate(value) for p in _keys(v, (*path, n))]
    return [path]


def _set_keys(data: Any, path: tuple[Any, ...]) -> None:
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = _mutate(target[path[-1]])


def test_every_disclosure_field_tampered_fails_named(node_export: Exported) -> None:
    doc, trust = _doc(node_export, "buyer"), node_export.trust
    paths = _keys({"disclosures": doc.model_dump(mode="json")["disclosures"]})
    assert len(paths) > 150
    refused = 0
    for path in paths:
        tampered = _tampered(doc, lambda d, p=path: _set_keys(d, p))  # type: ignore[misc]
        report = _fails(tampered, trust)
        if report is None:
            refused += 1
            continue
        named = [f.where for f in report.failures]
        assert any(w.startswith(f"disclosures[{path[1]}]") or "profile root" in w for w in named), (
            path,
            named,
        )
        if path[2] == "revealed" and path[4] in ("value", "salt"):
            assert any(w.endswith(f"field {path[3]}") for w in named), (path, named)
    assert refused < len(paths) // 10  # only the record kinds and malformed hex are refused on load


def test_a_swapped_or_foreign_disclosure_fails(node_export: Exported) -> None:
    doc, trust = _doc(node_export, "buyer"), node_export.trust
    facilities = [n for n, d in enumerate(doc.disclosures) if d.kind == "facility"]
    a, b = facilities[:2]

    def swap_roots(d: dict[str, Any]) -> None:
        d["disclosures"][a]["subject"], d["disclosures"][b]["subject"] = (
            d["disclosures"][b]["subject"],
            d["disclosures"][a]["subject"],
        )

    report = _fails(_tampered(doc, swap_roots), trust)
    assert report is not None
    assert any(f.where.endswith(" root") and "is not the root on chain" in f.reason for f in report.failures)

    def foreign(d: dict[str, Any]) -> None:
        d["disclosures"][a]["subject"] = "99"

    report = _fails(_tampered(doc, foreign), trust)
    assert report is not None and any(
        "not a record of this passport's lineage" in f.reason for f in report.failures
    )

    def twice(d: dict[str, Any]) -> None:
        d["disclosures"].append(d["disclosures"][a])

    report = _fails(_tampered(doc, twice), trust)
    assert report is not None and any("disclosed twice" in f.reason for f in report.failures)


def test_every_proof_node_the_disclosures_need_tampered_fails(node_export: Exported) -> None:
    doc, plain = _doc(node_export, "buyer"), node_export.wf6
    assert doc.evidence is not None and plain.evidence is not None
    base = set(plain.evidence.unpack()[2])
    _, _, nodes = doc.evidence.unpack()
    extra = [n for n, node in enumerate(nodes) if node not in base]
    assert extra, "the disclosures' roots need proofs of their own (profile roots, document receipts)"
    for n in extra:
        raw = bytearray(nodes[n])
        raw[len(raw) // 2] ^= 0x01

        def change(
            _h: list[bytes], _s: list[bytes], ns: list[bytes], n: int = n, raw: bytes = bytes(raw)
        ) -> None:
            ns[n] = raw

        report = _fails(_repacked(doc, change), node_export.trust)
        assert report is not None and any("proof" in str(f) for f in report.failures), (n, report.failures)


def test_export_at_a_tier_from_the_cli(node_export: Exported, tmp_path: Path) -> None:
    args = chain_args(node_export)
    wf6 = node_export.result.batches["wf6"]
    out = tmp_path / "wf6.buyer.json"
    runner = CliRunner()
    vault = str(node_export.out / "vaults" / "fab")
    result = runner.invoke(
        cli, ["passport", "export", str(wf6), "--tier", "buyer", "--vault", vault, "--out", str(out), *args]
    )
    assert result.exit_code == 0, result.output
    doc = PassportDocument.load(out)
    assert doc.tier == "buyer" and len(doc.disclosures) == len(_doc(node_export, "buyer").disclosures)
    assert verify_offline(doc, node_export.trust).ok
    shown = runner.invoke(cli, ["passport", "show", str(wf6), "--tier", "buyer", "--vault", vault, *args])
    assert shown.exit_code == 0, shown.output
    assert "Mine A — Lang Son Tungsten" in shown.output
    refused = runner.invoke(
        cli, ["passport", "export", str(wf6), "--tier", "buyer", "--no-evidence", "--out", str(out), *args]
    )
    assert refused.exit_code == 2 and "--tier needs the evidence" in refused.output
    json.loads(out.read_text())


def _shown(d: Disclosure) -> str:
    return f"member {checksum(d.subject)}" if d.kind == "member" else d.label()


def test_every_disclosure_and_revealed_field_of_the_tier_is_required(node_export: Exported) -> None:
    """The buyer tier is a promise: drop any disclosure, or withhold (or delete) any revealed
    field, and verification fails naming the record or the field."""
    buyer = _doc(node_export, "buyer")
    assert buyer.tier_spec is not None and buyer.tier_spec.tier == "buyer" and not buyer.tier_missing
    report = verify_offline(buyer, node_export.trust)
    assert report.ok and report.tier == "buyer" and report.tier_complete
    assert report.tier_fingerprint == load_tier("buyer").fingerprint()
    assert sorted({d.kind for d in buyer.disclosures}) == ["batch", "facility", "member"]
    checked = 0
    for n, d in enumerate(buyer.disclosures):
        others = buyer.disclosures[:n] + buyer.disclosures[n + 1 :]
        failures = verify_offline(
            buyer.model_copy(update={"disclosures": others}), node_export.trust
        ).failures
        assert any(f.where == f"tier buyer: {_shown(d)}" and "not disclosed" in f.reason for f in failures), (
            d.label(),
            failures,
        )
        for path in sorted(d.revealed):
            withheld = d.restricted([p for p in d.revealed if p != path])
            doc = buyer.model_copy(update={"disclosures": [*others[:n], withheld, *others[n:]]})
            failures = verify_offline(doc, node_export.trust).failures
            assert [str(f) for f in failures] == [
                f"tier buyer: {_shown(d)} {path}: withheld, but the buyer tier reveals it"
            ], failures
            deleted = d.model_copy(update={"revealed": {p: f for p, f in d.revealed.items() if p != path}})
            doc = buyer.model_copy(update={"disclosures": [*others[:n], deleted, *others[n:]]})
            failures = verify_offline(doc, node_export.trust).failures
            assert any(d.label() in f.where or _shown(d) in f.where for f in failures), failures
            checked += 1
    assert checked == sum(len(d.revealed) for d in buyer.disclosures) > 50


def test_tier_rules_travel_and_a_shipped_name_cannot_be_weakened(node_export: Exported) -> None:
    buyer = _doc(node_export, "buyer")
    weaker = buyer.tier_spec.model_copy(update={"reveal": {**buyer.tier_spec.reveal, "batch": []}})  # type: ignore[union-attr]
    failures = verify_offline(buyer.model_copy(update={"tier_spec": weaker}), node_export.trust).failures
    assert [f.where for f in failures] == ["tier_spec"] and "shipped 'buyer' tier" in failures[0].reason
    custom = weaker.model_copy(update={"tier": "fab-intake"})
    doc = buyer.model_copy(update={"tier": "fab-intake", "tier_spec": custom})
    report = verify_offline(doc, node_export.trust)
    assert report.ok and report.tier == "fab-intake" and report.tier_fingerprint == custom.fingerprint()
    failures = verify_offline(doc.model_copy(update={"tier_spec": None}), node_export.trust).failures
    assert [f.where for f in failures] == ["tier"] and "not a shipped tier" in failures[0].reason


def test_export_at_a_tier_refuses_a_vault_that_lacks_records(node_export: Exported, tmp_path: Path) -> None:
    args = chain_args(node_export)
    wf6 = str(node_export.result.batches["wf6"])
    runner = CliRunner()
    common = ["passport", "export", wf6, "--tier", "buyer", *args]
    not_vault = tmp_path / "documents"
    not_vault.mkdir()
    refused = runner.invoke(cli, [*common, "--vault", str(not_vault), "--out", str(tmp_path / "a.json")])
    assert isinstance(refused.exception, PassportError) and "not a vault" in str(refused.exception)
    assert not (tmp_path / "a.json").exists() and list(not_vault.iterdir()) == []
    upstream = str(node_export.out / "vaults" / "mine-a")  # holds its own records, not the fab's lineage
    out = tmp_path / "b.json"
    refused = runner.invoke(cli, [*common, "--vault", upstream, "--out", str(out)])
    assert isinstance(refused.exception, PassportError), refused.output  # main(): one line, exit 1
    assert "lack what the buyer tier reveals" in str(refused.exception)
    assert "facility 3" in str(refused.exception) and not out.exists()
    allowed = runner.invoke(cli, [*common, "--vault", upstream, "--allow-missing", "--out", str(out)])
    assert allowed.exit_code == 0, allowed.output
    doc = PassportDocument.load(out)
    assert "facility 3" in doc.tier_missing
    report = verify_offline(doc, node_export.trust)
    assert report.ok and not report.tier_complete
    assert any("facility 3" in note and "marked missing" in note for note in report.notes)
    shown = runner.invoke(
        cli, ["verify", str(out), "--trust", str(node_export.out / "consortium.trust.json")]
    )
    assert shown.exit_code == 0 and "INCOMPLETE" in shown.output, shown.output
    unmarked = doc.model_copy(update={"tier_missing": [m for m in doc.tier_missing if m != "facility 3"]})
    failures = verify_offline(unmarked, node_export.trust).failures
    assert [f.where for f in failures] == ["tier buyer: facility 3"]
    overmarked = doc.model_copy(update={"tier_missing": [*doc.tier_missing, "facility 99"]})
    failures = verify_offline(overmarked, node_export.trust).failures
    assert [f.where for f in failures] == ["tier_missing"]
