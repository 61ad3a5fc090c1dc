"""The passport page in real Chromium (Debian's, through playwright-core), with every network
request from the page blocked and reported: the demo's WF6 page verifies, draws its lineage and
shows the DFARS failure with its reason; each tampered vector turns it red naming the failing
claim; a wrong trust anchor turns it red; it reads on a phone. Screenshots go to
build/viewer/screenshots for review."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from passport.cli import cli
from passport.evidence.trust import load_trust_anchor
from tests.viewer.conftest import SHOTS, VECTORS, open_pages, vector

PASSPORT = str(Path(sys.executable).parent / "passport")
NAMES: list[str] = json.loads((VECTORS / "index.json").read_text())


def view(tmp: Path, name: str) -> Path:
    """The page of vector ``name``, written by ``passport passport view``."""
    v = vector(f"{name}.json")
    passport = tmp / f"{name}.passport.json"
    passport.write_text(json.dumps(v["passport"]))
    out = tmp / f"{name}.html"
    result = CliRunner().invoke(
        cli, ["passport", "view", str(passport), "--trust", str(VECTORS / v["trust"]), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every vector's page at desktop size, and the WF6 page at phone size, opened once."""
    tmp = tmp_path_factory.mktemp("pages")
    SHOTS.mkdir(parents=True, exist_ok=True)
    jobs = [{"url": view(tmp, n).as_uri(), "name": n} for n in NAMES]
    good = next(j for j in jobs if j["name"] == "good-buyer")
    jobs[jobs.index(good)] = {**good, "screenshot": str(SHOTS / "wf6-desktop.png")}
    jobs.append(
        {**good, "name": "phone", "width": 390, "height": 844, "screenshot": str(SHOTS / "wf6-phone.png")}
    )
    bad = next(j for j in jobs if j["name"] == "claim-product-mass")
    jobs.append(
        {
            **bad,
            "name": "phone-red",
            "width": 390,
            "height": 844,
            "screenshot": str(SHOTS / "tampered-phone.png"),
        }
    )
    other = (VECTORS / "trust-other-validator.json").read_text()
    jobs.append({**good, "name": "dropped-anchor", "drop": [{"name": "other.trust.json", "text": other}]})
    jobs.append(
        {
            **good,
            "name": "picked-anchor",
            "width": 390,
            "height": 844,
            "pick": [{"name": "other.json", "text": other}],
        }
    )
    results = open_pages(jobs, tmp)
    return {job["name"]: result for job, result in zip(jobs, results, strict=True)}


def test_wf6_page_verifies_with_graph_and_dfars_failure(pages: dict[str, dict[str, Any]]) -> None:
    page = pages["good-buyer"]
    doc = vector("good-buyer.json")["passport"]
    assert page["verdict"] == "verified", page["failures"]
    assert page["banner"].startswith("Authentic against Demo tungsten consortium (1 validator) at block ")
    trust = load_trust_anchor(VECTORS / vector("good-buyer.json")["trust"])
    assert f"fingerprint {trust.fingerprint()[:23]}…" in page["banner"]  # the CLI's fingerprint
    assert page["compliance"].startswith("Not compliant with dfars-2027, eu-2017-821")
    assert "dfars-2027: FAIL" in page["compliance"] and "US DFARS 225.7018" in page["compliance"]
    assert page["graphNodes"] == len(doc["lineage"]["nodes"])
    dfars = page["policies"]["dfars-2027"]
    assert dfars["result"] == "FAIL"
    assert "tainted: batch 2 comes from sanctioned Mine B — Song Cau Minerals" in dfars["reasons"]
    assert page["blocked"] == [] and page["errors"] == []
    assert (SHOTS / "wf6-desktop.png").stat().st_size > 10_000


def test_public_tier_page_verifies_with_names_withheld(pages: dict[str, dict[str, Any]]) -> None:
    page = pages["good-public"]
    assert page["verdict"] == "verified"
    assert "name and operator withheld" in page["policies"]["dfars-2027"]["reasons"]


GOOD = [n for n in NAMES if json.loads((VECTORS / f"{n}.json").read_text())["expect"]["ok"]]


@pytest.mark.parametrize("name", GOOD)
def test_good_vector_verifies(pages: dict[str, dict[str, Any]], name: str) -> None:
    """Every good vector, passport@1 files (v1-*) among them, verifies in the page."""
    page = pages[name]
    assert page["verdict"] == "verified", page["failures"]
    assert page["blocked"] == [] and page["errors"] == []


@pytest.mark.parametrize("name", [n for n in NAMES if n not in GOOD])
def test_tampered_vector_shows_red_naming_the_claim(pages: dict[str, dict[str, Any]], name: str) -> None:
    page, expect = pages[name], vector(f"{name}.json")["expect"]
    assert page["verdict"] == "failed"
    assert page["banner"].startswith("Not authentic")
    assert any(f.startswith(expect["where"]) and expect["reason"] in f for f in page["failures"]), page[
        "failures"
    ]
    assert page["blocked"] == [] and page["errors"] == []


