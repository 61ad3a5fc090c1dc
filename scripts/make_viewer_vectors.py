#!/usr/bin/env python3
"""Write the shared verifier test vectors (viewer/test/vectors/) from a demo run's output.

Run once (after ``make demo``), and again only when the passport format or the proofs change:
    .venv/bin/python scripts/make_viewer_vectors.py [--from build/demo]

Both verifiers run every vector: the Python one (tests/evidence/test_vectors.py) and the browser
one (viewer/test/vectors.test.mjs, and each vector's page in Chromium). A vector is a passport,
the name of the trust anchor file it is checked against, and what must come out: ok, or the
failure's ``where`` (prefix) and a part of its reason. There are two good passports (the
demo's WF6 at the buyer and public tiers) and one tampered passport or anchor per kind of
tampering: a claim of each list, a header, a seal, each kind of trie proof (account, storage,
receipt, transaction), an omitted receipt, a completeness statement, the version hash, each part
of a disclosure, each part of a device reading, each promise of the buyer tier (a record or a
revealed field taken away, weaker rules under the tier's name), and an anchor with another
validator or another code hash.
"""

from __future__ import annotations

import argparse
import copy
import json
import secrets
import sys
from pathlib import Path
from typing import Any

import rlp
from eth_account import Account
from eth_hash.auto import keccak

from passport.core.document import Evidence, PassportDocument
from passport.evidence import TrustAnchor, verify_offline
from passport.records.disclosure import Disclosure, load_tier

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "viewer" / "test" / "vectors"


def check(doc: dict[str, Any], trust: dict[str, Any]) -> list[tuple[str, str]]:
    report = verify_offline(PassportDocument.model_validate(doc), TrustAnchor.model_validate(trust))
    return [(f.where, f.reason) for f in report.failures]


def checked(
    name: str,
    description: str,
    doc: dict[str, Any],
    trusts: dict[str, dict[str, Any]],
    trust_file: str,
    where: str | None,
    reason: str,
) -> dict[str, Any]:
    """The vector, once the Python verifier gives what it expects: ok, or a failure at
    ``where`` (prefix) whose reason contains ``reason``."""
    failures = check(doc, trusts[trust_file])
    if where is None:
        assert not failures, f"{name}: {failures}"
    else:
        assert any(w.startswith(where) and reason in r for w, r in failures), f"{name}: {failures}"
    return {
        "name": name,
        "description": description,
        "trust": trust_file,
        "passport": doc,
        "expect": {"ok": where is None, "where": where, "reason": reason},
    }


def with_parts(
    doc: dict[str, Any], headers: list[bytes], seals: list[bytes], nodes: list[bytes]
) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["evidence"]["proofs"] = Evidence.pack(headers, seals, nodes)
    return out


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def _lineage_members(doc: dict[str, Any]) -> set[str]:
    out = {f["operator"] for f in doc["facilities"]}
    return out | {doc["product"]["owner"], doc["product"]["custodian"]}


