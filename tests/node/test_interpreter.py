"""The node's inline opcode loop, and the blocks it compiles, give exactly py-evm's results.

Generated programs run as transactions on both VMs (``PassportVM`` and stock ``CancunVM``),
``PassportVM`` once with its opcode loop alone and once with every code compiled into blocks
(:mod:`passport.node.blocks`) from its first run, and every observable is compared: success, error class, gas used and refunded, output, final stack
and memory, logs, receipt and state root. The demo scenario's blocks, sealed by a node, then
import into stock py-evm, which re-executes and checks every header field.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth.chains.base import Chain
from eth.db.atomic import AtomicDB
from eth.vm.forks.cancun import CancunVM
from eth_account import Account
from eth_utils import to_canonical_address
from hypothesis import example, given, settings
from hypothesis import strategies as st

from passport import demo
from passport.exceptions import EvmTimeout
from passport.node import blocks
from passport.node.blocks import jump_destinations
from passport.node.chain import PassportVM, reference_chain
from passport.node.interpreter import PassportComputation
from passport.node.service import Node
from passport.sdk import Client

SENDER = Account.from_key(b"\x01" * 32)
TARGET = to_canonical_address("0x" + "c0de" * 10)
CHAIN_ID = 1337
GENESIS_PARAMS = {
    "difficulty": 0,
    "gas_limit": 30_000_000,
    "timestamp": 1_767_225_600,
    "extra_data": b"",
    "base_fee_per_gas": 10**9,
    "nonce": b"\0" * 8,
    "mix_hash": b"\0" * 32,
    "coinbase": b"\0" * 20,
}

# opcodes the generator draws from: every inlined one, and py-evm ones around them
INLINED = [code for code, gas in enumerate(PassportComputation.inline_gas) if gas >= 0]
PY_EVM = [
    0x00, 0x05, 0x07, 0x0A, 0x0B, 0x12, 0x13, 0x1A, 0x1D, 0x20, 0x30, 0x32, 0x37, 0x38, 0x39,
    0x3D, 0x47, 0x53, 0x54, 0x55, 0x58, 0x59, 0x5A, 0x5C, 0x5D, 0x5E, 0xA0, 0xA2, 0xF3, 0xFD,
    0xFE, 0x0C, 0x20, 0x20,
]  # fmt: skip


@pytest.fixture(params=["loop", "blocks"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``PassportVM`` runs each code by its opcode loop alone, or compiled into blocks from its
    first run (by default, from its second)."""
    monkeypatch.setattr(blocks, "COMPILE_AFTER_RUNS", 0 if request.param == "blocks" else 10**9)
    return str(request.param)


def run(vm_class: type[CancunVM], code: bytes, data: bytes = b"", gas: int = 300_000) -> tuple[Any, ...]:
    """Call ``code`` (deployed at TARGET with some storage) in a transaction; every observable."""
    chain_class = type("Probe", (Chain,), {"vm_configuration": ((0, vm_class),), "chain_id": CHAIN_ID})
    state = {
        to_canonical_address(SENDER.address): {"balance": 10**21, "nonce": 0, "code": b"", "storage": {}},
        TARGET: {"balance": 5, "nonce": 1, "code": code, "storage": {1: 7, 2: 2**255}},
    }
    chain = chain_class.from_genesis(AtomicDB(), GENESIS_PARAMS, state)
    vm = chain.get_vm()
    raw = SENDER.sign_transaction(
        {
            "chainId": CHAIN_ID,
            "nonce": 0,
            "to": TARGET,
            "data": data,
            "gas": gas,
            "gasPrice": 2 * 10**9,
            "value": 3,
        }
    ).raw_transaction
    tx = vm.get_transaction_builder().decode(bytes(raw))
    receipt, computation = vm.apply_transaction(vm.get_header(), tx)
    error = computation._error
    # A failed frame's stack and memory are discarded (nothing can observe them), and the
    # two loops may leave them differently; a successful frame's must be identical.
    frame = (
        None
        if computation.is_error
        else (
            [v if isinstance(v, int) else int.from_bytes(v, "big") for v in computation._stack.values],
            bytes(computation._memory._bytes),
        )
    )
    return (
        computation.is_error,
        type(error).__name__ if error is not None else None,
        str(error) if error is not None and type(error).__name__ == "Revert" else None,
        computation.get_gas_used(),
        computation.get_gas_refund(),
        bytes(computation.output),
        frame,
        computation.get_log_entries(),
        rlp.encode(receipt),
        vm.state.make_state_root(),
    )


def assert_same(code: bytes, data: bytes = b"", gas: int = 300_000) -> tuple[Any, ...]:
    reference = run(CancunVM, code, data, gas)
    inline = run(PassportVM, code, data, gas)
    assert inline == reference, f"code {code.hex()} differs"
    return inline


