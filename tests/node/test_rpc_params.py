"""Every JSON-RPC method validates its params before it touches the chain.

Malformed-but-plausible params (out-of-range integers, bad hex, wrong lengths, unknown tags,
wrong types, too many or too few) get -32602 naming the parameter; no answer ever carries a
Python exception name or a traceback, and -32603 (a bug) never appears. Hypothesis generates
params for every method in the table, alone and in batches, against a live node.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from passport.node.service import Node
from passport.sdk.accounts import dev_account

pytestmark = pytest.mark.slow

PYTHON_LEAK = re.compile(
    r"Traceback|File \"|\b(Type|Value|Key|Index|Attribute|Validation|Assertion|Overflow|Runtime)Error\b"
    r"|\b[A-Z][A-Za-z]+(Error|Exception)\b|OutOfGas|InvalidInstruction|MissingTrieNode"
)
ALLOWED_CODES = {-32602, -32000, -32005, 3}


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    with Node.dev() as n:
        yield n


def post(url: str, payload: Any) -> Any:
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        body = response.read()
    return json.loads(body) if body else None


def rpc(node: Node, method: str, params: list[Any]) -> dict[str, Any]:
    answer = post(node.url, {"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    assert isinstance(answer, dict)
    return answer


def assert_clean(answer: dict[str, Any]) -> None:
    assert set(answer) >= {"jsonrpc", "id"} and ("result" in answer) != ("error" in answer), answer
    if "error" in answer:
        error = answer["error"]
        assert error["code"] in ALLOWED_CODES, error
        assert not PYTHON_LEAK.search(error["message"]), error
        assert not PYTHON_LEAK.search(json.dumps(error.get("data"))), error


ADDRESS = dev_account(0).address
OVER_UINT256 = hex(2**256)


@pytest.mark.parametrize(
    ("method", "params", "names"),
    [
        ("eth_getStorageAt", [ADDRESS, OVER_UINT256, "latest"], "slot"),
        ("eth_getStorageAt", [ADDRESS, "0xzz", "latest"], "slot"),
        ("eth_getProof", [ADDRESS, ["0x0", OVER_UINT256], "latest"], "storageKeys[1]"),
        ("eth_getProof", [ADDRESS, "0x0", "latest"], "storageKeys"),
        ("eth_getProof", [ADDRESS, [], "0xzz"], "block"),
        ("passport_getReceiptProof", ["0x12"], "transactionHash"),
        ("eth_call", [{"to": ADDRESS, "value": OVER_UINT256}, "latest"], "call.value"),
        ("eth_call", [{"to": ADDRESS, "gas": hex(2**64)}, "latest"], "call.gas"),
        ("eth_call", [{"to": ADDRESS, "data": "0x1"}, "latest"], "call.data"),
        ("eth_call", [{"to": ADDRESS, "data": "0x11", "input": "0x22"}, "latest"], "call"),
        ("eth_call", [{"to": ADDRESS, "gasLimit": "0x1"}], "unknown call fields"),
        ("eth_feeHistory", ["0x1", "latest", ["fifty"]], "rewardPercentiles[0]"),
        ("eth_feeHistory", ["0x1", "latest", [60, 10]], "ascending"),
        ("eth_feeHistory", ["0x1", "latest", "50"], "rewardPercentiles"),
        ("eth_getBalance", [ADDRESS, "newest"], "unknown block tag"),
        ("eth_getBalance", [ADDRESS, hex(2**64)], "uint64"),
        ("eth_getBalance", [ADDRESS.lower()[:-2]], "address"),
        ("eth_getBalance", [ADDRESS, {"blockHash": "0x12"}], "block.blockHash"),
        ("eth_getBalance", [ADDRESS, "latest", "extra"], "expected 1 to 2 parameters"),
        ("eth_getBlockByNumber", ["latest", "yes"], "fullTransactions"),
        ("eth_getBlockByHash", ["0x" + "00" * 31, False], "blockHash: expected 32 bytes"),
        ("eth_getTransactionReceipt", [12], "transactionHash"),
        ("eth_getLogs", [{"topics": [["0x12"]]}], "filter.topics[0][0]"),
        ("eth_getLogs", [{"address": ["0x" + "11" * 19]}], "filter.address[0]"),
        ("eth_getLogs", [{"fromBlock": "earliest", "blockHash": "0x" + "00" * 32}], "blockHash excludes"),
        ("eth_sendRawTransaction", ["0xabc"], "transaction: odd number"),
        ("eth_getTransactionByBlockNumberAndIndex", ["latest", hex(2**64)], "index"),
        ("passport_getBlocksRlp", ["0x0", -1], "count"),
        ("perm_addAccountsToAllowlist", [[]], "accounts"),
    ],
)
def test_invalid_params_name_the_param(node: Node, method: str, params: list[Any], names: str) -> None:
    answer = rpc(node, method, params)
    assert_clean(answer)
    assert answer.get("error", {}).get("code") == -32602, answer
    assert names in answer["error"]["message"], answer["error"]["message"]


def test_a_call_beyond_the_senders_balance_is_a_clean_refusal(node: Node) -> None:
    answer = rpc(
        node, "eth_call", [{"from": "0x" + "12" * 20, "to": ADDRESS, "value": hex(10**30)}, "latest"]
    )
    assert_clean(answer)
    assert answer["error"]["code"] == -32000 and "insufficient funds" in answer["error"]["message"]


# -------------------------------------------------------------------- generated params

HEX_QUANTITIES = st.sampled_from(
    [
        "0x0",
        "0x1",
        "0x",
        "0x00",
        hex(2**64 - 1),
        hex(2**64),
        hex(2**256 - 1),
        OVER_UINT256,
        "0x-1",
        "0xG",
        "12",
    ]
)
HEX_DATA = st.binary(max_size=40).map(lambda b: "0x" + b.hex()) | st.text("0123456789abcdefx", max_size=70)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**300), max_value=2**300)
    | st.floats(allow_nan=False)
    | HEX_QUANTITIES
    | HEX_DATA
    | st.sampled_from(
        ["latest", "pending", "earliest", "safe", "finalized", "newest", "", ADDRESS, ADDRESS.lower()]
    )
    | st.text(max_size=12)
)
CALL_KEYS = st.sampled_from(["from", "to", "gas", "gasPrice", "value", "data", "input", "nonce", "accessList",
                             "fromBlock", "toBlock", "address", "topics", "blockHash", "blockNumber", "bogus"])  # fmt: skip
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(CALL_KEYS, inner, max_size=5),
    max_leaves=12,
)


def method_names() -> list[str]:
    with Node.dev() as n:
        return sorted(n.methods.table)


METHODS = method_names()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(METHODS), params=st.lists(VALUES, max_size=4))
def test_generated_params_never_leak_python_or_internal_errors(
    node: Node, method: str, params: list[Any]
) -> None:
    assert_clean(rpc(node, method, params))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    calls=st.lists(st.tuples(st.sampled_from(METHODS), st.lists(VALUES, max_size=3)), min_size=1, max_size=6)
)
def test_generated_batches_answer_each_request_cleanly(
    node: Node, calls: list[tuple[str, list[Any]]]
) -> None:
    batch = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
    answers = post(node.url, batch)
    assert isinstance(answers, list) and sorted(a["id"] for a in answers) == list(range(len(calls)))
    for answer in answers:
        assert_clean(answer)


def test_every_method_rejects_a_wrong_parameter_count(node: Node) -> None:
    for method in METHODS:
        answer = rpc(node, method, [None] * 6)
        assert answer["error"]["code"] == -32602 and "parameters" in answer["error"]["message"], method


HASH = "0x" + "ab" * 32
CALL = {"from": ADDRESS, "to": ADDRESS, "value": "0x1", "gas": "0x5208", "data": "0x"}
FILTER = {"fromBlock": "earliest", "toBlock": "latest", "address": ADDRESS, "topics": [HASH, None, [HASH]]}
# valid params for every method: generated params start here and mutate from it, so the
# validation of later params and the handlers behind it are reached, not only the first check
VALID: dict[str, list[Any]] = {
    "eth_getBalance": [ADDRESS, "latest"],
    "eth_getTransactionCount": [ADDRESS, "pending"],
    "eth_getCode": [ADDRESS, {"blockNumber": "0x0"}],
    "eth_getStorageAt": [ADDRESS, "0x0", "latest"],
    "eth_call": [CALL, "latest"],
    "eth_estimateGas": [CALL, "latest"],
    "eth_sendRawTransaction": ["0x02f86b82053980"],
    "eth_getBlockByNumber": ["0x0", True],
    "eth_getBlockByHash": [HASH, False],
    "eth_getBlockTransactionCountByNumber": ["latest"],
    "eth_getBlockTransactionCountByHash": [HASH],
    "eth_getTransactionByHash": [HASH],
    "eth_getTransactionByBlockNumberAndIndex": ["latest", "0x0"],
    "eth_getTransactionReceipt": [HASH],
    "eth_getBlockReceipts": ["earliest"],
    "eth_feeHistory": ["0x4", "latest", [10, 50]],
    "eth_getLogs": [FILTER],
    "eth_newFilter": [FILTER],
    "eth_getFilterChanges": ["0x1"],
    "eth_getFilterLogs": ["0x1"],
    "eth_uninstallFilter": ["0x1"],
    "perm_addAccountsToAllowlist": [[ADDRESS]],
    "perm_removeAccountsFromAllowlist": [["0x" + "77" * 20]],
    "passport_getBlockSeal": [HASH],
    "eth_getProof": [ADDRESS, ["0x0", "0x" + "01" * 32], "latest"],
    "passport_getReceiptProof": [HASH],
    "passport_getBlocksRlp": ["0x0", "0x2"],
    "passport_reportReplicaHead": ["fuzz", "0x1"],
}


@st.composite
def near_valid(draw: st.DrawFn) -> tuple[str, list[Any]]:
    """A method with valid params, then: some dropped from the end, one replaced by a generated
    value, or a field of an object param replaced or added."""
    method = draw(st.sampled_from(METHODS))
    params = json.loads(json.dumps(VALID.get(method, [])))
    mutation = draw(st.sampled_from(["truncate", "replace", "field", "none"]))
    if mutation == "truncate" and params:
        params = params[: draw(st.integers(0, len(params) - 1))]
    elif mutation == "replace" and params:
        params[draw(st.integers(0, len(params) - 1))] = draw(VALUES)
    elif mutation == "field":
        objects = [p for p in params if isinstance(p, dict)]
        if objects:
            draw(st.sampled_from(objects))[draw(CALL_KEYS)] = draw(VALUES)
    return method, params


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=near_valid())
def test_near_valid_params_are_answered_cleanly(node: Node, request: tuple[str, list[Any]]) -> None:
    assert_clean(rpc(node, *request))


def test_the_valid_params_are_valid(node: Node) -> None:
    """The mutation base above must pass validation (else the mutations test nothing deeper)."""
    for method in METHODS:
        answer = rpc(node, method, VALID.get(method, []))
        assert answer.get("error", {}).get("code") != -32602, (method, answer)


def test_addresses_checked_once_are_still_checked_by_their_text() -> None:
    """Parsed addresses are kept by their text: the same text is the same address, and a text
    that differs (a wrong EIP-55 case, a digit) is checked, and refused, on its own."""
    from passport.node.rpc import params

    good = dev_account(0).address
    wrong_case = good[:2] + (good[2].swapcase() if good[2].isalpha() else good[2]) + good[3:]
    wrong_case = wrong_case if wrong_case != good else good[:-1] + good[-1].swapcase()
    assert wrong_case != good and wrong_case.lower() == good.lower()
    expected = bytes.fromhex(good[2:])
    assert params.address(good, "to") == expected == params.address(good, "to")
    assert params._ADDRESSES[good] == expected
    with pytest.raises(params.InvalidParams, match="bad EIP-55 checksum"):
        params.address(wrong_case, "to")
    with pytest.raises(params.InvalidParams, match="not a 20-byte hex address"):
        params.address(good[:-1] + "g", "to")
    assert params.address(good.lower(), "to") == expected
    for n in range(params.MAX_KNOWN_ADDRESSES + 1):  # bounded
        assert params.address("0x" + n.to_bytes(20, "big").hex(), "to") == n.to_bytes(20, "big")
        assert len(params._ADDRESSES) <= params.MAX_KNOWN_ADDRESSES
    with pytest.raises(params.InvalidParams, match="not hex"):
        params.data()("0x12zz", "data")
    assert params.data()("0x", "data") == b""
