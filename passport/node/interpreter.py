"""A faster opcode loop for py-evm's Cancun computation, with the same results.

py-evm runs every opcode through several Python calls: a generator step, the opcode object,
two gas-meter methods, then stack methods that validate and convert each value. About 80 % of
the opcodes a Solidity contract executes are stack shuffling, jumps, arithmetic and word-sized
memory access, and for those that machinery costs several times the work itself.

:class:`PassportComputation` keeps py-evm's computation (its messages, state access, calls,
gas rules, errors and refunds) and replaces only the loop. It executes those common opcodes
inline, on the stack's list and a local gas counter, and hands every other opcode to py-evm's
own implementation from the same opcode table. Results are identical: the same gas, the same
stack values (kept as ints; py-evm's stack accepts ints and bytes alike), the same error classes.
``tests/node/test_interpreter.py`` runs generated programs and whole contract scenarios on both
and compares them.

The inline set is derived from the fork's opcode table at import time: an opcode is inlined
only if the table holds py-evm's own logic function for it with a constant gas cost, and that
cost is the one charged here. Anything else (a future fork changing a cost, debug2 tracing
turned on) falls back to py-evm. Some with dynamic prices are done in place too, when the table
holds py-evm's own logic for them: memory growth (its quadratic price), KECCAK256 over memory
already there, SLOAD (warm or cold, EIP-2929, through the state's own methods) and RETURN
(memory grown by py-evm's rules); out of gas, and a hash that must grow memory, go to py-evm.

A code that runs again (a contract's, at its second call in the process) is also compiled into
blocks (:mod:`passport.node.blocks`): runs of inline opcodes as one Python function each, with
the stack symbolic, checked once per block. The loop enters a block's function where one
starts, and runs the opcodes one by one wherever a block's checks fail or a block hands back.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any, cast

from eth.abc import ComputationAPI, MessageAPI, StateAPI, TransactionContextAPI
from eth.exceptions import (
    FullStack,
    Halt,
    InsufficientStack,
    OutOfGas,
)
from eth.vm.forks.berlin import constants as berlin_constants
from eth.vm.forks.berlin.logic import sload_eip2929
from eth.vm.forks.cancun.computation import CancunComputation
from eth.vm.logic import arithmetic, comparison, context, duplication, flow, memory, stack, swap
from eth.vm.logic import sha3 as sha3_logic
from eth.vm.logic.invalid import InvalidOpcode
from eth.vm.logic.system import return_op
from eth.vm.opcode import _FastOpcode, as_opcode
from eth_hash.auto import keccak

from passport.exceptions import EvmTimeout
from passport.node.blocks import analysis, bad_jump, blocks_for, grown

UINT_256_MAX = 2**256 - 1
WARM_SLOAD, COLD_SLOAD = berlin_constants.WARM_STORAGE_READ_COST, berlin_constants.COLD_SLOAD_COST
SIGN_BIT = 2**255  # flipped, two's complement order becomes unsigned order (SLT, SGT)
STACK_LIMIT = 1024
JUMPDEST = 0x5B
PUSH1 = 0x60
PUSH32 = 0x7F

# opcode -> the py-evm logic function the inline code reproduces
_INLINE_LOGIC: dict[int, Any] = {
    0x01: arithmetic.add,
    0x02: arithmetic.mul,
    0x03: arithmetic.sub,
    0x04: arithmetic.div,
    0x06: arithmetic.mod,
    0x10: comparison.lt,
    0x11: comparison.gt,
    0x12: comparison.slt,
    0x13: comparison.sgt,
    0x14: comparison.eq,
    0x15: comparison.iszero,
    0x16: comparison.and_op,
    0x17: comparison.or_op,
    0x18: comparison.xor,
    0x19: comparison.not_op,
    0x1B: arithmetic.shl,
    0x1C: arithmetic.shr,
    0x33: context.caller,
    0x34: context.callvalue,
    0x35: context.calldataload,
    0x36: context.calldatasize,
    0x50: stack.pop,
    0x51: memory.mload,
    0x52: memory.mstore,
    0x56: flow.jump,
    0x57: flow.jumpi,
    0x5B: flow.jumpdest,
    0x5F: stack.push0,
    **{0x5F + n: getattr(stack, f"push{n}") for n in range(1, 33)},
    **{0x7F + n: getattr(duplication, f"dup{n}") for n in range(1, 17)},
    **{0x8F + n: getattr(swap, f"swap{n}") for n in range(1, 17)},
}


def _inline_gas(opcodes: dict[int, Any]) -> tuple[int, ...]:
    """Gas per opcode for the inlined ones, -1 for the rest (handled by py-evm)."""
    table = [-1] * 256
    for code, logic in _INLINE_LOGIC.items():
        entry = opcodes.get(code)
        if isinstance(entry, _FastOpcode) and entry.logic_fn is logic:
            table[code] = entry.gas_cost
    return tuple(table)


def _word_room(computation: Any, start: int, gas: int) -> int:
    """Memory grown to hold the word at ``start`` (MSTORE, MLOAD): in place at py-evm's price
    (:func:`~passport.node.blocks.grown`), else by py-evm's ``extend_memory``, which raises as
    py-evm does. Returns the gas left."""
    left = grown(computation._memory._bytes, start + 32, gas)
    if left >= 0:
        return left
    meter = computation._gas_meter
    meter.gas_remaining = gas
    computation.extend_memory(start, 32)
    return int(meter.gas_remaining)


# opcodes run in the loop with their dynamic prices, only where the table holds py-evm's own
# logic for them at this constant part of the price: KECCAK256, SLOAD (EIP-2929) and RETURN
_OWN_LOGIC = {0x20: (sha3_logic.sha3, 30), 0x54: (sload_eip2929, 0), 0xF3: (return_op, 0)}
_own: dict[type, frozenset[int]] = {}


def _own_ops(cls: type) -> frozenset[int]:
    """Which of ``_OWN_LOGIC`` the computation class's table holds as py-evm's own."""
    found = _own.get(cls)
    if found is None:
        table = cast(Any, cls).opcodes
        found = _own[cls] = frozenset(
            op
            for op, (logic, price) in _OWN_LOGIC.items()
            if getattr(table.get(op), "logic_fn", None) is logic
            and getattr(table.get(op), "gas_cost", None) == price
        )
    return found


class PassportComputation(CancunComputation):
    """Cancun computation with the inline opcode loop (see the module docstring)."""

    inline_gas: tuple[int, ...] = _inline_gas(CancunComputation.opcodes)

    def extend_memory(self, start_position: int, size: int) -> None:
        # py-evm's own, with its validation, prices and rounding, minus its per-call overheads
        # (two validations, four helper calls, the reason string): every py-evm opcode that takes
        # memory (RETURN, KECCAK256, the copies, calls' arguments) comes here. Out of gas, a value
        # not a uint256, and debug2 logging are left to py-evm, which raises or logs as it does.
        if (
            start_position.__class__ is int
            and size.__class__ is int
            and 0 <= start_position <= UINT_256_MAX
            and 0 <= size <= UINT_256_MAX
            and not self.logger.show_debug2
        ):
            if size == 0:
                return
            memory_ = cast(Any, self._memory)._bytes
            end = start_position + size
            if end <= len(memory_):
                return
            meter = self._gas_meter
            left = grown(memory_, end, meter.gas_remaining)
            if left >= 0:
                meter.gas_remaining = left
                return
        super().extend_memory(start_position, size)

    @classmethod
    def apply_computation(
        cls,
        state: StateAPI,
        message: MessageAPI,
        transaction_context: TransactionContextAPI,
        parent_computation: ComputationAPI | None = None,
    ) -> ComputationAPI:
        if cls.logger.show_debug2:
            # opcode-level debug logs are py-evm's; let it run the loop
            return super().apply_computation(state, message, transaction_context, parent_computation)
        with cls(state, message, transaction_context) as computation:
            # the same preamble as py-evm's BaseComputation.apply_computation
            if computation.is_origin_computation:
                computation.contracts_created = []
                if message.is_create:
                    cls.consume_initcode_gas_cost(computation)
            if parent_computation is not None:
                computation.contracts_created = parent_computation.contracts_created
            if message.is_create:
                computation.contracts_created.append(message.storage_address)
            precompile = computation.precompiles.get(message.code_address, None)
            if precompile is not None:
                if not message.is_delegation:
                    precompile(computation)
                return computation
            _run(computation, cls.inline_gas, cls.deadline_at())
        return computation

    @classmethod
    def deadline_at(cls) -> float | None:
        """When the loop stops with :class:`EvmTimeout` (``time.monotonic()``); None: never."""
        return None


def _run(computation: Any, inline_gas: tuple[int, ...], at: float | None = None) -> None:
    """Execute ``computation.code`` to its end; VM errors propagate to the computation's
    context manager exactly as py-evm's loop lets them. With ``at``, every JUMPDEST checks the
    clock and raises :class:`EvmTimeout` past it (every loop passes one)."""
    code_stream = computation.code
    code: bytes = code_stream._raw_code_bytes
    size = len(code)
    values: list[Any] = computation._stack.values
    meter = computation._gas_meter
    opcodes = computation.opcodes
    memory_ = computation._memory
    calldata: bytes = computation.msg.data_as_bytes
    msg = computation.msg
    destinations, pushes = analysis(code)  # cached per code
    monotonic = time.monotonic
    pc = code_stream.program_counter
    gas = meter.gas_remaining
    in_fallback = False
    pop = values.pop
    push = values.append
    own = _own_ops(type(computation))
    hashes, sloads, returns = 0x20 in own, 0x54 in own, 0xF3 in own
    state = computation.state
    blocks = blocks_for(code, inline_gas)

    # py-evm leaves values as ints or bytes; the inline opcodes need ints. Every value on the
    # stack is an int here: the inline opcodes push ints, and after a py-evm opcode (which
    # pushes at most one value) the top is converted.
    for index, value in enumerate(values):
        if value.__class__ is not int:
            values[index] = int.from_bytes(value, "big")
    try:
        while True:
            if pc >= size:
                break  # past the end: an implicit STOP
            if blocks is not None:
                block = blocks[pc]
                if block is not None:
                    ran = block(values, gas, memory_._bytes, calldata, msg, at)
                    if ran is not None:
                        pc, gas = ran
                        continue
            op = code[pc]
            pc += 1
            cost = inline_gas[op]
            if cost < 0:
                if op == 0x00:
                    break  # STOP
                if op == 0x20 and hashes and len(values) >= 2:
                    # KECCAK256 as py-evm's sha3 runs it, when its memory is there and its
                    # price (30 and 6 a word) is paid; growth and out of gas go to py-evm
                    start, length = values[-1], values[-2]
                    price = 30 + 6 * ((length + 31) >> 5)
                    if price <= gas and (length == 0 or start + length <= len(memory_._bytes)):
                        gas -= price
                        pop()
                        digest = keccak(bytes(memory_._bytes[start : start + length]) if length else b"")
                        values[-1] = int.from_bytes(digest, "big")
                        continue
                if op == 0x54 and sloads and values:
                    # SLOAD as py-evm's sload_eip2929: the slot marked warm, then its price
                    slot = values[-1]
                    if state.is_storage_warm(msg.storage_address, slot):
                        price = WARM_SLOAD
                    else:
                        state.mark_storage_warm(msg.storage_address, slot)
                        price = COLD_SLOAD
                    if price > gas:
                        raise OutOfGas(f"Out of gas: Needed {price} - Remaining {gas} - Reason: SLOAD")
                    gas -= price
                    values[-1] = state.get_storage(msg.storage_address, slot)
                    continue
                if op == 0xF3 and returns and len(values) >= 2:
                    # RETURN as py-evm's return_op: memory grown (py-evm's rules), then read
                    start, length = pop(), pop()
                    meter.gas_remaining = gas
                    computation.extend_memory(start, length)
                    gas = meter.gas_remaining
                    computation.output = computation.memory_read_bytes(start, length)
                    break
                # py-evm's implementation, with the loop's state handed over and back
                meter.gas_remaining = gas
                code_stream.program_counter = pc
                in_fallback = True
                try:
                    (opcodes.get(op) or InvalidOpcode(op))(computation)
                except Halt:
                    in_fallback = False
                    gas = meter.gas_remaining
                    pc = code_stream.program_counter
                    break
                in_fallback = False
                gas = meter.gas_remaining
                pc = code_stream.program_counter
                if values and values[-1].__class__ is not int:
                    values[-1] = int.from_bytes(values[-1], "big")
                continue
            if cost > gas:
                raise OutOfGas(f"Out of gas: Needed {cost} - Remaining {gas} - Reason: opcode 0x{op:02x}")
            gas -= cost

            # ordered by how often Solidity code executes them (PUSHn alone is an eighth)
            if PUSH1 <= op <= PUSH32:
                if len(values) >= STACK_LIMIT:
                    raise FullStack("Stack limit reached")
                push(pushes[pc - 1])
                pc += op - 0x5F
            elif 0x80 <= op <= 0x8F:  # DUPn
                if len(values) >= STACK_LIMIT:
                    raise FullStack("Stack limit reached")
                push(values[0x7F - op])
            elif 0x90 <= op <= 0x9F:  # SWAPn
                other = 0x8E - op
                values[-1], values[other] = values[other], values[-1]
            elif op == 0x52:  # MSTORE
                start = pop()
                word = pop()
                if start + 32 > len(memory_._bytes):
                    gas = _word_room(computation, start, gas)
                memory_._bytes[start : start + 32] = word.to_bytes(32, "big")
            elif op == 0x01:  # ADD
                right = pop()
                values[-1] = (right + values[-1]) & UINT_256_MAX
            elif op == JUMPDEST:
                if at is not None and monotonic() > at:
                    raise EvmTimeout(f"execution passed its deadline at pc {pc - 1}")
            elif op == 0x50:  # POP
                pop()
            elif op == 0x57:  # JUMPI
                target = pop()
                if pop():
                    if target not in destinations:
                        raise bad_jump(code, target)
                    pc = target
            elif op == 0x16:  # AND
                right = pop()
                values[-1] &= right
            elif op == 0x51:  # MLOAD
                start = values[-1]
                if start + 32 > len(memory_._bytes):
                    gas = _word_room(computation, start, gas)
                values[-1] = int.from_bytes(memory_._bytes[start : start + 32], "big")
            elif op == 0x56:  # JUMP
                target = pop()
                if target not in destinations:
                    raise bad_jump(code, target)
                pc = target
            elif op == 0x5F:  # PUSH0
                if len(values) >= STACK_LIMIT:
                    raise FullStack("Stack limit reached")
                push(0)
            elif op == 0x15:  # ISZERO
                values[-1] = 0 if values[-1] else 1
            elif op == 0x11:  # GT
                left = pop()
                values[-1] = 1 if left > values[-1] else 0
            elif op == 0x04:  # DIV
                numerator = pop()
                denominator = values[-1]
                values[-1] = 0 if denominator == 0 else numerator // denominator
            elif op == 0x03:  # SUB
                left = pop()
                values[-1] = (left - values[-1]) & UINT_256_MAX
            elif op == 0x1B:  # SHL
                shift = pop()
                values[-1] = 0 if shift >= 256 else (values[-1] << shift) & UINT_256_MAX
            elif op == 0x14:  # EQ
                right = pop()
                values[-1] = 1 if right == values[-1] else 0
            elif op == 0x10:  # LT
                left = pop()
                values[-1] = 1 if left < values[-1] else 0
            elif op == 0x1C:  # SHR
                shift = pop()
                values[-1] = 0 if shift >= 256 else values[-1] >> shift
            elif op == 0x17:  # OR
                right = pop()
                values[-1] |= right
            elif op == 0x18:  # XOR
                right = pop()
                values[-1] ^= right
            elif op == 0x19:  # NOT
                values[-1] = UINT_256_MAX - values[-1]
            elif op == 0x02:  # MUL
                right = pop()
                values[-1] = (right * values[-1]) & UINT_256_MAX
            elif op == 0x06:  # MOD
                value = pop()
                modulus = values[-1]
                values[-1] = 0 if modulus == 0 else value % modulus
            elif op == 0x35:  # CALLDATALOAD
                start = values[-1]
                values[-1] = int.from_bytes(calldata[start : start + 32].ljust(32, b"\x00"), "big")
            elif op == 0x36:  # CALLDATASIZE
                if len(values) >= STACK_LIMIT:
                    raise FullStack("Stack limit reached")
                push(len(calldata))
            elif op == 0x33:  # CALLER
                if len(values) >= STACK_LIMIT:
                    raise FullStack("Stack limit reached")
                push(int.from_bytes(msg.sender, "big"))
            elif op == 0x34:  # CALLVALUE
                if len(values) >= STACK_LIMIT:
                    raise FullStack("Stack limit reached")
                push(msg.value)
            elif op == 0x12:  # SLT
                left = pop()
                values[-1] = 1 if left ^ SIGN_BIT < values[-1] ^ SIGN_BIT else 0
            elif op == 0x13:  # SGT
                left = pop()
                values[-1] = 1 if left ^ SIGN_BIT > values[-1] ^ SIGN_BIT else 0
            else:  # pragma: no cover - the table and this chain disagree
                raise AssertionError(f"opcode 0x{op:02x} is marked inline but has no inline code")
    except IndexError:
        if in_fallback:
            raise
        raise InsufficientStack(f"Insufficient stack items for opcode 0x{op:02x}") from None
    finally:
        if not in_fallback:  # a py-evm opcode that raised has left the meter as it should be
            meter.gas_remaining = gas
            code_stream.program_counter = pc


_deadline = threading.local()


@contextlib.contextmanager
def deadline(at: float | None) -> Iterator[None]:
    """Computations of :class:`BoundedComputation` on this thread stop at ``at``
    (``time.monotonic()``) with :class:`EvmTimeout`; None means no deadline."""
    previous = getattr(_deadline, "at", None)
    _deadline.at = at
    try:
        yield
    finally:
        _deadline.at = previous


def _jumpdest_before_deadline(computation: ComputationAPI) -> None:
    at = getattr(_deadline, "at", None)
    if at is not None and time.monotonic() > at:
        raise EvmTimeout(f"execution passed its deadline at pc {computation.code.program_counter - 1}")
    flow.jumpdest(computation)


class BoundedComputation(PassportComputation):
    """:class:`PassportComputation` that stops at the thread's :func:`deadline`.

    Every loop passes a JUMPDEST, so JUMPDEST (and only it) checks the clock, inline in the
    loop; results are otherwise identical. py-evm's own loop (debug2 logging on) checks it
    through the opcode table. Used for ``eth_call`` and ``eth_estimateGas``.
    """

    opcodes = {  # noqa: RUF012 (py-evm's own attribute, a plain dict there too)
        **PassportComputation.opcodes,
        JUMPDEST: as_opcode(
            logic_fn=_jumpdest_before_deadline,
            mnemonic="JUMPDEST",
            gas_cost=PassportComputation.inline_gas[JUMPDEST],
        ),
    }

    @classmethod
    def deadline_at(cls) -> float | None:
        return getattr(_deadline, "at", None)
