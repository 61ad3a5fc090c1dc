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