def test_wrong_trust_anchor_says_validator_not_in_set(pages: dict[str, dict[str, Any]]) -> None:
    assert any(
        "a validator not in the anchor's set" in f for f in pages["anchor-other-validator"]["failures"]
    )


def test_a_dropped_trust_anchor_is_checked_instead(pages: dict[str, dict[str, Any]]) -> None:
    page = pages["dropped-anchor"]
    assert page["verdict"] == "failed"
    assert any("a validator not in the anchor's set" in f for f in page["failures"])


def test_phone_viewport_reads_without_horizontal_scroll(pages: dict[str, dict[str, Any]]) -> None:
    for name in ("phone", "phone-red"):
        page = pages[name]
        assert page["innerWidth"] == 390
        assert page["scrollWidth"] <= 390, f"{name}: the page scrolls sideways ({page['scrollWidth']} px)"
        assert page["minFontPx"] >= 14, f"{name}: text at {page['minFontPx']} px"
    assert pages["phone"]["graphPans"] == "auto"
    # both answers on the phone's first screen: authentic, and not compliant with the reason
    phone = pages["phone"]
    assert phone["compliance"].startswith("Not compliant")
    assert phone["complianceBottom"] <= phone["screenHeight"], "the policy verdict is below the first screen"
    assert (SHOTS / "wf6-phone.png").stat().st_size > 10_000


def test_view_refuses_a_passport_without_evidence_or_a_bad_anchor(tmp_path: Path) -> None:
    v = vector("good-buyer.json")
    (tmp_path / "bare.json").write_text(json.dumps(dict(v["passport"], evidence=None)))
    (tmp_path / "good.json").write_text(json.dumps(v["passport"]))
    (tmp_path / "trust.json").write_text("{not json")
    out = tmp_path / "page.html"
    cases = {
        "no evidence": ("bare.json", str(VECTORS / "trust.json")),
        "not JSON": ("good.json", str(tmp_path / "trust.json")),
    }
    for message, (passport, trust) in cases.items():
        done = subprocess.run(
            [PASSPORT, "passport", "view", str(tmp_path / passport), "--trust", trust, "--out", str(out)],
            capture_output=True,
            check=False,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1 and message in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and not out.exists()


def test_the_tier_promise_is_on_the_first_screen(pages: dict[str, dict[str, Any]]) -> None:
    assert "Disclosed at the buyer tier" in pages["good-buyer"]["banner"]
    assert "every lineage record on chain is disclosed" in pages["good-buyer"]["banner"]
    incomplete = pages["good-tier-incomplete"]
    assert incomplete["banner"].startswith("Authentic") and "INCOMPLETE" in incomplete["banner"]
    assert "marked missing by the exporter" in incomplete["banner"]
    dropped = pages["tier-facility-dropped"]
    assert any(f.startswith("tier buyer: facility ") and "not disclosed" in f for f in dropped["failures"])


def test_a_picked_trust_anchor_is_checked_instead(pages: dict[str, dict[str, Any]]) -> None:
    page = pages["picked-anchor"]  # a phone: no drag and drop, a file picker
    assert page["verdict"] == "failed"
    assert any("a validator not in the anchor's set" in f for f in page["failures"])


def test_names_records_and_words_read_as_written(pages: dict[str, dict[str, Any]]) -> None:
    for name in ("good-buyer", "phone"):
        assert pages[name]["brokenWords"] == [], (name, pages[name]["brokenWords"])
    page = pages["good-buyer"]
    doc = vector("good-buyer.json")["passport"]
    assert page["edgesThroughBoxes"] == 0  # a lineage edge never runs through a batch's box
    labels = page["graphLabels"]  # lineage boxes by site name
    assert (
        "Mine A" in labels
        and "Mine B · tainted" in labels
        and not any(x.startswith("facility") for x in labels)
    )
    rows = page["records"]
    revealed = sum(len(d["revealed"]) for d in doc["disclosures"])
    withheld = sum(len(d["withheld"]) for d in doc["disclosures"])
    assert len(rows) == revealed + withheld and sum(r[2] == "withheld" for r in rows) == withheld
    assay = [r for r in rows if r[1] == "documents.assayCertificate"]
    assert assay and all("bytes, sha256 " in r[2] and "{" not in r[2] for r in assay)  # a file, not a dict
    block = doc["chain"]["as_of_block"]
    assert f"operator sanctioned (at block {block})" in page["sanctions"]
    assert sorted(page["custodyTx"]) == sorted(c["tx"] for c in doc["custody"])
