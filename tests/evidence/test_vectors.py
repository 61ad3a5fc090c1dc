"""The shared verifier test vectors (viewer/test/vectors) through the Python offline verifier: the
same outcomes the browser verifier must give (viewer/test/vectors.test.mjs), so the two cannot
drift. Written once by scripts/make_viewer_vectors.py from a demo run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from passport.core.document import PassportDocument
from passport.evidence import TrustAnchor, verify_offline

VECTORS = Path(__file__).resolve().parents[2] / "viewer" / "test" / "vectors"
NAMES: list[str] = json.loads((VECTORS / "index.json").read_text())


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return data


def test_vectors_cover_every_kind_of_tampering() -> None:
    kinds = {n.split("-")[0] for n in NAMES}
    assert {"good", "claim", "header", "seal", "proof", "receipt", "completeness", "version"} <= kinds
    assert {"disclosure", "anchor", "reading"} <= kinds
    assert {"proof-account", "proof-storage", "proof-receipt", "proof-transaction"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_vector(name: str) -> None:
    vector = load(f"{name}.json")
    doc = PassportDocument.model_validate(vector["passport"])
    report = verify_offline(doc, TrustAnchor.model_validate(load(vector["trust"])))
    expect = vector["expect"]
    failures = [(f.where, f.reason) for f in report.failures]
    if expect["ok"]:
        assert failures == []
        assert [p.policy for p in report.policies] == ["dfars-2027", "eu-2017-821"]
    else:
        assert any(w.startswith(expect["where"]) and expect["reason"] in r for w, r in failures), failures


def _reading_mutations(w: dict[str, Any], others: list[int]) -> list[tuple[str, Any, str]]:
    """(what, how to change the weighing, the failure's suffix) for every field and proof hash."""
    r = w["reading"]
    flipped = r["signature"][:10] + ("0" if r["signature"][10] != "0" else "1") + r["signature"][11:]
    out: list[tuple[str, Any, str]] = [
        ("reading.device", ("reading", "device", "0x" + "12" * 20), "signature"),
        ("reading.facility", ("reading", "facility", r["facility"] + 1), "signature"),
        ("reading.seq", ("reading", "seq", r["seq"] + 1), "signature"),
        ("reading.time", ("reading", "time", r["time"] + 1), "signature"),
        ("reading.kind", ("reading", "kind", "moisture"), "signature"),
        ("reading.value", ("reading", "value", r["value"] + 1), "signature"),
        ("reading.unit", ("reading", "unit", "kg"), "signature"),
        ("reading.signature", ("reading", "signature", flipped), "signature"),
        ("batch_id", (None, "batch_id", next(b for b in others if b != w["batch_id"])), "lot_proof"),
        ("window.root", ("window", "root", "0x" + "55" * 32), "window_proof"),
        ("window.count", ("window", "count", w["window"]["count"] + 1), "window"),
        ("window.from_time", ("window", "from_time", w["window"]["from_time"] - 1), "window"),
        ("window.to_time", ("window", "to_time", w["window"]["to_time"] + 1), "window"),
    ]
    out += [
        (f"lot_proof[{k}]", ("lot_proof", k, "0x" + "66" * 32), "lot_proof")
        for k in range(len(w["lot_proof"]))
    ]
    out += [
        (f"window_proof[{k}]", ("window_proof", k, "0x" + "77" * 32), "window_proof")
        for k in range(len(w["window_proof"]))
    ]
    return out


def test_every_field_and_proof_hash_of_every_reading_fails_naming_it() -> None:
    vector = load("good-buyer.json")
    trust = TrustAnchor.model_validate(load(vector["trust"]))
    good = vector["passport"]
    batches = [n["batch_id"] for n in good["lineage"]["nodes"]]
    assert good["readings"]
    checked = 0
    for n, w in enumerate(good["readings"]):
        for what, (part, key, value), suffix in _reading_mutations(w, batches):
            doc = json.loads(json.dumps(good))
            target = doc["readings"][n] if part is None else doc["readings"][n][part]
            target[key] = value
            r = doc["readings"][n]["reading"]
            where = f"readings[{n}] ({r['device']}:{r['seq']}) {suffix}"
            report = verify_offline(PassportDocument.model_validate(doc), trust)
            assert any(f.where == where for f in report.failures), (what, [str(f) for f in report.failures])
            checked += 1
    assert checked >= 2 * 15
