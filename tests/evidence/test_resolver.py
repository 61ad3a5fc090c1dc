"""The resolver (``passport serve``) on the demo's chain: the label decoded from its QR image
resolves to the page (which verifies in Chromium, network blocked) and to an RFC 9264 linkset
whose links resolve; tiers open only with a key and an unknown key or batch leaks nothing;
exports are cached per (batch, block, tier); clients are rate-limited."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from passport.core.document import PassportDocument
from passport.evidence import TrustAnchor, verify_offline
from passport.formats import epcis
from passport.resolver import KeyEntry, KeysFile, RateLimiter, Resolver, key_hash
from tests import serving
from tests.evidence.conftest import Exported, chain_args
from tests.evidence.test_qr import ZBARIMG, _decode, needs_zbar
from tests.viewer.conftest import open_pages

pytestmark = pytest.mark.slow
PASSPORT = str(Path(sys.executable).parent / "passport")
BUYER_KEY = "buyer-key-for-tests"
SERVE_LOG: dict[str, Path] = {}  # the served resolver's log (stderr), for the redaction test


def _get(
    url: str, accept: str = "text/html", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def check_linkset(body: bytes) -> dict[str, Any]:
    """RFC 9264 section 4.2: {"linkset": [context objects]}; each has an absolute "anchor" and
    relation types (registered names or URIs) mapping to arrays of target objects with "href"."""
    data = json.loads(body)
    assert set(data) == {"linkset"} and isinstance(data["linkset"], list) and data["linkset"]
    for context in data["linkset"]:
        assert re.match(r"^https?://", context["anchor"])
        relations = {k: v for k, v in context.items() if k != "anchor"}
        assert relations
        for relation, targets in relations.items():
            assert re.match(r"^(https?://\S+|[a-z][a-z0-9.-]*)$", relation), relation
            assert isinstance(targets, list) and targets
            for target in targets:
                assert re.match(r"^https?://", target["href"])
                assert isinstance(target.get("type", ""), str)
                assert all(isinstance(x, str) for x in target.get("hreflang", []))
    return dict(data["linkset"][0])


@contextlib.contextmanager
def _serve(node_export: Exported, tmp: Path, *extra: str) -> Iterator[str]:
    """`passport serve` on a free port for the fab (its vault), with a buyer key; its base URL."""
    keys = tmp / "keys.json"
    KeysFile(keys=[KeyEntry(sha256=key_hash(BUYER_KEY), tier="buyer", label="tests")]).save(keys)
    trust = tmp / "trust.json"
    node_export.trust.save(trust)
    log = tmp / "serve.log"
    with (
        log.open("w") as errors,
        subprocess.Popen(
            [
                PASSPORT,
                "serve",
                "--port",
                "0",
                "--keys",
                str(keys),
                "--trust",
                str(trust),
                "--vault",
                str(node_export.out / "vaults" / "fab"),
                *extra,
                *chain_args(node_export),
            ],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        ) as process,
    ):
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line, log.read_text()
            found = re.search(r"on (http://\S+)", line)
            assert found, line
            yield found.group(1)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def served(node_export: Exported, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`passport serve` for the fab, with a buyer key; its log kept for the redaction test."""
    tmp = tmp_path_factory.mktemp("resolver")
    SERVE_LOG["path"] = tmp / "serve.log"
    with _serve(node_export, tmp) as url:
        yield url


