"""The call workers' kept block state gives what a cold call gives: random sequences of calls
(reads, reverts, calls that write storage, move value, run out of gas, estimates) at the head and
at an older block, across new blocks, run one by one and as one unit, compared with a fresh state
for every call. And a JSON-RPC batch of eth_calls answers each as the same calls one by one."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import lmdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from passport.core.types import FacilityKind, Role, Stage
from passport.node import calls
from passport.node.calls import CallRequest, Outcome
from passport.node.chain import CallVM, PassportVM, call_on, chain_class, estimate_on
from passport.node.service import Node
from passport.node.store import StoreSnapshot
from passport.sdk import Client, Founder, Sdk
from passport.sdk.accounts import dev_accounts

GAS = 3_000_000
# returns what a call sees of its origin: EXTCODEHASH(ORIGIN), BALANCE(ORIGIN), CALLER, GASPRICE
# (an origin py-evm's message building had not touched would have no code hash)
PROBE_RUNTIME = "323f6000523231602052336040523a60605260806000f3"
PROBE = "0x6017806" + "00b600039" + "6000f3" + PROBE_RUNTIME
# a contract creation whose output is its own address, so the sender's nonce
CREATE_OWN_ADDRESS = bytes.fromhex("30600052" + "60206000f3")


@pytest.fixture(scope="module")
def world() -> Iterator[dict[str, Any]]:
    """A dev node with the contracts, a facility and three batches; the worker globals pointed at
    its store (this process stands in for a call worker)."""
    with Node.dev() as node:
        client = Client.connect(node.url)
        admin, miner, regulator = dev_accounts(3)
        sdk = Sdk.deploy(
            client,
            admin,
            [
                Founder(admin.address, Role.ADMIN, "VN"),
                Founder(miner.address, Role.MINER | Role.PROCESSOR, "VN"),
                Founder(regulator.address, Role.REGULATOR, "VN"),
            ],
        )
        sdk.consortium.propose_facility(admin, miner.address, "VN", FacilityKind.MINE)
        for _ in range(3):
            sdk.batches.mint(miner, 1, Stage.CONCENTRATE, 1_000_000, 500_000)
        probe = client.transact(admin, client.w3.eth.contract(abi=[], bytecode=PROBE).constructor())
        saved, bound = dict(calls._worker), calls.MAX_WORKER_RSS
        calls._worker.update(env=node.store._env, chain=chain_class(client.chain_id, CallVM), state=None)
        calls.MAX_WORKER_RSS = 1 << 40  # this test process is larger than a worker
        try:
            yield {
                "node": node,
                "sdk": sdk,
                "client": client,
                "accounts": (admin, miner, regulator),
                "probe": bytes.fromhex(str(probe["contractAddress"])[2:]),
                # the reference: the block-building VM's state and account database, and py-evm's
                # costless_execute_transaction (with its finalisation), no caches
                "reference": chain_class(client.chain_id, PassportVM),
            }
        finally:
            calls._worker.clear()
            calls._worker.update(saved)
            calls.MAX_WORKER_RSS = bound


def _menu(world: dict[str, Any]) -> list[tuple[bytes, bytes, int, bytes, int, bool]]:
    """(sender, to, value, data, gas, estimate) of the calls the sequences draw from."""
    sdk = world["sdk"]
    admin, miner, regulator = world["accounts"]
    passport, consortium = sdk.contracts.passport, sdk.contracts.consortium

    def data(contract: Any, fn: str, *args: Any) -> bytes:
        return bytes.fromhex(contract.encode_abi(fn, args=args)[2:])

    def addr(a: Any) -> bytes:
        return bytes.fromhex(str(a.address if hasattr(a, "address") else a)[2:])

    p, c, zero = addr(passport), addr(consortium), b"\0" * 20
    out = []
    for i in (0, 1, 2, 3, 9):  # 0 and 9 revert (BatchNotFound)
        out.append((zero, p, 0, data(passport, "batch", i), GAS, False))
        out.append((zero, p, 0, data(passport, "isTainted", i), GAS, False))
        out.append((zero, p, 0, data(passport, "offerOf", i), GAS, False))
    out += [
        (zero, p, 0, data(passport, "batchCount"), GAS, False),
        (zero, c, 0, data(consortium, "member", miner.address), GAS, False),
        (zero, c, 0, data(consortium, "facility", 1), GAS, False),
        # writes inside the call: a new batch, an offer, a freeze; none may outlive it
        (addr(miner), p, 0, data(passport, "mint", 1, int(Stage.CONCENTRATE), 5, 5, b"\0" * 32), GAS, False),
        (addr(miner), p, 0, data(passport, "offer", 1, regulator.address), GAS, False),
        (addr(regulator), p, 0, data(passport, "freeze", 2, b"\1" * 32), GAS, False),
        # value to an account, and the sender's own nonce and balance after it
        (addr(admin), addr(regulator), 10**18, b"", GAS, False),
        # what a call sees of its sender (touched, nonce and balance as py-evm's message building
        # leaves them), a call the sender cannot pay, and creations (their address: the nonce)
        (zero, world["probe"], 0, b"", GAS, False),
        (addr(miner), world["probe"], 0, b"", GAS, False),
        (addr(admin), world["probe"], 7, b"", GAS, False),
        (zero, world["probe"], 10**30, b"", GAS, False),
        (addr(admin), b"", 0, CREATE_OWN_ADDRESS, GAS, False),
        (zero, b"", 0, CREATE_OWN_ADDRESS, GAS, False),
        # out of gas, and estimates
        (
            addr(miner),
            p,
            0,
            data(passport, "mint", 1, int(Stage.CONCENTRATE), 5, 5, b"\0" * 32),
            30_000,
            False,
        ),
        (addr(miner), p, 0, data(passport, "mint", 1, int(Stage.CONCENTRATE), 5, 5, b"\0" * 32), GAS, True),
        (zero, p, 0, data(passport, "batch", 9), GAS, True),
    ]
    return out


def _cold(world: dict[str, Any], request: CallRequest) -> Outcome:
    """The call on a state of its own, as every call ran before the workers kept one, on the
    reference VM (no call caches, py-evm's own call path)."""
    txn = world["node"].store._env.begin(buffers=False)
    with StoreSnapshot(txn) as db:
        chain = world["reference"]
        header = chain(db).get_block_header_by_hash(request.block_hash)
        args = (request.sender, request.to, request.value, request.data, request.gas)
        try:
            if request.estimate:
                return Outcome("ok", estimate_on(chain, db, header, *args))
            computation = call_on(chain, db, header, *args)
        except calls.ValidationError as exc:
            return Outcome("invalid", str(exc))
        except calls.VMError as exc:
            return calls._failed(exc)
        if computation.is_error:
            return calls._failed(computation.error)
        return Outcome("ok", bytes(computation.output))


# (kind: 0 a new block, a mint or a freeze; else a call), (menu index), (0: at the old block)
STEP = st.tuples(st.integers(0, 7), st.integers(0, 200), st.integers(0, 4))


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,  # the same sequences in every run (CI included): a failure reproduces
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(STEP, min_size=1, max_size=14))
def test_kept_state_gives_what_a_cold_call_gives(world: dict[str, Any], steps: list[Any]) -> None:
    client, sdk = world["client"], world["sdk"]
    _admin, miner, regulator = world["accounts"]
    menu = _menu(world)
    old = bytes.fromhex(client.block_hash(2)[2:])
    unit: list[CallRequest] = []
    kept_between = 0  # calls that ran on the state an earlier call left: what is under test
    for kind_n, n, where in steps:
        kind, flag = ("block" if kind_n == 0 else "call"), where == 0
        if kind == "block":
            if n % 2:
                sdk.batches.mint(miner, 1, Stage.CONCENTRATE, 1_000 + n, 500_000)
            else:
                batch = 1 + n % 3
                frozen = sdk.batches.get(batch).flags & 2
                (sdk.batches.unfreeze if frozen else sdk.batches.freeze)(regulator, batch)
            continue
        sender, to, value, data, gas, estimate = menu[n % len(menu)]
        at = old if flag else bytes.fromhex(client.head()[1][2:])
        request = CallRequest(estimate, at, sender, to, value, data, gas, timeout=30.0, deadline=1e18)
        expected = _cold(world, request)
        before = calls._worker["state"]
        assert calls._execute(request) == expected, (n, flag)
        kept_between += before is not None and calls._worker["state"] is before
        unit.append(request)
    expected_all = [_cold(world, r) for r in unit]
    assert calls._execute_many(unit) == expected_all
    KEPT.append(kept_between)


