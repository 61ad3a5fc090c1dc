"""Revert decoding from every shape of client error."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as selector

from passport.exceptions import ContractRevert
from passport.sdk.errors import as_sdk_error, decode_revert, revert_data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            selector("BatchNotFound(uint256)") + encode(["uint256"], [7]),
            "MineralPassport reverted: BatchNotFound(batchId=7)",
        ),
        (
            selector("ConsortiumMissingRole(address,uint8)")
            + encode(["address", "uint8"], ["0x" + "ab" * 20, 32]),
            "Consortium reverted: ConsortiumMissingRole(account=0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB, role=32)",
        ),
        (selector("ConsortiumNoChange()"), "Consortium reverted: ConsortiumNoChange()"),
        (bytes.fromhex("08c379a0") + encode(["string"], ["nope"]), "reverted: Error(message=nope)"),
        (
            bytes.fromhex("4e487b71") + encode(["uint256"], [0x11]),
            "reverted: Panic(code=17, meaning=arithmetic overflow or underflow)",
        ),
        (bytes.fromhex("deadbeef"), "reverted: UnknownError(data=0xdeadbeef)"),
    ],
)
def test_decode_revert(data: bytes, message: str) -> None:
    error = decode_revert(data)
    assert isinstance(error, ContractRevert)
    assert str(error) == message


def test_struct_error_args_are_named() -> None:
    error = decode_revert(
        selector("BatchSplitMassMismatch(uint256,uint256,uint256)") + encode(["uint256"] * 3, [1, 10, 11])
    )
    assert error.name == "BatchSplitMassMismatch"
    assert error.error_args == {"batchId": 1, "parentGrams": 10, "childrenGrams": 11}


class _Web3Style(Exception):
    def __init__(self, data: object) -> None:
        super().__init__("execution reverted")
        self.data = data


def test_revert_data_shapes() -> None:
    raw = selector("BatchZeroMass()")
    assert revert_data(_Web3Style("0x" + raw.hex())) == raw
    assert revert_data(_Web3Style({"data": "0x" + raw.hex()})) == raw
    assert revert_data(Exception(f"execution reverted: {raw!r}")) == raw  # eth-tester's message
    chained = RuntimeError("wrapper")
    chained.__cause__ = _Web3Style(raw)
    assert revert_data(chained) == raw
    assert revert_data(Exception("connection refused")) is None
    assert as_sdk_error(Exception("boom")) is None