def push(value: int) -> bytes:
    width = max(1, (value.bit_length() + 7) // 8)
    return bytes([0x5F + width]) + value.to_bytes(width, "big")


def generated_program(rng: random.Random) -> bytes:
    """Random instructions over a seeded stack, with jumps to real and bogus destinations."""
    out = bytearray()
    seeds = (3, 0, 2**256 - 1, 64, 7, 2**255) * 3
    for value in seeds[: rng.choice([0, 6, 18, 18, 18])]:
        out += push(value)
    labels: list[int] = []
    for _ in range(rng.randint(5, 60)):
        roll = rng.random()
        if roll < 0.3:
            value = rng.choice([0, 1, 2, 31, 32, 33, 64, 255, 256, 300, 2**160 - 1, 2**255, 2**256 - 1])
            out += push(value if rng.random() < 0.8 else rng.getrandbits(rng.choice([8, 64, 256])))
        elif roll < 0.75:
            out.append(rng.choice(INLINED))
            if 0x60 <= out[-1] <= 0x7F:  # a PUSH: give it its data (sometimes with a JUMPDEST byte inside)
                out += bytes(rng.choice([0x5B, rng.randrange(256)]) for _ in range(out[-1] - 0x5F))
        elif roll < 0.85:
            labels.append(len(out))
            out.append(0x5B)
        elif roll < 0.93 and labels:
            # a jump to a label, to a non-JUMPDEST or past the end, maybe conditional
            target = rng.choice([*labels, len(out) + 1, 10_000])
            out += push(target) + bytes([rng.choice([0x56, 0x57])])
        else:
            out.append(rng.choice(PY_EVM))
    if rng.random() < 0.3:  # a PUSH cut off by the end of the code
        out += bytes([rng.choice([0x61, 0x7F]), 0xAB])
    return bytes(out)


@pytest.mark.usefixtures("mode")
@pytest.mark.parametrize("seed", range(300))
def test_generated_programs_give_py_evm_results(seed: int) -> None:
    rng = random.Random(seed)
    code = generated_program(rng)
    data = rng.randbytes(rng.choice([0, 4, 36, 100]))
    assert_same(code, data, gas=rng.choice([23_000, 25_000, 60_000, 300_000]))


@pytest.mark.usefixtures("mode")
def test_the_generator_reaches_success_and_each_kind_of_failure() -> None:
    """The generated programs above are only a check if they reach these outcomes."""
    outcomes = set()
    for seed in range(300):
        rng = random.Random(seed)
        code = generated_program(rng)
        data = rng.randbytes(rng.choice([0, 4, 36, 100]))
        outcomes.add(run(PassportVM, code, data, gas=rng.choice([23_000, 25_000, 60_000, 300_000]))[1])
    assert {None, "OutOfGas", "InsufficientStack", "InvalidJumpDestination", "Revert"} <= outcomes


@pytest.mark.parametrize(
    ("name", "code", "error"),
    [
        (
            "success, values returned",
            push(32) + push(0) + bytes([0x52]) + push(32) + push(0) + bytes([0xF3]),
            None,
        ),
        ("stack underflow on ADD", bytes([0x60, 1, 0x01]), "InsufficientStack"),
        ("stack underflow on SWAP3", push(1) * 3 + bytes([0x92]), "InsufficientStack"),
        ("stack underflow on DUP2", push(1) + bytes([0x81]), "InsufficientStack"),
        ("full stack", push(1) + bytes([0x5B, 0x80, 0x60, 2, 0x56]), "FullStack"),
        # a block that would pass the limit only for a moment (two pushes, two pops)
        (
            "full stack for a moment",
            push(1) * 1023 + push(1) + push(2) + bytes([0x50, 0x50, 0x00]),
            "FullStack",
        ),
        ("stack full, not over", push(1) * 1022 + push(1) + push(2) + bytes([0x50, 0x50, 0x00]), None),
        ("jump into PUSH data", bytes([0x60, 4, 0x56, 0x61, 0x5B, 0x5B]), "InvalidInstruction"),
        ("jump past the end", push(200) + bytes([0x56]), "InvalidJumpDestination"),
        ("JUMPI taken to a non-JUMPDEST", push(1) + push(0) + bytes([0x57]), "InvalidJumpDestination"),
        ("JUMPI not taken", push(0) + push(99) + bytes([0x57, 0x00]), None),
        ("memory far away", push(1) + push(2**64) + bytes([0x52]), "OutOfGas"),
        ("MLOAD at the top of 2**256", push(2**256 - 1) + bytes([0x51]), "OutOfGas"),
        ("endless loop runs out of gas", bytes([0x5B, 0x60, 0, 0x56]), "OutOfGas"),
        ("PUSH32 cut off at the end", bytes([0x7F, 0x01, 0x02]), None),
        (
            "REVERT after inline work",
            push(5) + push(0) + bytes([0x52]) + push(32) + push(0) + bytes([0xFD]),
            "Revert",
        ),
        ("undefined opcode", bytes([0x0C]), "InvalidInstruction"),
        ("CALLDATALOAD beyond the data", push(2**256 - 1) + bytes([0x35, 0x36, 0x33, 0x34]), None),
        (
            "SHL and SHR by 256 and more",
            push(1) + push(256) + bytes([0x1B]) + push(5) + push(300) + bytes([0x1C]),
            None,
        ),
        (
            "storage: a slot cleared, one set, one overwritten",
            push(0)
            + push(1)
            + bytes([0x55])
            + push(9)
            + push(3)
            + bytes([0x55])
            + push(5)
            + push(2)
            + bytes([0x55]),
            None,
        ),
        ("DIV and MOD by zero", push(0) + push(9) + bytes([0x04]) + push(0) + push(9) + bytes([0x06]), None),
    ],
)
@pytest.mark.usefixtures("mode")
def test_edge_cases_match_py_evm(name: str, code: bytes, error: str | None) -> None:
    result = assert_same(code, data=b"\x12" * 40)
    assert result[1] == error, name


def test_jump_destinations_skip_push_data() -> None:
    # JUMPDEST at 0, PUSH2 0x5b5b (data, not destinations), JUMPDEST at 4, PUSH32 cut off
    assert jump_destinations(bytes([0x5B, 0x61, 0x5B, 0x5B, 0x5B, 0x7F, 0x5B])) == frozenset({0, 4})


def test_the_demo_scenario_imports_into_stock_py_evm(tmp_path: Path) -> None:
    """Every block a node seals for the whole demo re-executes identically on stock py-evm:
    import_block checks state root, receipts root, gas used, bloom and hash."""
    with Node.dev(data_dir=tmp_path / "node").start() as node:
        demo.run(Client.connect(node.url), tmp_path / "out")
        head = node.chain.head.block_number
        blocks = [
            node.chain.block_and_receipts(node.chain.header_by_number(n))[0] for n in range(1, head + 1)
        ]
        genesis = node.chain.genesis
    assert head > 10
    reference = reference_chain(genesis)
    block_class = CancunVM.get_block_class()
    for block in blocks:
        imported = reference.import_block(rlp.decode(rlp.encode(block), sedes=block_class))
        assert imported.imported_block.hash == block.hash


def _bare(cls: type[Any], memory_words: int, gas: int) -> Any:
    """A computation of ``cls`` with only what ``extend_memory`` touches: memory and gas."""
    from eth.vm.gas_meter import GasMeter
    from eth.vm.memory import Memory

    computation = cls.__new__(cls)
    computation._memory = Memory()
    computation._memory.extend(0, 32 * memory_words)
    computation._gas_meter = GasMeter(gas)
    return computation


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    st.integers(0, 64),
    st.one_of(
        st.integers(0, 4096), st.integers(2**32 - 64, 2**32 + 64), st.integers(2**256 - 64, 2**256 + 64)
    ),
    st.one_of(st.integers(0, 4096), st.integers(2**256 - 64, 2**256 + 64), st.just(0)),
    st.integers(-2, 2),
)
@example(0, 0, 3000, -1)
@example(1, 0, 3000, 0)
@example(2, 2**256 - 1, 1, 0)
def test_memory_extension_gives_py_evm_gas_memory_and_errors(
    words: int, start: int, size: int, slack: int
) -> None:
    """The inline extension's shortcuts (nothing to grow, growth paid in place) against py-evm's
    own ``extend_memory``: the same gas left, memory size and error, out-of-gas edges included
    (the gas is the growth's price plus ``slack``)."""
    from eth.vm.computation import BaseComputation, memory_gas_cost

    price = memory_gas_cost(start + size) - memory_gas_cost(32 * words) if start + size < 2**20 else 0
    gas = max(0, price + slack)
    outcomes = []
    for cls, method in ((PassportComputation, PassportComputation.extend_memory),
                        (CancunVM.get_state_class().computation_class, BaseComputation.extend_memory)):  # fmt: skip
        computation = _bare(cls, words, gas)
        try:
            method(computation, start, size)
            error = None
        except Exception as exc:
            error = (type(exc), str(exc))
        outcomes.append((error, computation._gas_meter.gas_remaining, len(computation._memory)))
    assert outcomes[0] == outcomes[1]