KEPT: list[int] = []


def test_the_sequences_ran_on_kept_state() -> None:
    """The property above is only worth something if calls did run on a state kept from earlier
    ones (it runs first: pytest keeps the file's order)."""
    assert KEPT and sum(KEPT) >= 10, KEPT


def test_a_write_in_a_call_does_not_outlive_it(world: dict[str, Any]) -> None:
    """The case the property stands for, spelt out: a call that mints, then a count of batches at
    the same block on the state it left; both as a cold call gives them."""
    client, sdk = world["client"], world["sdk"]
    miner = world["accounts"][1]
    p = sdk.contracts.passport
    head = bytes.fromhex(client.head()[1][2:])
    address = bytes.fromhex(p.address[2:])

    def request(sender: bytes, fn: str, *args: Any) -> CallRequest:
        data = bytes.fromhex(p.encode_abi(fn, args=args)[2:])
        return CallRequest(False, head, sender, address, 0, data, GAS, 30.0, 1e18)

    count = request(b"\0" * 20, "batchCount")
    mint = request(bytes.fromhex(miner.address[2:]), "mint", 1, int(Stage.CONCENTRATE), 5, 5, b"\0" * 32)
    before = calls._execute(count)
    kept = calls._worker["state"]
    assert calls._execute(mint) == _cold(world, mint) and calls._execute(mint).kind == "ok"
    assert calls._worker["state"] is kept
    assert calls._execute(count) == before == _cold(world, count)