def tier_vectors(buyer: dict[str, Any], add: Any) -> None:
    """A tier is a promise: each record and each revealed field the buyer tier names, taken away,
    fails naming it; a shipped tier's name over weaker rules fails; a gap the exporter marked
    missing verifies, as incomplete."""

    def without(pred: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        doc = copy.deepcopy(buyer)
        gone = next(d for d in doc["disclosures"] if pred(d))
        doc["disclosures"].remove(gone)
        return doc, gone

    for kind in ("facility", "batch", "member"):
        doc, gone = without(lambda d, kind=kind: d["kind"] == kind)
        add(
            f"tier-{kind}-dropped",
            f"a {kind}'s disclosure removed from a buyer-tier passport",
            doc,
            f"tier buyer: {kind} {gone['subject']}",
            "not disclosed",
        )
    doc = copy.deepcopy(buyer)
    at = next(n for n, d in enumerate(doc["disclosures"]) if "licence.number" in d["revealed"])
    d = Disclosure.model_validate(doc["disclosures"][at])
    doc["disclosures"][at] = d.restricted([p for p in d.revealed if p != "licence.number"]).model_dump(
        mode="json"
    )
    add(
        "tier-field-withheld",
        "a field the buyer tier reveals moved to the withheld leaves (the disclosure itself still holds)",
        doc,
        f"tier buyer: facility {d.subject} licence.number",
        "withheld",
    )
    doc = copy.deepcopy(buyer)
    weak = load_tier("buyer").model_dump(mode="json")
    weak["reveal"]["facility"] = [p for p in weak["reveal"]["facility"] if not p.startswith("licence")]
    doc["tier_spec"] = weak
    add("tier-spec-weakened", "the shipped buyer tier's name over weaker rules", doc, "tier_spec", "shipped")
    doc = copy.deepcopy(buyer)
    doc["tier"] = "fab-special"
    doc.pop("tier_spec", None)  # neither shipped nor carried
    add("tier-unknown", "a tier neither shipped nor carried in the file", doc, "tier", "not a shipped tier")
    doc, gone = without(lambda d: d["kind"] == "facility")
    doc["tier_missing"] = [f"facility {gone['subject']}"]
    add(
        "good-tier-incomplete",
        "a record the exporter lacked, marked missing: verifies, incomplete",
        doc,
        None,
    )


LEGACY = "v1-"  # vectors of passport@1 files: kept when the others are written again


def legacy_v1(source: Path) -> None:
    """The passport@1 vectors: files exported before passport@2 must keep verifying."""
    trusts = {
        f"{LEGACY}{t}": json.loads((source / t).read_text()) for t in ("trust.json", "trust-tiered.json")
    }
    written: list[dict[str, Any]] = []
    for name in ("good-buyer", "good-public", "good-buyer-tiered"):
        vector = json.loads((source / f"{name}.json").read_text())
        doc = vector["passport"]
        assert doc["kind"] == "mineral-passport/passport@1", f"{name} is not a passport@1 vector"
        about = f"{vector['description']} (passport@1, contained tungsten in float grams)"
        written.append(checked(f"{LEGACY}{name}", about, doc, trusts, f"{LEGACY}{vector['trust']}", None, ""))
        if name == "good-buyer":
            doc = copy.deepcopy(doc)
            doc["product"]["contained_tungsten_grams"] += 0.5
            written.append(
                checked(
                    f"{LEGACY}claim-product-tungsten",
                    "claim product.contained_tungsten_grams changed (passport@1)",
                    doc,
                    trusts,
                    f"{LEGACY}{vector['trust']}",
                    "product.contained_tungsten_grams",
                    "",
                )
            )
    for name, t in trusts.items():
        (OUT / name).write_text(json.dumps(t, indent=2, sort_keys=True) + "\n")
    for v in written:
        (OUT / f"{v['name']}.json").write_text(json.dumps(v, sort_keys=True, separators=(",", ":")) + "\n")
    names = [n for n in json.loads((OUT / "index.json").read_text()) if not n.startswith(LEGACY)]
    (OUT / "index.json").write_text(json.dumps(names + [v["name"] for v in written], indent=2) + "\n")
    print(f"wrote {len(written)} passport@1 vectors to {OUT.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, default=ROOT / "build" / "demo")
    parser.add_argument(
        "--tier-only",
        action="store_true",
        help="(re)write only the tier-* vectors, from the committed good-buyer vector",
    )
    parser.add_argument(
        "--legacy-v1",
        type=Path,
        metavar="DIR",
        help="(re)write the v1-* vectors from passport@1 vectors (good-buyer, good-public, "
        "good-buyer-tiered and their trust files) kept in DIR",
    )
    args = parser.parse_args()
    if args.legacy_v1:
        legacy_v1(args.legacy_v1)
        return
    if args.tier_only:
        committed = json.loads((OUT / "good-buyer.json").read_text())
        trusts = {committed["trust"]: json.loads((OUT / committed["trust"]).read_text())}
        written: list[dict[str, Any]] = []

        def add_tier(
            name: str,
            description: str,
            doc: dict[str, Any],
            where: str | None,
            reason: str = "",
            trust_file: str = committed["trust"],
        ) -> None:
            written.append(checked(name, description, doc, trusts, trust_file, where, reason))

        tier_vectors(committed["passport"], add_tier)
        # A passport exported with its tier's rules (tier_spec): every party it names is held to
        # the tier too (the carrier, the certifier), not only the lineage.
        tiered = json.loads((args.source / "passport-wf6-batch-7.buyer.json").read_text())
        assert tiered.get("tier_spec"), f"{args.source}: export the demo again (no tier_spec)"
        trusts["trust-tiered.json"] = json.loads((args.source / "consortium.trust.json").read_text())
        (OUT / "trust-tiered.json").write_text(
            json.dumps(trusts["trust-tiered.json"], indent=2, sort_keys=True) + "\n"
        )
        add_tier(
            "good-buyer-tiered",
            "the demo's WF6 passport at the buyer tier, with the tier's rules",
            tiered,
            None,
            trust_file="trust-tiered.json",
        )
        carrier = next(
            d
            for d in tiered["disclosures"]
            if d["kind"] == "member"
            and d["subject"].lower() not in {s.lower() for s in _lineage_members(tiered)}
        )
        doc = copy.deepcopy(tiered)
        doc["disclosures"] = [d for d in doc["disclosures"] if d != carrier]
        add_tier(
            "tier-party-dropped",
            "the profile of a party the passport names (not a lineage member) removed",
            doc,
            f"tier buyer: member {carrier['subject']}",
            "not disclosed",
            "trust-tiered.json",
        )
        ours = {v["name"] for v in written}
        names = [
            n
            for n in json.loads((OUT / "index.json").read_text())
            if n not in ours and not n.startswith("tier-")
        ]
        for v in written:
            (OUT / f"{v['name']}.json").write_text(
                json.dumps(v, sort_keys=True, separators=(",", ":")) + "\n"
            )
        (OUT / "index.json").write_text(json.dumps(names + [v["name"] for v in written], indent=2) + "\n")
        print(f"wrote {len(written)} tier vectors to {OUT.relative_to(ROOT)}")
        return
    buyer = json.loads((args.source / "passport-wf6-batch-7.buyer.json").read_text())
    public = json.loads((args.source / "passport-wf6-batch-7.public.json").read_text())
    trust = json.loads((args.source / "consortium.trust.json").read_text())
    trusts = {
        "trust.json": trust,
        "trust-other-validator.json": {**trust, "validators": [Account.create().address]},
        "trust-other-code.json": copy.deepcopy(trust),
    }
    trusts["trust-other-code.json"]["contracts"]["passport"]["code_hash"] = "0x" + secrets.token_hex(32)
    vectors: list[dict[str, Any]] = []

    def add(
        name: str,
        description: str,
        doc: dict[str, Any],
        where: str | None,
        reason: str = "",
        trust_file: str = "trust.json",
    ) -> None:
        vectors.append(checked(name, description, doc, trusts, trust_file, where, reason))

    add("good-buyer", "the demo's WF6 passport at the buyer tier", buyer, None)
    add("good-public", "the demo's WF6 passport at the public tier", public, None)

    def claim(name: str, path: list[Any], value: Any, where: str) -> None:
        doc = copy.deepcopy(buyer)
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value(target[path[-1]]) if callable(value) else value
        add(name, f"claim {where} changed", doc, where)

    claim("claim-product-mass", ["product", "mass_grams"], lambda v: v + 1, "product.mass_grams")
    claim(
        "claim-product-tungsten",
        ["product", "contained_tungsten_ug"],
        lambda v: v + 1,
        "product.contained_tungsten_ug",
    )
    claim("claim-lineage-country", ["lineage", "nodes", 0, "country"], "CN", "lineage.nodes[0].country")
    measured = next(n for n, c in enumerate(buyer["custody"]) if c["measured_grams"] is not None)
    claim(
        "claim-custody-measured",
        ["custody", measured, "measured_grams"],
        lambda v: v - 1000,
        f"custody[{measured}].measured_grams",
    )
    claim("claim-attestation-status", ["attestations", 0, "status"], "revoked", "attestations[0].status")
    claim("claim-taint", ["taint", "tainted"], lambda v: not v, "taint.tainted")
    claim(
        "claim-transformation-input",
        ["transformations", 0, "input_quantity_list", 0, "quantity_grams"],
        lambda v: v + 1,
        "transformations[0].input_quantity_list[0].quantity_grams",
    )
    doc = copy.deepcopy(buyer)
    doc["lineage"]["edges"].pop()
    add("claim-edge-removed", "a lineage edge removed", doc, "lineage.edges")

    headers, seals, nodes = Evidence.model_validate(buyer["evidence"]).unpack()
    anchor_at = next(
        n for n, h in enumerate(headers) if "0x" + keccak(h).hex() == buyer["evidence"]["anchor"]
    )
    fields = rlp.decode(headers[anchor_at])
    fields[11] = (int.from_bytes(fields[11], "big") + 1).to_bytes(len(fields[11]), "big")
    altered = list(headers)
    altered[anchor_at] = rlp.encode(fields)
    doc = with_parts(buyer, altered, seals, nodes)
    doc["evidence"]["anchor"] = "0x" + keccak(altered[anchor_at]).hex()
    add(
        "header-altered",
        "the anchor header's timestamp changed (and the anchor hash with it)",
        doc,
        f"evidence header {anchor_at}",
    )
    bad_seals = list(seals)
    bad_seals[anchor_at] = flip(seals[anchor_at], 10)
    add(
        "seal-altered",
        "a byte of the anchor block's seal changed",
        with_parts(buyer, headers, bad_seals, nodes),
        f"evidence header {anchor_at}",
    )
    wanted = {
        "proof-account": "account proof of ",
        "proof-storage": "storage proof of ",
        "proof-receipt": "receipt proof ",
        "proof-transaction": "transaction proof ",
    }
    for n in range(len(nodes)):
        if not wanted:
            break
        tampered = list(nodes)
        tampered[n] = flip(nodes[n], len(nodes[n]) - 1)
        doc = with_parts(buyer, headers, seals, tampered)
        failures = check(doc, trust)
        for name, prefix in list(wanted.items()):
            if failures and failures[0][0].startswith(prefix):
                add(name, f"a byte of trie node {n} ({prefix.strip()}) changed", doc, prefix)
                del wanted[name]
    if wanted:
        sys.exit(f"no trie node found for {', '.join(wanted)}")
    doc = copy.deepcopy(buyer)
    doc["evidence"]["receipts"].pop(1)
    add("receipt-omitted", "a cited receipt left out (its events omitted)", doc, "history of batch")
    doc = copy.deepcopy(buyer)
    doc["evidence"]["completeness"]["custody"] = "complete"
    add(
        "completeness-statement",
        "the custody completeness statement changed",
        doc,
        "evidence.completeness.custody",
    )
    doc = copy.deepcopy(buyer)
    doc["version"]["hash"] = "sha256:" + "0" * 64
    add("version-hash", "the version hash changed", doc, "version.hash")

    at = next(n for n, d in enumerate(buyer["disclosures"]) if d["revealed"] and d["proof"] and d["withheld"])
    d = buyer["disclosures"][at]
    label = f"disclosures[{at}] ({d['kind']} {d['subject']})"
    path = sorted(d["revealed"])[0]
    doc = copy.deepcopy(buyer)
    doc["disclosures"][at]["revealed"][path]["value"] = "Someone Else Ltd"
    add(
        "disclosure-value", "a revealed field's value changed", doc, f"{label} field {path}", "does not match"
    )
    doc = copy.deepcopy(buyer)
    doc["disclosures"][at]["revealed"][path]["salt"] = "0x" + "11" * 32
    add("disclosure-salt", "a revealed field's salt changed", doc, f"{label} field {path}", "does not match")
    doc = copy.deepcopy(buyer)
    doc["disclosures"][at]["proof"][0] = "0x" + "22" * 32
    add("disclosure-multiproof", "a multiproof hash changed", doc, f"{label} proof")
    doc = copy.deepcopy(buyer)
    first = sorted(d["withheld"])[0]
    doc["disclosures"][at]["withheld"][first] = "0x" + "33" * 32
    add("disclosure-withheld", "a withheld leaf changed", doc, f"{label} withheld")
    doc = copy.deepcopy(buyer)
    doc["disclosures"].append(copy.deepcopy(d))
    add(
        "disclosure-duplicated",
        "a disclosure listed twice",
        doc,
        f"disclosures[{len(buyer['disclosures'])}]",
        "disclosed twice",
    )
    w = buyer["readings"][0]
    label = f"readings[0] ({w['reading']['device']}:{w['reading']['seq']})"
    doc = copy.deepcopy(buyer)
    doc["readings"][0]["reading"]["value"] += 1000
    add("reading-value", "a weighbridge reading's value changed", doc, f"{label} signature")
    doc = copy.deepcopy(buyer)
    doc["readings"][0]["window_proof"][0] = "0x" + "44" * 32
    add("reading-window-proof", "a reading's window proof changed", doc, f"{label} window_proof")
    doc = copy.deepcopy(buyer)
    doc["readings"][0]["window"]["count"] += 1
    add(
        "reading-window",
        "a reading's window stated with another count",
        doc,
        f"{label} window",
        "anchored as",
    )
    doc = copy.deepcopy(buyer)
    doc["readings"][0]["lot_proof"] = []
    add(
        "reading-lot-proof", "a reading's proof to its lot's document root removed", doc, f"{label} lot_proof"
    )
    tier_vectors(buyer, add)
    add(
        "anchor-other-validator",
        "the trust anchor names another validator",
        buyer,
        "evidence header",
        "a validator not in the anchor's set",
        "trust-other-validator.json",
    )
    add(
        "anchor-other-code",
        "the trust anchor pins other MineralPassport code",
        buyer,
        "passport contract",
        "code hash",
        "trust-other-code.json",
    )

    OUT.mkdir(parents=True, exist_ok=True)
    index = OUT / "index.json"
    kept = [n for n in json.loads(index.read_text()) if n.startswith(LEGACY)] if index.exists() else []
    for old in OUT.glob("*.json"):
        if not old.name.startswith(LEGACY):
            old.unlink()
    for name, t in trusts.items():
        (OUT / name).write_text(json.dumps(t, indent=2, sort_keys=True) + "\n")
    for v in vectors:
        (OUT / f"{v['name']}.json").write_text(json.dumps(v, sort_keys=True, separators=(",", ":")) + "\n")
    index.write_text(json.dumps([v["name"] for v in vectors] + kept, indent=2) + "\n")
    print(f"wrote {len(vectors)} vectors and {len(trusts)} trust anchors to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