@pytest.mark.usefixtures("mode")
@pytest.mark.parametrize("tail", [b"", push(1) + push(2) + bytes([0x01, 0x50, 0x5B])])
@pytest.mark.parametrize("offset", [0, 1, 31, 32, 1000, 70_000, 2**32 - 40])
@pytest.mark.parametrize("op", [0x52, 0x51, 0x20])  # MSTORE, MLOAD (grown in the loop), KECCAK256
def test_memory_growth_at_the_exact_gas_matches_py_evm(offset: int, op: int, tail: bytes) -> None:
    """Memory grown in the loop (MSTORE, MLOAD) or through ``extend_memory`` (KECCAK256, a
    py-evm opcode) with the gas it needs, one or two less and more: py-evm's results, out of gas
    included. With a ``tail`` of opcodes after it in the same block, a compiled block has charged
    their gas before the growth: short of it, the block hands the growth back to the loop."""
    code = (
        (push(7) if op == 0x52 else push(32) if op == 0x20 else b"")
        + push(offset)
        + bytes([op])
        + tail
        + bytes([0x00])
    )
    needed = run(CancunVM, code, gas=10**7)
    if needed[0]:  # beyond what 10**7 gas grows: compare the failure only
        assert_same(code, gas=10**7)
        return
    for slack in (-2, -1, 0, 1, 2):
        assert_same(code, gas=21_000 + needed[3] + slack)  # the transaction's intrinsic gas too


