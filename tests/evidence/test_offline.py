"""Offline verification: the demo's WF6 passport with evidence verifies against the trust anchor
with the network blocked; every kind of single tampering fails with the reason named; omitting
an event from a list the passport claims complete fails."""

from __future__ import annotations

import base64
import copy
import gzip
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import rlp
from click.testing import CliRunner
from eth_account import Account
from eth_hash.auto import keccak
from pydantic import ValidationError

from passport.cli import cli
from passport.core.document import PassportDocument
from passport.evidence import OfflineReport, TrustAnchor, verify_offline
from passport.evidence.proven import ProvenChain
from passport.evidence.verify import UNSEALED_NOTE
from tests.evidence.conftest import Exported

pytestmark = pytest.mark.slow


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to open a connection fails the test."""

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("network access during offline verification")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield


def _tampered(doc: PassportDocument, change: Callable[[dict[str, Any]], None]) -> PassportDocument | None:
    """The document with ``change`` applied to its JSON; None when the file format rejects it
    (a tampered file that does not load is refused before verification)."""
    data = json.loads(doc.to_json())
    change(data)
    try:
        return PassportDocument.model_validate(data)
    except ValidationError:
        return None


def _fails(doc: PassportDocument | None, trust: TrustAnchor) -> OfflineReport | None:
    if doc is None:
        return None
    report = verify_offline(doc, trust)
    assert not report.ok
    return report


def test_wf6_verifies_offline_from_the_cli(node_export: Exported, no_network: None, tmp_path: Path) -> None:
    path = node_export.result.passports["wf6-with-evidence"]
    assert node_export.result.trust_anchor is not None
    runner = CliRunner()
    result = runner.invoke(
        cli, ["passport", "verify", str(path), "--trust", str(node_export.result.trust_anchor), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] and data["sealed"] and data["validators"] == 1
    assert data["completeness"]["custody"].startswith("complete")
    assert data["completeness"]["attestations"].startswith("not proven complete")
    assert {p["policy"] for p in data["policies"]} == {"dfars-2027", "eu-2017-821"}
    # A tampered file exits 1 and names the claim.
    tampered = json.loads(path.read_text())
    tampered["product"]["mass_grams"] += 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(tampered))
    result = runner.invoke(
        cli, ["passport", "verify", str(bad), "--trust", str(node_export.result.trust_anchor)]
    )
    assert result.exit_code == 1
    assert "product.mass_grams" in result.output


def test_exported_claims_equal_the_online_passport(node_export: Exported) -> None:
    assert node_export.wf6.claims() == node_export.result.documents["wf6"].claims()
    report = verify_offline(node_export.wf6, node_export.trust)
    assert report.ok, report.failures
    assert report.notes == []


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, list[Any]]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for n, v in enumerate(value):
            yield from _leaves(v, f"{path}[{n}]")
    else:
        yield path, []


def _set(data: Any, path: str, change: Callable[[Any], Any]) -> None:
    parts: list[Any] = []
    for piece in path.split("."):
        name, *indexes = piece.split("[")
        parts.append(name)
        parts += [int(i.rstrip("]")) for i in indexes]
    target = data
    for p in parts[:-1]:
        target = target[p]
    target[parts[-1]] = change(target[parts[-1]])


def _mutate(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 0.5
    if isinstance(value, str):
        if value.startswith("0x") and len(value) > 2:
            return value[:-1] + ("0" if value[-1] != "0" else "1")
        return value + "x"
    return 1 if value is None else None


def test_every_claim_field_tampered_fails_named(node_export: Exported) -> None:
    doc, trust = node_export.wf6, node_export.trust
    paths = [p for p, _ in _leaves(doc.claims())]
    assert len(paths) > 300
    refused = 0
    for path in paths:
        tampered = _tampered(doc, lambda d, p=path: _set(d, p, _mutate))  # type: ignore[misc]
        report = _fails(tampered, trust)
        if report is None:
            refused += 1
            continue
        named = [f.where for f in report.failures]
        assert any(w == path or w.startswith(path) or path.startswith(w) for w in named), (path, named)
    assert refused < len(paths) // 4  # only fields the schema itself pins (kinds, literals)


def _repacked(
    doc: PassportDocument, change: Callable[[list[bytes], list[bytes], list[bytes]], None]
) -> PassportDocument:
    """The document with its packed proofs changed by ``change(headers, seals, nodes)``."""
    assert doc.evidence is not None
    headers, seals, nodes = (list(x) for x in doc.evidence.unpack())
    change(headers, seals, nodes)
    evidence = doc.evidence.model_copy(update={"proofs": doc.evidence.pack(headers, seals, nodes)})
    return doc.model_copy(update={"evidence": evidence})


def test_every_proof_node_tampered_fails(node_export: Exported) -> None:
    doc, trust = node_export.wf6, node_export.trust
    assert doc.evidence is not None
    _, _, nodes = doc.evidence.unpack()
    assert len(nodes) > 50
    for n, node in enumerate(nodes):
        raw = bytearray(node)
        raw[(7 * n) % len(raw)] ^= 0x01

        def change(
            _h: list[bytes], _s: list[bytes], ns: list[bytes], n: int = n, raw: bytes = bytes(raw)
        ) -> None:
            ns[n] = raw

        report = _fails(_repacked(doc, change), trust)
        assert report is not None
        assert any("proof" in str(f) for f in report.failures), (n, report.failures)

    def drop(_h: list[bytes], _s: list[bytes], ns: list[bytes]) -> None:
        del ns[len(ns) // 2]

    report = _fails(_repacked(doc, drop), trust)
    assert report is not None and any("is missing" in f.reason for f in report.failures)


def test_every_header_field_and_seal_tampered_fails(node_export: Exported) -> None:
    doc, trust = node_export.wf6, node_export.trust
    assert doc.evidence is not None
    headers, seals, _ = doc.evidence.unpack()
    for h, header in enumerate(headers):
        fields = rlp.decode(header)
        for i in range(len(fields)):
            changed = list(fields)
            changed[i] = fields[i][:-1] + bytes([fields[i][-1] ^ 1]) if fields[i] else b"\x01"

            def change(
                hs: list[bytes], _s: list[bytes], _n: list[bytes], h: int = h, c: list[bytes] = changed
            ) -> None:
                hs[h] = rlp.encode(c)

            report = _fails(_repacked(doc, change), trust)
            assert report is not None and report.failures, (h, i)
        assert seals[h]
        for position in (0, 31, 32, 63, 64):
            seal = bytearray(seals[h])
            seal[position] ^= 0x01

            def reseal(
                _h: list[bytes], ss: list[bytes], _n: list[bytes], h: int = h, seal: bytes = bytes(seal)
            ) -> None:
                ss[h] = seal

            report = _fails(_repacked(doc, reseal), trust)
            assert report is not None
            assert any("seal" in f.reason or "validator" in f.reason for f in report.failures), (h, position)

        def unseal(_h: list[bytes], ss: list[bytes], _n: list[bytes], h: int = h) -> None:
            ss[h] = b""

        report = _fails(_repacked(doc, unseal), trust)
        assert report is not None and any(f.reason == "no seal" for f in report.failures)


def test_unreadable_proofs_fail_named(node_export: Exported) -> None:
    doc, trust = node_export.wf6, node_export.trust
    assert doc.evidence is not None
    bomb = base64.b64encode(gzip.compress(b"\x00" * (80 * 1024 * 1024))).decode()
    for proofs in (
        "not base64!",
        base64.b64encode(b"not gzip").decode(),
        bomb,
        doc.evidence.pack([], [], []),
    ):
        evidence = doc.evidence.model_copy(update={"proofs": proofs})
        report = _fails(doc.model_copy(update={"evidence": evidence}), trust)
        assert report is not None and report.failures[0].where in ("evidence.proofs", "evidence.anchor"), (
            proofs[:20]
        )


def test_trust_anchor_tampered_fails(node_export: Exported) -> None:
    doc, trust = node_export.wf6, node_export.trust
    stranger = Account.create().address
    cases: dict[str, tuple[dict[str, Any], str]] = {
        "validators": ({"validators": [stranger]}, "a validator not in the anchor's set"),
        "chain id": ({"chain_id": trust.chain_id + 1}, "chain.chain_id"),
    }
    for name in ("consortium", "passport", "registry"):
        contracts = copy.deepcopy(trust.model_dump()["contracts"])
        contracts[name]["address"] = stranger
        cases[f"{name} address"] = ({"contracts": contracts}, f"chain.{name}")
        contracts = copy.deepcopy(trust.model_dump()["contracts"])
        contracts[name]["code_hash"] = "0x" + "ab" * 32
        cases[f"{name} code hash"] = ({"contracts": contracts}, "code hash")
    for label, (update, expected) in cases.items():
        anchor = TrustAnchor.model_validate({**trust.model_dump(), **update})
        report = verify_offline(doc, anchor)
        assert not report.ok, label
        assert any(expected in str(f) for f in report.failures), (label, report.failures)


def test_evidence_swapped_from_another_batch_or_block_fails(node_export: Exported) -> None:
    doc, other, trust = node_export.wf6, node_export.other, node_export.trust
    swapped = doc.model_copy(update={"evidence": other.evidence})
    report = _fails(swapped, trust)
    assert report is not None and any("storage proof of batch" in str(f) for f in report.failures)
    earlier = node_export.sdk.export_with_evidence(doc.product.batch_id, doc.chain.as_of_block - 1)
    assert verify_offline(earlier, trust).ok
    report = _fails(doc.model_copy(update={"evidence": earlier.evidence}), trust)
    assert report is not None and any(f.where == "chain.as_of_block_hash" for f in report.failures)


def test_evidence_lists_tampered_fail(node_export: Exported) -> None:
    doc, trust = node_export.wf6, node_export.trust

    def restate(d: dict[str, Any]) -> None:
        d["evidence"]["completeness"]["attestations"] = "complete"

    def reindex(d: dict[str, Any]) -> None:
        d["evidence"]["receipts"][0]["index"] += 1

    def reanchor(d: dict[str, Any]) -> None:
        d["evidence"]["anchor"] = "0x" + "11" * 32

    for change, where in (
        (restate, "evidence.completeness.attestations"),
        (reindex, "evidence.receipts[0]"),
        (reanchor, "evidence.anchor"),
    ):
        report = _fails(_tampered(doc, change), trust)
        assert report is not None and any(where in str(f) for f in report.failures), (where, report.failures)


def test_omitted_custody_event_fails_completeness(node_export: Exported) -> None:
    """Drop an offer (its receipt and its entry) consistently: every remaining claim is proven,
    but the batch's history counter proves an event is missing."""
    doc, trust = node_export.wf6, node_export.trust
    assert doc.evidence is not None
    offer = next(e for e in doc.custody if e.type == "offered")
    receipt = next(
        n for n, r in enumerate(doc.evidence.receipts) if _tx_of(doc, r.block, r.index) == offer.tx
    )

    def omit(d: dict[str, Any]) -> None:
        d["custody"] = [e for e in d["custody"] if e["tx"] != offer.tx]
        del d["evidence"]["receipts"][receipt]

    report = _fails(_tampered(doc, omit), trust)
    assert report is not None
    assert any(
        f.where == f"history of batch {offer.batch_id}" and "omitted" in f.reason for f in report.failures
    ), report.failures


def _tx_of(doc: PassportDocument, block_hash: str, index: int) -> str:
    assert doc.evidence is not None
    chain = ProvenChain(doc.evidence)
    header = chain.headers[bytes.fromhex(block_hash[2:])]
    raw = chain.walk(header.transactions_root, rlp.encode(index), "tx")
    return "0x" + keccak(raw).hex()


def test_anvil_exports_unsealed_and_says_so(anvil_export: Exported, no_network: None) -> None:
    doc, trust = anvil_export.wf6, anvil_export.trust
    assert not trust.sealed and trust.validators == []
    report = verify_offline(doc, trust)
    assert report.ok, report.failures
    assert report.notes == [UNSEALED_NOTE]
    tampered = _tampered(doc, lambda d: _set(d, "custody[0].time", lambda t: t + 1))
    report = _fails(tampered, trust)
    assert report is not None and any(f.where == "custody[0].time" for f in report.failures)
