"""The ABCI socket framing (uvarint length + protobuf) and the generated classes."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from passport._proto.tendermint.abci import types_pb2 as abci
from passport.node.consensus.abci import encode_varint, frame, read_message, read_varint

ROOT = Path(__file__).resolve().parents[2]


@given(st.integers(min_value=0, max_value=2**63))
def test_varint_round_trip(value: int) -> None:
    assert read_varint(io.BytesIO(encode_varint(value))) == value


def test_known_varints_match_go_binary_putuvarint() -> None:
    assert encode_varint(0) == b"\x00"
    assert encode_varint(127) == b"\x7f"
    assert encode_varint(128) == b"\x80\x01"
    assert encode_varint(300) == b"\xac\x02"


def test_messages_frame_and_parse() -> None:
    request = abci.Request(check_tx=abci.RequestCheckTx(tx=b"\x02abc", type=abci.RECHECK))
    stream = io.BytesIO(frame(request) + frame(abci.Request(flush=abci.RequestFlush())))
    first = read_message(stream)
    assert first is not None and first.WhichOneof("value") == "check_tx"
    assert first.check_tx.tx == b"\x02abc" and first.check_tx.type == abci.RECHECK
    second = read_message(stream)
    assert second is not None and second.WhichOneof("value") == "flush"
    assert read_message(stream) is None


def test_truncated_message_is_an_error() -> None:
    with pytest.raises(EOFError, match="inside a message"):
        read_message(io.BytesIO(encode_varint(10) + b"abc"))


@pytest.mark.slow
def test_committed_classes_equal_a_fresh_generation(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_cometbft_proto.py"), "--out", str(tmp_path / "out")],
        check=True,
        capture_output=True,
        timeout=300,
    )
    committed = ROOT / "passport" / "_proto"
    fresh = sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*") if p.is_file())
    ours = sorted(
        p.relative_to(committed) for p in committed.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    assert fresh == ours
    for rel in fresh:
        assert (tmp_path / "out" / rel).read_text() == (committed / rel).read_text(), rel
