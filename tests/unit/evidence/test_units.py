"""The offline verifier's pieces without a chain: trust-anchor files, the packed proofs, storage
strings and packing, header decoding."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path

import pytest
import rlp
from eth_hash.auto import keccak

from passport.core.document import Evidence
from passport.evidence import layout
from passport.evidence.proven import decode_header
from passport.evidence.trust import TrustAnchor
from passport.exceptions import EvidenceFormatError, PassportFileInvalid, ProofError

CODE = "0x" + "ab" * 32
ANCHOR = {
    "name": "Test",
    "chain_id": 1337,
    "genesis_hash": "0x" + "11" * 32,
    "sealed": True,
    "seal_scheme": "passport-node/v1",
    "validators": ["0x" + "22" * 20],
    "contracts": {
        k: {"address": "0x" + n * 20, "code_hash": CODE}
        for k, n in (("consortium", "33"), ("passport", "44"), ("registry", "55"))
    },
}


def _evidence(proofs: str) -> Evidence:
    return Evidence(anchor="0x" + "00" * 32, receipts=[], completeness={}, proofs=proofs)


def test_trust_anchor_round_trip_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    TrustAnchor.model_validate(ANCHOR).save(path)
    assert TrustAnchor.load(path).validators == ["0x" + "22" * 20]
    for broken, reason in (
        ("{", "not JSON"),
        ('{"name": "x"}', "chain_id"),
        (path.read_text().replace('"sealed": true', '"sealed": 1.5'), "sealed"),
    ):
        path.write_text(broken)
        with pytest.raises(PassportFileInvalid, match=reason):
            TrustAnchor.load(path)
    sealed_without_validators = {**ANCHOR, "validators": []}
    path.write_text(TrustAnchor.model_validate(sealed_without_validators).to_json())
    with pytest.raises(PassportFileInvalid, match="validators"):
        TrustAnchor.load(path)
    with pytest.raises(PassportFileInvalid, match="no such file"):
        TrustAnchor.load(tmp_path / "missing.json")


def test_packed_proofs_round_trip_and_refusals() -> None:
    headers, seals, nodes = [b"h1", b"h2"], [b"s", b""], [b"n" * 40]
    assert _evidence(Evidence.pack(headers, seals, nodes)).unpack() == (headers, seals, nodes)
    for proofs, reason in (
        ("%%%", "digit|padding|base64"),
        (base64.b64encode(b"plain").decode(), "header"),
        (base64.b64encode(gzip.compress(rlp.encode([[b"h"], []]))).decode(), "not the lists"),
        (base64.b64encode(gzip.compress(rlp.encode([[b"h"], [], []]))).decode(), "1 headers but 0 seals"),
        (base64.b64encode(gzip.compress(b"\0" * (65 * 1024 * 1024))).decode(), "more than"),
    ):
        with pytest.raises(EvidenceFormatError, match=reason):
            _evidence(proofs).unpack()


def test_strings_and_packing() -> None:
    short = int.from_bytes(b"hello".ljust(31, b"\0") + bytes([10]), "big")
    assert layout.string_data_slots(9, short) == []
    assert layout.string_of(short, []) == "hello"
    text = b"x" * 40
    word = 2 * len(text) + 1
    slots = layout.string_data_slots(9, word)
    assert slots == [layout.array_data(9), layout.array_data(9) + 1]
    data = [int.from_bytes(text[:32], "big"), int.from_bytes(text[32:].ljust(32, b"\0"), "big")]
    assert layout.string_of(word, data) == "x" * 40
    with pytest.raises(ValueError, match="missing"):
        layout.string_of(word, data[:1])
    # Record: owner | stage | flags | grade | facility | country | history, low bytes first.
    word = (
        (0xAA << 248)
        | (int.from_bytes(b"VN", "big") << 232)
        | (7 << 200)
        | (500_000 << 176)
        | (5 << 168)
        | (1 << 160)
        | 0x1234
    )
    assert layout.field(word, "Record", "history") == 0xAA
    assert layout.country_of(layout.field(word, "Record", "country")) == "VN"
    assert layout.field(word, "Record", "facilityId") == 7
    assert layout.field(word, "Record", "gradePpm") == 500_000
    assert layout.field(word, "Record", "flags") == 5
    assert layout.field(word, "Record", "stage") == 1
    assert layout.field(word, "Record", "owner") == 0x1234
    assert layout.mapping_slot(0, 1) == int.from_bytes(
        keccak((1).to_bytes(32, "big") + (0).to_bytes(32, "big")), "big"
    )


def test_header_decoding_refuses_what_is_not_a_header() -> None:
    with pytest.raises(ProofError, match="not an RLP header"):
        decode_header(b"\xff\x00", None, "h")
    with pytest.raises(ProofError, match="not a block header"):
        decode_header(rlp.encode([b"a"] * 3), None, "h")
    fields = [b"\x01" * 32] * 8 + [b"\x05"] + [b""] * 2 + [b"\x09"] + [b""] * 3
    header = decode_header(rlp.encode(fields), b"s", "h")
    assert (header.number, header.timestamp, header.hash) == (5, 9, keccak(rlp.encode(fields)))