@pytest.mark.parametrize(
    ("start", "length"),
    [(0, 0), (0, 32), (5, 60), (64, 32), (90, 6), (96, 0), (2**255, 0), (80, 40), (0, 200), (2**256 - 1, 1)],
)
@pytest.mark.usefixtures("mode")
def test_keccak_at_the_exact_gas_matches_py_evm(start: int, length: int) -> None:
    """KECCAK256 over memory that is there (hashed in the loop), partly there or not at all
    (py-evm grows it), with the gas it needs, one or two less and more: py-evm's results."""
    code = push(2**256 - 7) + push(64) + bytes([0x52]) + push(length) + push(start) + bytes([0x20, 0x00])
    needed = run(CancunVM, code, gas=10**7)
    if needed[0]:
        assert_same(code, gas=10**7)
        return
    for slack in (-2, -1, 0, 1, 2):
        assert_same(code, gas=21_000 + needed[3] + slack)


def test_hot_code_runs_in_compiled_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A code run twice is compiled (by default) and its blocks are what runs it: the tests above
    check blocks only if they are used."""
    code = push(3) + push(4) + bytes([0x01]) + push(0) + bytes([0x52]) + push(32) + push(0) + bytes([0xF3])
    monkeypatch.setattr(blocks, "_runs", {})
    first = run(PassportVM, code)
    assert blocks._blocks(code, PassportComputation.inline_gas)[0].__name__ == "compile_then_run"
    assert run(PassportVM, code) == first == run(CancunVM, code)
    assert first[5] == (7).to_bytes(32, "big")
    compiled = blocks._blocks(code, PassportComputation.inline_gas)
    assert compiled[0].__name__ == "b0"  # the block from 0 to RETURN, compiled when first entered


@pytest.mark.usefixtures("mode")
@pytest.mark.parametrize(
    "code",
    [
        bytes([0x5B, 0x60, 0x00, 0x56]),  # JUMPDEST, PUSH1 0, JUMP: a block of three, then itself
        bytes([0x5B, 0x60, 0x01, 0x50, 0x60, 0x00, 0x56]),  # with a PUSH and a POP in the block
    ],
)
def test_an_endless_loop_stops_at_the_deadline(code: bytes) -> None:
    """Calls (``CallVM``'s ``BoundedComputation``) stop at the thread's deadline at a JUMPDEST,
    by the loop or in a compiled block; a deadline far off lets the loop run out of gas."""
    from passport.node.chain import CallVM
    from passport.node.interpreter import deadline

    with deadline(time.monotonic() + 0.05), pytest.raises(EvmTimeout, match="passed its deadline at pc 0"):
        run(CallVM, code, gas=29_000_000)  # 1.7 million rounds at least: seconds
    with deadline(time.monotonic() + 60):
        assert run(CallVM, code, gas=200_000)[1] == "OutOfGas"


def test_a_block_that_starts_at_a_jumpdest_checks_the_deadline() -> None:
    """A compiled block from a JUMPDEST checks the deadline at its entry (the loop above also
    stops by its own check once gas runs short, so it cannot tell); a block elsewhere does not."""
    code = bytes([0x5B, 0x60, 0x00, 0x56, 0x00])  # JUMPDEST, PUSH1 0, JUMP, (STOP)
    table = blocks.compile_code(code, PassportComputation.inline_gas, *reversed(blocks.analysis(code)))
    block = table[0]
    assert block is not None
    with pytest.raises(EvmTimeout, match="at pc 0"):
        block([], 100, bytearray(), b"", None, time.monotonic() - 1)
    assert block([], 100, bytearray(), b"", None, time.monotonic() + 60) == (0, 88)
    assert block([], 100, bytearray(), b"", None, None) == (0, 88)
    assert block([], 11, bytearray(), b"", None, time.monotonic() - 1) is None  # short of gas: the loop's