def test_calls_from_one_sender_see_its_account_as_a_cold_call_does(world: dict[str, Any]) -> None:
    """Calls from one sender run on the writes py-evm's message building made to its account at
    its first call (:class:`~passport.node.calls.KeptCalls`): each still sees the sender touched,
    its balance and its code hash as a cold call does, creations still get the address of the
    sender's own nonce, and a call it cannot pay is still refused, in any order of senders."""
    client = world["client"]
    admin, miner, _ = world["accounts"]
    head = bytes.fromhex(client.head()[1][2:])
    zero, admin_, miner_ = b"\0" * 20, bytes.fromhex(admin.address[2:]), bytes.fromhex(miner.address[2:])

    def probe(sender: bytes, value: int = 0) -> CallRequest:
        return CallRequest(False, head, sender, world["probe"], value, b"", GAS, 30.0, 1e18)

    def create(sender: bytes) -> CallRequest:
        return CallRequest(False, head, sender, b"", 0, CREATE_OWN_ADDRESS, GAS, 30.0, 1e18)

    def short(sender: bytes, data: bytes) -> CallRequest:  # at 21,160 gas: 10 bytes of data cost 160
        return CallRequest(False, head, sender, world["probe"], 0, data, 21_160, 30.0, 1e18)

    sequence = [
        probe(zero),
        probe(zero),
        create(zero),
        probe(zero),
        create(zero),
        probe(zero, 10**30),
        probe(zero),
        probe(admin_, 7),
        probe(admin_),
        create(admin_),
        probe(miner_),
        probe(admin_),
        create(admin_),
        # validated once on the kept writes, then with other data of the same intrinsic gas, of
        # more than the gas, and of less
        short(admin_, b"\x01" * 10),
        short(admin_, b"\x02" * 10),
        short(admin_, b"\x01" * 11),
        short(admin_, b"\x00" * 10),
    ]
    expected = [_cold(world, r) for r in sequence]
    calls._worker["state"] = None
    assert [calls._execute(r) for r in sequence] == expected
    calls._worker["state"] = None
    assert calls._execute_many(sequence) == expected
    # what is compared is worth comparing: the zero address exists only as touched by the call,
    # the creations' addresses are the nonces' (two senders, two addresses), one call is refused
    assert expected[0].kind == "ok" and expected[0].value[:32] != b"\0" * 32
    assert expected[2].value != expected[9].value and expected[2] == expected[4]
    assert expected[5].kind == "invalid"
    assert expected[13].kind == expected[14].kind == "failure"  # out of gas: none left to run
    assert expected[15].kind == "invalid"  # 11 bytes cost more than the gas
    assert expected[16].kind == "failure"  # zero bytes cost less: valid, then out of gas


def test_a_batch_of_calls_answers_as_the_calls_one_by_one(world: dict[str, Any]) -> None:
    node, sdk = world["node"], world["sdk"]
    passport = sdk.contracts.passport
    items = []
    for i in range(12):
        items.append(
            {"jsonrpc": "2.0", "id": i, "method": "eth_call",
             "params": [{"to": passport.address, "data": passport.encode_abi("batch", args=(i % 5,))}, "latest"]}
        )  # fmt: skip
    items.insert(3, {"jsonrpc": "2.0", "id": "n", "method": "eth_blockNumber", "params": []})
    items.insert(5, {"jsonrpc": "2.0", "id": "bad", "method": "eth_call", "params": [{"to": "0x12"}]})

    def post(body: Any) -> Any:
        request = urllib.request.Request(
            node.url, json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    together = post(items)
    one_by_one = [post(item) for item in items]
    assert [a["id"] for a in together] == [item["id"] for item in items]
    assert together == one_by_one
    assert sum("error" in a for a in together) == 4  # batches 0 (x3 of 12 at i % 5 == 0) and the bad one


def test_the_worker_memory_bound_drops_the_kept_state(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, sdk = world["client"], world["sdk"]
    passport = sdk.contracts.passport
    head = bytes.fromhex(client.head()[1][2:])
    data = bytes.fromhex(passport.encode_abi("batchCount")[2:])
    request = CallRequest(
        False, head, b"\0" * 20, bytes.fromhex(passport.address[2:]), 0, data, GAS, 30.0, 1e18
    )
    assert calls._execute(request).kind == "ok"
    kept = calls._worker["state"]
    assert calls._execute(request).kind == "ok" and calls._worker["state"] is kept
    monkeypatch.setattr(calls, "MAX_WORKER_RSS", 0)
    assert calls._execute(request).kind == "ok" and calls._worker["state"] is not kept
    assert isinstance(world["node"].store._env, lmdb.Environment)