@pytest.fixture(scope="module")
def served_limited(node_export: Exported, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`passport serve` with the serving limits the shared checks expect (tests/serving.py), and a
    rate limit that lets their requests through."""
    limits = [
        "--idle-timeout",
        str(serving.IDLE_TIMEOUT),
        "--request-deadline",
        str(serving.REQUEST_DEADLINE),
    ]
    with _serve(
        node_export, tmp_path_factory.mktemp("limited"), *limits, "--rate", "1000", "--burst", "1000"
    ) as url:
        yield url


def linkset_request(node_export: Exported) -> bytes:
    """GET the WF6 passport's linkset (exported once, then answered from the resolver's cache)."""
    path = f"/passport/{node_export.trust.chain_id}/{node_export.result.batches['wf6']}/linkset.json"
    return f"GET {path} HTTP/1.1\r\nHost: resolver\r\n\r\n".encode()


def test_200_idle_connections_are_closed_while_requests_are_answered(
    node_export: Exported, served_limited: str
) -> None:
    serving.idle_connections_are_closed(served_limited, linkset_request(node_export))


def test_a_client_dripping_its_request_is_cut_off_at_the_deadline(
    node_export: Exported, served_limited: str
) -> None:
    serving.slow_client_is_cut_off(served_limited, linkset_request(node_export))


def test_a_keep_alive_request_is_no_slower_than_a_fresh_one(
    node_export: Exported, served_limited: str
) -> None:
    serving.keep_alive_is_not_slower(served_limited, linkset_request(node_export))


@needs_zbar
def test_label_resolves_to_a_page_that_verifies_and_to_a_linkset(
    node_export: Exported, served: str, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from passport.cli import cli

    host = served.removeprefix("http://")
    wf6 = node_export.result.batches["wf6"]
    made = CliRunner().invoke(
        cli,
        [
            "passport",
            "qr",
            str(wf6),
            "--out",
            str(tmp_path / "label.png"),
            "--resolver",
            host,
            "--vault",
            str(node_export.out / "vaults" / "fab"),
            *chain_args(node_export),
        ],
    )
    assert made.exit_code == 0, made.output
    assert ZBARIMG is not None or os.environ.get("CI")
    url = _decode(tmp_path / "label.png")
    # a resolver on this machine: the label's own URL, plain HTTP (a public host gets https://)
    assert url == f"http://{host}/passport/{node_export.trust.chain_id}/{wf6}"

    status, headers, page = _get(url, "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert headers["x-passport-tier"] == "public" and b'id="passport-data"' in page
    assert 'rel="linkset"' in headers["link"]
    shown = open_pages([{"url": url}], tmp_path)[0]
    assert shown["verdict"] == "verified", shown["failures"]
    assert shown["blocked"] == [] and shown["graphNodes"] == len(node_export.wf6.lineage.nodes)

    status, headers, body = _get(url, "application/linkset+json")
    assert status == 200 and headers["content-type"] == "application/linkset+json"
    context = check_linkset(body)
    assert context["anchor"] == url
    assert context["https://gs1.org/voc/pip"][0]["type"] == "text/html"
    trust = TrustAnchor.model_validate_json(
        _get(context["https://mineral-passport.example/voc/trustAnchor"][0]["href"])[2]
    )
    bundle = _get(context["https://mineral-passport.example/voc/proofBundle"][0]["href"], "application/json")[
        2
    ]
    doc = PassportDocument.model_validate_json(bundle)
    assert doc.tier == "public" and verify_offline(doc, trust).ok
    events = _get(context["https://gs1.org/voc/traceability"][0]["href"], "application/ld+json")[2]
    assert epcis.verify_document(events.decode(), trust).ok


def test_a_key_opens_its_tier_and_nothing_else_tells(node_export: Exported, served: str) -> None:
    base = f"{served}/passport/{node_export.trust.chain_id}/{node_export.result.batches['wf6']}"
    public = json.loads(_get(f"{base}/passport.json")[2])
    _, headers, body = _get(f"{base}/passport.json?key={BUYER_KEY}")
    buyer = json.loads(body)
    assert headers["x-passport-tier"] == "buyer" and headers["cache-control"] == "private, no-store"
    assert buyer["tier"] == "buyer" and public["tier"] == "public"
    assert len(buyer["disclosures"]) >= len(public["disclosures"])
    revealed = lambda doc: sum(len(d["revealed"]) for d in doc["disclosures"])  # noqa: E731
    assert revealed(buyer) > revealed(public)
    bearer = _get(f"{base}/passport.json", headers={"Authorization": f"Bearer {BUYER_KEY}"})[1]
    assert bearer["x-passport-tier"] == "buyer"
    wrong = _get(f"{base}/passport.json?key=guess")
    assert wrong[0] == 200 and wrong[1]["x-passport-tier"] == "public" and json.loads(wrong[2]) == public
    _, _, linkset = _get(f"{base}?key={BUYER_KEY}", "application/linkset+json")
    assert all(
        f"key={BUYER_KEY}" in t["href"]
        for rel, ts in check_linkset(linkset).items()
        if rel != "anchor"
        for t in ts
    )
    missing = _get(f"{served}/passport/{node_export.trust.chain_id}/9999")
    other_chain = _get(f"{served}/passport/999/{node_export.result.batches['wf6']}")
    assert missing[0] == other_chain[0] == 404 and missing[2] == other_chain[2]
    assert _get(f"{served}/nothing/here")[0] == 404
    assert _get(f"{base}/secrets.txt")[0] == 404


def test_gs1_digital_link_resolves_only_with_the_lots_gtin(node_export: Exported) -> None:
    resolver = Resolver(node_export.sdk, node_export.trust, vault=node_export.out / "vaults" / "mine-a")
    lot = node_export.result.batches["split-1"]
    ok = resolver.handle("GET", f"/01/09520999000108/10/{lot}", {"accept": "application/json"}, "a")
    assert ok.status == 200 and json.loads(ok.body)["product"]["batch_id"] == lot
    wrong = resolver.handle("GET", f"/01/09520999000115/10/{lot}", {"accept": "application/json"}, "a")
    assert wrong.status == 404


def test_exports_are_cached_per_batch_block_and_tier(node_export: Exported) -> None:
    keys = KeysFile(keys=[KeyEntry(sha256=key_hash("k"), tier="buyer")])
    resolver = Resolver(
        node_export.sdk, node_export.trust, vault=node_export.out / "vaults" / "fab", keys=keys
    )
    path = f"/passport/{node_export.trust.chain_id}/{node_export.result.batches['wf6']}"
    for accept in ("text/html", "application/json", "application/linkset+json", "text/html"):
        assert resolver.handle("GET", path, {"accept": accept}, "a").status == 200
    assert resolver.exports == 1
    assert resolver.handle("GET", path + "?key=k", {}, "a").status == 200
    assert resolver.exports == 2


def test_clients_are_rate_limited() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=1.0, burst=2, clock=lambda: now[0])
    resolver = Resolver.__new__(Resolver)
    resolver.limiter = limiter
    assert [resolver.handle("GET", "/x", {}, "a").status for _ in range(3)] == [404, 404, 429]
    limited = resolver.handle("GET", "/x", {}, "a")
    assert limited.status == 429 and limited.headers["Retry-After"] == "1"
    assert resolver.handle("GET", "/x", {}, "b").status == 404  # another client has its own bucket
    now[0] = 1.0
    assert resolver.handle("GET", "/x", {}, "a").status == 404


def test_keys_never_reach_the_log(node_export: Exported, served: str) -> None:
    base = f"{served}/passport/{node_export.trust.chain_id}/{node_export.result.batches['wf6']}"
    assert _get(f"{base}/passport.json?key={BUYER_KEY}")[0] == 200
    assert _get(f"{base}?key={BUYER_KEY}&x=1", "application/linkset+json")[0] == 200
    logged = SERVE_LOG["path"].read_text()
    assert BUYER_KEY not in logged
    assert f"key=sha256:{key_hash(BUYER_KEY)[:12]}" in logged


def test_a_chain_that_is_away_is_one_line_in_the_log(
    node_export: Exported, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    resolver = Resolver(node_export.sdk, node_export.trust, vault=node_export.out / "vaults" / "fab")

    def away(*_args: Any, **_kwargs: Any) -> Any:
        raise ConnectionError("HTTPConnectionPool(host='127.0.0.1', port=8545): connection refused")

    monkeypatch.setattr(resolver, "_resolve", away)
    path = f"/passport/{node_export.trust.chain_id}/{node_export.result.batches['wf6']}?key=secret-key"
    with caplog.at_level("WARNING", logger="passport.resolver"):
        answer = resolver.handle("GET", path, {}, "client")
    assert answer.status == 502
    (record,) = caplog.records
    assert record.exc_info is None and "the chain did not answer" in record.getMessage()
    assert "secret-key" not in caplog.text
