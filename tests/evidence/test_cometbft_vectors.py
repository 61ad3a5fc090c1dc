"""The CometBFT light-client vectors (viewer/test/vectors/cometbft, taken from a real network by
scripts/make_cometbft_vectors.py) through the Python verifier: good paths verify with the quorum
the network signed, each tampered one fails with its reason named. viewer/test/cometbft.test.mjs
runs the same vectors through the page's verifier."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from passport.evidence import cometbft
from passport.exceptions import ProofError

VECTORS = Path(__file__).resolve().parents[2] / "viewer" / "test" / "vectors" / "cometbft"
NAMES = json.loads((VECTORS / "index.json").read_text())


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / f"{name}.json").read_text())
    return data


def run(v: dict[str, Any]) -> tuple[cometbft.Tally, list[cometbft.LightBlock]]:
    state = cometbft.Trusted(
        cometbft.read_header(v["trusted"]["header"], "trusted"),
        cometbft.read_validators(v["trusted"]["validators"], "trusted"),
    )
    blocks = [cometbft.read_light_block(b, f"path[{n}]") for n, b in enumerate(v["path"])]
    now = cometbft.Time.parse(v["now"], "now")
    tally, _ = cometbft.verify_path(state, blocks, v["trusting_period_seconds"], now, "path")
    return tally, blocks


def test_every_kind_of_tampering_has_a_vector() -> None:
    kinds = {
        "signature-byte", "signature-outsider", "commit-two-thirds", "chain-id", "app-hash",
        "validators-hash", "height", "time", "round", "duplicate-vote", "validator-set",
        "trusting-period", "set-change-without-third",
    }  # fmt: skip
    assert kinds <= set(NAMES)
    assert {"adjacent", "skipping", "set-change-bisected"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_vector(name: str) -> None:
    v = load(name)
    want = v["expect"]
    if want["ok"]:
        tally, blocks = run(v)
        assert blocks[-1].height == want["height"]
        assert [s.address.hex().upper() for s in tally.signers] == want["signers"]
        assert (tally.signed_power, tally.total_power) == (want["signed_power"], want["total_power"])
        assert tally.signed_power * 3 > tally.total_power * 2
    else:
        with pytest.raises(ProofError) as caught:
            run(v)
        assert caught.value.what.startswith(want["where"]), caught.value
        assert want["reason"] in caught.value.reason, caught.value


def test_the_bisected_path_needs_its_pivot() -> None:
    """The set changed too much for the trusted set to vouch for the last block directly."""
    v = load("set-change-bisected")
    direct = {**v, "path": v["path"][1:]}
    with pytest.raises(ProofError, match="not more than 1/3"):
        run(direct)
    assert len(v["path"][-1]["validator_set"]["validators"]) == 2


def test_header_hash_is_cometbfts_block_id() -> None:
    network = json.loads((VECTORS / "network.json").read_text())
    for key in ("trusted", "adjacent", "skipping", "middle", "last"):
        signed = network[key]["signed_header"]
        header = cometbft.read_header(signed["header"], key)
        assert header.hash().hex().upper() == signed["commit"]["block_id"]["hash"]
        validators = cometbft.read_validators(network[key]["validator_set"]["validators"], key)
        assert validators.hash().hex().upper() == signed["header"]["validators_hash"]


def test_merkle_root_follows_rfc6962() -> None:
    import hashlib

    leaf = [hashlib.sha256(b"\x00" + bytes([i])).digest() for i in range(3)]
    inner = hashlib.sha256(b"\x01" + leaf[0] + leaf[1]).digest()
    assert (
        cometbft.merkle_root([bytes([0]), bytes([1]), bytes([2])])
        == hashlib.sha256(b"\x01" + inner + leaf[2]).digest()
    )
    assert cometbft.merkle_root([]) == hashlib.sha256(b"").digest()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_garbage_light_blocks_are_refused_by_name(value: Any) -> None:
    with pytest.raises(ProofError):
        cometbft.read_light_block(value, "block")


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_a_changed_field_is_refused_by_name(data: st.DataObject) -> None:
    v = load("adjacent")
    block = json.loads(json.dumps(v["path"][0]))
    part = data.draw(st.sampled_from(["header", "commit"]))
    target = block["signed_header"][part]
    key = data.draw(st.sampled_from(sorted(target)))
    value = data.draw(json_values)
    if value == target[key] or str(value) == str(target[key]):
        return
    target[key] = value
    with pytest.raises(ProofError):
        run({**v, "path": [block]})
